"""Property tests: no reader raises on any text, and what they return stays consistent with the input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kratomref import readers
from kratomref.model import Document

# Text shaped like the inputs: fragments of BibTeX, RIS, JSON, Markdown and citations, mixed with noise.
FRAGMENTS = st.sampled_from(
    [
        "@article{", "@string{x = ", "@comment{", "}", "{", ",", " = ", '"', "author = {", " and others",
        "{\\\"u}", "\\&", "%", "% kratomref: ignore[KR304]", "\n", "\n\n", "TY  - JOUR\n", "AU  - Doe, J.\n",
        "ER  - \n", "[", "]", '{"id": ', '"items": [', "null", "42", "## References\n", "References\n",
        "-----\n", "1. ", "[1] ", "- ", "(2013). ", "Smith, J., ", "... & ", "et al. ", "37(2), 138-151. ",
        "https://doi.org/10.1000/x", "https://x.org/a_(b)", "doi:10.1/", "<!-- kratomref: ignore[KR101] -->",
        "```\n", "---\n", "**Works Cited**\n", "    ", "\t", "(", ")", "“", "”", "…", "\\", "$",
    ]
)
SHAPED = st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=40).map("".join)


def _consistent(doc: Document, fmt: str, text: str) -> None:
    assert doc.format == fmt
    line_count = max(1, len(text.splitlines()))
    for ref in doc.references:
        assert ref.location.file == "input"
        assert ref.location.line is None or 1 <= ref.location.line <= line_count + 1
    for problem in doc.problems:
        assert problem.code in ("KR001", "KR002")
    keys = [ref.key for ref in doc.references]
    assert len(keys) == len(set(keys)) or fmt in ("csljson", "ris")


@pytest.mark.parametrize("fmt", sorted(readers.FORMATS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(SHAPED, st.text()))
def test_no_reader_raises_on_any_text(fmt: str, text: str) -> None:
    doc = readers.FORMATS[fmt]("input", text)
    _consistent(doc, fmt, text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=300), SHAPED.map(lambda s: s.encode("utf-8"))))
def test_read_turns_any_bytes_into_a_document(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "input.any"
    path.write_bytes(content)
    doc = readers.read(str(path))
    assert doc.path == str(path)
    assert doc.format in readers.FORMATS


CITATION_TEXT = st.lists(
    st.one_of(
        st.sampled_from(
            ["Smith, J., ", "Doe AB, ", "... & ", "et al. ", "(2013). ", "2013;", "37(2), ", "138-151. ", '"', "“",
             "In ", "(Ed.), ", "(pp. 1-2). ", "vol. 3, ", "no. 4, ", "pp. 5-6, ", "https://x.org/a ", "doi:10.1/x ",
             "[https://doi.org/10.1/y] ", "*", "_", "(FDA). ", "Retrieved from ", "[cited 2020 May 1]. ", ". ", "? "]
        ),
        st.text(max_size=6),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(CITATION_TEXT)
def test_any_citation_text_parses_and_is_kept_as_written(raw: str) -> None:
    from kratomref.model import Location
    from kratomref.readers.freetext import parse_citation

    ref = parse_citation(raw, Location("draft.md", 3, "ref-1"))
    assert ref.raw == raw
    assert ref.year is None or (len(ref.year) == 4 and ref.year.isdigit())
    for url in ref.urls:
        assert url in raw


@settings(max_examples=300, deadline=None)
@given(st.one_of(SHAPED, st.text()))
def test_latex_decoding_and_name_parsing_never_raise(text: str) -> None:
    from kratomref.readers.bibtex import decode_latex, parse_names

    decoded = decode_latex(text)
    assert "{" not in decoded.replace("\\{", "") or "\\" in text
    parse_names(text)
