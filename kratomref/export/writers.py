"""Bibliography writers: one function per output format, each `write(entries, style) -> str`.

Every writer starts from the entries' CSL-JSON items. Adding a format is one function and a registry line.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kratomref.export.model import ExportEntry
from kratomref.export.styles import Style

Writer = Callable[[Sequence[ExportEntry], Style | None], str]


# --- formatted (citeproc-py) --------------------------------------------------------------------


def _formatted(entries: Sequence[ExportEntry], style: Style | None, fmt: str) -> list[tuple[ExportEntry, str]]:
    from kratomref.export.render import render

    if style is None:
        raise ValueError("a formatted bibliography needs a style")
    by_id = {e.item["id"]: e for e in entries}
    return [(by_id[r.id], r.text) for r in render([e.item for e in entries], style, fmt)]


def write_text(entries: Sequence[ExportEntry], style: Style | None) -> str:
    lines = [f"{e.marker} {text}" if e.marker else text for e, text in _formatted(entries, style, "text")]
    return "".join(line + "\n" for line in lines)


def write_html(entries: Sequence[ExportEntry], style: Style | None) -> str:
    import html

    rows = []
    for entry, text in _formatted(entries, style, "html"):
        marker = f'<span class="kratomref-marker">{html.escape(entry.marker)}</span> ' if entry.marker else ""
        rows.append(f'  <div class="csl-entry" id="{html.escape(str(entry.item["id"]))}">{marker}{text}</div>\n')
    return '<div class="csl-bib-body">\n' + "".join(rows) + "</div>\n"


_MARKDOWN_SPECIAL = re.compile(r"([\\*_`])")
_TAG = re.compile(r"<(/?)([a-z]+)[^>]*>")


def html_to_markdown(text: str) -> str:
    """citeproc-py's HTML (i, b, span) as Markdown: *italic*, **bold**, other tags dropped."""
    import html

    out: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        out.append(_MARKDOWN_SPECIAL.sub(r"\\\1", html.unescape(text[position : match.start()])))
        tag = match.group(2)
        if tag in ("i", "em"):
            out.append("*")
        elif tag in ("b", "strong"):
            out.append("**")
        position = match.end()
    out.append(_MARKDOWN_SPECIAL.sub(r"\\\1", html.unescape(text[position:])))
    return "".join(out).replace("**", "**")


def write_markdown(entries: Sequence[ExportEntry], style: Style | None) -> str:
    blocks = []
    for entry, text in _formatted(entries, style, "html"):
        line = html_to_markdown(text)
        blocks.append(f"**{entry.marker}** {line}" if entry.marker else line)
    return "\n\n".join(blocks) + ("\n" if blocks else "")


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


# --- RIS ----------------------------------------------------------------------------------------

# CSL item types -> RIS reference types (RIS specification, Research Information Systems 2012).
RIS_TYPES = {
    "article-journal": "JOUR", "article-magazine": "MGZN", "article-newspaper": "NEWS", "article": "JOUR",
    "book": "BOOK", "chapter": "CHAP", "paper-conference": "CPAPER", "report": "RPRT", "thesis": "THES",
    "webpage": "ELEC", "post-weblog": "BLOG", "dataset": "DATA", "software": "COMP", "manuscript": "UNPB",
    "standard": "STAND", "entry-encyclopedia": "ENCYC", "entry-dictionary": "DICT",
}


def _ris_name(name: Mapping[str, Any]) -> str:
    if name.get("literal"):
        return str(name["literal"])
    given = str(name.get("given") or "")
    return f"{name.get('family', '')}, {given}" if given else str(name.get("family", ""))


def _year(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(PY, DA) of an item: the year, and the full date as YYYY/MM/DD/ when it has more than a year."""
    issued = item.get("issued") or {}
    parts = issued.get("date-parts") if isinstance(issued, Mapping) else None
    if parts and parts[0]:
        values = [str(p) for p in parts[0]]
        full = "/".join(v.zfill(2) if i else v for i, v in enumerate(values)) + "/" if len(values) > 1 else None
        return values[0], full
    literal = issued.get("literal") if isinstance(issued, Mapping) else None
    match = re.search(r"\d{4}", str(literal or ""))
    return (match.group(0) if match else None), None


def split_pages(page: str) -> tuple[str, str | None]:
    """"138-151" -> ("138", "151"); "e123" -> ("e123", None)."""
    parts = [p.strip() for p in re.split(r"\s*[-–—]+\s*", page, maxsplit=1)]
    if len(parts) == 2 and parts[1]:
        return parts[0], parts[1]
    return parts[0], None


def ris_record(entry: ExportEntry) -> list[str]:
    item = entry.item
    tags: list[tuple[str, str]] = [("TY", RIS_TYPES.get(str(item.get("type")), "GEN")), ("ID", str(item["id"]))]
    tags += [("AU", _ris_name(n)) for n in item.get("author") or []]
    tags += [("ED", _ris_name(n)) for n in item.get("editor") or []]
    if item.get("title"):
        tags.append(("TI", str(item["title"])))
    if item.get("container-title"):
        tags.append(("T2", str(item["container-title"])))
    year, full = _year(item)
    if year:
        tags.append(("PY", year))
    if full:
        tags.append(("DA", full))
    for tag, name in (("VL", "volume"), ("IS", "issue"), ("IS", "number")):
        if item.get(name):
            tags.append((tag, str(item[name])))
    if item.get("page"):
        start, end = split_pages(str(item["page"]))
        tags.append(("SP", start))
        if end:
            tags.append(("EP", end))
    for tag, name in (("PB", "publisher"), ("CY", "publisher-place"), ("ET", "edition"), ("SN", "ISBN"),
                      ("SN", "ISSN"), ("DO", "DOI"), ("UR", "URL"), ("LA", "language")):
        if item.get(name):
            tags.append((tag, str(item[name])))
    if entry.marker:
        tags.append(("N1", f"kratomref: {entry.marker} {entry.reason}".strip()))
    # One line per tag: a value never spans lines, so a newline inside one becomes a space.
    lines = [f"{tag}  - {' '.join(value.split())}" for tag, value in tags]
    lines.append("ER  - ")
    return lines


def write_ris(entries: Sequence[ExportEntry], style: Style | None) -> str:
    return "\n".join("\n".join(ris_record(e)) + "\n" for e in entries)


# --- BibTeX -------------------------------------------------------------------------------------

# CSL item types -> BibTeX entry types.
BIBTEX_TYPES = {
    "article-journal": "article", "article-magazine": "article", "article-newspaper": "article",
    "article": "article", "book": "book", "chapter": "incollection", "paper-conference": "inproceedings",
    "report": "techreport", "thesis": "phdthesis", "webpage": "online", "manuscript": "unpublished",
    "dataset": "misc", "document": "misc",
}
# One field order for every entry: who, what, where, when, identifiers.
BIBTEX_FIELDS = (
    "author", "editor", "title", "journal", "booktitle", "series", "edition", "institution", "school",
    "organization", "publisher", "address", "year", "month", "volume", "number", "pages", "isbn", "issn",
    "doi", "url", "urldate", "language", "note",
)
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                  "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LATEX_TEXT = {"“": "``", "”": "''", "‘": "`", "’": "'", "–": "--", "—": "---", "…": r"\ldots{}", "\u00a0": "~"}
# Unicode combining marks -> the LaTeX accent command (the inverse of the BibTeX reader's table).
_ACCENT_COMMANDS = {
    "\u0308": '"', "\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0307": ".",
    "\u0306": "u", "\u030c": "v", "\u030b": "H", "\u0327": "c", "\u0328": "k", "\u030a": "r", "\u0323": "d",
}
_LATEX_LETTERS = {"ß": r"\ss", "ø": r"\o", "Ø": r"\O", "æ": r"\ae", "Æ": r"\AE", "œ": r"\oe", "Œ": r"\OE",
                  "å": r"\aa", "Å": r"\AA", "ł": r"\l", "Ł": r"\L", "ı": r"\i"}


def latex_escape(text: str) -> str:
    """Text as a BibTeX value: LaTeX specials escaped, accents as commands ({\\"u}), quotes and dashes as TeX."""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if char in _ACCENT_COMMANDS and out:
            base = out.pop()
            if len(base) == 1 and base.isascii() and base.isalpha():
                command = _ACCENT_COMMANDS[char]
                out.append(f"{{\\{command}{base}}}" if not command.isalpha() else f"{{\\{command}{{{base}}}}}")
                continue
            out.append(base)
            out.append(char)
        elif char in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[char])
        elif char in _LATEX_TEXT:
            out.append(_LATEX_TEXT[char])
        elif char in _LATEX_LETTERS:
            out.append("{" + _LATEX_LETTERS[char] + "}")
        else:
            out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def _verbatim(text: str) -> str:
    """A URL or DOI: written as is, except that it cannot hold braces BibTeX would take for grouping."""
    return text.replace("{", "%7B").replace("}", "%7D")


def _bibtex_name(name: Mapping[str, Any]) -> str:
    if name.get("literal"):
        return "{" + latex_escape(str(name["literal"])) + "}"
    family = latex_escape(str(name.get("family") or ""))
    if " " in family and not family.startswith("{"):
        family = "{" + family + "}"  # "van der Berg" kept whole
    given = latex_escape(str(name.get("given") or ""))
    return f"{family}, {given}" if given else family


def _bibtex_date(item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    year, _ = _year(item)
    issued = item.get("issued") or {}
    parts = issued.get("date-parts") if isinstance(issued, Mapping) else None
    month = None
    if parts and parts[0] and len(parts[0]) > 1:
        month = str(parts[0][1])
    return year, month


def bibtex_fields(entry: ExportEntry) -> dict[str, str]:
    """BibTeX field -> value as written (escaped), for one entry."""
    item = entry.item
    csl_type = str(item.get("type"))
    fields: dict[str, str] = {}
    for role in ("author", "editor"):
        names = [_bibtex_name(n) for n in item.get(role) or []]
        if names and role == "author" and entry.et_al:
            names.append("others")
        if names:
            fields[role] = " and ".join(names)
    if item.get("title"):
        fields["title"] = latex_escape(str(item["title"]))
    container = item.get("container-title")
    if container:
        target = {"chapter": "booktitle", "paper-conference": "booktitle", "webpage": "organization"}.get(
            csl_type, "journal"
        )
        if BIBTEX_TYPES.get(csl_type, "misc") == "misc":
            target = "howpublished" if csl_type != "document" else "organization"
        fields[target] = latex_escape(str(container))
    if item.get("collection-title"):
        fields["series"] = latex_escape(str(item["collection-title"]))
    if item.get("publisher"):
        name = {"report": "institution", "thesis": "school"}.get(csl_type, "publisher")
        fields[name] = latex_escape(str(item["publisher"]))
    for source, target in (("publisher-place", "address"), ("edition", "edition"), ("volume", "volume"),
                           ("ISBN", "isbn"), ("ISSN", "issn"), ("language", "language")):
        if item.get(source):
            fields[target] = latex_escape(str(item[source]))
    number = item.get("issue") or item.get("number")
    if number:
        fields["number"] = latex_escape(str(number))
    year, month = _bibtex_date(item)
    if year:
        fields["year"] = year
    if month:
        fields["month"] = month
    if item.get("page"):
        start, end = split_pages(str(item["page"]))
        fields["pages"] = latex_escape(start) + (f"--{latex_escape(end)}" if end else "")
    if item.get("DOI"):
        fields["doi"] = _verbatim(str(item["DOI"]))
    if item.get("URL"):
        fields["url"] = _verbatim(str(item["URL"]))
    accessed = item.get("accessed")
    if isinstance(accessed, Mapping) and accessed.get("date-parts"):
        parts = accessed["date-parts"][0]
        fields["urldate"] = "-".join(str(p).zfill(2) if i else str(p) for i, p in enumerate(parts))
    if entry.marker:
        fields["note"] = latex_escape(f"kratomref: {entry.marker} {entry.reason}".strip())
    order = {name: index for index, name in enumerate(BIBTEX_FIELDS)}
    return dict(sorted(fields.items(), key=lambda kv: order.get(kv[0], len(order))))


def bibtex_entry(entry: ExportEntry) -> str:
    csl_type = str(entry.item.get("type"))
    entry_type = BIBTEX_TYPES.get(csl_type, "misc")
    if csl_type == "thesis" and "master" in str(entry.item.get("genre", "")).lower():
        entry_type = "mastersthesis"
    fields = bibtex_fields(entry)
    width = max((len(name) for name in fields), default=0)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields.items())
    return f"@{entry_type}{{{entry.item['id']},\n{body}\n}}\n"


def write_bibtex(entries: Sequence[ExportEntry], style: Style | None) -> str:
    return "\n".join(bibtex_entry(e) for e in entries)


WRITERS: dict[str, Writer] = {
    "text": write_text,
    "html": write_html,
    "markdown": write_markdown,
    "csl-json": write_csl_json,
    "ris": write_ris,
    "bibtex": write_bibtex,
}
FORMATTED = frozenset({"text", "html", "markdown"})  # the formats a CSL style renders
