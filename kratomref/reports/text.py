"""The human report: findings grouped by reference, then by document, and a summary line."""

from __future__ import annotations

import io
from collections import defaultdict

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from kratomref.model import Finding, Report, Severity, Verdict
from kratomref.reports import plural, undefined_citations

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
        # a multi-line suggestion stays indented under its finding
        text.append(f.suggestion.replace("\r\n", "\n").replace("\n", "\n                  "))
    return text


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
            f"{doc.path}: {plural(len(doc.citations), 'in-text citation')}, {undefined} undefined,"
            f" {plural(counts['KR502'], 'uncited entry', 'uncited entries')},"
            f" {plural(counts['KR504'], 'unsupported claim')}, {plural(counts['KR505'], 'unsourced quote')}."
        )
    return lines


def _print_loose(console: Console, file: str, findings: list[Finding]) -> None:
    """Findings about a file rather than one of its entries, under the file's name so that they do not
    read as belonging to the entry printed just before."""
    if findings:
        console.print(Text(file, style="bold"))
        for f in findings:
            console.print(_finding_lines(f))


def render(report: Report, *, color: bool = False, width: int = 100, quiet: bool = False) -> str:
    """The report; `quiet` keeps only the findings (under their reference) and the summary line."""
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
        _print_loose(console, doc.path, loose.pop(doc.path, []))
        # a LaTeX or pandoc document's entries live in the .bib files it names
        own = {(r.location.file, r.key) for r in doc.references}
        for result in (r for r in report.results if (r.reference.location.file, r.reference.key) in own):
            ref = result.reference
            findings = by_ref.get((ref.location.file, ref.key), [])
            if not findings and (quiet or result.verdict is Verdict.VERIFIED):
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
            if result.verdict is Verdict.UNVERIFIED and not quiet:
                for reason in result.reasons:
                    console.print(f"  [magenta]unverified:[/] {escape(reason)}")
    for file, findings in loose.items():
        _print_loose(console, file, findings)
    verified = [r for r in report.results if r.verdict is Verdict.VERIFIED]
    if verified and not quiet:
        console.print(f"[green]verified:[/] {', '.join(escape(r.reference.key) for r in verified)}")
    for line in document_lines(report):
        console.print(Text(line))
    console.print(Text(summary_line(report), style="bold"))
    return buffer.getvalue()
