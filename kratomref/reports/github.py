"""GitHub Actions workflow commands: annotations on the pull request's changed lines."""

from __future__ import annotations

from kratomref.model import Finding, Report, Severity, Verdict
from kratomref.reports import confirmed_by
from kratomref.reports.sanitize import clean, no_mentions

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """The message part, as the Actions runner unescapes it (actions/toolkit command.ts escapeData; the
    runner's ActionCommand.cs undoes %0D, %0A, then %25)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (file, title): ':' and ',' would end it, so they are escaped too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def shown(text: str) -> str:
    """Text from an input as an annotation shows it: cleaned (no escape sequence reaches the job log, no
    bidi control reorders it, no secret in a URL), and with no @mention or #reference GitHub would link."""
    return no_mentions(clean(text, multiline=True))


def command(kind: str, message: str, *, file: str | None, line: int | None, title: str) -> str:
    """One workflow command on one line: every input-derived part is cleaned, then escaped, so that no line
    break, `::` or `,` from an input can end the command or start another."""
    properties = []
    if file is not None:
        properties.append(f"file={escape_property(clean(file))}")
    if line is not None:
        properties.append(f"line={line}")
    properties.append(f"title={escape_property(shown(title))}")
    return f"::{kind} {','.join(properties)}::{escape_data(shown(message))}"


def annotation(finding: Finding) -> str:
    message = finding.message
    if finding.location.key:
        message = f"{finding.location.key}: {message}"
    if finding.suggestion:
        message += f"\nSuggestion: {finding.suggestion}"
    return command(
        COMMANDS[finding.level],
        message,
        file=finding.location.file,
        line=finding.location.line,
        title=f"{finding.rule.code} {finding.rule.name}",
    )


def render(report: Report) -> str:
    lines = [annotation(f) for f in report.findings]
    # Every status reaches every format: a reference that could not be checked is a notice, not silence.
    for result in report.results:
        if result.verdict is Verdict.UNVERIFIED:
            ref = result.reference
            reason = "; ".join(result.reasons) or "not checked"
            lines.append(
                command("notice", f"{ref.key}: unverified: {reason}", file=ref.location.file,
                        line=ref.location.line, title="unverified reference")
            )
    errors, warnings, infos = (report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    lines.append(
        f"kratomref: {errors} error(s), {warnings} warning(s), {infos} info, "
        f"{report.unverified} unverified reference(s) in {len(report.documents)} file(s)"
        + (f"; verified by {who}" if (who := confirmed_by(report)) else "")
    )
    return "\n".join(lines) + "\n"
