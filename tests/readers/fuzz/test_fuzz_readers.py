"""Every reader on arbitrary input: a file of any bytes never raises anything but InputError, and no
reader needs the last-resort guard (a reader crash would turn a whole file into one parse error)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kratomref import readers
from kratomref.model import Document

FORMATS = ("bibtex", "text", "markdown", "csljson", "ris")

# --- strategies: arbitrary text, and text built from each format's own pieces so that the fuzzer
# reaches past the first syntax check -----------------------------------------------------------------

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=2000)
WORDS = st.sampled_from(
    ["Smith", "J.", "and", "others", "et al.", "2019", "Journal", "of", "Kratom", "vol. 3", "pp. 1--9",
     "10.1371/journal.pone.0033693", "https://doi.org/10.1000/x", "http://example.org/a).", "doi:", "{\\'e}",
     "\\url{https://x.org}", "$\\alpha$", "&", "\u2013", "Ü", "\t", "  ", "%", "#", "[1]", "(2)", "3.", "-",
     "\\", "\"", "'", "{", "}", "@", "=", ",", "<!-- kratomref: ignore[KR201] -->", "\u200b", "\ufeff"]
)
PHRASE = st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=12).map(" ".join)

BIB_FIELD = st.tuples(
    st.sampled_from(["author", "title", "journal", "year", "doi", "url", "pages", "volume", "note", "howpublished",
                     "date", "crossref", "eprint", "x"]),
    st.sampled_from(["{%s}", "\"%s\"", "%s", "{{%s}}", "{%s", "%s}"]),
    PHRASE,
).map(lambda t: f"{t[0]} = {t[1] % t[2]}")
BIB_ENTRY = st.tuples(
    st.sampled_from(
        ["@article", "@Book", "@online", "@misc", "@string", "@comment", "@preamble", "@", "@inproceedings"]
    ),
    st.sampled_from(["{", "(", "", "{{"]),
    st.text(alphabet="abc123:_-/ ", max_size=8),
    st.lists(BIB_FIELD, max_size=8),
    st.sampled_from(["}", ")", "", "}}", ",}"]),
).map(lambda t: f"{t[0]}{t[1]}{t[2]},\n  " + ",\n  ".join(t[3]) + f"\n{t[4]}\n")
BIBTEX = st.lists(st.one_of(BIB_ENTRY, PHRASE), max_size=6).map("\n".join)

RIS_LINE = st.tuples(
    st.sampled_from(["TY", "AU", "A1", "TI", "T1", "JO", "T2", "PY", "Y1", "DA", "DO", "UR", "SP", "EP", "VL", "IS",
                     "ER", "XX", "ty", "  "]),
    st.sampled_from(["  - ", " - ", "  -", "-", "  - \t"]),
    PHRASE,
).map("".join)
RIS = st.lists(RIS_LINE, max_size=30).map("\n".join)

CSL_KEYS = st.sampled_from(["id", "type", "title", "author", "issued", "container-title", "DOI", "URL", "page",
                            "volume", "family", "given", "literal", "date-parts", "raw", "items", "season"])
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), PHRASE)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(CSL_KEYS, children, max_size=6),
    max_leaves=30,
)
CSLJSON = st.one_of(
    st.lists(st.dictionaries(CSL_KEYS, JSON_VALUE, max_size=8), max_size=5).map(json.dumps),
    JSON_VALUE.map(json.dumps),
    st.lists(st.dictionaries(CSL_KEYS, JSON_VALUE, max_size=8), max_size=3).map(lambda v: json.dumps(v)[:-1]),
)

DRAFT_LINE = st.one_of(
    PHRASE,
    st.sampled_from(["References", "# References", "## Bibliography", "REFERENCES:", "**Works Cited**", "=====",
                     "-----", "```", "~~~", "---", "Appendix A", "", "    indented code", "> quote"]),
    st.tuples(st.sampled_from(["1. ", "[2] ", "(3) ", "- ", "* ", "12) ", "[x] "]), PHRASE).map("".join),
    st.tuples(PHRASE, st.sampled_from(["[1]", "[1-3]", "(Smith, 2019)", "[@key]", "[text](http://x.org/a_(b))"]))
    .map(" ".join),
)
DRAFT = st.lists(DRAFT_LINE, max_size=40).map("\n".join)

SHAPED: dict[str, st.SearchStrategy[str]] = {
    "bibtex": BIBTEX,
    "text": DRAFT,
    "markdown": DRAFT,
    "csljson": CSLJSON,
    "ris": RIS,
}


def _share(divisor: int) -> settings:
    """The profile's number of examples divided by divisor (a gate run's fewer, a deep run's still thousands), for
    a property whose examples are slow to build or to read and whose crash classes the first of them reach."""
    return settings(max_examples=max(10, settings().max_examples // divisor))


def _format_reader(fmt: str) -> Callable[[str, str], Document]:
    return readers.FORMATS[fmt]


def _direct(fmt: str, text: str) -> Document:
    """Call the format's reader itself, without the guard that turns its exceptions into KR001."""
    try:
        return _format_reader(fmt)("fuzz." + fmt, text)
    except RecursionError:
        # Deliberately left to the guard, which reports "nested too deeply" (json.loads recurses).
        return Document("fuzz", fmt)


def _read_bytes(data: bytes, fmt: str | None, suffix: str) -> Document:
    fd, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return readers.read(path, fmt)
    finally:
        os.unlink(path)


def _sane(doc: Document) -> None:
    for ref in doc.references:
        assert ref.location.file == doc.path
    for problem in doc.problems:
        assert problem.code.startswith("KR"), problem


SHARE_DETECTION, SHARE_SHAPED, SHARE_CSLJSON = _share(4), _share(4), _share(4)


# --- read(): any bytes, any format, detected or forced ------------------------------------------------


@pytest.mark.parametrize("fmt", [*FORMATS, None], ids=[*(f"forced {f}" for f in FORMATS), "detected"])
@given(data=st.binary(max_size=4000))
def test_read_any_bytes_never_raises(fmt: str | None, data: bytes) -> None:
    _sane(_read_bytes(data, fmt, ".bin"))


@pytest.mark.parametrize("fmt", FORMATS)
@SHARE_DETECTION
@given(data=st.data())
def test_read_format_shaped_text_through_detection(fmt: str, data: st.DataObject) -> None:
    text = data.draw(SHAPED[fmt])
    suffix = {"bibtex": ".bib", "text": ".txt", "markdown": ".md", "csljson": ".json", "ris": ".ris"}[fmt]
    encoding = data.draw(st.sampled_from(["utf-8", "utf-16", "latin-1"]))
    _sane(_read_bytes(text.encode(encoding, "replace"), None, suffix))


# --- each reader directly: a crash here is a bug even though read() would have caught it --------------


@pytest.mark.parametrize("fmt", FORMATS)
@given(text=ANY_TEXT)
def test_each_reader_survives_arbitrary_text(fmt: str, text: str) -> None:
    _sane(_direct(fmt, text))


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "csljson"])
@SHARE_SHAPED
@given(data=st.data())
def test_each_reader_survives_text_shaped_like_its_format(fmt: str, data: st.DataObject) -> None:
    _sane(_direct(fmt, data.draw(SHAPED[fmt])))


@SHARE_CSLJSON
@given(text=CSLJSON)
@example(text='{"items": [{"author": [{"family": 1, "given": null}], "issued": {"date-parts": [[null]]}}]}')
@example(text='[{"issued": {"date-parts": "2019"}, "author": "Smith"}]')
def test_the_csljson_reader_survives_json_of_any_shape(text: str) -> None:
    _sane(_direct("csljson", text))


def test_the_csljson_reader_reports_a_number_too_long_to_convert() -> None:
    """Python 3.11+ refuses to convert integers of more than 4,300 digits (CVE-2020-10735)."""
    text = '[{"id": "a", "title": "t", "volume": ' + "1" * 5000 + "}]"
    doc = _direct("csljson", text)
    assert [p.code for p in doc.problems] == ["KR001"]
