"""BibTeX and BibLaTeX files, through bibtexparser 2, with the line of every entry and field."""

from __future__ import annotations

import logging
import re
import unicodedata

import bibtexparser.entrypoint
from bibtexparser import model as bib

from kratomref.doi import DOI_START, is_doi_url, strip_trailing
from kratomref.model import Author, Document, Location, Problem, Reference
from kratomref.readers import suppressions
from kratomref.urls import extract_urls

# bibtexparser logs every failed block; kratomref reports them as KR001 findings instead.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser").propagate = False

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
_ESCAPED = {"\\": " ", "&": "&", "%": "%", "$": "$", "#": "#", "_": "_", " ": " ", ",": " "}
_ACCENT_RE = re.compile(r"""\\([."'`^~=]|[uvHckrdb](?![A-Za-z]))\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))""")
_COMMAND_RE = re.compile(r"\\([A-Za-z]+)\s*|\\(.)")


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
    r"(?:https?://(?:dx\.|www\.)?doi\.org/|doi:\s*)?" + DOI_START + r"10\.\d{4,9}(?:\.\d+)*/[^\s\"<>{}]+",
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


def year_of(text: str | None) -> str | None:
    match = _YEAR_RE.search(text or "")
    return match.group(1) if match else None


def _field_value(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _reference(
    entry: bib.Entry, path: str, lines: list[str], line_suppressions: dict[int, frozenset[str]]
) -> Reference:
    start = (entry.start_line or 0) + 1
    raw_fields: dict[str, str] = {}
    fields: dict[str, str] = {}
    field_lines: dict[str, int] = {}
    for item in entry.fields:
        name = item.key.lower()
        value = _field_value(item.value)
        raw_fields[name] = value
        fields[name] = decode_latex(value)
        field_lines[name] = (item.start_line or entry.start_line or 0) + 1

    names = raw_fields.get("author") or raw_fields.get("editor") or ""
    authors, et_al = parse_names(names) if names else ((), False)

    def first(*names: str) -> str | None:
        for name in names:
            if fields.get(name):
                return fields[name]
        return None

    urls: list[str] = []
    for name in _URL_FIELDS:
        value = raw_fields.get(name, "")
        found = extract_urls(value)
        if not found and name == "url" and value.strip():
            found = [value.strip()]  # "www.fda.gov": kept so that the link rules can say it is malformed
        urls.extend(u for u in found if u not in urls)

    doi = raw_fields.get("doi", "").strip() or None
    if doi is None:
        doi = next((u for u in urls if is_doi_url(u)), None) or find_doi(raw_fields.get("note", ""))
    urls = [u for u in urls if not is_doi_url(u)]

    entry_type = entry.entry_type.lower()
    container = first(*_CONTAINER_FIELDS)
    if container is None and entry_type not in ("article", "book"):
        site = first(*_SITE_FIELDS)
        container = site if site and not extract_urls(site) else None
    pages = fields.get("pages")
    suppressed = suppressions.on_lines(line_suppressions, start, start)
    if IGNORE_FIELD in raw_fields:
        suppressed |= suppressions.parse_selectors(raw_fields[IGNORE_FIELD])
    return Reference(
        location=Location(path, start, entry.key),
        type=entry_type,
        title=first("title"),
        authors=authors,
        et_al=et_al,
        year=year_of(fields.get("year")) or year_of(fields.get("date")),
        container=container,
        volume=first("volume"),
        issue=first("number", "issue"),
        pages=re.sub(r"\s*[–—-]+\s*", "-", pages) if pages else None,
        publisher=first("publisher"),
        doi=doi,
        urls=tuple(urls),
        raw=_raw(entry, lines),
        fields=fields,
        field_lines=field_lines,
        raw_fields=raw_fields,
        suppressed=suppressed,
    )


def _raw(entry: bib.Entry, lines: list[str]) -> str:
    """The entry as written: taken from the file's lines, so that blanked directives are still in it."""
    parsed = entry.raw or ""
    start = entry.start_line or 0
    original = "\n".join(lines[start : start + parsed.count("\n") + 1])
    at = original.find("@")
    return original[at:].rstrip() if at >= 0 else parsed


_COMMENT_RE = re.compile(r"^\s*%")


def _blank_directives(text: str) -> str:
    """text with every `% kratomref: ...` comment replaced by spaces of the same length.

    BibTeX has no comments inside an entry, so bibtexparser would fail on one written after a
    field; blanking keeps every line and column where it was.
    """
    if "kratomref" not in text:
        return text
    return _DIRECTIVE_COMMENT_RE.sub(lambda m: " " * len(m.group(0)), text)


_DIRECTIVE_COMMENT_RE = re.compile(r"%[ \t]*kratomref:[^\n]*")


def _suppressions(lines: list[str]) -> tuple[dict[int, frozenset[str]], dict[int, dict[str, int]]]:
    """line -> selectors of `% kratomref: ignore[...]` comments.

    A comment alone on its line applies to the next non-blank line that is not a comment (the entry
    below it); a comment after code applies to its own line.
    Also line -> selector -> comment line for each comment alone on its line
    (Document.suppression_comments): where an unused one is reported.
    """
    found: dict[int, frozenset[str]] = {}
    origins: dict[int, dict[str, int]] = {}
    for index, line in enumerate(lines):
        if "kratomref" not in line or "%" not in line:
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


def read(path: str, text: str) -> Document:
    """Read a BibTeX/BibLaTeX file's text."""
    parsed_text = _blank_directives(text)
    library = bibtexparser.entrypoint.parse_string(parsed_text)
    lines = text.splitlines()
    line_suppressions, suppression_comments = _suppressions(lines)
    references: list[Reference] = []
    problems: list[Problem] = []
    key_lines: dict[str, int] = {}
    for block in library.blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, bib.Entry):
            references.append(_reference(block, path, lines, line_suppressions))
            key_lines.setdefault(block.key, line)
        elif isinstance(block, bib.ParsingFailedBlock):
            usable = block.ignore_error_block
            key_match = _KEY_RE.match((block.raw or "").lstrip())
            key = getattr(block, "key", None) or (key_match.group(1) if key_match else None)
            if isinstance(block, bib.DuplicateFieldKeyBlock | bib.MiddlewareErrorBlock) and isinstance(
                usable, bib.Entry
            ):
                references.append(_reference(usable, path, lines, line_suppressions))
            problems.append(
                Problem(Location(path, line, key), "KR001", _failure_message(block, key_lines), _failure_fix(block))
            )
    return Document(
        path=path,
        format="bibtex",
        references=tuple(references),
        problems=tuple(problems),
        suppressions=line_suppressions,
        suppression_comments=suppression_comments,
    )
