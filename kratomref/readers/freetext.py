"""One free-text citation (APA, Harvard, Vancouver, MLA, a bare link...) parsed into a Reference.

The parse is a heuristic: it aims at the fields the checks need (authors, year, title, container,
volume, issue, pages, DOI, URLs) and keeps the citation as written in `raw` for the Crossref search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kratomref import lazy
from kratomref.doi import is_doi_url, strip_trailing
from kratomref.model import Author, Location, Reference
from kratomref.urls import find_urls

# The longest APA reference with 20 authors and a long title is about 1,500 characters; anything
# longer is not one citation, and bounding it keeps the heuristics' regular expressions fast.
MAX_CITATION_CHARS = 4000
# Words that make an author an organisation rather than a person.
ORGANISATION_WORDS = frozenset(
    {
        "administration", "agency", "association", "authority", "board", "bureau", "center", "centers",
        "centre", "centres", "clinic", "college", "commission", "committee", "consortium", "council",
        "department", "directorate", "federation", "foundation", "group", "institute", "institutes",
        "institution", "laboratory", "league", "ministry", "network", "office", "organisation",
        "organization", "panel", "program", "programme", "project", "service", "services", "society",
        "trust", "union", "university", "world", "national", "international", "federal", "government"
    }
)
# Words before a period that do not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        "al", "vs", "e.g", "i.e", "cf", "dr", "st", "no", "nos", "vol", "vols", "pp", "p", "ed", "eds",
        "inc", "ltd", "co", "jr", "sr", "mr", "mrs", "ms", "prof", "fig", "figs", "ch", "chap", "rev",
        "trans", "univ", "dept", "n.d", "approx", "est", "etc", "op", "cit", "ibid", "ca"
    }
)

_DOI_RE = lazy.regex(
    r"(?:https?://(?:dx\.|www\.)?doi\.org/|\bdoi:\s*|\bdoi\s+)?\b10\.\d{4,9}(?:\.\d+)*/[^\s\"<>{}]+", re.IGNORECASE
)
_ACCESS_RE = lazy.regex(
    r"\[?\(?\b(?:accessed|retrieved|viewed|cited)\b(?:\s+on)?[^.\])]*?\d{4}[^.\])\[]*[\])]?\.?"
    r"|\b(?:retrieved|available)\s+(?:from|at|online)\s*:?"
    r"|\bonline\s*:|\[internet\]|\[online\]",
    re.IGNORECASE,
)
_EMPHASIS_RE = lazy.regex(r"(?<![\w*])(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_APA_YEAR_RE = lazy.regex(r"\(\s*((?:1[5-9]|20|21)\d\d)[a-z]?(?:\s*,[^)]*|\s*)\)|\(\s*(n\.\s?d\.?)\s*\)", re.IGNORECASE)
_HARVARD_RE = lazy.regex(r"^(?P<authors>.+?)[.,]?\s+(?P<year>(?:1[5-9]|20|21)\d\d)[a-z]?\.\s+(?P<rest>.+)$")
_VANCOUVER_AUTHORS_RE = lazy.regex(
    r"^(?P<authors>(?:[A-Z][\w'’-]*(?:\s[\w'’-]+)*\s[A-Z]{1,3}(?:-[A-Z])?,\s*)*"
    r"[A-Z][\w'’-]*(?:\s[\w'’-]+)*\s[A-Z]{1,3}(?:-[A-Z])?(?:,?\s*et\s+al)?)\.\s+(?P<rest>.+)$"
)
# Not the first half of an arXiv identifier: "arXiv:1810.05687" gives no year.
_YEAR_RE = lazy.regex(r"\b((?:1[5-9]|20|21)\d\d)[a-z]?\b(?!\.\d{4,5}\b)")
# A span of years ("Global report 2019-2020", "survey 2021–2022"), not pages: after no volume, colon or "pp.".
_YEAR_RANGE_RE = lazy.regex(r"(?<![:\d.])(?<!pp\.\s)(?<!pp\.)\b((?:1[5-9]|20)\d\d)\s*[-–—]\s*((?:1[5-9]|20)\d\d)\b"
                            r"(?![-–—]?\d)")


def _range_end(text: str) -> str | None:
    """The last year of a span of years the text names (a report's period), or None."""
    for match in _YEAR_RANGE_RE.finditer(text):
        first, last = int(match.group(1)), int(match.group(2))
        if 0 < last - first <= 10:
            return match.group(2)
    return None


# A year standing alone: not a page of a range ("1803-1831").
_PLAIN_YEAR_RE = lazy.regex(r"(?<![-–—\d])\b((?:1[5-9]|20|21)\d\d)[a-z]?\b(?!\.\d{4,5}\b)(?!\s*[-–—]+\s*\d)")
_PAGES = r"[A-Za-z]?\d+[A-Za-z]?(?:\s*[-–—]+\s*[A-Za-z]?\d+[A-Za-z]?)?"
_APA_CONTAINER_RE = lazy.regex(
    rf"^(?P<container>.+?),\s*(?:vol\.\s*)?(?P<volume>\d+[A-Za-z]?)\s*(?:\((?P<issue>[^)]+)\))?"
    rf"(?:\s*,\s*(?:pp?\.\s*)?(?P<pages>{_PAGES}))?\s*\.?$",
    re.IGNORECASE,
)
_VANCOUVER_CONTAINER_RE = lazy.regex(
    rf"^(?P<container>.*?)\.?\s*(?P<year>(?:1[5-9]|20|21)\d\d)[^;:.]*;\s*(?P<volume>\w+)?\s*"
    rf"(?:\((?P<issue>[^)]+)\))?\s*(?::\s*(?P<pages>{_PAGES}))?"
)
_VOLUME_RE = lazy.regex(r"\bvol(?:ume)?\.?\s*(\w+)", re.IGNORECASE)
_ISSUE_RE = lazy.regex(r"\b(?:no|issue)\.?\s*(\w+)", re.IGNORECASE)
_PAGES_RE = lazy.regex(rf"\bpp?\.\s*({_PAGES})", re.IGNORECASE)
_CONTAINER_END_RE = lazy.regex(r",\s*(?:vol|no|pp?)\.|\s\(pp?\.|[,;]\s*(?:1[5-9]|20)\d\d\b", re.IGNORECASE)
# Chicago: "Journal of Trade 5 (2): 10-20"
_CHICAGO_CONTAINER_RE = lazy.regex(
    rf"^(?P<container>.*?[A-Za-z].*?),?\s+(?P<volume>\d+)\s*(?:\((?P<issue>[^)]+)\))?\s*:\s*(?P<pages>{_PAGES})"
)
_EDITED_RE = lazy.regex(r"\(\s*eds?\.?\s*\)", re.IGNORECASE)
_INITIALS_RE = lazy.regex(r"(?:[A-Z][a-z]?\.\s*-?\s*)+(?:[A-Z]\.?)?|[A-Z]{1,3}(?:-[A-Z])?")
_VANCOUVER_NAME_RE = lazy.regex(r"(?P<family>.+?)\s+(?P<given>[A-Z]{1,3}(?:-[A-Z])?)")
_ACRONYM_RE = lazy.regex(r"\(\s*[A-Z][A-Z&]{1,}[A-Za-z]*\s*\)")
_QUOTED_RE = lazy.regex(r"^[\"“'‘](?P<title>.+?)[,.?!]?[\"”'’][,.]?\s*(?P<rest>.*)$")


def clean(text: str) -> str:
    return " ".join(text.split()).strip(" .,;:")


def is_organisation(text: str) -> bool:
    """True for "Food and Drug Administration (FDA)" or "World Health Organization"; False for people."""
    if re.search(r",\s*[A-Z]\.", text):  # "Smith, J." is a person whatever words follow
        return False
    if _ACRONYM_RE.search(text) or re.fullmatch(r"[A-Z]{2,8}\.?", text.strip()):
        return True
    words = re.findall(r"[A-Za-z]+", text)
    return any(word.lower() in ORGANISATION_WORDS for word in words)


def _name(part: str) -> Author:
    vancouver = _VANCOUVER_NAME_RE.fullmatch(part)
    if vancouver and not _INITIALS_RE.fullmatch(vancouver.group("family")):
        return Author(vancouver.group("family"), vancouver.group("given"))
    words = part.split()
    if len(words) == 1:
        return Author(part)
    # "J. Smith", "Jane Doe", "Ludwig van Beethoven"
    start = len(words) - 1
    for index in range(1, len(words) - 1):
        if words[index][:1].islower():
            start = index
            break
    return Author(" ".join(words[start:]), " ".join(words[:start]))


def parse_authors(text: str) -> tuple[tuple[Author, ...], bool]:
    """Authors of a free-text author list and whether it was truncated ("et al.", "...")."""
    et_al = bool(re.search(r"\bet\s+al\b|\.\.\.|…|\band\s+others\b", text, re.IGNORECASE))
    text = re.sub(r"\bet\s+al\b\.?|\.\.\.|…|\band\s+others\b", " ", text, flags=re.IGNORECASE)
    text = " ".join(text.split()).strip(" ,;:&")
    if not text.strip(" ."):
        return (), et_al
    if is_organisation(text):
        return (Author(clean(text), literal=True),), et_al
    parts = [p.strip() for p in re.split(r"[,;&]|\band\b", text) if p.strip(" .")]
    authors: list[Author] = []
    index = 0
    while index < len(parts):
        part = parts[index].strip()
        following = parts[index + 1].strip() if index + 1 < len(parts) else None
        inverted_first = (
            index == 0 and following is not None and " " not in part and re.fullmatch(r"[A-Z][a-z]+", following)
        )
        if following and (_INITIALS_RE.fullmatch(following) or inverted_first) and not _VANCOUVER_NAME_RE.fullmatch(
            part
        ):
            authors.append(Author(part, following))
            index += 2
            continue
        if len(part.split()) <= 6 and not re.search(r"\d", part):
            authors.append(_name(part.strip(" .")))
        index += 1
    return tuple(authors), et_al


def sentences(text: str) -> list[str]:
    """Split at ". ", "? " and "! ", but not after an initial ("J. Smith") or an abbreviation ("vs.")."""
    parts: list[str] = []
    start = 0
    depth = 0
    position = 0
    while position < len(text):
        char = text[position]
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif char in ".?!" and depth == 0 and (position + 1 == len(text) or text[position + 1] == " "):
            word = text[text.rfind(" ", start, position) + 1 : position]
            is_abbreviation = char == "." and (
                text[position - 1 : position] == "." or  # an ellipsis: "Vadivelu, R., ... & Jayabalan"
                re.fullmatch(r"[A-Z]|(?:[A-Za-z]\.)+[A-Za-z]", word) is not None or word.lower() in _ABBREVIATIONS
            )
            if not is_abbreviation:
                keep = char if char in "?!" else ""
                parts.append(text[start:position] + keep)
                start = position + 1
        position += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip(" .")]


def _split_title(rest: str) -> tuple[str | None, str]:
    """(title, what follows it) from the text after the authors and year."""
    rest = rest.strip(" .,")
    quoted = _QUOTED_RE.match(rest)
    if quoted:
        return clean(quoted.group("title")), quoted.group("rest")
    parts = sentences(rest)
    if not parts:
        return None, ""
    title = parts[0].strip()
    remainder = rest[rest.find(title) + len(title) :] if title in rest else " ".join(parts[1:])
    return clean(title) or None, remainder.strip(" .")


@dataclass
class _Source:
    """What follows the title: where the work was published."""

    container: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    publisher: str | None = None
    in_book: bool = False  # "In J. Smith (Ed.), Book title"


def _source(remainder: str) -> _Source:
    """container, volume, issue, pages and publisher from what follows the title."""
    found = _Source()
    remainder = remainder.strip(" .,")
    if not remainder:
        return found
    in_book = re.match(r"^in:?\s+", remainder, re.IGNORECASE)
    if in_book:
        remainder = remainder[in_book.end() :]
        edited = _EDITED_RE.search(remainder)
        if edited:
            remainder = remainder[edited.end() :].lstrip(" ,")
        found.in_book = True
    parts = sentences(remainder)
    head = parts[0] if parts else remainder
    keyworded = re.search(r",\s*vol\.|,\s*no\.\s*\d", remainder, re.IGNORECASE)
    if keyworded:
        head = remainder
    match: re.Match[str] | None = None
    if not (keyworded or in_book):
        apa = _APA_CONTAINER_RE.match(head)
        vancouver = _VANCOUVER_CONTAINER_RE.match(remainder)
        if apa and not head[: apa.start("volume")].lower().rstrip(" ,").endswith(("pp", "p")):
            match = apa
        elif vancouver and vancouver.group("volume"):
            match = vancouver
        else:
            match = _CHICAGO_CONTAINER_RE.match(head)
    if match:
        groups = match.groupdict()
        found.container, found.volume = groups.get("container"), groups.get("volume")
        found.issue, found.pages = groups.get("issue"), groups.get("pages")
    else:
        pages = _PAGES_RE.search(remainder)
        volume = _VOLUME_RE.search(remainder)
        issue = _ISSUE_RE.search(remainder)
        found.pages = pages.group(1) if pages else None
        found.volume = volume.group(1) if volume else None
        found.issue = issue.group(1) if issue else None
        name = _CONTAINER_END_RE.split(head, maxsplit=1)[0]
        if name and not re.fullmatch(r"[\d\s,;:()–-]*", name):
            found.container = name
        if len(parts) > 1 and not re.search(r"\d", parts[-1]):
            found.publisher = parts[-1]
    found.container = clean(found.container or "") or None
    found.publisher = clean(found.publisher or "") or None
    if found.pages:
        found.pages = re.sub(r"\s*[–—-]+\s*", "-", found.pages)
    return found


def _infer_type(authors: tuple[Author, ...], found: _Source, doi: str | None, urls: list[str], online: bool) -> str:
    if found.in_book:
        return "incollection"
    if doi or (found.container and (found.volume or found.pages)):
        return "article"
    if found.publisher and not urls:
        return "book"
    if urls and (online or any(a.literal for a in authors)):
        return "online"
    if found.container and not urls and not (found.volume or found.issue):
        return "book"  # "Title. Publisher." with nothing that looks like a journal issue
    return "misc"


# Lower-case words a name may hold: "Ludwig van Beethoven", "Aäron van den Oord", "Leonardo da Vinci".
_PARTICLES = frozenset({"van", "von", "de", "der", "den", "la", "le", "du", "da", "di", "del", "della", "dos",
                        "das", "al", "el", "bin", "ibn", "y", "zu", "ten", "ter"})
# "Title" after names, or the text of a link in its place: "Jane Doe. [Title](…)" after its URL was taken out.
_LINK_TITLE_RE = lazy.regex(r"\[(?P<text>[^\[\]]{2,500})\]\(\s*\)")
_TRAILING_YEAR_RE = lazy.regex(r"[.,]?\s*\(?\b(?P<year>(?:1[5-9]|20|21)\d\d)[a-z]?\)?[.,]?$")


def looks_like_names(text: str) -> bool:
    """True for a list of personal or organisation names as a reference list writes them: "Richard S. Sutton
    and Andrew G. Barto", "Goodfellow, Ian, et al.", "Ekin D. Cubuk & Barret Zoph et al.", "OpenAI"."""
    text = re.sub(r"\bet\s+al\b\.?|\band\s+others\b", " ", text).strip(" .,;&")
    if not text or re.search(r"[\d:()\[\]\"“”]", text):
        return False
    parts = [p.strip(" .") for p in re.split(r"[,;&]|\band\b", text) if p.strip(" .")]
    if not parts or len(parts) > 100:
        return False
    for part in parts:
        tokens = part.split()
        if len(tokens) > 5:
            return False
        for token in tokens:
            if token.lower().rstrip(".") in _PARTICLES:
                continue
            if not (token[0].isupper() and all(c.isalpha() or c in "'’-." for c in token)):
                return False
    return True


def _names_before(prefix: str) -> tuple[str, str | None] | None:
    """(names, year) when prefix is the names that open a citation, with its year when one closes them
    ("Alireza Makhzani, Brendan Frey (2013)."), else None. Names end with "." or "," before the title."""
    prefix = prefix.strip()
    year = _TRAILING_YEAR_RE.search(prefix)
    if year is not None:
        names, found = prefix[: year.start()], year.group("year")
    elif prefix.endswith((".", ",")):
        names, found = prefix, None
    else:
        return None
    return (names, found) if looks_like_names(names) else None


def _quote_link_title(work: str) -> str:
    """work with a link that stands where the title is ("Jane Doe. [Title](…)") written as a quoted title, so
    that the names before it are read as the authors."""
    link = _LINK_TITLE_RE.search(work)
    if link is None or link.start() == 0 or _names_before(work[: link.start()]) is None:
        return work
    title = link.group("text").strip()
    quoted = title if title[:1] in "\"“" and title[-1:] in "\"”" else f"“{title}”"
    return work[: link.start()] + quoted + work[link.end() :]


def _strip_markup(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\(\s*\)", r"\1", text)  # [text]( ) after its URL was taken out
    text = re.sub(r"<\s*>|\[\s*\]|\(\s*\)", " ", text)
    for _ in range(2):
        text = _EMPHASIS_RE.sub(r"\2", text)
    return text


def parse_citation(
    raw: str,
    location: Location,
    suppressed: frozenset[str] = frozenset(),
    field_lines: Mapping[str, int] | None = None,
) -> Reference:
    """A Reference from one citation as written."""
    text = " ".join(raw[: MAX_CITATION_CHARS * 2].split())[:MAX_CITATION_CHARS]
    found_urls = [u for _, u in find_urls(text)]
    urls: list[str] = []
    doi: str | None = None
    for url in found_urls:
        if is_doi_url(url):
            doi = doi or url
        elif url not in urls:
            urls.append(url)
    work = text
    for url in found_urls:
        work = work.replace(url, " ")
    if doi is None:
        match = _DOI_RE.search(work)
        if match:
            doi = strip_trailing(match.group(0))
    work = _DOI_RE.sub(" ", work)
    online = bool(_ACCESS_RE.search(work))
    work = _ACCESS_RE.sub(" ", work)
    work = _strip_markup(_quote_link_title(work))
    work = " ".join(work.split()).strip(" .,;")

    authors_text = ""
    year: str | None = None
    rest = work
    apa = _APA_YEAR_RE.search(work)
    harvard = _HARVARD_RE.match(work)
    vancouver = _VANCOUVER_AUTHORS_RE.match(work)
    opening_quote = re.search(r"[\"“]", work)
    named = _names_before(work[: opening_quote.start()]) if opening_quote and opening_quote.start() > 0 else None
    if named is not None and opening_quote is not None:
        # Names, then a quoted title: "Richard S. Sutton and Andrew G. Barto. “Title.” 2017."
        authors_text, year, rest = named[0], named[1], work[opening_quote.start() :]
    # "(2013)" right after the authors; a year in brackets after a title and journal is not APA.
    elif apa and len(sentences(work[: apa.start()])) <= 1:
        authors_text, year, rest = work[: apa.start()], apa.group(1), work[apa.end() :]
    elif vancouver and not _YEAR_RE.match(vancouver.group("rest")):
        authors_text, rest = vancouver.group("authors"), vancouver.group("rest")
    elif harvard and len(sentences(harvard.group("authors"))) <= 1:
        authors_text, year, rest = harvard.group("authors"), harvard.group("year"), harvard.group("rest")
    else:
        quoted = re.search(r"[\"“]", work)
        if quoted and quoted.start() > 0:
            authors_text, rest = work[: quoted.start()], work[quoted.start() :]
        else:
            parts = sentences(work)
            if len(parts) >= 2 and (re.search(r",\s*[A-Z]\.|\bet al\b", parts[0]) or is_organisation(parts[0])):
                authors_text, rest = parts[0], work[len(parts[0]) :]
    authors, et_al = parse_authors(authors_text) if authors_text.strip() else ((), False)

    title, remainder = _split_title(rest)
    found = _source(remainder)
    undated = apa is not None and apa.group(2) is not None and authors_text == work[: apa.start()]
    if year is None and not undated:
        semicolon = re.search(r"\b((?:1[5-9]|20|21)\d\d)[a-z]?\s*;", remainder)
        bracketed = _APA_YEAR_RE.search(remainder)  # "Journal 11 (2010): 1803-1831": not the last page
        years = _PLAIN_YEAR_RE.findall(remainder) or _PLAIN_YEAR_RE.findall(work)
        year = (semicolon.group(1) if semicolon else bracketed.group(1) if bracketed and bracketed.group(1)
                else years[-1] if years else _range_end(work))
    entry_type = _infer_type(authors, found, doi, urls, online)
    container, publisher = found.container, found.publisher
    if entry_type == "book" and container and not publisher:
        publisher, container = container, None

    fields: dict[str, str] = {}
    for name, value in (
        ("author", clean(authors_text)), ("title", title), ("year", year), ("journal", container),
        ("volume", found.volume), ("number", found.issue), ("pages", found.pages),
        ("publisher", publisher), ("doi", doi), ("url", " ".join(urls) or None),
    ):
        if value:
            fields[name] = value
    lines = dict(field_lines or {})
    return Reference(
        location=location,
        type=entry_type,
        title=title,
        authors=authors,
        et_al=et_al,
        year=year,
        container=container,
        volume=found.volume,
        issue=found.issue,
        pages=found.pages,
        publisher=publisher,
        doi=doi,
        urls=tuple(urls),
        raw=raw,
        fields=fields,
        field_lines={name: lines.get(name, location.line or 1) for name in fields},
        raw_fields=dict(fields),
        suppressed=suppressed,
    )
