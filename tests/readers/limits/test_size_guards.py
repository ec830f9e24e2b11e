"""Size guards (issue 17): an over-long line or BibTeX entry is reported as an input problem (KR002, with its line)
and not read; the biggest inputs the guards let through are read in bounded memory, measured in a fresh process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kratomref import readers
from kratomref.readers import MAX_BIBLIOGRAPHY_LINE_CHARS, MAX_LINE_CHARS, read
from kratomref.readers.bibtex import MAX_ENTRY_CHARS

from .peak import peak

MEMORY_KIB = 512 * 1024  # issue 17: under 512 MB on any input the size guards let through
SENTENCE = "Sleep helps memory (Smith, 2019). "


def _draft_line(chars: int) -> str:
    return "# Draft\n\n" + (SENTENCE * (chars // len(SENTENCE) + 1))[:chars] + "\n"


def _bib_entry(note_chars: int) -> str:
    line = "word " * 15 + "\n"
    return ("@article{k, title={A title}, author={Doe, Alan}, year={2020}, note={"
            + line * (note_chars // len(line)) + "}}\n")


@pytest.mark.parametrize("name", ["draft.md", "draft.txt", "paper.tex"])
def test_a_draft_line_over_the_limit_is_reported_not_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("Intro.\n" + _draft_line(MAX_LINE_CHARS + 1)[len("# Draft\n\n"):], encoding="utf-8")
    doc = read(str(path))
    [problem] = doc.problems
    assert problem.code == "KR002" and problem.location.line == 2
    assert f"{MAX_LINE_CHARS:,}" in problem.message and not doc.body and not doc.references


def test_many_bibtex_entries_on_one_line_over_the_limit_are_reported_not_read(tmp_path: Path) -> None:
    entry = "@article{k%d, title={Title %d}, author={Doe, A.}, year={2020}} "
    line = "".join(entry % (i, i) for i in range(MAX_BIBLIOGRAPHY_LINE_CHARS // 50))
    path = tmp_path / "refs.bib"
    path.write_text("@book{first, title={First}, year={2001}}\n" + line + "\n", encoding="utf-8")
    doc = read(str(path))
    assert [(p.code, p.location.line) for p in doc.problems] == [("KR002", 2)]
    assert not doc.references


def test_a_bibtex_field_over_the_limit_is_reported_not_read(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@book{first, title={First}, year={2001}}\n\n" + _bib_entry(MAX_ENTRY_CHARS + 100),
                    encoding="utf-8")
    doc = read(str(path))
    [problem] = doc.problems
    assert problem.code == "KR002" and problem.location.line == 3 and "entry at line 3" in problem.message
    assert not doc.references


def test_csl_json_on_one_minified_line_is_still_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the line limit does not apply to CSL-JSON: an export may be one line (a lower limit keeps the file small)
    monkeypatch.setattr(readers, "MAX_LINE_CHARS", 10_000)
    items = [{"id": f"k{i}", "type": "book", "title": f"Title {i}", "issued": {"date-parts": [[2001]]}}
             for i in range(400)]
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    assert len(path.read_text(encoding="utf-8")) > 10_000
    doc = read(str(path))
    assert not doc.problems and len(doc.references) == len(items)
    draft = tmp_path / "draft.md"  # the control: the same limit stops a draft
    draft.write_text("x" * 10_001, encoding="utf-8")
    assert [p.code for p in read(str(draft)).problems] == ["KR002"]


def test_the_longest_bibtex_entry_allowed_is_checked_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(_bib_entry(MAX_ENTRY_CHARS - 1000), encoding="utf-8")
    result = peak(str(path), whole_check=True)
    assert result["problems"] == [] and result["references"] == 1
    assert result["peak_kib"] < MEMORY_KIB


@pytest.mark.parametrize(("name", "share"), [("draft.md", 4), ("draft.txt", 4), ("paper.tex", 1)])
def test_the_longest_draft_line_allowed_is_read_in_bounded_memory(tmp_path: Path, name: str, share: int) -> None:
    # Markdown and text find a citation every 34 characters of the line, and memory grows linearly with them: a
    # line a quarter of the limit long is read, and its memory times four (over the interpreter's own) stays
    # under the bound. LaTeX reads the longest line allowed itself: it is the same guard for every draft format.
    path = tmp_path / name
    path.write_text(_draft_line(MAX_LINE_CHARS // share - 1), encoding="utf-8")
    result = peak(str(path))
    assert result["problems"] == [] and result["lines"] >= 1
    assert result["baseline_kib"] + (result["peak_kib"] - result["baseline_kib"]) * share < MEMORY_KIB


def test_the_longest_bibliography_line_allowed_is_read_in_bounded_memory(tmp_path: Path) -> None:
    entry = "@article{k%d, title={Title %d}, author={Doe, A.}, year={2020}} "
    entries = (MAX_BIBLIOGRAPHY_LINE_CHARS - 100) // 70
    path = tmp_path / "refs.bib"
    path.write_text("".join(entry % (i, i) for i in range(entries)) + "\n", encoding="utf-8")
    result = peak(str(path))
    assert result["problems"] == [] and result["references"] == entries
    assert result["peak_kib"] < MEMORY_KIB
