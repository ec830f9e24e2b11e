"""The whole check with every authority served locally: who confirms what, the fewest requests, DataCite DOIs
compared field by field, and could-not-check that leaves a reference unverified instead of "not found"."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fakes import AuthorityOptions, Fakes

from kratomref import check
from kratomref.model import Report, Verdict
from kratomref.rules import crossref as crossref_rules

# The KR205 change of issue 15 lives in rules/crossref.py (see the authorities helper's report): until it lands,
# KR205 is Crossref's alone and the tests of it are expected to fail.
KR205_LANDED = hasattr(crossref_rules, "authority_rules")
needs_kr205_change = pytest.mark.xfail(not KR205_LANDED, strict=True,
                                       reason="rules/crossref.py does not consult the authorities yet")

GENUINE = r"""
@misc{vaswani, author = {Vaswani, Ashish and Shazeer, Noam}, title = {Attention Is All You Need}, year = {2017},
  eprint = {1706.03762}, archivePrefix = {arXiv}}
@book{cormen, author = {Cormen, Thomas H. and Leiserson, Charles E.}, title = {Introduction to Algorithms},
  publisher = {MIT Press}, year = {2009}, isbn = {978-0-262-03384-8}}
@book{bishop, author = {Bishop, Christopher M.}, title = {Pattern Recognition and Machine Learning},
  publisher = {Springer}, year = {2006}}
@article{makar, author = {Makar, A. B. and McMartin, K. E.}, title = {Formate assay in body fluids: application
  in methanol poisoning}, journal = {Biochem Med}, year = {1975}, volume = {13}, pages = {117--126}, pmid = {1}}
@inproceedings{imagenet, author = {Krizhevsky, Alex and Hinton, Geoffrey E.},
  title = {ImageNet Classification with Deep Convolutional Neural Networks},
  booktitle = {Advances in Neural Information Processing Systems}, year = {2012}}
@software{numpy, author = {Harris, Charles R.}, title = {numpy/numpy: NumPy 1.21.0}, year = {2021},
  doi = {10.5281/zenodo.4998373}}
"""
JOURNALS = r"""
@article{delphi, author = {Boulkedid, Rym and Abdoul, Hendy}, title = {Using and Reporting the Delphi Method for
  Selecting Healthcare Quality Indicators: A Systematic Review}, journal = {PLoS ONE}, year = {2011}, volume = {6},
  pages = {e20476}, doi = {10.1371/journal.pone.0020476}}
@article{frets, author = {Tosatto, Laura and Horrocks, Mathew H.}, title = {Single-molecule FRET studies on
  alpha-synuclein oligomerization of Parkinson's disease genetically related mutants}, journal = {Scientific Reports},
  year = {2015}, volume = {5}, doi = {10.1038/srep16696}}
"""


def run(tmp_path: Path, options: AuthorityOptions, bib: str, **changes: Any) -> Report:
    path = tmp_path / "refs.bib"
    path.write_text(bib, encoding="utf-8")
    return check.check(dataclasses.replace(options, paths=(str(path),), **changes))


def verdicts(report: Report) -> dict[str, tuple[str, str | None]]:
    return {r.reference.key: (r.verdict.value, r.confirmed_by) for r in report.results}


def codes(report: Report, key: str) -> set[str]:
    return {f.rule.code for f in report.findings if f.location.key == key}


def test_each_kind_of_work_is_confirmed_by_its_authority(tmp_path: Path, options: AuthorityOptions) -> None:
    report = run(tmp_path, options, GENUINE)
    assert {key: by for key, (_, by) in verdicts(report).items()} == {
        "vaswani": "arXiv", "cormen": "Open Library", "bishop": "Open Library", "makar": "PubMed",
        "imagenet": "DBLP", "numpy": "DataCite",
    }
    matched = {r.reference.key: r.matched for r in report.results}
    assert matched["vaswani"] is not None and matched["vaswani"]["identifier"] == "arXiv:1706.03762"
    assert matched["cormen"] is not None and matched["cormen"]["identifier"] == "ISBN 9780262033848"
    assert matched["makar"] is not None and matched["makar"]["authority"] == "PubMed"


def test_a_journal_only_bibliography_asks_no_other_authority(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes, crossref: Any
) -> None:
    report = run(tmp_path, options, JOURNALS)
    assert verdicts(report) == {"delphi": ("verified", "Crossref"), "frets": ("verified", "Crossref")}
    assert sum(fakes.requests().values()) == 0
    assert crossref.count() == 1  # one batched DOI look-up, as without the authorities


def test_references_ask_only_what_their_type_and_identifiers_call_for(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes
) -> None:
    run(tmp_path, options, GENUINE)
    requests = fakes.requests()
    assert requests["arxiv"] == 1  # the eprint, confirmed at once: no search anywhere for it
    assert requests["openlibrary"] == 2  # one ISBN batch, one search for the book without an ISBN
    assert requests["datacite"] == 1
    assert requests["dblp"] == 1  # the conference paper only
    assert requests["openalex"] == 0  # every reference was confirmed before a general search


def test_a_datacite_doi_goes_to_datacite_not_crossref(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes, crossref: Any
) -> None:
    report = run(tmp_path, options, "@software{numpy, author = {Harris, Charles R.}, title = {numpy/numpy: NumPy"
                 " 1.21.0}, year = {2021}, doi = {10.5281/zenodo.4998373}}")
    assert verdicts(report) == {"numpy": ("verified", "DataCite")}
    assert crossref.count() == 0


def test_a_datacite_doi_of_another_work_is_a_doi_mismatch(tmp_path: Path, options: AuthorityOptions) -> None:
    report = run(tmp_path, options, "@software{k, author = {Prozialeck, Walter C.}, title = {Mitragynine receptor"
                 " docking scripts}, year = {2021}, doi = {10.5281/zenodo.4998373}}")
    finding = next(f for f in report.findings if f.rule.code == "KR203")
    assert "'numpy/numpy: NumPy 1.21.0' by Harris" in finding.message


def test_crossref_sends_the_datacite_dois_it_lacks_on_to_datacite(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes, crossref: Any
) -> None:
    crossref.other_agencies["10.17605/osf.io/kr15x"] = "DataCite"
    bib = ("@misc{k, author = {Grundmann, Oliver}, title = {Registered report: kratom in the dark}, year = {2020},"
           " doi = {10.17605/osf.io/kr15x}}")
    report = run(tmp_path, options, bib)
    assert fakes["datacite"].count() == 1
    assert "KR209" not in codes(report, "k")
    bad = run(tmp_path, options, bib.replace("Registered report: kratom in the dark", "Opioid receptor binding of"
                                             " mitragynine alkaloids").replace("Grundmann, Oliver", "Smith, Jane"))
    assert "KR203" in codes(bad, "k")


def test_an_arxiv_doi_published_since_is_reported(tmp_path: Path, options: AuthorityOptions) -> None:
    report = run(tmp_path, options, "@misc{adam, author = {Kingma, Diederik P. and Ba, Jimmy}, title = {Adam: A"
                 " Method for Stochastic Optimization}, year = {2014}, doi = {10.48550/arXiv.1412.6980}}")
    finding = next(f for f in report.findings if f.rule.code == "KR208")
    assert "10.1000/iclr.2015.adam" in finding.message
    assert verdicts(report)["adam"] == ("verified", "DataCite")


def test_an_authority_that_could_not_be_asked_leaves_the_reference_unverified(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes
) -> None:
    for name in ("arxiv", "openalex", "dblp"):
        fakes[name].fault = lambda seen: (503, "down", {})
    report = run(tmp_path, options, GENUINE.split("@book")[0])
    result = report.results[0]
    assert result.verdict is Verdict.UNVERIFIED
    assert any(r.startswith("arXiv could not be checked for arXiv:1706.03762: arXiv answered HTTP 503")
               for r in result.reasons)
    assert not codes(report, "vaswani") & {"KR205", "KR202"}
    assert report.exit_code == 3


def test_a_doi_crossref_could_not_check_is_confirmed_by_openalex(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes, crossref: Any
) -> None:
    crossref.fault = lambda seen: (503, "busy", {})
    report = run(tmp_path, options, "@article{s, author = {Suwanlert, Sangun}, title = {A study of kratom eaters in"
                 " Thailand}, journal = {Bulletin on Narcotics}, year = {1975}, doi = {10.9999/bn.1975.27}}")
    assert verdicts(report) == {"s": ("verified", "OpenAlex")}
    assert any(s.param("filter") == "doi:10.9999/bn.1975.27" for s in fakes["openalex"].seen)
    assert "KR202" not in codes(report, "s")


def test_a_turned_off_authority_is_not_asked(tmp_path: Path, options: AuthorityOptions, fakes: Fakes) -> None:
    report = run(tmp_path, options, GENUINE, use_arxiv=False, use_openlibrary=False)
    assert fakes["arxiv"].count() == 0 and fakes["openlibrary"].count() == 0
    assert verdicts(report)["vaswani"] == ("verified", "DBLP")  # the next authority that holds it
    assert verdicts(report)["cormen"][1] is None  # no other authority holds the book


def test_offline_asks_no_authority(tmp_path: Path, options: AuthorityOptions, fakes: Fakes) -> None:
    report = run(tmp_path, options, GENUINE, offline=True)
    assert sum(fakes.requests().values()) == 0
    assert {v for v, _ in verdicts(report).values()} == {"unverified"}


@needs_kr205_change
def test_a_genuine_work_another_authority_holds_is_not_reported_missing(
    tmp_path: Path, options: AuthorityOptions
) -> None:
    report = run(tmp_path, options, GENUINE)
    assert not [f for f in report.findings if f.rule.code == "KR205"]
    assert {verdict for verdict, _ in verdicts(report).values()} == {"verified"}


@needs_kr205_change
def test_a_fabricated_book_names_every_authority_asked(tmp_path: Path, options: AuthorityOptions) -> None:
    report = run(tmp_path, options, "@book{f, author = {Cormen, Thomas H.}, title = {Algorithms for Ethnobotanical"
                 " Pharmacology}, publisher = {MIT Press}, year = {2016}, isbn = {978-1-4732-0001-2}}")
    finding = next(f for f in report.findings if f.rule.code == "KR205")
    assert finding.message.startswith("not in Crossref, Open Library or OpenAlex (Open Library has no ISBN"
                                      " 9781473200012)")


@needs_kr205_change
def test_an_arxiv_id_of_another_paper_is_reported(tmp_path: Path, options: AuthorityOptions) -> None:
    report = run(tmp_path, options, "@misc{f, author = {Hinton, Geoffrey E.}, title = {Capsule Transformers for"
                 " Alkaloid Discovery}, year = {2017}, eprint = {1706.03762}, archivePrefix = {arXiv}}")
    finding = next(f for f in report.findings if f.rule.code == "KR205")
    assert "arXiv:1706.03762 is 'Attention Is All You Need' by Vaswani and Shazeer, 2017" in finding.message


@needs_kr205_change
def test_could_not_check_is_never_reported_as_not_found(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes
) -> None:
    fakes["openlibrary"].fault = lambda seen: (503, "down", {})
    report = run(tmp_path, options, "@book{f, author = {Cormen, Thomas H.}, title = {Algorithms for Ethnobotanical"
                 " Pharmacology}, publisher = {MIT Press}, year = {2016}, isbn = {978-1-4732-0001-2}}")
    assert "KR205" not in codes(report, "f")
    assert report.results[0].verdict is Verdict.UNVERIFIED


@needs_kr205_change
def test_openalex_retraction_is_reported(tmp_path: Path, options: AuthorityOptions) -> None:
    report = run(tmp_path, options, "@article{s, author = {Suwanlert, Sangun}, title = {A study of kratom eaters in"
                 " Thailand}, journal = {Bulletin on Narcotics}, year = {1975}, volume = {27}, pages = {21--27}}")
    assert "KR206" in codes(report, "s")


@needs_kr205_change
def test_an_arxiv_preprint_published_since_is_reported(tmp_path: Path, options: AuthorityOptions) -> None:
    report = run(tmp_path, options, "@misc{he, author = {He, Kaiming and Zhang, Xiangyu}, title = {Deep Residual"
                 " Learning for Image Recognition}, year = {2015}, eprint = {1512.03385}, archivePrefix = {arXiv}}")
    finding = next(f for f in report.findings if f.rule.code == "KR208")
    assert finding.suggestion == "cite the published version: doi = {10.1109/cvpr.2016.90}"
