"""Output formats: one module per format, each with `render(report) -> str`."""

from __future__ import annotations

from collections.abc import Callable

from kratomref.model import Report

Renderer = Callable[[Report], str]


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
