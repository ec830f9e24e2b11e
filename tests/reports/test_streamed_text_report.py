"""The text report is written a block at a time, with the same bytes as the whole report, in colour or not."""

from __future__ import annotations

import io
import re

from linear_time import assert_linear

from kratomref.model import (
    Citation,
    Document,
    Finding,
    Location,
    Reference,
    ReferenceResult,
    Report,
    Rule,
    Severity,
    TextLine,
    Verdict,
)
from kratomref.reports import text as text_report

PLACEHOLDER = Rule("KR101", "placeholder-text", Severity.ERROR, "Placeholder text.", "")
GENERIC = Rule("KR304", "link-generic", Severity.WARNING, "A home page cited as a document.", "")
UNCITED = Rule("KR502", "uncited-entry", Severity.INFO, "An entry no citation uses.", "")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


class _Recording(io.StringIO):
    """A stream that remembers each write."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []

    def write(self, text: str) -> int:
        self.pieces.append(text)
        return super().write(text)


def _report(entries: int = 3) -> Report:
    """A .bib file and a draft citing it: findings on entries and on the files, unverified reasons, verified
    entries, and text that a terminal or a CI log must not obey (a tab, wide characters, ::workflow commands)."""
    refs = tuple(
        Reference(Location("refs.bib", 1 + 7 * i, f"key{i}"), "article",
                  f"Title {i}\twith a tab, 全角 text and ::error:: inside" if i % 3 == 0 else f"Title {i}")
        for i in range(entries))
    bib = Document("refs.bib", "bibtex", refs)
    draft = Document("paper.md", "markdown", (), body=(TextLine("paper.md", 1, "Kratom [@key0]."),),
                     citations=(Citation(Location("paper.md", 1), "[@key0]", "key0", "key", "key0"),))
    findings: list[Finding] = [Finding(PLACEHOLDER, Location("refs.bib", 1), "'TODO' left in the file")]
    results: list[ReferenceResult] = []
    for i, ref in enumerate(refs):
        if i % 3 == 0:
            findings.append(Finding(PLACEHOLDER, ref.located("title"), "placeholder \"XX\" in the title\nsecond line",
                                    "put in the missing fact\nor delete the marker"))
            results.append(ReferenceResult(ref, Verdict.PROBLEM, ("a placeholder",)))
        elif i % 3 == 1:
            findings.append(Finding(GENERIC, ref.located(), "::warning file=x:: a home page", "cite the page"))
            results.append(ReferenceResult(ref, Verdict.UNVERIFIED, ("offline: Crossref was not asked",)))
        else:
            results.append(ReferenceResult(ref, Verdict.VERIFIED, (), {"doi": "10.1/x"}, confirmed_by="Crossref"))
    findings += [Finding(UNCITED, Location("paper.md", 1), "##[group] no citation uses key1"),
                 Finding(PLACEHOLDER, Location("notes.txt", 4), "TODO in a file with no entries")]
    return Report("9.9.9", (bib, draft), tuple(results), tuple(findings))


def test_the_streamed_report_is_the_whole_report_written_in_blocks() -> None:
    report = _report(30)
    for quiet in (False, True):
        for color in (False, True):
            stream = _Recording()
            text_report.write(report, stream, color=color, quiet=quiet)
            assert stream.getvalue() == text_report.render(report, color=color, quiet=quiet)
            # one write per reference with something to say, each whole lines
            assert len(stream.pieces) >= 20
            assert all(piece.endswith("\n") for piece in stream.pieces)


def test_plain_text_is_the_coloured_report_without_its_colours() -> None:
    """Without colour the report is written without rich; rich writes the coloured one. The two say the same."""
    report = _report(9)
    plain = text_report.render(report)
    assert ANSI_RE.sub("", text_report.render(report, color=True)) == plain
    assert "\x1b" not in plain
    # the tab became spaces as rich expands it, and no line reads as a workflow command
    assert "\t" not in plain
    assert not re.search(r"(?m)^\s*::", plain) and "##[" not in plain
    assert "key0 (refs.bib:1)  problem  Title 0 " in plain
    assert plain.splitlines()[-1].startswith("9 references: 3 verified, 3 unverified, 3 with problems.")


def test_writing_the_report_grows_linearly_with_the_references() -> None:
    assert_linear(_report, lambda report: text_report.write(report, io.StringIO()), 750, what="writing the report")
