"""RIS and BibTeX written by kratomref read back with no field lost: through kratomref's own readers, through
rispy and bibtexparser (what other tools read), and through the export path itself; organisations stay whole."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from bibtexparser import middlewares
from bibtexparser.entrypoint import parse_string

from kratomref.export import ExportEntry, ExportOptions, entries_from
from kratomref.export.bibtex import write_bibtex
from kratomref.export.csl import from_reference
from kratomref.export.fields import plain
from kratomref.export.ris import write_ris
from kratomref.model import Location, Reference
from kratomref.readers import read

rispy = pytest.importorskip("rispy", reason="rispy is in the test extras: pip install 'kratomref[test]'")

MICRO_FOCUS = {"literal": "Micro Focus"}
WHO = {"literal": "World Health Organization"}
UC = {"literal": "University of California, Berkeley"}
GAUL = {"family": "Gaul", "given": "Anna Maria"}
SINGH = {"family": "Singh", "given": "Darshan"}
MUELLER = {"family": "Müller", "given": "Christian P."}

ITEMS: list[dict[str, Any]] = [
    {"id": "Hassan2013", "type": "article-journal", "author": [GAUL, MICRO_FOCUS, MUELLER],
     "title": "From Kratom to mitragynine: effects in Kuala Lumpur & beyond", "container-title": "Neuroscience & "
     "Biobehavioral Reviews", "volume": "37", "issue": "2", "page": "138-151",
     "issued": {"date-parts": [[2013, 2, 15]]}, "DOI": "10.1016/j.neubiorev.2012.11.012",
     "URL": "https://example.org/hassan", "ISSN": "0149-7634", "language": "en", "note": "Review article",
     "abstract": "Kratom is a plant of Southeast Asia.", "keyword": "kratom, mitragynine, addiction"},
    {"id": "book2019", "type": "book", "author": [SINGH], "editor": [GAUL, UC],
     "translator": [{"family": "Lee", "given": "Min"}], "title": "Handbook of Plants", "edition": "2",
     "collection-title": "Lecture Notes in Botany", "publisher": "Springer", "publisher-place": "Cham",
     "ISBN": "978-3-030-12345-6", "issued": {"date-parts": [[2019, 5]]}},
    {"id": "chapter2020", "type": "chapter", "author": [SINGH], "editor": [MUELLER],
     "title": "Kratom in Malaysia", "container-title": "Handbook of Plants", "page": "45-67",
     "publisher": "Springer", "publisher-place": "Cham", "ISBN": "978-3-030-12345-6",
     "issued": {"date-parts": [[2020]]}},
    {"id": "who2020", "type": "report", "author": [WHO, MICRO_FOCUS], "title": "Kratom: critical review report",
     "number": "WHO/MSD/2020.1", "genre": "Technical report", "publisher": "World Health Organization",
     "publisher-place": "Geneva", "issued": {"date-parts": [[2020, 11]]}, "URL": "https://who.example.org/r"},
    {"id": "fda", "type": "webpage", "author": [{"literal": "Food and Drug Administration"}],
     "title": "FDA and Kratom", "container-title": "U.S. Food and Drug Administration",
     "URL": "https://www.fda.gov/kratom", "issued": {"date-parts": [[2020, 1, 2]]},
     "accessed": {"date-parts": [[2024, 3, 9]]}},
    {"id": "thesis2018", "type": "thesis", "author": [GAUL], "title": "Alkaloids of Mitragyna speciosa",
     "genre": "Doctoral dissertation", "publisher": "Universiti Sains Malaysia", "publisher-place": "Penang",
     "issued": {"date-parts": [[2018]]}, "URL": "https://example.org/thesis"},
    {"id": "data2021", "type": "dataset", "author": [SINGH, MICRO_FOCUS], "title": "Kratom survey responses",
     "publisher": "Zenodo", "DOI": "10.5281/zenodo.1234567", "issued": {"date-parts": [[2021, 7, 1]]},
     "URL": "https://zenodo.org/record/1234567"},
]
NAME_ROLES = ("author", "editor", "translator", "collection-editor")
TEXT_VARIABLES = ("title", "container-title", "collection-title", "volume", "issue", "number", "page", "edition",
                  "publisher", "publisher-place", "ISBN", "ISSN", "DOI", "URL", "language", "genre", "note",
                  "abstract")


def entries(items: Sequence[dict[str, Any]]) -> list[ExportEntry]:
    return [ExportEntry(Reference(Location("test.json", 1, str(i["id"]))), i) for i in items]


def _name(name: Mapping[str, Any]) -> tuple[str, ...]:
    if name.get("literal"):
        return ("literal", " ".join(str(name["literal"]).split()))
    family = [name.get("dropping-particle"), name.get("non-dropping-particle"), name.get("family")]
    return (" ".join(str(p) for p in family if p), str(name.get("given", "")))


_NOCASE = re.compile(r'<span class="nocase">([^<]*)</span>')


def _case_kept(match: re.Match[str]) -> str:
    """A nocase span around capitalised words reads as those words: BibTeX writes them in braces, which keep
    their capitals (pandoc's reader keeps the case and drops the span). Around a lower-case word it stays."""
    words = match.group(1).split()
    return match.group(1) if all(w[:1].isupper() or not w[:1].isalpha() for w in words) else match.group(0)


def _text(value: Any) -> str:
    text = _NOCASE.sub(_case_kept, " ".join(str(value).split()))
    return re.sub(r"\s*[–—-]+\s*", "-", text) if re.fullmatch(r"[\w.]+\s*[–—-]+\s*[\w.]+", text) else text


def comparable(item: Mapping[str, Any]) -> dict[str, Any]:
    """What a user would compare: names (organisations as one literal), dates, text, keywords, type."""
    out: dict[str, Any] = {"type": item.get("type")}
    for role in NAME_ROLES:
        if item.get(role):
            out[role] = [_name(n) for n in item[role]]
    for variable in ("issued", "accessed"):
        value = item.get(variable)
        if isinstance(value, Mapping) and value.get("date-parts") and value["date-parts"][0] != [0]:
            out[variable] = [int(p) for p in value["date-parts"][0]]  # pandoc reads `year = {}` as [[0]]
    for variable in TEXT_VARIABLES:
        if item.get(variable):
            out[variable] = _text(item[variable])
    if out.get("DOI") and out.get("URL", "").lower() == f"https://doi.org/{out['DOI']}".lower():
        del out["URL"]  # the DOI's own link: the RIS reader reads it as the DOI
    if item.get("keyword"):
        out["keyword"] = sorted(k.strip() for k in re.split(r"[,;]", str(item["keyword"])) if k.strip())
    return out


def differences(expected: Mapping[str, Any], got: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    want, have = comparable(expected), comparable(got)
    return {k: (want.get(k), have.get(k)) for k in sorted(set(want) | set(have)) if want.get(k) != have.get(k)}


# --- kratomref's readers -------------------------------------------------------------------------------


def kratomref_item(ref: Reference) -> dict[str, Any]:
    """The CSL item of a reference read back: `from_reference`, the export's own conversion."""
    return from_reference(ref)


def read_back(tmp_path: Path, name: str, text: str) -> dict[str, dict[str, Any]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    doc = read(str(path))
    assert doc.problems == ()
    return {ref.key: kratomref_item(ref) for ref in doc.references}


# Variables a format cannot hold, per item type, and why (the report lists them).
RIS_LOSSES: dict[str, set[str]] = {}
BIBTEX_LOSSES: dict[str, set[str]] = {}


@pytest.mark.parametrize("item", ITEMS, ids=[str(i["id"]) for i in ITEMS])
def test_ris_reads_back_through_kratomref(tmp_path: Path, item: dict[str, Any]) -> None:
    back = read_back(tmp_path, "out.ris", write_ris(entries([item]), None))
    assert differences(item, back[item["id"]]) == {}


@pytest.mark.parametrize("item", ITEMS, ids=[str(i["id"]) for i in ITEMS])
def test_bibtex_reads_back_through_kratomref(tmp_path: Path, item: dict[str, Any]) -> None:
    back = read_back(tmp_path, "out.bib", write_bibtex(entries([item]), None))
    assert differences(item, back[item["id"]]) == {}


def test_the_whole_library_reads_back_in_one_file(tmp_path: Path) -> None:
    for name, writer in (("all.ris", write_ris), ("all.bib", write_bibtex)):
        back = read_back(tmp_path, name, writer(entries(ITEMS), None))
        assert list(back) == [i["id"] for i in ITEMS], name
        assert {k: differences(i, back[k]) for k, i in zip(back, ITEMS, strict=True) if differences(i, back[k])} \
            == {}, name


# --- rispy ----------------------------------------------------------------------------------------------

RISPY_NAMES = {"authors": "author", "secondary_authors": "editor", "tertiary_authors": "collection-editor",
               "subsidiary_authors": "translator"}
RISPY_TEXT = {"title": "title", "secondary_title": "container-title", "tertiary_title": "collection-title",
              "volume": "volume", "number": "issue", "note": "number", "edition": "edition",
              "publisher": "publisher", "place_published": "publisher-place", "doi": "DOI",
              "language": "language", "type_of_work": "genre", "abstract": "abstract"}
RISPY_TYPES = {"JOUR": "article-journal", "BOOK": "book", "CHAP": "chapter", "RPRT": "report", "ELEC": "webpage",
               "THES": "thesis", "DATA": "dataset"}


def _ris_person(name: str) -> dict[str, str]:
    """A name as RIS defines it: "Family, Given"; an organisation whole (EndNote closes one with a comma)."""
    if name.endswith(","):
        return {"literal": name.rstrip(", ")}
    family, comma, given = name.partition(",")
    if not comma:
        return {"literal": family.strip()}
    return {"family": family.strip(), "given": given.strip()}


def _ris_date(value: str) -> dict[str, Any]:
    return {"date-parts": [[int(p) for p in value.split("/")[:3] if p.strip()]]}


def rispy_item(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A record as rispy reads it, in CSL terms, by the RIS specification's meaning of each tag."""
    item: dict[str, Any] = {"id": entry.get("id"), "type": RISPY_TYPES.get(entry["type_of_reference"])}
    for key, role in RISPY_NAMES.items():
        if entry.get(key):
            item[role] = [_ris_person(n) for n in entry[key]]
    for key, variable in RISPY_TEXT.items():
        if entry.get(key):
            item[variable] = entry[key]
    item["issued"] = _ris_date(entry["date"]) if entry.get("date") else {"date-parts": [[int(entry["year"])]]}
    if entry.get("access_date"):
        item["accessed"] = _ris_date(entry["access_date"])
    if entry.get("start_page"):
        item["page"] = "-".join(p for p in (entry["start_page"], entry.get("end_page")) if p)
    for number in [entry["issn"]] if isinstance(entry.get("issn"), str) else entry.get("issn") or []:
        item["ISSN" if re.fullmatch(r"\d{4}-\d{3}[\dX]", number) else "ISBN"] = number
    if entry.get("urls"):
        item["URL"] = entry["urls"][0]
    if entry.get("notes"):
        item["note"] = entry["notes"][0]
    if entry.get("keywords"):
        item["keyword"] = ", ".join(entry["keywords"])
    return item


def test_ris_reads_back_through_rispy() -> None:
    records = rispy.loads(write_ris(entries(ITEMS), None))
    assert [r["id"] for r in records] == [i["id"] for i in ITEMS]
    found = {i["id"]: differences(i, rispy_item(r)) for i, r in zip(ITEMS, records, strict=True)}
    assert {k: v for k, v in found.items() if v} == {}
    # organisations are one name to rispy too, not a given and a family name
    assert records[0]["authors"][1] == "Micro Focus"
    assert records[3]["authors"] == ["World Health Organization", "Micro Focus"]


# --- bibtexparser ---------------------------------------------------------------------------------------

BIBTEXPARSER_TYPES = {"article": "article-journal", "book": "book", "incollection": "chapter",
                      "techreport": "report", "online": "webpage", "phdthesis": "thesis", "dataset": "dataset"}
BIBTEXPARSER_TEXT = {"title": "title", "journal": "container-title", "booktitle": "container-title",
                     "organization": "container-title", "series": "collection-title", "volume": "volume",
                     "edition": "edition", "publisher": "publisher", "institution": "publisher",
                     "school": "publisher", "address": "publisher-place", "isbn": "ISBN", "issn": "ISSN",
                     "doi": "DOI", "url": "URL", "language": "language", "type": "genre", "note": "note",
                     "abstract": "abstract", "keywords": "keyword"}


def _bib_date(value: str) -> dict[str, Any]:
    return {"date-parts": [[int(p) for p in value.split("-")]]}


def _unbraced(parts: Sequence[str]) -> str:
    return " ".join(parts).replace("{", "").replace("}", "")


def bibtexparser_item(entry: Any) -> dict[str, Any]:
    """An entry as bibtexparser 2 reads it (LaTeX decoded, names split into parts), in CSL terms; braces are
    case protection, not text."""
    fields: dict[str, Any] = {f.key: f.value if not isinstance(f.value, str) else _unbraced([f.value])
                              for f in entry.fields}
    item: dict[str, Any] = {"id": entry.key, "type": BIBTEXPARSER_TYPES.get(entry.entry_type)}
    for role in ("author", "editor", "translator"):
        if role in fields:
            item[role] = [{"literal": _unbraced(n.last)} if not n.first else
                          {"family": _unbraced(n.last), "given": _unbraced(n.first)} for n in fields[role]]
    for key, variable in BIBTEXPARSER_TEXT.items():
        if fields.get(key):
            item[variable] = fields[key]
    if fields.get("number"):
        item["number" if item["type"] == "report" else "issue"] = fields["number"]
    if fields.get("pages"):
        item["page"] = fields["pages"]
    year = [int(fields["year"])] + ([int(fields["month"])] if fields.get("month") else [])
    item["issued"] = _bib_date(fields["date"]) if fields.get("date") else {"date-parts": [year]}
    if fields.get("urldate"):
        item["accessed"] = _bib_date(fields["urldate"])
    if item.get("type") == "thesis" and "genre" not in item:
        item["genre"] = "PhD thesis"
    return item


def test_bibtex_reads_back_through_bibtexparser() -> None:
    layers: list[Any] = [middlewares.LatexDecodingMiddleware(keep_braced_groups=True),
                                            middlewares.SeparateCoAuthors(), middlewares.SplitNameParts()]
    library = parse_string(write_bibtex(entries(ITEMS), None), append_middleware=layers)
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == [i["id"] for i in ITEMS]
    found = {i["id"]: differences(i, bibtexparser_item(e)) for i, e in zip(ITEMS, library.entries, strict=True)}
    assert {k: v for k, v in found.items() if v} == {}


# --- the export path: RIS and BibTeX files read as inputs -----------------------------------------------


def export_items(path: Path) -> dict[str, dict[str, Any]]:
    """The items `kratomref export` would write for a file (for a .bib, through pandoc when it is there)."""
    doc = read(str(path))
    found, _, _ = entries_from(doc.references, None, ExportOptions(to="csl-json"))
    return {str(e.item["id"]): kratomref_item_from(e) for e in found}


def kratomref_item_from(entry: ExportEntry) -> dict[str, Any]:
    extra = kratomref_item(entry.reference)
    return {**{k: v for k, v in extra.items() if k not in entry.item}, **entry.item}


@pytest.mark.parametrize(("name", "writer"), [("lib.ris", write_ris), ("lib.bib", write_bibtex)])
def test_an_export_of_an_export_is_the_same_library(
    tmp_path: Path, name: str, writer: Callable[[Sequence[ExportEntry], None], str]
) -> None:
    path = tmp_path / name
    path.write_text(writer(entries(ITEMS), None), encoding="utf-8")
    back = export_items(path)
    found = {i["id"]: differences(i, back[i["id"]]) for i in ITEMS}
    assert {k: v for k, v in found.items() if v} == {}


def without_markup(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) if k in TEXT_VARIABLES and isinstance(v, str) else v for k, v in item.items()}


# --- real-world bibliography ----------------------------------------------------------------------------

# pandoc joins a @misc entry's howpublished, institution and publisher into one CSL publisher; the entry's
# container-title is kratomref's guess from the same fields, so a .bib written from it cannot keep them apart.
KNOWN_REAL_LOSSES = {"shim2025wrist"}
REAL_BIB = Path(__file__).resolve().parents[2].parent / "shared" / "realworld" / "export" / "real.bib"


@pytest.mark.skipif(not REAL_BIB.is_file(), reason="no ../shared/realworld/export/real.bib (../shared is beside "
                    "the clone in CI)")
@pytest.mark.parametrize(("name", "writer"), [("real.ris", write_ris), ("real.bib", write_bibtex)])
def test_a_real_bibliography_loses_no_field(
    tmp_path: Path, name: str, writer: Callable[[Sequence[ExportEntry], None], str]
) -> None:
    doc = read(str(REAL_BIB))
    first, _, _ = entries_from(doc.references, None, ExportOptions(to="csl-json"))
    assert len(first) >= 100
    path = tmp_path / name
    path.write_text(writer(first, None), encoding="utf-8")
    back = export_items(path)
    assert len(back) == len(first)
    lost = {}
    for entry in first:
        if entry.item["id"] in KNOWN_REAL_LOSSES and name.endswith(".bib"):
            continue
        key = re.sub(r"[\s,{}()=\"#%\\]", "-", str(entry.item["id"]))
        # RIS is plain text: a title's italics and case marks are not RIS's to keep (its words are)
        expected = without_markup(entry.item) if name.endswith(".ris") else entry.item
        diff = differences(expected, back[key])
        if diff:
            lost[key] = diff
    assert lost == {}
