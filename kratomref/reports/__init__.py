"""Output formats: one module per format, each with `render(report) -> str`."""

from __future__ import annotations

from collections.abc import Callable, Collection

from kratomref.model import Report
from kratomref.rules.citations import UNDEFINED_CITATION

Renderer = Callable[[Report], str]


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 error", "2 errors", "2 uncited entries": a number with the word that agrees with it."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def undefined_citations(report: Report, files: Collection[str] | None = None) -> int:
    """The in-text citations KR501 reports (in `files`, or anywhere): every format counts these.

    Not every citation without an entry: a KR503 mismatch names the entry it most likely means, and a
    bracketed number in a draft without a reference list is not known to be a citation.
    """
    return sum(
        1
        for f in report.findings
        # by name too: a code alone could be another catalogue's rule
        if f.rule.code == UNDEFINED_CITATION.code and f.rule.name == UNDEFINED_CITATION.name
        and (files is None or f.location.file in files)
    )


def renderers() -> dict[str, Renderer]:
    """Format name -> renderer. Imported lazily so a format's dependencies load only when used."""
    from kratomref.reports import github as github_report
    from kratomref.reports import json as json_report
    from kratomref.reports import junit as junit_report
    from kratomref.reports import markdown as markdown_report
    from kratomref.reports import sarif as sarif_report
    from kratomref.reports import text as text_report

    return {
        "text": text_report.render,
        "json": json_report.render,
        "sarif": sarif_report.render,
        "junit": junit_report.render,
        "github": github_report.render,
        "markdown": markdown_report.render,
    }
