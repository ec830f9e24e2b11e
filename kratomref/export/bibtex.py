"""The BibTeX writer: each entry's CSL-JSON item as one BibTeX/BibLaTeX entry, every bibliographic variable kept.

Fields are the BibTeX ones where BibTeX has one (author, editor, title, journal, booktitle, series, edition,
institution/school/publisher, address, year, month, volume, number, pages, isbn, issn, doi, url, note) and
BibLaTeX's otherwise (translator, date for a full day, urldate, language, abstract, keywords, type for the
genre, eid for an article number beside an issue). An organisation is written in braces (`{Micro Focus}`)
so that BibTeX, BibLaTeX, pandoc and bibtexparser keep it one name. CSL's rich-text markup becomes LaTeX's
(<i> \\emph, <b> \\textbf, <sup> \\textsuperscript, <sub> \\textsubscript, small caps \\textsc, nocase {braces}).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kratomref.export import fields as f
from kratomref.export.model import ExportEntry
from kratomref.export.styles import Style

# CSL item types -> BibTeX (or, for datasets and software, BibLaTeX) entry types.
BIBTEX_TYPES = {
    "article-journal": "article", "article-magazine": "article", "article-newspaper": "article",
    "article": "article", "review": "article", "book": "book", "chapter": "incollection",
    "paper-conference": "inproceedings", "report": "techreport", "thesis": "phdthesis", "webpage": "online",
    "post-weblog": "online", "post": "online", "manuscript": "unpublished", "dataset": "dataset",
    "software": "software", "document": "misc", "entry-encyclopedia": "incollection",
    "entry-dictionary": "incollection", "standard": "techreport",
}
# The genre BibTeX implies for an entry type: written as `type` only when the item says something else.
DEFAULT_GENRES = {"phdthesis": "phd thesis", "mastersthesis": "master's thesis"}
# One field order for every entry: who, what, where, when, identifiers, the rest.
BIBTEX_FIELDS = (
    "author", "editor", "translator", "title", "journal", "booktitle", "series", "edition", "type",
    "institution", "school", "organization", "howpublished", "publisher", "address", "year", "month", "date",
    "volume", "number", "eid", "pages", "isbn", "issn", "doi", "url", "urldate", "language", "keywords",
    "abstract", "note",
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
# Characters a BibTeX key cannot hold (the parser would end the key or the entry there).
_KEY_BREAKERS = re.compile(r"[\s,{}()=\"#%\\]")


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


class _CaseProtector:
    """Protects the capitals of a title given piece by piece (the text between its markup tags), as
    `protect_case` does for the whole: the title's first word and the start of a subtitle carry over."""

    def __init__(self) -> None:
        self.first = True
        self.sentence_start = False

    def __call__(self, text: str) -> str:
        out: list[str] = []
        for word in re.split(r"(\s+)", text):
            if not word.strip():
                out.append(word)
                continue
            capitals = any(c.isupper() for c in (word[1:] if self.first else word))
            # a small letter after "Title: subtitle" stays small (pandoc capitalises a subtitle's first word)
            lower_start = self.sentence_start and word[:1].islower()
            out.append("{" + latex_escape(word) + "}" if capitals or lower_start else latex_escape(word))
            self.first = False
            self.sentence_start = word[-1:] in (":", "?", "!", ".")
        return "".join(out)


def protect_case(text: str) -> str:
    """A title as a BibTeX value whose capitals survive: every word with a capital letter (after the title's
    first letter) in braces, so that BibTeX styles and pandoc's biblatex reader, which lower-case titles,
    keep "Mitragyna", "DNA" and "Kuala Lumpur" as written. CSL markup becomes LaTeX (`latex_markup`)."""
    return latex_markup(text, _CaseProtector())


# CSL rich-text markup -> the BibTeX (LaTeX) markup that means the same; "nodecor" has none.
_LATEX_MARKUP = {"i": "\\emph{", "b": "\\textbf{", "sup": "\\textsuperscript{", "sub": "\\textsubscript{",
                 "small-caps": "\\textsc{", "nocase": "{", "nodecor": ""}


def latex_markup(text: str, escape: Callable[[str], str] = latex_escape) -> str:
    """A CSL text variable as a BibTeX value: its text escaped by `escape`, its markup (<i>, <b>, <sup>, <sub>,
    small caps, <span class="nocase">, as pandoc writes a .bib's \\emph and {braces} in CSL-JSON) as
    \\emph{...}, \\textbf{...}, \\textsuperscript{...}, \\textsubscript{...}, \\textsc{...} and {...}."""

    def written(nodes: Sequence[str | f.Markup], protected: bool) -> str:
        out: list[str] = []
        for node in nodes:
            if isinstance(node, str):
                if protected and isinstance(escape, _CaseProtector):
                    escape.first = False  # a title that opens with a protected word: the next one is not first
                out.append(latex_escape(node) if protected else escape(node))
                continue
            opening = _LATEX_MARKUP[node.kind]
            inner = written(node.children, protected or node.kind == "nocase")
            out.append(f"{opening}{inner}}}" if opening else inner)
        return "".join(out)

    return written(f.rich_text(text), False)


def _verbatim(text: str) -> str:
    """A URL or DOI: written as is, except that it cannot hold braces BibTeX would take for grouping."""
    return text.replace("{", "%7B").replace("}", "%7D")


def bibtex_name(name: Mapping[str, Any]) -> str:
    """"Family, Given" ("{van der Berg}, Jan"; "Family, Suffix, Given" with a suffix), or {Organisation}."""
    if f.is_literal(name):
        return "{" + latex_escape(f.literal_of(name)) + "}"
    family = latex_escape(f.family_of(name))
    if " " in family or not family:
        family = "{" + family + "}"  # "van der Berg" kept whole: BibTeX would take "van der" for a particle
    given = latex_escape(f.given_of(name))
    suffix = latex_escape(f.suffix_of(name))
    if suffix:
        return f"{family}, {suffix}, {given}"
    return f"{family}, {given}" if given else family


def bibtex_key(item: Mapping[str, Any]) -> str:
    return _KEY_BREAKERS.sub("-", str(item.get("id") or "item")) or "item"


def _date(parts: list[int] | None) -> str | None:
    if not parts:
        return None
    return "-".join(str(p) if i == 0 else f"{p:02d}" for i, p in enumerate(parts))


def bibtex_fields(entry: ExportEntry) -> dict[str, str]:
    """BibTeX field -> value as written (escaped), for one entry."""
    item = entry.item
    csl_type = str(item.get("type"))
    entry_type = BIBTEX_TYPES.get(csl_type, "misc")
    out: dict[str, str] = {}

    def put(name: str, value: Any, escape: bool = True) -> None:
        written = f.text(value)
        if written:
            out[name] = latex_markup(written) if escape else _verbatim(written)

    def put_title(name: str, value: Any) -> None:
        written = f.text(value)
        if written:
            out[name] = protect_case(written)

    for role in ("author", "editor", "translator"):
        names = [bibtex_name(n) for n in f.names(item, role)]
        if names and role == "author" and entry.et_al:
            names.append("others")
        if names:
            out[role] = " and ".join(names)
    put_title("title", item.get("title"))
    container_field = {"article": "journal", "incollection": "booktitle", "inproceedings": "booktitle",
                       "online": "organization"}.get(entry_type, "howpublished")
    container = f.text(item.get("container-title"))
    if container and container != f.text(item.get("publisher")):  # a report's institution is its publisher
        (put_title if container_field == "booktitle" else put)(container_field, container)
    put_title("series", item.get("collection-title"))
    put({"techreport": "institution", "phdthesis": "school"}.get(entry_type, "publisher"), item.get("publisher"))
    put("address", item.get("publisher-place"))
    put("edition", item.get("edition"))
    genre = f.text(item.get("genre"))
    if genre and genre.casefold() != DEFAULT_GENRES.get(_thesis_type(item, entry_type), ""):
        put("type", genre)
    issued = f.date_parts(item, "issued")
    literal = f.date_literal(item, "issued")
    if issued:
        out["year"] = str(issued[0])
        if len(issued) > 1:
            out["month"] = str(issued[1])
        if len(issued) > 2:
            out["date"] = _date(issued) or ""
    elif literal:
        put("year", literal)  # "n.d.", "Spring 2019": printed as written
    put("volume", item.get("volume"))
    issue, number = f.text(item.get("issue")), f.text(item.get("number"))
    put("number", issue or number)
    if issue and number:
        put("eid", number)
    page = f.text(item.get("page"))
    if page:
        start, end = f.split_pages(page)
        out["pages"] = latex_escape(start) + (f"--{latex_escape(end)}" if end else "")
    put("isbn", item.get("ISBN"))
    put("issn", item.get("ISSN"))
    put("doi", item.get("DOI"), escape=False)
    put("url", item.get("URL"), escape=False)
    accessed = _date(f.date_parts(item, "accessed"))
    if accessed:
        out["urldate"] = accessed
    put("language", item.get("language"))
    keywords = f.keywords(item.get("keyword"))
    if keywords:
        out["keywords"] = latex_escape(", ".join(keywords))
    put("abstract", item.get("abstract"))
    note = f.text(item.get("note"))
    if entry.marker:
        marker = f"kratomref: {entry.marker} {entry.reason}".strip()
        note = f"{note.rstrip('.')}. {marker}" if note else marker
    put("note", note)
    order = {name: index for index, name in enumerate(BIBTEX_FIELDS)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _thesis_type(item: Mapping[str, Any], entry_type: str) -> str:
    if entry_type == "phdthesis" and "master" in str(item.get("genre", "")).lower():
        return "mastersthesis"
    return entry_type


def bibtex_entry(entry: ExportEntry) -> str:
    entry_type = _thesis_type(entry.item, BIBTEX_TYPES.get(str(entry.item.get("type")), "misc"))
    written = bibtex_fields(entry)
    width = max((len(name) for name in written), default=0)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in written.items())
    return f"@{entry_type}{{{bibtex_key(entry.item)},\n{body}\n}}\n"


def write_bibtex(entries: Sequence[ExportEntry], style: Style | None) -> str:
    return "\n".join(bibtex_entry(e) for e in entries)
