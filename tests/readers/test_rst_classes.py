"""reStructuredText drafts (Python PEPs and the like): footnotes and citations as references, literal blocks as code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kratomref.check import check
from kratomref.model import Finding
from kratomref.options import Options
from kratomref.readers import read
from kratomref.readers.text import read_draft

MARKDOWN = Path(__file__).resolve().parents[1] / "fixtures" / "markdown"
PEPS = Path(__file__).resolve().parents[3] / "shared" / "realworld" / "corpus" / "pep" / "python__peps" / "peps"


def findings(path: Path) -> list[Finding]:
    report = check(Options(paths=(str(path),), offline=True, use_cache=False, archive=False,
                           today=dt.date(2026, 11, 27)))
    return list(report.findings)


def codes(found: list[Finding], *wanted: str) -> list[tuple[str, int | None]]:
    return [(f.rule.code, f.location.line) for f in found if f.rule.code in wanted]


def pep(number: int) -> Path:
    path = PEPS / f"pep-{number:04d}.rst"
    if not path.exists():
        pytest.skip(f"the real-world corpus is not here ({path}); see ../shared/realworld/SOURCES.md")
    return path


def test_consecutive_footnotes_are_separate_references() -> None:
    doc = read_draft("pep.rst", "Text [1]_ and [2]_ and [3]_.\n\nReferences\n==========\n\n"
                                ".. [1] http://a.org/one\n.. [2] http://a.org/two\n.. [3] http://a.org/three\n",
                     "text")
    assert [(r.key, r.urls) for r in doc.references] == [
        ("ref-1", ("http://a.org/one",)), ("ref-2", ("http://a.org/two",)), ("ref-3", ("http://a.org/three",))]
    assert [c.resolved_key for c in doc.citations] == ["ref-1", "ref-2", "ref-3"]


def test_pep_208_reads_its_three_references_and_ties_each_citation() -> None:
    path = pep(208)
    doc = read(str(path))
    assert [r.key for r in doc.references] == ["ref-1", "ref-2", "ref-3"]
    assert [(c.location.line, c.resolved_key) for c in doc.citations] == [(55, "ref-1"), (210, "ref-2"),
                                                                          (217, "ref-3")]
    assert codes(findings(path), "KR501", "KR502") == []


def test_a_literal_block_in_a_pep_holds_no_placeholder_name() -> None:
    path = pep(253)
    assert codes(findings(path), "KR103", "KR501") == []


def test_a_paragraph_after_the_footnotes_is_not_a_reference() -> None:
    path = pep(201)
    doc = read(str(path))
    assert [r.key for r in doc.references] == ["ref-1", "ref-2"]
    assert codes(findings(path), "KR502") == []


def test_auto_numbered_footnotes_and_citations_are_read_and_tied() -> None:
    doc = read(str(MARKDOWN / "pep-like.rst"))
    refs = {r.key: r for r in doc.references}
    # [1] is manual; [#aside] (a note, not under References) takes 2, [#thread] 3, [#] 4; [CIT2002] comes after
    assert list(refs) == ["ref-1", "ref-3", "ref-4", "ref-5"]
    assert refs["ref-3"].authors[0].family == "van Rossum"
    assert refs["ref-5"].authors[0].family == "Lutz"
    tied = [(c.text, c.resolved_key) for c in doc.citations]
    assert tied == [("[1]_", "ref-1"), ("[#thread]_", "ref-3"), ("[#]_", "ref-4"), ("[CIT2002]_", "ref-5"),
                    ("[9]_", None)]


def test_only_the_undefined_footnote_is_reported() -> None:
    found = findings(MARKDOWN / "pep-like.rst")
    # [0, 1] is an interval, [#aside]_ a note, d[name] and TODO sit in a literal block and a code-block
    assert codes(found, "KR501", "KR502", "KR101", "KR103") == [("KR501", 11)]


def test_a_literal_block_ends_where_the_text_comes_back_to_the_margin() -> None:
    doc = read_draft("d.rst", "Example::\n\n    x = d[name]\n\n      y = [1]_\n\nBack [1]_.\n\n.. [1] http://a.org/\n",
                     "text")
    # the footnote is under no reference heading: a note, which stays in the body
    assert [line.text for line in doc.body] == ["Example::", "Back [1]_.", ".. [1] http://a.org/"]
    assert doc.references == () and doc.citations == ()


def test_a_bare_bracketed_number_in_rst_is_not_a_citation() -> None:
    doc = read_draft("d.rst", "The range [0, 1] and the list [1, 2].\n\nReferences\n==========\n\n"
                              ".. [1] http://a.org/\n.. [2] http://b.org/\n", "text")
    assert doc.citations == ()


def test_a_plain_text_file_with_footnotes_is_read_as_rst() -> None:
    doc = read_draft("pep.txt", "See [1]_.\n\nReferences\n==========\n\n.. [1] http://a.org/one\n"
                                ".. [2] http://a.org/two\n", "text")
    assert [r.key for r in doc.references] == ["ref-1", "ref-2"]


def test_a_references_section_written_as_a_list_is_still_read_in_rst() -> None:
    doc = read_draft("d.rst", "Text [1]_.\n\nReferences\n----------\n\n1. Smith, J. (2019). Sleep. Nature, 1, 2.\n",
                     "text")
    assert [r.key for r in doc.references] == ["ref-1"]
    assert [c.resolved_key for c in doc.citations] == ["ref-1"]
