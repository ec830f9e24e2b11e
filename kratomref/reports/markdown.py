"""A compact Markdown table of the findings, for a pull-request comment or a job summary."""

from __future__ import annotations

from kratomref.model import Finding, Report, Severity, Verdict
from kratomref.reports import confirmed_by, plural
from kratomref.reports.sanitize import markdown

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


def render(report: Report) -> str:
    errors, warnings, infos = (report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    unverified = [r for r in report.results if r.verdict is Verdict.UNVERIFIED]
    summary = (
        f"**kratomref**: {plural(errors, 'error')}, {plural(warnings, 'warning')}, {infos} info "
        f"in {plural(len(report.documents), 'file')}; {len(report.results)} references, "
        f"{len(unverified)} unverified"
    )
    if who := confirmed_by(report):
        summary += f"; verified by {who}"
    lines = [summary, ""]
    if report.findings:
        lines += ["| Severity | Rule | Location | Message | Suggestion |", "|---|---|---|---|---|"]
        lines += [_row(f) for f in report.findings[:MAX_ROWS]]
        if len(report.findings) > MAX_ROWS:
            lines += ["", f"… and {len(report.findings) - MAX_ROWS} more findings (see the full report)."]
    else:
        lines.append("No findings.")
    if unverified:
        lines += ["", f"<details><summary>{plural(len(unverified), 'reference')} could not be verified</summary>", ""]
        for r in unverified:
            reason = "; ".join(r.reasons) or "not checked"
            lines.append(f"- {cell(str(r.reference.location))} ({cell(r.reference.key)}): {cell(reason)}")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
