"""CSL-JSON and RIS exports read into the same model as BibTeX."""

from __future__ import annotations

from pathlib import Path

import pytest

from kratomref.model import Author
from kratomref.readers import read

INPUTS = Path(__file__).resolve().parents[1] / "fixtures" / "inputs"


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def _write(tmp_path: Path, name: str, source: str) -> str:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return str(path)


def test_csl_json_items_become_references() -> None:
    path = INPUTS / "library.json"
    doc = read(str(path))
    assert (doc.format, doc.problems) == ("csljson", ())
    hassan, fda, chapter = doc.references
    assert hassan.key == "hassan2013kratom"
    assert hassan.location.line == _line_of(path, '"id": "hassan2013kratom"')
    assert hassan.type == "article"
    assert hassan.authors == (Author("Hassan", "Zurina"), Author("Müller", "Christian P."))
    assert (hassan.year, hassan.volume, hassan.issue, hassan.pages) == ("2013", "37", "2", "138-151")
    assert hassan.container == "Neuroscience & Biobehavioral Reviews"
    assert hassan.doi == "10.1016/j.neubiorev.2012.11.012"
    assert (fda.type, fda.year, fda.urls) == ("online", "2020", ("https://www.fda.gov",))
    assert fda.authors == (Author("Food and Drug Administration (FDA)", literal=True),)
    assert fda.location.line == _line_of(path, '"id": "fda2020kratom"')
    assert chapter.type == "incollection"
    assert chapter.authors == (Author("van Beethoven", "Ludwig"),)
    assert (chapter.container, chapter.pages, chapter.year) == ("Handbook of Plants", "10-20", "2019")
    assert (chapter.doi, chapter.urls) == ("https://doi.org/10.1000/xyz123", ())


@pytest.mark.parametrize(
    ("source", "keys"),
    [
        ('{"items": [{"id": "a", "type": "book", "title": "T"}]}', ["a"]),
        ('{"id": "solo", "type": "webpage", "title": "T"}', ["solo"]),
        ('[{"type": "book", "title": "No id"}]', ["item-1"]),
    ],
    ids=["wrapped in an items object", "a single item", "an item without an id gets its position"],
)
def test_csl_json_shapes(tmp_path: Path, source: str, keys: list[str]) -> None:
    doc = read(_write(tmp_path, "lib.json", source))
    assert [r.key for r in doc.references] == keys
    assert doc.problems == ()


def test_malformed_json_is_a_parse_error_at_its_line_and_column(tmp_path: Path) -> None:
    doc = read(_write(tmp_path, "bad.json", '[\n  {"id": "a",\n   "title": "T",,\n  }\n]\n'))
    (problem,) = doc.problems
    assert (problem.code, problem.location.line, problem.location.column) == ("KR001", 3, 17)
    assert doc.references == ()


def test_json_that_is_not_a_list_of_items_is_reported(tmp_path: Path) -> None:
    doc = read(_write(tmp_path, "other.json", '[{"id": "a", "title": "T"}, 42, "text"]'))
    assert [r.key for r in doc.references] == ["a"]
    assert [p.code for p in doc.problems] == ["KR001", "KR001"]
    assert read(_write(tmp_path, "num.json", "42")).problems[0].code == "KR001"


def test_ris_records_become_references() -> None:
    path = INPUTS / "library.ris"
    doc = read(str(path))
    assert (doc.format, doc.problems) == ("ris", ())
    hassan, fda, chapter = doc.references
    assert hassan.key == "hassan2013kratom"
    assert hassan.location.line == 1
    assert hassan.type == "article"
    assert hassan.authors == (Author("Hassan", "Z."), Author("Muzaimi", "M."))
    assert hassan.title is not None and hassan.title.endswith("related to use, abuse, and addiction")
    assert (hassan.year, hassan.volume, hassan.issue, hassan.pages) == ("2013", "37", "2", "138-151")
    assert hassan.doi == "10.1016/j.neubiorev.2012.11.012"
    assert hassan.line_of("doi") == _line_of(path, "DO  - 10.1016")
    assert fda.key == "ris-2"
    assert fda.location.line == _line_of(path, "TY  - ELEC")
    assert (fda.type, fda.urls) == ("online", ("https://www.fda.gov",))
    assert fda.line_of("url") == _line_of(path, "UR  - https://www.fda.gov")
    assert fda.authors == (Author("Food and Drug Administration (FDA)", literal=True),)
    assert (chapter.type, chapter.container, chapter.year) == ("incollection", "Handbook of Plants", "2019")
    assert (chapter.doi, chapter.urls) == ("https://doi.org/10.1000/abc", ())


@pytest.mark.parametrize(
    ("ris_type", "expected"),
    [("JOUR", "article"), ("BOOK", "book"), ("CHAP", "incollection"), ("WEB", "online"), ("RPRT", "report"),
     ("THES", "thesis"), ("CPAPER", "inproceedings"), ("GEN", "misc"), ("ZZZZ", "misc")],
    ids=lambda value: value,
)
def test_ris_types_are_mapped(tmp_path: Path, ris_type: str, expected: str) -> None:
    doc = read(_write(tmp_path, "one.ris", f"TY  - {ris_type}\nTI  - T\nER  - \n"))
    assert doc.references[0].type == expected


def test_an_ris_record_without_er_is_still_read_and_reported(tmp_path: Path) -> None:
    source = "TY  - JOUR\nTI  - First\nTY  - BOOK\nTI  - Second\nER  - \nTY  - GEN\nTI  - Last\n"
    doc = read(_write(tmp_path, "open.ris", source))
    assert [r.title for r in doc.references] == ["First", "Second", "Last"]
    assert [(p.code, p.location.line) for p in doc.problems] == [("KR001", 1), ("KR001", 6)]


def test_text_before_the_first_ris_record_is_reported_once(tmp_path: Path) -> None:
    doc = read(_write(tmp_path, "stray.ris", "hello\nworld\nTY  - GEN\nTI  - T\nER  - \n"))
    assert [r.title for r in doc.references] == ["T"]
    assert [(p.code, p.location.line) for p in doc.problems] == [("KR001", 1)]
