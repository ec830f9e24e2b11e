"""A compact Markdown table of the findings, for a pull-request comment or a job summary."""

from __future__ import annotations

from collections.abc import Iterator

from kratomref.model import Finding, Report, Severity, Verdict
from kratomref.reports import confirmed_by, plural
from kratomref.reports.sanitize import markdown
from kratomref.reports.stream import Out, write_lines

# GitHub truncates comments at 65,536 characters; past this many rows the table says how many it left out.
MAX_ROWS = 200


def cell(text: str) -> str:
    """Text safe inside a GFM table cell: no pipe ends the cell, no newline ends the row, no HTML, no link,
    image or mention, no control character (sanitize.markdown)."""
    return markdown(text)


def _row(f: Finding) -> str:
    where = str(f.location)
    if f.location.key:
        where += f" ({f.location.key})"
    return (
        f"| {f.level.label} | {cell(f.rule.code)} {cell(f.rule.name)} | {cell(where)} | {cell(f.message)} | "
        f"{cell(f.suggestion or '')} |"
    )


def _lines(report: Report) -> Iterator[str]:
    errors, warnings, infos = (report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    unverified = report.unverified
    summary = (
        f"**kratomref**: {plural(errors, 'error')}, {plural(warnings, 'warning')}, {infos} info "
        f"in {plural(len(report.documents), 'file')}; {len(report.results)} references, "
        f"{unverified} unverified"
    )
    if who := confirmed_by(report):
        summary += f"; verified by {who}"
    yield summary
    yield ""
    if report.findings:
        yield "| Severity | Rule | Location | Message | Suggestion |"
        yield "|---|---|---|---|---|"
        yield from (_row(f) for f in report.findings[:MAX_ROWS])
        if len(report.findings) > MAX_ROWS:
            yield ""
            yield f"… and {len(report.findings) - MAX_ROWS} more findings (see the full report)."
    else:
        yield "No findings."
    if unverified:
        yield ""
        yield f"<details><summary>{plural(unverified, 'reference')} could not be verified</summary>"
        yield ""
        for r in report.results:
            if r.verdict is Verdict.UNVERIFIED:
                reason = "; ".join(r.reasons) or "not checked"
                yield f"- {cell(str(r.reference.location))} ({cell(r.reference.key)}): {cell(reason)}"
        yield ""
        yield "</details>"


def write(report: Report, out: Out) -> None:
    """Write the comment to out in chunks of lines: the bytes `render` returns."""
    write_lines((line + "\n" for line in _lines(report)), out)


def render(report: Report) -> str:
    return "".join(line + "\n" for line in _lines(report))
