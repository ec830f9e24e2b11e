"""What an export works on: one entry per reference, its CSL-JSON item and how kratomref judged it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kratomref.model import Reference, Verdict

FORMATS = ("text", "html", "markdown", "latex", "docx", "csl-json", "ris", "bibtex")


@dataclass(frozen=True)
class ExportOptions:
    style: str = "apa"  # an alias, a CSL style id, or a path to a .csl file
    to: str = "text"  # one of FORMATS
    enrich: bool = False  # fill missing fields from the verified Crossref records
    prefer_crossref: bool = False  # with enrich: Crossref's value replaces the user's
    mark_problems: bool = False  # visible marker on unverified entries and entries with problems
    verified_only: bool = False  # export only the verified entries


@dataclass(frozen=True)
class ExportEntry:
    reference: Reference
    item: dict[str, Any]  # CSL-JSON, after enrichment
    et_al: bool = False  # the author list was truncated ("and others")
    verdict: Verdict | None = None  # None: not checked (a plain export makes no look-up)
    marker: str = ""  # "[problem]" or "[unverified]" with --mark-problems, else ""
    reason: str = ""  # why, in words, for the marker's note
    enriched: tuple[str, ...] = ()  # CSL variables filled from Crossref


@dataclass(frozen=True)
class ExportResult:
    text: str | bytes  # bytes for docx
    entries: tuple[ExportEntry, ...]
    skipped: tuple[tuple[Reference, str], ...] = ()  # left out, and why (--verified-only)
    notes: tuple[str, ...] = field(default_factory=tuple)  # messages for the user (stderr)
    # KR001/KR002 problems of the inputs, one line each ("refs.bib:3: KR001 parse-error: ..."): the export
    # is incomplete when there is one, so the CLI prints them on stderr and exits 1
    input_problems: tuple[str, ...] = ()
