"""BibTeX and BibLaTeX files, through bibtexparser 2, with the line of every entry and field."""

from __future__ import annotations

import bisect
import gc
import itertools
import logging
import re
import sys
import unicodedata
from array import array
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from typing import Any, NamedTuple

import bibtexparser.entrypoint
from bibtexparser import model as bib
from bibtexparser.library import Library
from bibtexparser.middlewares.parsestack import default_parse_stack
from bibtexparser.splitter import Splitter

from kratomref.doi import DOI_RESOLVER, DOI_START, is_doi_url, strip_trailing, written_doi
from kratomref.model import Author, Document, FieldLines, FieldTable, Location, Problem, Reference, field_shape
from kratomref.readers import suppressions
from kratomref.readers.blanking import blank_spans
from kratomref.readers.journal_macros import AAS_JOURNALS, JOURNAL_FIELDS
from kratomref.urls import extract_urls

# bibtexparser logs every failed block; kratomref reports them as KR001 findings instead.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser").propagate = False

@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a file is parsed (read collects each chunk's garbage itself):
    its passes over everything parsed so far made a large file's parse several times slower."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- LaTeX to Unicode ---------------------------------------------------------------------------

# Accent commands and the Unicode combining character each stands for.
_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}
_SYMBOLS = {
    "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å",
    "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð", "th": "þ", "TH": "Þ", "ng": "ŋ",
    "textendash": "–", "textemdash": "—", "textquoteright": "’", "textquoteleft": "‘",
    "textquotedblleft": "“", "textquotedblright": "”", "textregistered": "®", "texttrademark": "™",
    "textcopyright": "©", "textdegree": "°", "textellipsis": "…", "ldots": "…", "dots": "…",
    "S": "§", "P": "¶", "pounds": "£", "euro": "€", "textasciitilde": "~", "textbackslash": "\\",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "kappa": "κ", "mu": "μ", "pm": "±",
    "times": "×", "LaTeX": "LaTeX", "TeX": "TeX",
}
_ESCAPED = {"\\": " ", "&": "&", "%": "%", "$": "$", "#": "#", "_": "_", " ": " ", ",": " ", "\n": " ",
            "\r": " ", "\t": " ", "-": ""}
_ACCENT_RE = re.compile(r"""\\([."'`^~=]|[uvHckrdb](?![A-Za-z]))\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))""")
_COMMAND_RE = re.compile(r"\\([A-Za-z]+)\s*|\\(.)", re.DOTALL)
# Spacing commands and their dimension ("C\\kern-.13em o", "\\hspace{1em}"): kerns set no text (with the one space
# TeX reads after a unit), horizontal spaces a space.
_KERN_RE = re.compile(r"\\(?:[hm]?kern|hskip)\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*(?:em|ex|pt|mu|bp|cm|mm|in|pc|dd|cc|sp) ?")
_HSPACE_RE = re.compile(r"\\[hv]space\*?\s*\{[^{}]*\}")


def decode_latex(text: str) -> str:
    """Text of a BibTeX value as a reader sees it: accents and symbols in Unicode, braces removed."""
    if "\\" not in text and "{" not in text and "-" not in text and "~" not in text and "`" not in text \
            and "'" not in text and "$" not in text:
        return " ".join(text.split())

    def accent(match: re.Match[str]) -> str:
        letter = match.group(2) or match.group(3)
        if letter in ("\\i", "\\j"):
            letter = letter[1]
        return letter.lstrip("\\") + _ACCENTS[match.group(1)]

    if "kern" in text or "skip" in text or "space" in text:
        text = _HSPACE_RE.sub(" ", _KERN_RE.sub("", text))
    out = _ACCENT_RE.sub(accent, text)
    # Escaped braces are text, not grouping: park them on characters the text does not contain.
    opening = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in out)
    closing = next(chr(c) for c in range(ord(opening) + 1, 0xF900) if chr(c) not in out)

    def command(match: re.Match[str]) -> str:
        if match.group(2) == "{":
            return opening
        if match.group(2) == "}":
            return closing
        if match.group(2) is not None:
            return _ESCAPED.get(match.group(2), match.group(2))
        name = match.group(1)
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        # \emph{x}, \textit{x}, \url{x}, \mkbibquote{x}...: the argument stays, the command goes.
        return ""

    out = _COMMAND_RE.sub(command, out)
    out = out.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    out = out.replace("~", " ").replace("$", "").replace("{", "").replace("}", "")
    out = out.replace(opening, "{").replace(closing, "}")
    return " ".join(unicodedata.normalize("NFC", out).split())


# --- Macros -------------------------------------------------------------------------------------

# A LaTeX command and an empty group that may end it ("\\apj{}"); not the second half of a "\\\\" line break.
_MACRO_RE = re.compile(r"(?<!\\)\\([A-Za-z]+)(?:[ \t]*\{\})?")
MAX_MACRO_PASSES = 4  # a macro whose text uses another macro: \\newcommand{\\jname}{\\apj}
MAX_MACRO_GROWTH = 4096  # characters expansion may add to a value: a macro that names itself twice stops


def expand_macros(value: str, field_name: str, macros: Mapping[str, str] | None = None) -> str:
    """value with the zero-argument macros it uses replaced by their text, before decode_latex drops the rest.

    The macros of the document that names the .bib (`\\newcommand{\\apjl}{ApJL}`, passed in `macros`) apply
    to every field and take precedence; in a journal field (journal, journaltitle, booktitle, maintitle,
    series) the AAS journal macros apply too (`\\apjl` -> The Astrophysical Journal Letters).
    """
    if "\\" not in value:
        return value
    journal = field_name in JOURNAL_FIELDS
    if not macros and not journal:
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if macros and name in macros:
            return macros[name]
        if journal and name in AAS_JOURNALS:
            return AAS_JOURNALS[name]
        return match.group(0)

    limit = len(value) + MAX_MACRO_GROWTH
    current = value
    for _ in range(MAX_MACRO_PASSES):
        expanded = _MACRO_RE.sub(replace, current)
        if expanded == current or len(expanded) > limit:
            break
        current = expanded
    return current


# --- Names --------------------------------------------------------------------------------------


def _split_top(text: str, separator: re.Pattern[str]) -> list[str]:
    """Split text at matches of separator that are outside braces."""
    if "{" not in text:
        return separator.split(text)
    parts: list[str] = []
    depth = 0
    start = 0
    position = 0
    while position < len(text):
        char = text[position]
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            match = separator.match(text, position)
            if match and match.end() > position:
                parts.append(text[start:position])
                start = position = match.end()
                continue
        position += 1
    parts.append(text[start:])
    return parts


_AND_RE = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA_RE = re.compile(r",")
_SPACE_RE = re.compile(r"\s+")


def _is_braced(text: str) -> bool:
    """True when text is one {group} from its first character to its last."""
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += char == "{"
        depth -= char == "}"
        if depth == 0 and index < len(text) - 1:
            return False
    return True


def parse_names(value: str) -> tuple[tuple[Author, ...], bool]:
    """Authors of a BibTeX name list ("Last, First and First Last and {Org} and others"), and et al."""
    authors: list[Author] = []
    et_al = False
    for part in _split_top(value.strip(), _AND_RE):
        name = part.strip()
        if not name:
            continue
        if name.lower() == "others":
            et_al = True
            continue
        if _is_braced(name):
            authors.append(Author(decode_latex(name[1:-1]), literal=True))
            continue
        pieces = [p.strip() for p in _split_top(name, _COMMA_RE)]
        if len(pieces) >= 2:
            # "von Last, First" or "von Last, Jr, First"
            given = pieces[-1] if len(pieces) == 2 else f"{pieces[2]} {pieces[1]}".strip()
            authors.append(Author(decode_latex(pieces[0]), decode_latex(given)))
            continue
        words = [w for w in _split_top(name, _SPACE_RE) if w]
        if len(words) == 1:
            authors.append(Author(decode_latex(words[0])))
            continue
        # "First von Last": the surname starts at the first lower-case word after the first name.
        start = len(words) - 1
        for index in range(1, len(words) - 1):
            if words[index][:1].islower():
                start = index
                break
        authors.append(Author(decode_latex(" ".join(words[start:])), decode_latex(" ".join(words[:start]))))
    return tuple(authors), et_al


# --- Entries ------------------------------------------------------------------------------------

_YEAR_RE = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
_DOI_IN_TEXT_RE = re.compile(
    r"(?:" + DOI_RESOLVER + r"|doi:\s*)?" + DOI_START + r"10\.\d{4,9}(?:\.\d+)*/[^\s\"<>{}]+",
    re.IGNORECASE,
)
_CONTAINER_FIELDS = ("journal", "journaltitle", "booktitle", "maintitle")
_SITE_FIELDS = ("organization", "institution", "publisher", "howpublished")
_URL_FIELDS = ("url", "howpublished", "note", "addendum", "urldate", "eprint")
IGNORE_FIELD = "kratomref-ignore"


def find_doi(text: str) -> str | None:
    """The first DOI in text as written (with its https://doi.org/ or doi: prefix), or None."""
    match = _DOI_IN_TEXT_RE.search(text)
    return strip_trailing(match.group(0)) if match else None


# A URL written without its scheme: a host name with a top-level domain, then a path, query or fragment
# ("www.aldor.org/aldorug.pdf"). Labels cannot hold a dot, so the host splits one way only: linear time.
_SCHEMELESS_URL_RE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?::\d{1,5})?"
    r"(?P<rest>[/?#][^\s<>\"{}|\\^`]*)?"
)
MAX_URL_CHARS = 2048  # longer text in a url field is not an address someone typed without its scheme


# How LaTeX writes characters of a URL outside \\url: "\\_", "\\%", "{$\\sim$}", "\\~{}"; and \\verb+...+.
_URL_ESCAPES = (("{$\\sim$}", "~"), ("$\\sim$", "~"), ("{\\textasciitilde}", "~"), ("\\textasciitilde{}", "~"),
                ("\\~{ }", "~"), ("\\~{}", "~"), ("\\_", "_"), ("\\%", "%"), ("\\#", "#"), ("\\&", "&"))
_VERB_RE = re.compile(r"\\verb\*?([^\sA-Za-z*])([^\n]{0,2000}?)\1")  # bounded: a lone \\verb costs 2,000 steps


def unescape_url_text(value: str) -> str:
    """A field's text with the LaTeX escapes people write inside URLs undone, so that the URL found in it
    is the one a reader follows: "http://x.org/{$\\sim$}koster/a\\_b" -> "http://x.org/~koster/a_b"."""
    if "\\" not in value:
        return value
    value = _VERB_RE.sub(lambda m: m.group(2), value)
    for escaped, plain in _URL_ESCAPES:
        value = value.replace(escaped, plain)
    return value


def schemeless_url(value: str) -> str | None:
    """The URL a url field means when it is written without a scheme ("www.aldor.org/aldorug.pdf"), or None.

    Only "www." names and host names followed by a path count: "paper.pdf" alone is a file name. The URL is
    read as http://, as a browser falls back to it: a site that moved to https still answers there with a
    redirect, while an http-only site would not answer https at all (a false "unreachable"); the link
    checker then says whether https works, and KR212's fix writes https:// when it does.
    """
    text = value.strip()
    if len(text) > MAX_URL_CHARS:
        return None
    if text[:1] == "{" and text[-1:] == "}":  # url = {{www.example.org/a.pdf}}
        text = text[1:-1].strip()
    match = _SCHEMELESS_URL_RE.fullmatch(text)
    if match is None or not (text[:4].lower() == "www." or match.group("rest")):
        return None
    return "http://" + text


def doi_in_url_field(value: str) -> str | None:
    """The DOI a url field holds instead of a URL ("10.1145/123.456", "doi:10.1145/...", "dx.doi.org/10..."),
    bare in the case it was written, or None. A resolver URL with its scheme is a link, which the DOI rules
    judge (KR210)."""
    text = value.strip()
    if "://" in text or len(text) > MAX_URL_CHARS:
        return None
    return written_doi(text)


_NOTHING: frozenset[str] = frozenset()
_PAGE_DASHES_RE = re.compile(r"\s*[–—-]+\s*")


def year_of(text: str | None) -> str | None:
    match = _YEAR_RE.search(text or "")
    return match.group(1) if match else None


def _field_value(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _reference(
    entry: bib.Entry,
    path: str,
    lines: _Lines,
    line_suppressions: dict[int, frozenset[str]],
    key: str,
    macros: Mapping[str, str] | None = None,
    cursor: dict[int, int] | None = None,
    marker: str = "",
    offset: int = 0,
    spans: bytes | None = None,
) -> Reference:
    start = (entry.start_line or 0) + 1 + offset
    raw_fields: dict[str, str] = {}
    fields: dict[str, str] = {}
    field_lines: dict[str, int] = {}
    for item in entry.fields:
        name = sys.intern(item.key.lower())  # one copy of "title" for 100,000 entries, not one each
        value = _field_value(item.value)
        raw_fields[name] = value
        decoded = decode_latex(expand_macros(value, name, macros))
        fields[name] = value if decoded == value else decoded  # "2019", "London": the same string, kept once
        field_lines[name] = (item.start_line or entry.start_line or 0) + 1 + offset

    names = raw_fields.get("author") or raw_fields.get("editor") or ""
    authors, et_al = parse_names(names) if names else ((), False)

    def first(*names: str) -> str | None:
        for name in names:
            if fields.get(name):
                return fields[name]
        return None

    urls: list[str] = []
    url_doi: str | None = None  # "url = {10.1145/123.456}": a DOI, not a link
    for name in _URL_FIELDS:
        value = raw_fields.get(name, "")
        if not value:
            continue
        found = extract_urls(unescape_url_text(value))
        if not found and name == "url" and value.strip():
            url_doi = doi_in_url_field(value)
            if url_doi is not None:
                continue
            # "www.aldor.org/x.pdf" is read as the http:// URL it means (KR212 reports the form); anything
            # else is kept as written so that the link rules can say it is not a URL.
            found = [schemeless_url(value) or value.strip()]
        urls.extend(u for u in found if u not in urls)

    doi = raw_fields.get("doi", "").strip() or None
    if doi is None:
        doi = (next((u for u in urls if is_doi_url(u)), None) or (raw_fields["url"].strip() if url_doi else None)
               or find_doi(raw_fields.get("note", "")))
    urls = [u for u in urls if not is_doi_url(u)]

    entry_type = entry.entry_type.lower()
    container = first(*_CONTAINER_FIELDS)
    if container is None and entry_type not in ("article", "book"):
        site = first(*_SITE_FIELDS)
        container = site if site and not extract_urls(site) else None
    pages = fields.get("pages")
    # a file without suppression comments (most): one empty set for every entry, not 216 bytes each
    suppressed = suppressions.on_lines(line_suppressions, start, start) if start in line_suppressions else _NOTHING
    if IGNORE_FIELD in raw_fields:
        suppressed |= suppressions.parse_selectors(raw_fields[IGNORE_FIELD])
    shape = field_shape(tuple(raw_fields))  # the three tables share it: same names, same order
    return Reference(
        location=Location(path, start, key),
        type=entry_type,
        title=first("title"),
        authors=authors,
        et_al=et_al,
        year=year_of(fields.get("year")) or year_of(fields.get("date")),
        container=container,
        volume=first("volume"),
        issue=first("number", "issue"),
        pages=_PAGE_DASHES_RE.sub("-", pages) if pages else None,
        publisher=first("publisher"),
        doi=doi,
        urls=tuple(urls),
        raw=_raw(entry, lines, {} if cursor is None else cursor, marker, offset),
        fields=FieldTable(fields, shape),
        field_lines=FieldLines(field_lines, shape),
        raw_fields=FieldTable(raw_fields, shape),
        suppressed=suppressed,
        spans=spans,
    )


def _raw(entry: bib.Entry, lines: _Lines, cursor: dict[int, int], marker: str = "", offset: int = 0) -> str:
    """The entry as written: taken from the file's lines, so that blanked directives are still in it.

    cursor: line index -> the column where the next entry on that line may begin, for several entries on one line
    (each one's raw is then its own text, not the rest of the line: 64,000 entries on a line were quadratic).
    offset: the line of the file where the entry's chunk begins (_chunks).
    """
    parsed = entry.raw or ""
    start = (entry.start_line or 0) + offset
    newlines = parsed.count("\n")
    original = lines.joined(start, start + newlines + 1)
    at = original.find("@", cursor.get(start, 0))
    if at < 0:
        return parsed
    written = len(re.sub(re.escape(marker) + r"\d+", "", parsed)) if marker and marker in parsed else len(parsed)
    end = at + written  # directives were blanked with spaces of the same length: the entry ends here as written
    if original.find("@", end) < 0:  # the entry is the last one on its last line: up to the line's end, as always
        return original[at:].rstrip()
    last_line = start + newlines  # the entry ends on it, and original ends with it
    cursor[last_line] = end - (len(original) - lines.length(last_line) if last_line < len(lines) else 0)
    return original[at:end].rstrip()


_COMMENT_RE = re.compile(r"^\s*%")


def _blank_directives(text: str) -> str:
    """text with every `% kratomref: ...` comment, and every `%` comment between entries or between the fields
    of an entry, replaced by spaces of the same length.

    BibTeX has no comments inside an entry, so bibtexparser would fail on one written after a field; biber,
    which biblatex documents are processed with, accepts them (`date = {1723-21},  % spring`). Blanking keeps
    every line and column where it was. A `%` inside a value (`{50% of}`, `"a,%20b"`, `\\%`) is text: the scan
    tracks the braces and quotes of each entry, in one pass.
    """
    if "%" not in text:
        return text
    text = _DIRECTIVE_COMMENT_RE.sub(lambda m: " " * len(m.group(0)), text)
    spans: list[tuple[int, int]] = []
    depth, quoted, at = 0, False, 0
    while (token := _SCAN_RE.search(text, at)) is not None:
        char, at = token.group(0)[0], token.end()
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == '"' and depth == 1:
            quoted = not quoted
        elif char == "%" and (depth == 0 or (depth == 1 and not quoted)):  # between entries too, as biber reads
            end = text.find("\n", at)
            at = len(text) if end < 0 else end  # braces and quotes in the comment are the comment's
            spans.append((token.start(), at))
    return blank_spans(text, spans)


_DIRECTIVE_COMMENT_RE = re.compile(r"%[ \t]*kratomref:[^\n]*")
# What the comment scan looks at: an escape with its character (text), a brace, a quote, a percent sign.
_SCAN_RE = re.compile(r"\\.|[{}\"%]", re.DOTALL)


def _suppressions(lines: _Lines) -> tuple[dict[int, frozenset[str]], dict[int, dict[str, int]]]:
    """line -> selectors of `% kratomref: ignore[...]` comments.

    A comment alone on its line applies to the next non-blank line that is not a comment (the entry
    below it); a comment after code applies to its own line.
    Also line -> selector -> comment line for each comment alone on its line
    (Document.suppression_comments): where an unused one is reported.
    """
    found: dict[int, frozenset[str]] = {}
    origins: dict[int, dict[str, int]] = {}
    for index in lines.holding("kratomref"):
        line = lines[index]
        if "%" not in line:
            continue
        comment = line[line.index("%") :]
        selectors = suppressions.directive(comment)
        if selectors is None:
            continue
        target = index
        if _COMMENT_RE.match(line):
            target = index + 1
            while target < len(lines) and (not lines[target].strip() or _COMMENT_RE.match(lines[target])):
                target += 1
        suppressions.merge(found, target + 1, selectors)
        suppressions.note_comment(origins, target + 1, index + 1, selectors)
    return found, origins


_LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines ends a line
_OTHER_BREAKS_RE = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_PIECE_CHARS = 1 << 20


class _Lines:
    """A file's lines as str.splitlines() gives them, without a string per line kept: the text and where each
    line starts (8 bytes a line instead of about 80; 2 million lines were 160 MB while a large file was read)."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = array("q")
        position = 0
        while position < len(text):  # a piece at a time, each ending after a "\n" (a line ends there anyway)
            end = text.find("\n", position + _PIECE_CHARS)
            end = len(text) if end < 0 else end + 1
            starts.extend(itertools.accumulate(map(len, text[position:end].splitlines(True)), initial=position))
            starts.pop()  # the piece's end, which the next piece starts with (or the text's end)
            position = end
        self._count = len(starts)
        self._plain = _OTHER_BREAKS_RE.search(text) is None
        starts.append(len(text))
        self._starts = starts

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        line = self.text[self._starts[index] : self._starts[index + 1]]
        if line.endswith("\r\n"):
            return line[:-2]
        return line[:-1] if line and line[-1] in _LINE_BREAKS else line

    def length(self, index: int) -> int:
        """len(self[index]), without copying the line (a line may be 1 MiB of entries, each asking)."""
        start, end = self._starts[index], self._starts[index + 1]
        if self.text.endswith("\r\n", start, end):
            return end - start - 2
        return end - start - (1 if end > start and self.text[end - 1] in _LINE_BREAKS else 0)

    def joined(self, first: int, stop: int) -> str:
        """"\n".join of the lines first to stop (excluded), as the slice of a list of them gives."""
        first, stop = max(first, 0), min(stop, self._count)
        if first >= stop:
            return ""
        if self._plain:  # every line ends with "\n": the lines joined are the text between them
            piece = self.text[self._starts[first] : self._starts[stop]]
            return piece[:-1] if piece.endswith("\n") else piece
        return "\n".join(self[i] for i in range(first, stop))

    def holding(self, word: str) -> Iterator[int]:
        """The index of every line that holds word, in order, once each."""
        at, last = self.text.find(word), -1
        while at >= 0:
            index = bisect.bisect_right(self._starts, at) - 1
            if index != last:
                yield index
                last = index
            at = self.text.find(word, at + len(word))


def _failure_message(block: bib.ParsingFailedBlock, key_lines: dict[str, int]) -> str:
    error = block.error
    if isinstance(block, bib.DuplicateBlockKeyBlock):
        first = key_lines.get(block.key)
        where = f" (first used on line {first})" if first else ""
        return f"duplicate key {block.key!r}{where}: only the first entry with this key is used"
    if isinstance(block, bib.DuplicateFieldKeyBlock):
        keys = sorted(block.duplicate_keys)
        if len(keys) == 1:
            return f"entry repeats the field {keys[0]}: only one of its values is used"
        return f"entry repeats the fields {', '.join(keys)}: only one value of each is used"
    reason = getattr(error, "abort_reason", None) or str(error) or type(error).__name__
    return f"entry could not be parsed: {' '.join(str(reason).split())}"


def _failure_fix(block: bib.ParsingFailedBlock) -> str:
    if isinstance(block, bib.DuplicateBlockKeyBlock):
        return "give each entry a unique key"
    if isinstance(block, bib.DuplicateFieldKeyBlock):
        fields = sorted(block.duplicate_keys)
        if len(fields) == 1:
            name = fields[0]
            times = len(re.findall(rf"[,{{(]\s*{re.escape(name)}\s*=", block.raw or "", re.IGNORECASE))
            if times > 2:
                return f"keep one of the {times} {name} fields and remove the others"
            return f"remove one of the two {name} fields"
        return f"keep one of each repeated field ({', '.join(fields)}) and remove the others"
    return "balance the braces and quotes and separate the fields with commas"


_KEY_RE = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()]+)\s*,")

# --- Entries without a key ----------------------------------------------------------------------

# An entry written without its key ("@Article{,", as JabRef writes the entries of some imports), at the start
# of a line: where bibtexparser always starts a block. Comments, strings and preambles have no key.
_KEYLESS_RE = re.compile(r"^([ \t]*@(?!(?:comment|string|preamble)\b)[A-Za-z]\w*[ \t]*[{(])(?=\s*,)",
                         re.MULTILINE | re.IGNORECASE)
KEYLESS_KEY_RE = re.compile(r"<no key, line (\d+)(?: \((\d+)\))?>")


def keyless_key(line: int, nth: int = 1) -> str:
    """The key kratomref gives an entry written without one: `<no key, line 721>`, from the line of its "@"
    (`<no key, line 721 (2)>` for a second one on that line).

    No BibTeX key can be this (a key ends at the first comma or space), so it never collides with a real
    key, and it stays the same from run to run while the entry stays on its line.
    """
    return f"<no key, line {line}>" if nth == 1 else f"<no key, line {line} ({nth})>"


def is_keyless(key: str | None) -> bool:
    """True for the key keyless_key gives."""
    return bool(key and KEYLESS_KEY_RE.fullmatch(key))


def _mark_keyless(text: str, marker: str, inserted: list[tuple[int, int]] | None = None) -> str:
    """text with a unique placeholder key (marker and a number) in every keyless entry, so that bibtexparser
    reads each as an entry of its own instead of a duplicate of the first; lines stay where they were.

    inserted: gets, for each key put in, where it ends in the marked text and how many characters were put in up
    to there (what _unmarked takes off an offset after it)."""
    if "," not in text or "@" not in text:
        return text
    count = 0
    added = 0

    def mark(match: re.Match[str]) -> str:
        nonlocal count, added
        count += 1
        key = f"{marker}{count}"
        added += len(key)
        if inserted is not None:
            inserted.append((match.end() + added, added))
        return f"{match.group(1)}{key}"

    return _KEYLESS_RE.sub(mark, text)


def _unmarked(offset: int, inserted: list[tuple[int, int]], ends: list[int]) -> int:
    """An offset into the marked text (_mark_keyless) as an offset into the text (ends: the inserted's ends)."""
    at = bisect.bisect_right(ends, offset) - 1
    return offset if at < 0 else offset - inserted[at][1]


def _processed(entry: bib.Entry, library: Library) -> bib.Entry:
    """An entry bibtexparser set aside (a duplicate's) as its parse stack leaves the others: @string names
    resolved, enclosing braces and quotes removed."""
    try:
        alone = Library([*library.strings, entry])
        for middleware in default_parse_stack(allow_inplace_modification=True):
            alone = middleware.transform(alone)
        processed = alone.entries
    except Exception:  # the entry as split is still better than none
        return entry
    return processed[0] if len(processed) == 1 else entry


def _no_key_problem(path: str, line: int, key: str, entry_type: str) -> Problem:
    return Problem(
        Location(path, line, key), "KR001",
        "the entry has no key: no document can cite it",
        f'add a unique citation key after "@{entry_type}{{" (for example the first author\'s surname and the year)',
    )


# The longest entry read, from its "@" to the next entry's (README, "Safety"): a real entry, its abstract included,
# is a few KB. A field of tens of MB is an attack on memory (a 60 MB field took 1.2 GB), and the file is reported.
MAX_ENTRY_CHARS = 1024 * 1024
_ENTRY_START_RE = re.compile(r"^[ \t]*@", re.MULTILINE)


def _overlong_entry(path: str, text: str) -> Problem | None:
    """A KR002 problem for the first entry (or text between entries) longer than MAX_ENTRY_CHARS, or None."""
    if len(text) <= MAX_ENTRY_CHARS:
        return None
    previous = 0
    for start in [*(m.start() for m in _ENTRY_START_RE.finditer(text)), len(text)]:
        if start - previous > MAX_ENTRY_CHARS:
            line = text.count("\n", 0, previous) + 1
            return Problem(Location(path, line), "KR002",
                           f"the entry at line {line} runs for {start - previous:,} characters (the limit is"
                           f" {MAX_ENTRY_CHARS:,}), so the file was not read: no bibliography entry is this long",
                           "check the entry's braces, or split the field's text out of the bibliography")
        previous = start
    return None


# --- How much one run reads (issue 17) ---------------------------------------------------------------------
# Memory grows with the entries of a bibliography (about 2-4 KiB each once checked) and, for entries of many short
# fields, with its size: the defaults keep the worst file they let through under 512 MB. They are counted before
# anything is parsed. Raised only by the user (--max-entries / --max-bibliography-mib, KRATOMREF_MAX_ENTRIES /
# KRATOMREF_MAX_BIBLIOGRAPHY_MIB, the user's own config); a repository's configuration may only lower them.
JSON_OBJECTS_PER_ENTRY = 20  # a CSL-JSON item is an object holding a few more (names, dates)
_COUNTED_BLOCK_RE = re.compile(r"@[ \t]*[A-Za-z]\w*[ \t]*[{(]")
_RIS_RECORD_RE = re.compile(r"^[ \t\ufeff]*TY {1,2}-", re.MULTILINE)
_RAISE = ("raise it with {flag} (or {env}, or {key} in your user configuration; a repository's configuration"
          " cannot raise it)")


def over_limits(path: str, fmt: str, text: str) -> Problem | None:
    """A KR002 problem when a bibliography's text is larger, or holds more entries, than this run reads."""
    from kratomref.readers import BIBLIOGRAPHY_LIMITS

    chars, entries = BIBLIOGRAPHY_LIMITS["mib"] * 2**20, BIBLIOGRAPHY_LIMITS["entries"]
    if len(text) > chars:
        return Problem(Location(path), "KR002",
                       f"the bibliography is {len(text) / 2**20:.1f} MiB of text (the limit is {chars / 2**20:g} MiB),"
                       " so it was not read", _RAISE.format(flag="--max-bibliography-mib",
                                                          env="KRATOMREF_MAX_BIBLIOGRAPHY_MIB",
                                                          key="max-bibliography-mib"))
    if fmt == "csljson":
        count, limit, what = text.count("{"), entries * JSON_OBJECTS_PER_ENTRY, "JSON objects"
    elif fmt == "ris":
        count, limit, what = len(_RIS_RECORD_RE.findall(text)), entries, "records"
    else:
        count, limit, what = sum(1 for _ in _COUNTED_BLOCK_RE.finditer(text)), entries, "entries"
    if count <= limit:
        return None
    per = f" ({JSON_OBJECTS_PER_ENTRY} per entry)" if fmt == "csljson" else ""
    return Problem(Location(path), "KR002",
                   f"the bibliography holds {count:,} {what} (the limit is {limit:,}{per}), so it was not read",
                   _RAISE.format(flag="--max-entries", env="KRATOMREF_MAX_ENTRIES", key="max-entries"))


# --- Where entries and fields are (for `kratomref fix`) --------------------------------------------
# bibtexparser's splitter finds every entry's and field's place in the text and keeps only their lines; a splitter
# that also notes the characters lets `fix` edit a value where it is written. Per entry: its "@", the end of its
# key's comma, its closing brace, and per field where its name begins and its value (delimiters included) begins and
# ends. Packed in one bytes object: a type code, the "@" as an unsigned 32-bit offset into the file's text, then
# the others from the "@", in 16 bits when the entry is shorter than 64 KiB (6 bytes a field), else 32.

_SPAN_CODE = "I"
_Spans = dict[int, tuple[str, "array[int]"]]  # id of an entry's raw text -> (that text, its offsets)


def _packed(offsets: array[int]) -> bytes:
    """offsets (the "@", then the others) as Reference.spans holds them (see above)."""
    start = offsets[0]
    relative = [n - start for n in offsets[1:]]
    code = "H" if max(relative, default=0) < 1 << 16 else "I"
    return code.encode() + array(_SPAN_CODE, (start,)).tobytes() + array(code, relative).tobytes()


class EntrySpans(NamedTuple):
    """Where one entry of a file is in the text the reader read: character offsets."""

    start: int  # the "@"
    body_start: int  # just after the key's comma
    close: int  # the closing brace or parenthesis
    # every field in the order written, repeated ones too: (name start, value start, value end), the value with its
    # braces or quotes (a "#" concatenation whole)
    fields: tuple[tuple[int, int, int], ...]


def spans_of(ref: Reference) -> EntrySpans | None:
    """The place of a BibTeX entry in the text it was read from (None: the reader could not give it)."""
    if ref.spans is None:
        return None
    first = array(_SPAN_CODE)
    first.frombytes(ref.spans[1:5])
    start = first[0]
    numbers = array(ref.spans[:1].decode())
    numbers.frombytes(ref.spans[5:])
    n = [start + number for number in numbers]
    return EntrySpans(start, n[0], n[1], tuple((n[i], n[i + 1], n[i + 2]) for i in range(2, len(n), 3)))


class _SpanSplitter(Splitter):
    """bibtexparser's splitter, noting where each entry and each of its fields begins and ends (see above)."""

    def __init__(self, bibstr: str) -> None:
        super().__init__(bibstr)
        self.spans: _Spans = {}
        self._value_ends: list[int] = []

    def _move_to_comma_or_closing_delimiter(  # type: ignore[no-untyped-def]
        self, currently_quote_escaped: bool = False, num_open_curls: int = 0
    ):
        end = super()._move_to_comma_or_closing_delimiter(currently_quote_escaped, num_open_curls)
        self._value_ends.append(end)
        return end

    def _handle_entry(self, m, m_val):  # type: ignore[no-untyped-def]
        self._value_ends = []
        block = super()._handle_entry(m, m_val)
        entry = block.ignore_error_block if isinstance(block, bib.DuplicateFieldKeyBlock) else block
        if isinstance(entry, bib.Entry) and entry.raw:
            offsets = self._offsets(m.start(), entry)
            if offsets is not None:
                self.spans[id(entry.raw)] = (entry.raw, offsets)
        return block

    def _offsets(self, at: int, entry: bib.Entry) -> array[int] | None:
        """The entry's offsets in the text split (the splitter's own text begins with an added newline)."""
        text, length = self.bibstr, len(entry.raw or "")
        comma = text.find(",", at, at + length)
        if comma < 0 or len(self._value_ends) != len(entry.fields):
            return None  # @misc{key} without fields, or an entry split otherwise than expected
        numbers = array(_SPAN_CODE, (at - 1, comma, at + length - 2))
        for item, value_end in zip(entry.fields, self._value_ends, strict=True):
            value, key = item.value, item.key
            if not value or not isinstance(value, str):
                return None  # an empty value: nothing to edit in place
            end = value_end  # the comma or closing brace after it
            while text[end - 1].isspace():
                end -= 1
            start = end - len(value)
            if not text.startswith(value, start):
                return None
            equals = start - 1
            while text[equals].isspace():
                equals -= 1
            name_end = equals
            while text[name_end - 1].isspace():
                name_end -= 1
            if text[equals] != "=" or not text.startswith(key, name_end - len(key)):
                return None
            numbers.extend((name_end - len(key) - 1, start - 1, end - 1))
        return numbers


def _parse_string(text: str, strings: Callable[[Library], list[bib.Block]] | None = None,
                  ) -> tuple[Library, int, _Spans]:
    """text parsed as bibtexparser.parse_string(text, library=Library(given)) parses it, and how many blocks lead
    the library's blocks: given is what strings(split) gives, @string definitions made elsewhere for the blocks
    text was split into (_chunks gives only those a value names). With _SpanSplitter's spans of the entries split
    when edit spans are recorded (readers.edit_spans), and none otherwise."""
    from kratomref.readers import EDIT_SPANS

    splitter = Splitter(text) if EDIT_SPANS["record"] is False else _SpanSplitter(text)
    parsed = splitter.split()
    library = None if strings is None else Library(strings(parsed))
    entrypoint = bibtexparser.entrypoint
    entrypoint._seed_preexisting_strings(parsed, library)
    for middleware in entrypoint._build_parse_stack(None, None):
        parsed = middleware.transform(library=parsed)
    spans = splitter.spans if isinstance(splitter, _SpanSplitter) else {}
    if library is None:
        return parsed, 0, spans
    seeded = len(library.blocks)
    library.add([b for b in parsed.blocks if not entrypoint._is_seeded_string(b)], fail_on_duplicate_key=False)
    return library, seeded, spans


def _values(parsed: Library) -> set[str]:
    """The values, in lower case, of every field split: an entry's, or one a failed block set aside (read later
    with the chunk's @string definitions, _processed)."""
    used: set[str] = set()
    for block in parsed.blocks:
        entry = block.ignore_error_block if isinstance(block, bib.ParsingFailedBlock) else block
        if isinstance(entry, bib.Entry):
            used.update(field.value.lower() for field in entry.fields if isinstance(field.value, str))
    return used


# --- Parsing in chunks ----------------------------------------------------------------------------
# bibtexparser's library of a file takes about 4 KiB per entry and would stay alive while the references are
# built, so a large file is parsed a chunk of entries at a time. Chunks split where bibtexparser itself never
# continues a block: before a line that starts a new one ("@article{" after blanks, where an unclosed entry is
# aborted). Each chunk ends with the start of the next chunk's first line, so that an entry left open there
# fails with the same message as in one parse; each chunk is given the @string definitions of the other chunks
# that its values name, and a key used in an earlier chunk is a duplicate as it would be in one parse.

CHUNK_ENTRIES = 2000
CHUNK_CHARS = 1 << 20  # and at most about this much text: 2,000 entries of 200 fields each were 400,000 at once
_BLOCK_LINE_RE = re.compile(r"^[^\S\n]*@\w*[ \t]*[{(]", re.MULTILINE)  # as bibtexparser's splitter starts a block
_STRING_MARK_RE = re.compile(r"@string\w*[ \t]*(?=[{(])", re.IGNORECASE)


class _Chunk(NamedTuple):
    blocks: list[bib.Block]
    library: Library  # the chunk's, with the @string definitions it could use
    offset: int  # the line of the file where the chunk begins (0-based)
    processed: set[int]  # ids of duplicates whose entry the parse stack has already processed
    spans: _Spans  # where the chunk's entries and fields are (_SpanSplitter)
    start: int = 0  # the character of the (marked) text where the chunk begins


def _parse_whole(text: str) -> Iterator[_Chunk]:
    library, _, spans = _parse_string(text)
    yield _Chunk(library.blocks, library, 0, set(), spans)


def _chunks(text: str, size: int, first: int = 0, seen: set[str] | None = None) -> Iterator[_Chunk]:
    """text's blocks as one parse of it gives them, a chunk of `size` entries at a time (see above); the whole
    text at once when it is small, or when chunks could not give what one parse gives (a @string defined twice
    or mid-line). first, seen: start at that chunk, the entry keys of the chunks before it given (_parsed_chunks).
    """
    starts = list(_BLOCK_LINE_RE.finditer(text))
    if len(starts) <= size and len(text) <= CHUNK_CHARS:
        yield from _parse_whole(text) if not first else ()  # (first: the one chunk has been read)
        return
    string_starts = [i for i, m in enumerate(starts) if m.group(0).lstrip()[:7].lower() == "@string"]
    if len(string_starts) != len(_STRING_MARK_RE.findall(text)):
        yield from _parse_whole(text) if not first else ()
        return
    firsts = [0]  # the block each chunk starts with: after `size` blocks, or CHUNK_CHARS of text
    for i in range(1, len(starts)):
        if i - firsts[-1] >= size or starts[i].start() - starts[firsts[-1]].start() >= CHUNK_CHARS:
            firsts.append(i)
    cuts = [0] + [starts[i].start() for i in firsts[1:]] + [len(text)]
    chunk_of = [bisect.bisect_right(firsts, i) - 1 for i in range(len(starts))]
    # Every @string block, parsed together: by its name in lower case, the chunk that defines it and its value.
    seeds: dict[str, tuple[int, bib.String]] = {}
    if string_starts:
        pieces = [text[starts[i].start() : starts[i + 1].start() if i + 1 < len(starts) else len(text)]
                  for i in string_starts]
        first_lines = [0]
        for piece in pieces:
            first_lines.append(first_lines[-1] + piece.count("\n") + 1)
        strings = bibtexparser.entrypoint.parse_string("\n".join(pieces))
        if any(isinstance(b, bib.DuplicateBlockKeyBlock) for b in strings.failed_blocks):
            yield from _parse_whole(text)
            return
        for string in strings.strings:
            number = bisect.bisect_right(first_lines, string.start_line or 0) - 1
            seeds[string.key.lower()] = (chunk_of[string_starts[number]], string)
    seen = set() if seen is None else seen  # entry keys of earlier chunks
    offset = 0
    for index in range(len(cuts) - 1):
        start, end = cuts[index], cuts[index + 1]
        body = text[start:end]
        if index < first:  # read already: only its lines are counted
            offset += body.count("\n") - body.count("\\\n")
            continue
        last = index == len(cuts) - 2
        # the next chunk's block start, so that an entry open at the end aborts as it does before it in one parse
        sentinel = "" if last else starts[firsts[index + 1]].group(0)

        def defined_elsewhere(split: Library, index: int = index) -> list[bib.Block]:
            # only the definitions a value of the chunk names: the parse stack resolves a value that is a name,
            # nothing else, and bibtexparser deep-copies every definition it is given (all of them for every
            # chunk made a file with a definition for each entry quadratic)
            used = _values(split) & seeds.keys() if seeds else set()
            return [seeds[name][1] for name in sorted(used) if seeds[name][0] != index]

        library, seeded, spans = _parse_string(body + sentinel, defined_elsewhere)
        # lines as bibtexparser counts them: a newline after a backslash is not counted (its splitter skips
        # escaped characters), so the lines of one parse drift there, and the chunks keep the same drift
        lines_in_body = body.count("\n") - body.count("\\\n")
        blocks, processed = _kept_blocks(library.blocks[seeded:], None if last else lines_in_body, seen)
        yield _Chunk(blocks, library, offset, processed, spans, start)
        offset += lines_in_body
        # The chunk has been read and dropped: its parse is garbage, in cycles (a failed block's exception holds
        # the parser's frames), all in the youngest generation with the references made from it (with the
        # collector paused nothing was collected since). Collecting that generation costs what the chunk did;
        # the references move on and are not looked at again.
        del blocks, library, processed, spans
        gc.collect(0)


# --- Parsing ahead in a forked child ----------------------------------------------------------------
# A large file's chunks are parsed by bibtexparser in a forked child while this process builds the references of
# the chunk before: the second core takes the parse. A chunk crosses as its entries' plain parts (type, key, line,
# raw text, fields), about a third of the parse's cost to send and rebuild; the first chunk holding anything else
# (a block that failed, a duplicate key) and all after it are parsed here, as _chunks parses them.

_PlainEntry = tuple[str, str, int | None, str | None, list[tuple[str, Any, int | None]]]


def _plain_chunks(text: str, size: int) -> Iterator[tuple[int, int, list[_PlainEntry]] | None]:
    """What the child sends: each chunk's line offset, start and plain entries; None when the next chunk is not
    plain entries (the parent parses it and the rest itself)."""
    for chunk in _chunks(text, size):
        if any(isinstance(block, bib.ParsingFailedBlock) for block in chunk.blocks):
            yield None
            return
        yield chunk.offset, chunk.start, [
            (block.entry_type, block.key, block.start_line, block.raw,
             [(field.key, field.value, field.start_line) for field in block.fields])
            for block in chunk.blocks if isinstance(block, bib.Entry)
        ]


def _parsed_chunks(text: str, size: int) -> Iterator[_Chunk]:
    """_chunks(text, size), the same chunks, parsed ahead in a forked child (see above) when the file is large,
    edit spans are not recorded, and a child can be forked safely here."""
    from kratomref import forked
    from kratomref.readers import EDIT_SPANS

    if EDIT_SPANS["record"] is not False or text.count("@") < forked.FORK_THRESHOLD or not forked.can_fork():
        yield from _chunks(text, size)
        return
    done = 0
    seen: set[str] = set()
    with closing(forked.streamed(lambda: _plain_chunks(text, size))) as received:
        for sent in received:
            if sent is None:
                break
            offset, start, entries = sent
            blocks: list[bib.Block] = [
                bib.Entry(kind, key, [bib.Field(name, value, line) for name, value, line in fields], first_line, raw)
                for kind, key, first_line, raw, fields in entries
            ]
            seen.update(entry[1] for entry in entries)
            yield _Chunk(blocks, Library(), offset, set(), {}, start)  # no failed block needs its library
            done += 1
    yield from _chunks(text, size, done, seen)


def _kept_blocks(
    parsed: list[bib.Block], sentinel_line: int | None, seen: set[str]
) -> tuple[list[bib.Block], set[int]]:
    """A chunk's blocks without the sentinel's (the block starting at sentinel_line), an entry whose key an earlier
    chunk used made a duplicate; and the ids of those duplicates. seen: the entry keys so far, updated."""
    blocks: list[bib.Block] = []
    processed: set[int] = set()
    for block in parsed:
        if sentinel_line is not None and (block.start_line or 0) >= sentinel_line:
            continue
        entry = block.ignore_error_block if isinstance(block, bib.MiddlewareErrorBlock) else block
        if isinstance(entry, bib.Entry):
            if entry.key in seen and isinstance(block, bib.Entry):
                # a key of an earlier chunk (the earlier entry is gone: only its key is reported, by read)
                block = bib.DuplicateBlockKeyBlock(entry.key, entry, entry, entry.start_line, entry.raw)
                processed.add(id(block))
            seen.add(entry.key)
        blocks.append(block)
    return blocks, processed


def read(path: str, text: str, *, macros: Mapping[str, str] | None = None) -> Document:
    """Read a BibTeX/BibLaTeX file's text.

    `macros`: zero-argument LaTeX macros the document that names this file defines (name without the
    backslash -> its text, as `\\newcommand{\\apjl}{ApJL}` gives "apjl" -> "ApJL"); they are expanded in the
    field values and take precedence over the AAS journal macros (kratomref.readers.journal_macros).
    """
    overlong = over_limits(path, "bibtex", text) or _overlong_entry(path, text)
    if overlong is not None:
        return Document(path, "bibtex", problems=(overlong,))
    parsed_text = _blank_directives(text)
    marker = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in parsed_text)
    inserted: list[tuple[int, int]] = []
    marked = _mark_keyless(parsed_text, marker, inserted)
    inserted_ends = [end for end, _ in inserted]
    del parsed_text
    lines = _Lines(text)
    line_suppressions, suppression_comments = _suppressions(lines)
    references: list[Reference] = []
    problems: list[Problem] = []
    key_lines: dict[str, int] = {}

    keyless: set[str] = set()
    cursor: dict[int, int] = {}  # for _raw: where the next entry may begin on a line that holds several

    def public(key: str | None, line: int) -> str | None:
        """The key as kratomref reports it: a keyless entry's (marked or empty) becomes `<no key, line N>`."""
        if key is None or not (key == "" or key.startswith(marker)):
            return key
        nth = 1
        while keyless_key(line, nth) in keyless:
            nth += 1
        return keyless_key(line, nth)

    def spans(entry: bib.Entry, chunk: _Chunk) -> bytes | None:
        found = chunk.spans.get(id(entry.raw))
        if found is None:
            return None
        shift = chunk.start
        offsets = found[1] if not inserted and not shift else array(
            _SPAN_CODE, (_unmarked(n + shift, inserted, inserted_ends) for n in found[1]))
        return _packed(offsets)

    def add(entry: bib.Entry, line: int, chunk: _Chunk) -> None:
        key = public(entry.key, line) or ""
        references.append(_reference(entry, path, lines, line_suppressions, key, macros, cursor, marker, chunk.offset,
                                     spans(entry, chunk)))
        if is_keyless(key):
            keyless.add(key)
            written = re.search(r"@\s*(\w+)", lines[line - 1] if line <= len(lines) else "")
            problems.append(_no_key_problem(path, line, key, written.group(1) if written else entry.entry_type))

    def take(block: bib.Block, chunk: _Chunk) -> None:
        line = (block.start_line or 0) + 1 + chunk.offset
        if isinstance(block, bib.Entry):
            add(block, line, chunk)
            if block.key:
                key_lines.setdefault(block.key, line)
            return
        if not isinstance(block, bib.ParsingFailedBlock):
            return
        usable = block.ignore_error_block
        if isinstance(block, bib.DuplicateBlockKeyBlock) and block.key == "" and isinstance(usable, bib.Entry):
            # a second keyless entry that was not marked: its own entry
            add(usable if id(block) in chunk.processed else _processed(usable, chunk.library), line, chunk)
            return
        key_match = _KEY_RE.match((block.raw or "").lstrip())
        key = public(getattr(block, "key", None) or (key_match.group(1) if key_match else None), line)
        if isinstance(block, bib.DuplicateFieldKeyBlock | bib.MiddlewareErrorBlock) and isinstance(usable, bib.Entry):
            if isinstance(block, bib.DuplicateFieldKeyBlock):
                usable = _processed(usable, chunk.library)
            add(usable, line, chunk)
        problems.append(
            Problem(Location(path, line, key), "KR001", _failure_message(block, key_lines), _failure_fix(block))
        )

    def take_all(chunk: _Chunk) -> None:
        for block in chunk.blocks:
            take(block, chunk)

    with _collector_paused():
        for chunk in _parsed_chunks(marked, CHUNK_ENTRIES):
            take_all(chunk)
            del chunk  # nothing of the chunk's parse stays referenced now: _chunks collects it
    return Document(
        path=path,
        format="bibtex",
        references=tuple(references),
        problems=tuple(problems),
        suppressions=line_suppressions,
        suppression_comments=suppression_comments,
    )
