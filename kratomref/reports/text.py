"""The human report: findings grouped by reference, then by document, and a summary line."""

from __future__ import annotations

import io
from collections import defaultdict

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from kratomref.model import Finding, Report, Severity, Verdict

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_VERDICT_STYLE = {Verdict.VERIFIED: "green", Verdict.UNVERIFIED: "magenta", Verdict.PROBLEM: "bold red"}


def _finding_lines(f: Finding) -> Text:
    text = Text("  ")
    text.append(str(f.location), style="bold")
    text.append(": ")
    text.append(f"{f.rule.code} ", style=_SEVERITY_STYLE[f.level])
    text.append(f"{f.rule.name} ", style="dim")
    text.append(f"[{f.level.label}] ", style=_SEVERITY_STYLE[f.level])
    text.append(f.message)
    if f.suggestion:
        text.append("\n      suggestion: ", style="green")
        text.append(f.suggestion)
    return text


def summary_line(report: Report) -> str:
    verdicts: dict[Verdict, int] = defaultdict(int)
    for r in report.results:
        verdicts[r.verdict] += 1
    parts = [
        f"{len(report.results)} reference{'s' if len(report.results) != 1 else ''}:",
        f"{verdicts[Verdict.VERIFIED]} verified, {verdicts[Verdict.UNVERIFIED]} unverified,"
        f" {verdicts[Verdict.PROBLEM]} with problems.",
        f"{report.count(Severity.ERROR)} errors, {report.count(Severity.WARNING)} warnings,"
        f" {report.count(Severity.INFO)} info.",
    ]
    citations = sum(len(d.citations) for d in report.documents)
    if citations:
        undefined = sum(1 for d in report.documents for c in d.citations if c.resolved_key is None)
        parts.append(f"{citations} in-text citations, {undefined} undefined.")
    return " ".join(parts)


def render(report: Report, *, color: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False, soft_wrap=True
    )
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
        for f in loose.pop(doc.path, []):
            console.print(_finding_lines(f))
        for result in (r for r in report.results if r.reference.location.file == doc.path):
            ref = result.reference
            findings = by_ref.get((ref.location.file, ref.key), [])
            if not findings and result.verdict is Verdict.VERIFIED:
                continue
            header = Text()
            header.append(ref.key, style="bold")
            header.append(f" ({ref.location})  ")
            header.append(result.verdict.value, style=_VERDICT_STYLE[result.verdict])
            if ref.title:
                title = ref.title if len(ref.title) <= 70 else ref.title[:67] + "..."
                header.append(f"  {title}", style="dim")
            console.print(header)
            for f in findings:
                console.print(_finding_lines(f))
            if result.verdict is Verdict.UNVERIFIED:
                for reason in result.reasons:
                    console.print(f"  [magenta]unverified:[/] {escape(reason)}")
    for findings in loose.values():
        for f in findings:
            console.print(_finding_lines(f))
    verified = [r for r in report.results if r.verdict is Verdict.VERIFIED]
    if verified:
        console.print(f"[green]verified:[/] {', '.join(escape(r.reference.key) for r in verified)}")
    console.print(Text(summary_line(report), style="bold"))
    return buffer.getvalue()
