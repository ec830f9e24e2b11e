"""The BibTeX reader: entries with their lines, LaTeX decoded, broken entries reported, the rest still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from kratomref.model import Author
from kratomref.readers import bibtex, read

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "references.bib"


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing needle: the expectation comes from the file itself."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_bundled_bibliography_has_eight_references_with_their_keys() -> None:
    doc = read(str(BUNDLED))
    assert doc.format == "bibtex"
    assert doc.problems == ()
    assert [r.key for r in doc.references] == [
        "hassan2013kratom", "singh2014kratom", "fda2020kratom", "cinosi2015following",
        "prozialeck2012pharmacology", "dea2016kratom", "henningfield2018abuse", "nida2019kratom",
    ]


@pytest.mark.parametrize(
    "key", ["hassan2013kratom", "fda2020kratom", "prozialeck2012pharmacology", "nida2019kratom"]
)
def test_each_entry_and_its_url_and_doi_fields_carry_their_line(key: str) -> None:
    text = BUNDLED.read_text(encoding="utf-8")
    ref = {r.key: r for r in read(str(BUNDLED)).references}[key]
    assert ref.location.line == _line_of(text, "{" + key + ",")
    assert ref.location.file == str(BUNDLED)
    start = ref.location.line
    for name in ("url", "doi"):
        if name in ref.raw_fields:
            expected = start + _line_of("\n".join(text.splitlines()[start - 1 :]), f"  {name} ") - 1
            assert ref.line_of(name) == expected


def test_bundled_entries_are_decoded_for_comparison() -> None:
    refs = {r.key: r for r in read(str(BUNDLED)).references}
    singh = refs["singh2014kratom"]
    assert singh.authors[1] == Author("Müller", "C. P.")
    assert singh.raw_fields["author"].count("{\\\"u}") == 1  # raw keeps the LaTeX as written
    hassan = refs["hassan2013kratom"]
    assert hassan.container == "Neuroscience & Biobehavioral Reviews"
    assert hassan.et_al is True
    assert [a.family for a in hassan.authors][-2:] == ["Vadivelu", "Jayabalan"]  # names after "others" kept
    assert (hassan.year, hassan.volume, hassan.issue, hassan.pages) == ("2013", "37", "2", "138-151")
    assert hassan.doi == "https://doi.org/10.1016/j.neubiorev.2012.11.012"
    assert hassan.urls == ()
    assert hassan.raw.startswith("@article{hassan2013kratom,") and hassan.raw.rstrip().endswith("}")
    assert refs["cinosi2015following"].title.startswith("Following “the Roots” of Kratom")
    assert refs["singh2014kratom"].et_al is False


def test_bundled_agency_pages_are_online_with_organisation_authors() -> None:
    refs = {r.key: r for r in read(str(BUNDLED)).references}
    fda = refs["fda2020kratom"]
    assert fda.type == "online"
    assert fda.authors == (Author("Food and Drug Administration (FDA)", literal=True),)
    assert fda.container == "U.S. Food and Drug Administration"
    assert fda.urls == ("https://www.fda.gov",)
    assert fda.doi is None
    assert refs["prozialeck2012pharmacology"].urls == ("https://jaoa.org/article.aspx?articleid=2094342",)


BROKEN = """\
@string{nbr = "Neuroscience {\\&} Biobehavioral Reviews"}

@article{before,
  title = {Before the break},
  journal = nbr,
  year = 2013
}

@article{broken,
  title = {An unclosed title,
  year = 2019

@article{after,
  title = "After the break",
  year = 2021,
}

@article{before, title = {Same key again}, year = 2000}

@comment{kratomref ignores comments}
@preamble{"\\newcommand{\\noopsort}[1]{}"}
"""


def test_a_broken_entry_is_reported_with_its_line_and_the_others_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "broken.bib"
    path.write_text(BROKEN, encoding="utf-8")
    doc = read(str(path))
    assert [r.key for r in doc.references] == ["before", "after"]
    parse_errors = [p for p in doc.problems if "could not be parsed" in p.message]
    assert [(p.code, p.location.line, p.location.key) for p in parse_errors] == [
        ("KR001", _line_of(BROKEN, "@article{broken"), "broken")
    ]
    assert {r.key: r.location.line for r in doc.references}["after"] == _line_of(BROKEN, "@article{after")


def test_string_macros_are_expanded(tmp_path: Path) -> None:
    path = tmp_path / "macros.bib"
    path.write_text(BROKEN, encoding="utf-8")
    before = read(str(path)).references[0]
    assert before.container == "Neuroscience & Biobehavioral Reviews"


def test_a_duplicate_key_is_reported_and_only_the_first_entry_is_used(tmp_path: Path) -> None:
    path = tmp_path / "dup.bib"
    path.write_text(BROKEN, encoding="utf-8")
    doc = read(str(path))
    duplicates = [p for p in doc.problems if "duplicate key" in p.message]
    assert len(duplicates) == 1
    assert duplicates[0].code == "KR001"
    assert duplicates[0].location.line == _line_of(BROKEN, "Same key again")
    assert f"line {_line_of(BROKEN, '@article{before,')}" in duplicates[0].message
    assert [r.title for r in doc.references if r.key == "before"] == ["Before the break"]


def test_a_repeated_field_is_reported_but_its_entry_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "field.bib"
    path.write_text("@article{x,\n  title = {One},\n  title = {Two},\n  year = 2020\n}\n", encoding="utf-8")
    doc = read(str(path))
    assert [r.key for r in doc.references] == ["x"]
    assert [(p.code, p.location.line) for p in doc.problems] == [("KR001", 1)]


SUPPRESSED = """\
% kratomref: ignore[KR304,Link-Generic]
@online{fda,
  title = {FDA and Kratom},
  url = {https://www.fda.gov}, % kratomref: ignore[kr401]
}

@online{dea,
  title = {Kratom},
  kratomref-ignore = {KR304, source-old},
}

% an ordinary comment
@online{nida, title = {Kratom}}
"""


def test_inline_suppressions_name_their_codes(tmp_path: Path) -> None:
    path = tmp_path / "suppressed.bib"
    path.write_text(SUPPRESSED, encoding="utf-8")
    doc = read(str(path))
    refs = {r.key: r for r in doc.references}
    assert refs["fda"].suppressed == frozenset({"KR304", "link-generic"})
    assert refs["dea"].suppressed == frozenset({"KR304", "source-old"})
    assert refs["nida"].suppressed == frozenset()
    assert doc.suppressions == {
        _line_of(SUPPRESSED, "@online{fda"): frozenset({"KR304", "link-generic"}),
        _line_of(SUPPRESSED, "url = {https://www.fda.gov}"): frozenset({"KR401"}),
    }


@pytest.mark.parametrize(
    ("latex", "decoded"),
    [
        ('M{\\"u}ller', "Müller"),
        ("M\\\"uller", "Müller"),
        ("\\'Eric Fran\\c{c}ois", "Éric François"),
        ("Ko{\\v{s}}ice {\\aa}ngstr{\\\"o}m", "Košice ångström"),
        ("na\\\"{\\i}ve", "naïve"),
        ("Neuroscience \\& Biobehavioral Reviews", "Neuroscience & Biobehavioral Reviews"),
        ("{{BioMed}} Research   International", "BioMed Research International"),
        ("\\emph{In vitro} effects of \\textit{M. speciosa}", "In vitro effects of M. speciosa"),
        ("50\\% of users, $\\mu$-opioid", "50% of users, μ-opioid"),
        ("pages 138--151 --- and more", "pages 138–151 — and more"),
        ("``the Roots''", "“the Roots”"),
        ("plain title, nothing to do", "plain title, nothing to do"),
    ],
    ids=[
        "braced umlaut", "bare umlaut", "acute and cedilla", "caron and ring", "accent on a dotless i",
        "escaped ampersand", "protective braces removed", "emphasis commands dropped, text kept",
        "percent and math", "en and em dashes", "TeX quotes", "plain text untouched",
    ],
)
def test_latex_is_decoded(latex: str, decoded: str) -> None:
    assert bibtex.decode_latex(latex) == decoded


@pytest.mark.parametrize(
    ("names", "authors", "et_al"),
    [
        ("Hassan, Z. and Muzaimi, M.", (Author("Hassan", "Z."), Author("Muzaimi", "M.")), False),
        (
            "Zurina Hassan and Ludwig van Beethoven",
            (Author("Hassan", "Zurina"), Author("van Beethoven", "Ludwig")),
            False,
        ),
        ("{Food and Drug Administration (FDA)}", (Author("Food and Drug Administration (FDA)", literal=True),), False),
        ("Smith, J. and others", (Author("Smith", "J."),), True),
        ("Smith, J. and others and Doe, A.", (Author("Smith", "J."), Author("Doe", "A.")), True),
        (
            "{Barnes and Noble} and Doe, Jr, John",
            (Author("Barnes and Noble", literal=True), Author("Doe", "John Jr")),
            False,
        ),
        ("Plato", (Author("Plato"),), False),
    ],
    ids=[
        "last-comma-first names", "first-last names with a particle", "organisation in double braces",
        "others at the end is et al", "others in the middle keeps the names around it",
        "an 'and' inside braces does not split", "a single name",
    ],
)
def test_bibtex_names_are_parsed(names: str, authors: tuple[Author, ...], et_al: bool) -> None:
    assert bibtex.parse_names(names) == (authors, et_al)


@pytest.mark.parametrize(
    ("entry", "doi", "urls"),
    [
        ("@misc{a, url = {https://doi.org/10.1000/xyz}}", "https://doi.org/10.1000/xyz", ()),
        ("@misc{a, howpublished = {\\url{https://example.org/page}}}", None, ("https://example.org/page",)),
        ("@misc{a, note = {Available at https://x.org/a. doi:10.1000/abc}}", "doi:10.1000/abc", ("https://x.org/a",)),
        ("@misc{a, doi = {10.1000/Q}, url = {https://doi.org/10.1000/Q}}", "10.1000/Q", ()),
        ("@misc{a, url = {www.fda.gov}}", None, ("http://www.fda.gov",)),
    ],
    ids=[
        "a DOI URL in the url field is the DOI, not a link",
        "a \\url in howpublished is a link",
        "a note gives both a link and a DOI",
        "the doi field wins and the DOI URL is not fetched",
        "a url without a scheme is read as the http:// URL it means (KR212 reports the form)",
    ],
)
def test_dois_and_links_are_found_where_people_write_them(
    tmp_path: Path, entry: str, doi: str | None, urls: tuple[str, ...]
) -> None:
    path = tmp_path / "one.bib"
    path.write_text(entry + "\n", encoding="utf-8")
    (ref,) = read(str(path)).references
    assert (ref.doi, ref.urls) == (doi, urls)


def test_biblatex_fields_fill_the_model(tmp_path: Path) -> None:
    path = tmp_path / "biblatex.bib"
    path.write_text(
        "@Online{who,\n  author = {{World Health Organization}},\n  date = {2021-05-01},\n"
        "  title = {Kratom},\n  publisher = {WHO},\n  url = {https://www.who.int/kratom},\n}\n"
        "@InCollection{ch,\n  author = {Doe, Jane},\n  booktitle = {Handbook},\n  year = {2019},\n}\n",
        encoding="utf-8",
    )
    who, chapter = read(str(path)).references
    assert (who.type, who.year, who.container, who.publisher) == ("online", "2021", "WHO", "WHO")
    assert (chapter.type, chapter.container) == ("incollection", "Handbook")
