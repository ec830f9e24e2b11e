"""Opening inputs: format detection, and bad input that becomes a finding instead of a traceback."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kratomref import readers
from kratomref.readers import InputError, detect, read

BIB = "@article{a,\n  title = {T},\n  year = {2020}\n}\n"
MARKDOWN = "# Draft\n\n## References\n\n1. Smith, J. (2019). A. J, 1, 2.\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("refs.bib", BIB, "bibtex"),
        ("refs.biblatex", BIB, "bibtex"),
        ("refs.txt", BIB, "bibtex"),
        ("refs", "% exported by JabRef\n\n" + BIB, "bibtex"),
        ("lib.json", '[{"id": "a", "type": "book"}]', "csljson"),
        ("export", '[{"id": "a", "type": "book"}]', "csljson"),
        ("lib.ris", "TY  - JOUR\nER  - \n", "ris"),
        ("pubmed.txt", "TY  - JOUR\nTI  - T\nER  - \n", "ris"),
        ("draft.md", "Just text.\n", "markdown"),
        ("draft.markdown", "Just text.\n", "markdown"),
        ("draft.txt", MARKDOWN, "text"),
        ("README", MARKDOWN, "markdown"),
        ("notes", "Plain words only.\n", "text"),
    ],
    ids=[
        "bib extension", "biblatex extension", "a .txt that is really BibTeX", "BibTeX after comment lines",
        "json extension", "CSL-JSON content without an extension", "ris extension", "RIS content in a .txt",
        "md extension", "markdown extension", "a .txt stays text even with Markdown in it",
        "Markdown content without an extension", "anything else is text",
    ],
)
def test_the_format_comes_from_the_extension_then_the_content(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert detect(str(path), content) == expected
    assert read(str(path)).format == expected


def test_the_input_format_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc = read(str(path), "markdown")
    assert doc.format == "markdown"
    assert len(doc.references) == 1
    assert read(str(path), "md").format == "markdown"


def test_an_unknown_input_format_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(BIB, encoding="utf-8")
    with pytest.raises(InputError, match="unknown input format 'endnote'"):
        read(str(path), "endnote")


def test_a_new_format_is_one_registry_entry_and_one_detector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kratomref.model import Document

    def read_latex(path: str, text: str) -> Document:
        return Document(path, "latex", meta={"chars": str(len(text))})

    monkeypatch.setitem(readers.FORMATS, "latex", read_latex)
    monkeypatch.setattr(readers, "DETECTORS", [(lambda p, h: p.endswith(".tex"), "latex"), *readers.DETECTORS])
    path = tmp_path / "paper.tex"
    path.write_text("\\documentclass{article}\n", encoding="utf-8")
    assert read(str(path)).meta == {"chars": "24"}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: str(tmp / "missing.bib"), "no such file"),
        (lambda tmp: str(tmp), "is a directory"),
    ],
    ids=["a missing file", "a directory"],
)
def test_a_path_that_cannot_be_opened_raises_input_error_naming_it(
    tmp_path: Path, make: Callable[[Path], str], message: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(InputError) as caught:
        read(path)
    assert message in str(caught.value)
    assert path in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unreadable_file_raises_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.bib"
    path.write_text(BIB, encoding="utf-8")
    if os.name == "posix" and os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads any file: make opening it fail the way it fails for a user without permission

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(readers, "open", refuse, raising=False)
    with pytest.raises(InputError, match="permission denied"):
        read(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    ],
    ids=["an empty file", "a file of blank lines", "a binary file"],
)
def test_unreadable_content_is_a_kr002_problem_not_an_exception(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "input.bib"
    path.write_bytes(content)
    doc = read(str(path))
    assert [p.code for p in doc.problems] == ["KR002"]
    assert message in doc.problems[0].message
    assert doc.references == ()


def test_a_latin1_file_is_read_with_a_problem_naming_the_guessed_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.bib"
    path.write_bytes("@article{a,\n  author = {Müller, C.},\n  title = {Café}\n}\n".encode("latin-1"))
    doc = read(str(path))
    assert doc.references[0].authors[0].family == "Müller"
    assert doc.references[0].title == "Café"
    assert [p.code for p in doc.problems] == ["KR002"]
    assert "cp1252" in doc.problems[0].message


def test_a_declared_encoding_is_honoured_without_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "jabref.bib"
    path.write_bytes("% Encoding: ISO-8859-1\n@article{a, title = {Café}}\n".encode("latin-1"))
    doc = read(str(path))
    assert doc.references[0].title == "Café"
    assert doc.problems == ()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"], ids=["UTF-8 with a BOM", "UTF-16 with a BOM"])
def test_byte_order_marks_are_understood(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "bom.bib"
    path.write_bytes(BIB.replace("{T}", "{Ünïcode}").encode(encoding))
    doc = read(str(path))
    assert doc.problems == ()
    assert doc.references[0].title == "Ünïcode"


def test_a_file_over_the_size_limit_is_reported_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "MAX_INPUT_BYTES", 1024)
    path = tmp_path / "huge.bib"
    path.write_text(BIB * 100, encoding="utf-8")
    doc = read(str(path))
    assert [p.code for p in doc.problems] == ["KR002"]
    assert "too large" in doc.problems[0].message
    assert doc.references == ()


def test_a_file_just_under_the_size_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.bib"
    path.write_text(BIB * 10, encoding="utf-8")
    monkeypatch.setattr(readers, "MAX_INPUT_BYTES", path.stat().st_size)
    doc = read(str(path))
    assert "KR002" not in [p.code for p in doc.problems]
    assert len(doc.references) == 1  # the same key ten times: one entry and nine duplicates
    assert len(doc.problems) == 9
