"""The human report: findings grouped by reference, then by document, and a summary line."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kratomref.model import Finding, Report, Severity, Verdict
from kratomref.reports import plural, undefined_citations
from kratomref.reports.sanitize import clean, inert_commands
from kratomref.reports.stream import Out

if TYPE_CHECKING:
    from rich.console import Console

# Text from an input is only ever appended to a line as plain text (never parsed as console markup, so
# "[bold red]" in a title prints as written) and always through clean(): no escape sequence, control or
# bidi character reaches the terminal, and no secret in a URL.
#
# A line is a list of (text, style) pieces. Without colour it is written as the pieces' text, which is what
# rich prints for it (with soft wrapping nothing is wrapped or cropped); rich is used, and imported, only for
# colour and for the rare line with a tab (rich expands tabs by cell width).

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_VERDICT_STYLE = {Verdict.VERIFIED: "green", Verdict.UNVERIFIED: "magenta", Verdict.PROBLEM: "bold red"}

_Line = list[tuple[str, str | None]]
# What rich's Text drops from appended text (bell, backspace, vertical tab, form feed, carriage return).
_RICH_STRIPPED = dict.fromkeys((7, 8, 11, 12, 13))


def _finding_lines(f: Finding) -> _Line:
    line: _Line = [("  ", None), (clean(str(f.location)), "bold"), (": ", None),
                   (f"{clean(f.rule.code)} ", _SEVERITY_STYLE[f.level]), (f"{clean(f.rule.name)} ", "dim"),
                   (f"[{f.level.label}] ", _SEVERITY_STYLE[f.level]),
                   (clean(f.message, multiline=True).replace("\n", "\n      "), None)]
    if f.suggestion:
        line.append(("\n      suggestion: ", "green"))
        # a multi-line suggestion stays indented under its finding
        line.append((clean(f.suggestion, multiline=True).replace("\n", "\n                  "), None))
    return line


def summary_line(report: Report) -> str:
    verdicts: dict[Verdict, int] = defaultdict(int)
    for r in report.results:
        verdicts[r.verdict] += 1
    parts = [
        f"{plural(len(report.results), 'reference')}:",
        f"{verdicts[Verdict.VERIFIED]} verified, {verdicts[Verdict.UNVERIFIED]} unverified,"
        f" {verdicts[Verdict.PROBLEM]} with problems.",
        f"{plural(report.count(Severity.ERROR), 'error')}, {plural(report.count(Severity.WARNING), 'warning')},"
        f" {report.count(Severity.INFO)} info.",
    ]
    citations = sum(len(d.citations) for d in report.documents)
    if citations:
        parts.append(f"{plural(citations, 'in-text citation')}, {undefined_citations(report)} undefined.")
    return " ".join(parts)


def document_lines(report: Report) -> list[str]:
    """Per document with a body: citations, undefined citations, uncited entries, claims and quotes."""
    lines: list[str] = []
    for doc in report.documents:
        if not doc.body and not doc.citations:
            continue
        files = {doc.path} | {line.file for line in doc.body} | {r.location.file for r in doc.references}
        counts: dict[str, int] = defaultdict(int)
        for f in report.findings:
            if f.location.file in files:
                # KR502 on the list's heading (no key) stands for every entry of the list
                weight = len(doc.references) if f.rule.code == "KR502" and f.location.key is None else 1
                counts[f.rule.code] += weight
        undefined = undefined_citations(report, files)
        lines.append(
            f"{clean(doc.path)}: {plural(len(doc.citations), 'in-text citation')}, {undefined} undefined,"
            f" {plural(counts['KR502'], 'uncited entry', 'uncited entries')},"
            f" {plural(counts['KR504'], 'unsupported claim')}, {plural(counts['KR505'], 'unsourced quote')}."
        )
    return lines


def _loose(file: str, findings: list[Finding]) -> Iterator[_Line]:
    """Findings about a file rather than one of its entries, under the file's name so that they do not
    read as belonging to the entry printed just before."""
    if findings:
        yield [(clean(file), "bold")]
        for f in findings:
            yield _finding_lines(f)


def _blocks(report: Report, quiet: bool) -> Iterator[list[_Line]]:
    """The report's lines, a block at a time: a file's loose findings, one reference's, the closing lines."""
    by_ref: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    loose: dict[str, list[Finding]] = defaultdict(list)
    keys = {(r.reference.location.file, r.reference.key) for r in report.results}
    for f in report.findings:
        k = (f.location.file, f.location.key or "")
        if k in keys:
            by_ref[k].append(f)
        else:
            loose[f.location.file].append(f)

    for doc in report.documents:
        yield list(_loose(doc.path, loose.pop(doc.path, [])))
        # a LaTeX or pandoc document's entries live in the .bib files it names
        own = {(r.location.file, r.key) for r in doc.references}
        for result in (r for r in report.results if (r.reference.location.file, r.reference.key) in own):
            ref = result.reference
            findings = by_ref.get((ref.location.file, ref.key), [])
            if not findings and (quiet or result.verdict is Verdict.VERIFIED):
                continue
            header: _Line = [(clean(ref.key), "bold"), (f" ({clean(str(ref.location))})  ", None),
                             (result.verdict.value, _VERDICT_STYLE[result.verdict])]
            if ref.title:
                title = ref.title if len(ref.title) <= 70 else ref.title[:67] + "..."
                header.append((f"  {clean(title)}", "dim"))
            block = [header, *(_finding_lines(f) for f in findings)]
            if result.verdict is Verdict.UNVERIFIED and not quiet:
                block += [[("  ", None), ("unverified:", "magenta"), (" ", None), (clean(reason), None)]
                          for reason in result.reasons]
            yield block
    for file, findings in loose.items():
        yield list(_loose(file, findings))
    closing: list[_Line] = []
    verified = [r for r in report.results if r.verdict is Verdict.VERIFIED]
    if verified and not quiet:
        # grouped by who confirmed them: "a, b (Crossref); c (arXiv)"
        groups: dict[str, list[str]] = {}
        for r in verified:
            groups.setdefault(r.confirmed_by or "Crossref", []).append(clean(r.reference.key))
        names = "; ".join(f"{', '.join(keys)} ({who})" for who, keys in groups.items())
        closing.append([("verified:", "green"), (" ", None), (names, None)])
    closing += [[(line, None)] for line in document_lines(report)]
    closing.append([(summary_line(report), "bold")])
    yield closing


class _Writer:
    """Writes lines to a stream as rich would print them: plain text without colour, rich's rendering with it."""

    def __init__(self, out: Out, color: bool, width: int) -> None:
        self.out = out
        self.color = color
        self.width = width
        self._console: Console | None = None
        self._buffer = io.StringIO()

    def _rich(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self._buffer, force_terminal=self.color, no_color=not self.color,
                                    width=self.width, highlight=False, soft_wrap=True)
        return self._console

    def _rendered(self, line: _Line) -> str:
        from rich.text import Text

        text = Text()
        for piece, style in line:
            text.append(piece, style=style)
        self._buffer.seek(0)
        self._buffer.truncate()
        self._rich().print(text)
        return self._buffer.getvalue()

    def write(self, block: list[_Line]) -> None:
        parts: list[str] = []
        for line in block:
            plain = "".join(piece for piece, _ in line).translate(_RICH_STRIPPED)
            parts.append(self._rendered(line) if self.color or "\t" in plain else plain + "\n")
        if parts:
            # a report printed in a CI job: no line of it may read as a workflow command (see sanitize)
            self.out.write(inert_commands("".join(parts)))


def write(report: Report, out: Out, *, color: bool = False, width: int = 100, quiet: bool = False) -> None:
    """Write the report to out a block at a time (one reference's findings), so that a report of 100,000
    entries is never held whole; `quiet` keeps only the findings (under their reference) and the summary."""
    writer = _Writer(out, color, width)
    for block in _blocks(report, quiet):
        writer.write(block)


def render(report: Report, *, color: bool = False, width: int = 100, quiet: bool = False) -> str:
    """The report as one string; `quiet` keeps only the findings (under their reference) and the summary line."""
    buffer = io.StringIO()
    write(report, buffer, color=color, width=width, quiet=quiet)
    return buffer.getvalue()
