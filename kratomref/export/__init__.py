"""Formatted bibliographies (CSL styles through pandoc's citeproc: text, HTML, Markdown, LaTeX, Word) and
CSL-JSON, RIS and BibTeX exports."""

from __future__ import annotations

from collections.abc import Sequence

from kratomref.export.csl import enrich, from_crossref, from_reference, items_from, unique_ids
from kratomref.export.model import FORMATS, ExportEntry, ExportOptions, ExportResult
from kratomref.export.render import RenderError, RenderMissing
from kratomref.export.styles import ALIASES, Style, StyleError, list_styles, resolve
from kratomref.export.writers import BINARY, FORMATTED, FORMATTERS, WRITERS
from kratomref.model import Document, Reference, ReferenceResult, Verdict
from kratomref.options import Options
from kratomref.services.cache import Cache

__all__ = [
    "ALIASES", "BINARY", "FORMATS", "ExportEntry", "ExportOptions", "ExportResult", "RenderError", "RenderMissing",
    "Style", "StyleError",
    "entries_from", "export", "from_crossref", "from_reference", "input_problems", "list_styles", "resolve", "write",
]

MARKERS = {Verdict.PROBLEM: "[problem]", Verdict.UNVERIFIED: "[unverified]"}


def entries_from(
    references: Sequence[Reference],
    results: Sequence[ReferenceResult] | None,
    export_options: ExportOptions,
) -> tuple[list[ExportEntry], list[tuple[Reference, str]], list[str]]:
    """Export entries for references (with their check results when the export needed a check)."""
    by_ref = {id(r.reference): r for r in results or ()}
    entries: list[ExportEntry] = []
    skipped: list[tuple[Reference, str]] = []
    notes: list[str] = []
    # CSL-JSON as the field makes it (pandoc's biblatex reader) for what CSL renders and for csl-json; the
    # RIS and BibTeX writers start from kratomref's own conversion, which keeps titles as the user wrote them.
    if export_options.to in FORMATTED or export_options.to == "csl-json":
        items = items_from(references)
    else:
        items = unique_ids(from_reference(ref) for ref in references)
    for ref, item in zip(references, items, strict=True):
        result = by_ref.get(id(ref))
        verdict = result.verdict if result is not None else None
        if export_options.verified_only and verdict is not Verdict.VERIFIED:
            skipped.append((ref, verdict.value if verdict else "not checked"))
            continue
        enriched: tuple[str, ...] = ()
        if export_options.enrich and result is not None and result.record and verdict is Verdict.VERIFIED:
            item, enriched = enrich(
                item, from_crossref(result.record), et_al=ref.et_al, prefer_crossref=export_options.prefer_crossref
            )
        marker = reason = ""
        if export_options.mark_problems and verdict in MARKERS:
            marker = MARKERS[verdict]
            reason = "; ".join(result.reasons) if result is not None else ""
        et_al = ref.et_al and "author" not in enriched
        entries.append(ExportEntry(ref, item, et_al, verdict, marker, reason, enriched))
    if skipped:
        notes.append(f"left out {_count(len(skipped), 'entry that is', 'entries that are')} not verified "
                     "(--verified-only)")
    return entries, skipped, notes


def write(entries: Sequence[ExportEntry], export_options: ExportOptions) -> str | bytes:
    """The entries in the format asked for (bytes for docx)."""
    return write_with_notes(entries, export_options)[0]


def write_with_notes(entries: Sequence[ExportEntry], export_options: ExportOptions) -> tuple[str | bytes, list[str]]:
    """The entries in the format asked for, and a note naming the entries the style rendered empty."""
    if export_options.to not in WRITERS:
        raise ValueError(f"unknown export format {export_options.to!r} (expected {', '.join(FORMATS)})")
    if export_options.to not in FORMATTED:
        return WRITERS[export_options.to](entries, None), []
    formatted = FORMATTERS[export_options.to](entries, resolve(export_options.style))
    notes = []
    if formatted.empty:
        keys = ", ".join(str(e.item["id"]) for e in formatted.empty)
        notes.append(f"left out {_count(len(formatted.empty), 'entry', 'entries')} that the style "
                     f"{export_options.style} renders empty: {keys}")
    return formatted.data, notes


def export(options: Options, export_options: ExportOptions, *, cache: Cache | None = None) -> ExportResult:
    """Read (and, for --enrich, --mark-problems and --verified-only, check) the inputs, then write them out.

    Raises StyleError for an unknown style, RenderError when pandoc fails (RenderMissing when there is no
    pandoc >= 3 for a formatted output), readers.InputError for an input that cannot be opened.
    """
    from kratomref.check import check, read_documents

    if export_options.to in FORMATTED:
        resolve(export_options.style)  # an unknown style fails before any look-up, and so does a missing pandoc
        from kratomref.export.pandoc import PandocMissing, find_pandoc

        try:
            find_pandoc()
        except PandocMissing as exc:
            raise RenderMissing(str(exc)) from exc
    needs_check = export_options.enrich or export_options.mark_problems or export_options.verified_only
    documents: list[Document]
    if needs_check:
        report = check(options, cache=cache)
        documents = list(report.documents)
        references = [r.reference for r in report.results]
        results: list[ReferenceResult] | None = list(report.results)
    else:
        documents = read_documents(options)
        references = [ref for doc in documents for ref in doc.references]
        results = None
    entries, skipped, notes = entries_from(references, results, export_options)
    enriched = sum(1 for e in entries if e.enriched)
    if export_options.enrich:
        notes.append(f"enriched {enriched} of {_count(len(entries), 'entry', 'entries')} from their Crossref records")
    data, empty = write_with_notes(entries, export_options)
    return ExportResult(data, tuple(entries), tuple(skipped), tuple(notes + empty), input_problems(documents))


def input_problems(documents: Sequence[Document]) -> tuple[str, ...]:
    """The reading problems (KR001 parse-error, KR002 unreadable-input) of the inputs, one line each."""
    from kratomref.rules import find_rule

    lines = []
    for doc in documents:
        for problem in doc.problems:
            rule = find_rule(problem.code)
            name = f" {rule.name}" if rule is not None else ""
            where = problem.location.file + (f":{problem.location.line}" if problem.location.line else "")
            hint = f" ({problem.suggestion})" if problem.suggestion else ""
            lines.append(f"{where}: {problem.code}{name}: {problem.message}{hint}")
    return tuple(lines)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
