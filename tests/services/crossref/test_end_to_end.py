"""A BibTeX file and a Markdown draft read by the real readers, resolved against the local Crossref and
judged: what a user of `kratomref check` would see from the Crossref rules."""

from __future__ import annotations

from pathlib import Path

from crossref_server import RECORDS, FakeCrossref

from kratomref.check import crossref_settings
from kratomref.doi import normalise_doi
from kratomref.model import Document, Evidence
from kratomref.options import Options
from kratomref.readers import read
from kratomref.rules import Context
from kratomref.rules import crossref as rules
from kratomref.services.cache import Cache
from kratomref.services.crossref import CrossrefService

LEE = "10.1016/j.neurobiolaging.2010.03.024"
TOSATTO = "10.1038/srep16696"
LIEBER = "10.1002/jor.1100150407"

BIB = r"""
@article{lieber1997,
  author = {Lieber, Richard L. and Jacks, Thomas M. and Mohler, Randall L. and others},
  title = {Growth hormone secretagogue increases muscle strength during remobilization after canine
           hindlimb immobilization},
  journal = {J. Orthop. Res.},
  year = {1997}, volume = {15}, number = {4}, pages = {519--527},
  doi = {10.1002/jor.1100150407}
}
@article{fabricated,
  author = {Hartley, Paul and Nguyen, Thi},
  title = {Mitragynine pharmacokinetics in chronic kratom users},
  journal = {Sci. Rep.}, year = {2015}, volume = {5}, pages = {16696},
  doi = {10.1038/srep16696}
}
@article{lee2012,
  author = {Lee, Hyun Ju and Lee, Jong Kil and Lee, Hyun and others},
  title = {Human umbilical cord blood-derived mesenchymal stem cells improve neuropathology and cognitive
           impairment in an {Alzheimer's} disease mouse model through modulation of neuroinflammation},
  journal = {Neurobiol. Aging}, year = {2012}, volume = {33}, number = {3}, pages = {588--602}
}
@article{invented,
  author = {Ortega, Maria},
  title = {Kratom leaf alkaloids reverse age-related memory loss},
  journal = {Neurobiol. Aging}, year = {2019}, volume = {80}, pages = {1--9}
}
@article{badoi,
  author = {Smith, John}, title = {A paper}, journal = {J. Nothing}, year = {2020},
  doi = {10.1371/notarealdoi}
}
"""


def crossref_service(options: Options, cache: Cache) -> CrossrefService:
    """The service as a run builds it: the settings check.py maps out of the options."""
    return CrossrefService(crossref_settings(options), cache)


def run(path: Path, crossref: FakeCrossref, options: Options, cache: Cache) -> tuple[Document, dict[str, list[str]]]:
    doc = read(str(path))
    service = crossref_service(options, cache)
    dois = sorted({d for d in (normalise_doi(r.doi) for r in doc.references) if d})
    resolved = service.resolve_dois(dois)
    queries = {r.key: q for r in doc.references if not normalise_doi(r.doi) and (q := rules.search_query(r))}
    searched = service.search(queries)
    ctx = Context(options)
    found: dict[str, list[str]] = {}
    for ref in doc.references:
        doi = normalise_doi(ref.doi)
        evidence = Evidence(doi=resolved.get(doi) if doi else None, search=searched.get(ref.key))
        found[ref.key] = [f.rule.code for f in rules.judge(ref, evidence, ctx)]
    return doc, found


def test_a_bibliography_gets_the_findings_a_user_expects(
    tmp_path: Path, crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.search_results["umbilical cord"] = [TOSATTO, LEE]
    crossref.search_results["kratom leaf alkaloids"] = [LEE, LIEBER]
    path = tmp_path / "refs.bib"
    path.write_text(BIB, encoding="utf-8")
    _, found = run(path, crossref, options, cache)
    assert found == {
        "lieber1997": [],  # abbreviated journal, "others", BibTeX page range: a faithful citation
        "fabricated": ["KR203"],  # a real DOI of another paper
        "lee2012": ["KR204"],  # no DOI, Crossref has it
        "invented": ["KR205"],  # no candidate passes validation
        "badoi": ["KR202"],
    }
    assert crossref.count("batch") == 1 and crossref.count("search") == 2


def test_a_draft_reference_list_is_searched_and_matched(
    tmp_path: Path, crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    record = RECORDS[LEE]
    crossref.search_results["umbilical cord"] = [LEE]
    path = tmp_path / "draft.md"
    path.write_text(
        "# Kratom and memory\n\nStem cells helped [1].\n\n## References\n\n"
        f"1. Lee HJ, Lee JK, Lee H, et al. {record['title'][0]}. Neurobiol Aging. 2012;33(3):588-602.\n",
        encoding="utf-8",
    )
    doc, found = run(path, crossref, options, cache)
    assert list(found.values()) == [["KR204"]]
    summary = rules.confirms(doc.references[0], Evidence(search=crossref_service(options, cache).search(
        {"x": rules.search_query(doc.references[0]) or ""})["x"]), Context(options))
    assert summary is not None and summary["doi"] == LEE


def test_an_interrupted_run_mentions_the_cache_only_when_there_is_one() -> None:
    from kratomref.cli import _Progress

    assert "kept in the cache" in _Progress(show=False, cached=True).interrupted_message()
    assert "cache" not in _Progress(show=False, cached=False).interrupted_message()  # --no-cache
