"""Bibliography writers: one function per output format, each `write(entries, style) -> str | bytes`.

Every writer starts from the entries' CSL-JSON items. The formatted ones (text, html, markdown, latex, docx)
render them with pandoc's citeproc in one run; the data ones (csl-json, ris, bibtex) translate them field by
field. Adding a format is one function and a registry line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kratomref.export.bibtex import latex_escape as latex_escape  # re-exported: kratomref.fix uses it
from kratomref.export.bibtex import write_bibtex
from kratomref.export.model import ExportEntry
from kratomref.export.ris import write_ris
from kratomref.export.styles import Style

Writer = Callable[[Sequence[ExportEntry], Style | None], str | bytes]


# --- formatted (pandoc's citeproc) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Formatted:
    data: str | bytes  # bytes for docx
    empty: tuple[ExportEntry, ...] = ()  # entries the style rendered empty, left out


def _rendered(entries: Sequence[ExportEntry], style: Style | None, fmt: str) -> tuple[list[Any], list[ExportEntry]]:
    from kratomref.export.render import render

    if style is None:
        raise ValueError("a formatted bibliography needs a style")
    by_id = {e.item["id"]: e for e in entries}
    rendered = render([e.item for e in entries], style, fmt)
    seen = {r.id for r in rendered}
    return [(by_id[r.id], r) for r in rendered], [e for e in entries if e.item["id"] not in seen]


def format_text(entries: Sequence[ExportEntry], style: Style | None) -> Formatted:
    rows, empty = _rendered(entries, style, "text")
    lines = [f"{e.marker} {r.text}" if e.marker else r.text for e, r in rows]
    return Formatted("".join(line + "\n" for line in lines), tuple(empty))


def format_html(entries: Sequence[ExportEntry], style: Style | None) -> Formatted:
    import html

    rows, empty = _rendered(entries, style, "html")
    out = []
    for entry, r in rows:
        marker = f'<span class="kratomref-marker">{html.escape(entry.marker)}</span> ' if entry.marker else ""
        out.append(f'  <div class="csl-entry" id="{html.escape(str(entry.item["id"]))}">{marker}{r.text}</div>\n')
    return Formatted('<div class="csl-bib-body">\n' + "".join(out) + "</div>\n", tuple(empty))


def format_markdown(entries: Sequence[ExportEntry], style: Style | None) -> Formatted:
    rows, empty = _rendered(entries, style, "markdown")
    blocks = [f"**{e.marker}** {r.text}" if e.marker else r.text for e, r in rows]
    return Formatted("\n\n".join(blocks) + ("\n" if blocks else ""), tuple(empty))


_BIBITEM_KEY_UNSAFE = re.compile(r"[\s,{}\\%#~]")


def bibitem_key(key: str) -> str:
    """A citation key as \\bibitem and \\cite take it: no space, comma, brace, backslash, % or #."""
    return _BIBITEM_KEY_UNSAFE.sub("-", key) or "ref"


def format_latex(entries: Sequence[ExportEntry], style: Style | None) -> Formatted:
    """A `thebibliography` environment: one \\bibitem{key} per entry, in the style's order, its text
    written by pandoc's LaTeX writer. A numeric style's citation number is left to \\bibitem."""
    rows, empty = _rendered(entries, style, "latex")
    widest = "9" * len(str(len(rows) or 1))
    lines = [f"\\begin{{thebibliography}}{{{widest}}}\n"]
    for entry, r in rows:
        marker = f"\\textbf{{{latex_escape(entry.marker)}}} " if entry.marker else ""
        lines.append(f"\n\\bibitem{{{bibitem_key(str(entry.item['id']))}}}\n{marker}{r.text}\n")
    lines.append("\n\\end{thebibliography}\n")
    return Formatted("".join(lines), tuple(empty))


def format_docx(entries: Sequence[ExportEntry], style: Style | None) -> Formatted:
    """A Word document (pandoc's docx writer), markers in bold before their entries."""
    from kratomref.export.render import render_docx

    if style is None:
        raise ValueError("a formatted bibliography needs a style")
    markers = {str(e.item["id"]): e.marker for e in entries if e.marker}
    data, seen = render_docx([e.item for e in entries], style, markers)
    return Formatted(data, tuple(e for e in entries if e.item["id"] not in seen))


FORMATTERS: dict[str, Callable[[Sequence[ExportEntry], Style | None], Formatted]] = {
    "text": format_text,
    "html": format_html,
    "markdown": format_markdown,
    "latex": format_latex,
    "docx": format_docx,
}


def _data(formatter: Callable[[Sequence[ExportEntry], Style | None], Formatted]) -> Writer:
    def writer(entries: Sequence[ExportEntry], style: Style | None) -> str | bytes:
        return formatter(entries, style).data

    writer.__name__ = f"write_{formatter.__name__.removeprefix('format_')}"
    return writer


write_text, write_html, write_markdown, write_latex, write_docx = (
    _data(FORMATTERS[name]) for name in ("text", "html", "markdown", "latex", "docx")
)


# --- CSL-JSON -----------------------------------------------------------------------------------


def write_csl_json(entries: Sequence[ExportEntry], style: Style | None) -> str:
    items = []
    for entry in entries:
        item = dict(entry.item)
        if entry.marker:
            note = f"kratomref: {entry.marker} {entry.reason}".strip()
            item["note"] = f"{item['note']}\n{note}" if item.get("note") else note
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


# --- RIS and BibTeX: kratomref/export/ris.py and bibtex.py ------------------------------------------------
# latex_escape stays importable from here (kratomref.fix uses it).


WRITERS: dict[str, Writer] = {
    "text": write_text,
    "html": write_html,
    "markdown": write_markdown,
    "latex": write_latex,
    "docx": write_docx,
    "csl-json": write_csl_json,
    "ris": write_ris,
    "bibtex": write_bibtex,
}
FORMATTED = frozenset(FORMATTERS)  # the formats a CSL style renders
BINARY = frozenset({"docx"})  # written as bytes, to a file only
