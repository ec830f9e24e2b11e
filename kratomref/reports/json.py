"""The JSON report: a stable, documented schema (see the README's "JSON report" section)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from itertools import chain
from typing import Any

from kratomref.doi import normalise_doi
from kratomref.model import Finding, Location, ReferenceResult, Report, Severity
from kratomref.reports import undefined_citations
from kratomref.reports.sanitize import json_text, redact
from kratomref.reports.stream import Fields, Items, Out, materialise, pieces, write_lines

# Bumped on any change a consumer could notice: a removed or renamed key, or a changed meaning.
SCHEMA_VERSION = 2  # 2: `doi` is the normalised DOI, `doi_as_written` the text of the entry


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "code": f.rule.code,
        "name": f.rule.name,
        "severity": f.level.label,
        "file": f.location.file,
        "line": f.location.line,
        "key": f.location.key,
        "message": f.message,
        "suggestion": f.suggestion,
        "fix": None if f.fix is None else {"field": f.fix.field, "old": f.fix.old, "new": f.fix.new},
        "fingerprint": f.fingerprint or None,
        **_page(f.location),
    }


def _page(location: Location) -> dict[str, Any]:
    """A PDF's page and line on that page, beside `line` (the line of the text read from it); a web page's
    heading and paragraph, beside the line of its fetched source."""
    if location.page is not None:
        return {"page": location.page, "page_line": location.page_line}
    return {"section": location.section} if location.section is not None else {}


def _reference(result: ReferenceResult) -> dict[str, Any]:
    ref = result.reference
    return {
        "key": ref.key,
        "file": ref.location.file,
        "line": ref.location.line,
        "type": ref.type,
        "title": ref.title,
        "authors": [str(a) for a in ref.authors],
        "year": ref.year,
        "doi": normalise_doi(ref.doi),
        "doi_as_written": ref.doi,
        "url": ref.urls[0] if ref.urls else None,
        "urls": list(ref.urls),
        "verdict": result.verdict.value,
        "reasons": list(result.reasons),
        "matched": dict(result.matched) if result.matched is not None else None,
        "confirmed_by": result.confirmed_by,
        **_page(ref.location),
    }


def as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON data, every string as the inputs give it except for secrets in URLs (redacted)."""
    return dict(materialise(_document(report), redact))


def _citations(report: Report) -> Iterator[dict[str, Any]]:
    for d in report.documents:
        for c in d.citations:
            yield {
                "file": c.location.file,
                "line": c.location.line,
                "text": c.text,
                "target": c.target,
                "style": c.style,
                "resolved": c.resolved_key,
            }


def _document(report: Report) -> Fields:
    """The report's document with its long lists (references, findings, citations) as streams."""
    verdicts = Counter(r.verdict.value for r in report.results)
    return Fields({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "kratomref", "version": report.tool_version},
        "documents": Items({"file": d.path, "format": d.format} for d in report.documents),
        "references": Items(_reference(r) for r in report.results),
        "findings": Items(_finding(f) for f in report.findings),
        "citations": Items(_citations(report)),
        "summary": {
            "references": len(report.results),
            "verified": verdicts.get("verified", 0),
            "unverified": verdicts.get("unverified", 0),
            "problem": verdicts.get("problem", 0),
            "errors": report.count(Severity.ERROR),
            "warnings": report.count(Severity.WARNING),
            "info": report.count(Severity.INFO),
            "citations": sum(len(d.citations) for d in report.documents),
            "undefined_citations": undefined_citations(report),
            "unverified_checks": report.unverified_checks,
            "fail_on": report.fail_on.label if report.fail_on is not None else "never",
            "exit_code": report.exit_code,
        },
    })


def write(report: Report, out: Out) -> None:
    """Write the report to out a reference, finding or citation at a time: the bytes `render` returns."""
    # Strings stay exact: JSON escapes C0 controls itself, and json_text escapes the rest (bidi, C1)
    write_lines(chain(pieces(_document(report), redact), ["\n"]), out, json_text)


def render(report: Report) -> str:
    buffer = io.StringIO()
    write(report, buffer)
    return buffer.getvalue()
