"""GitHub Actions workflow commands: annotations on the pull request's changed lines."""

from __future__ import annotations

from collections.abc import Iterator

from kratomref.model import Finding, Report, Severity, Verdict
from kratomref.reports import confirmed_by
from kratomref.reports.sanitize import clean, no_mentions
from kratomref.reports.stream import Out, write_lines

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


def _lines(report: Report) -> Iterator[str]:
    for f in report.findings:
        yield annotation(f) + "\n"
    # Every status reaches every format: a reference that could not be checked is a notice, not silence.
    for result in report.results:
        if result.verdict is Verdict.UNVERIFIED:
            ref = result.reference
            reason = "; ".join(result.reasons) or "not checked"
            yield command("notice", f"{ref.key}: unverified: {reason}", file=ref.location.file,
                          line=ref.location.line, title="unverified reference") + "\n"
    errors, warnings, infos = (report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    yield (
        f"kratomref: {errors} error(s), {warnings} warning(s), {infos} info, "
        f"{report.unverified} unverified reference(s) in {len(report.documents)} file(s)"
        + (f"; verified by {who}" if (who := confirmed_by(report)) else "")
        + "\n"
    )


def write(report: Report, out: Out) -> None:
    """Write the commands to out in chunks of lines: the bytes `render` returns."""
    write_lines(_lines(report), out)


def render(report: Report) -> str:
    return "".join(_lines(report))
