"""RIS files (EndNote, Zotero, Mendeley, PubMed exports): records from TY to ER."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kratomref import lazy
from kratomref.doi import is_doi_url
from kratomref.model import Author, Document, Location, Problem, Reference
from kratomref.readers.bibtex import find_doi, over_limits, year_of
from kratomref.readers.freetext import is_organisation
from kratomref.urls import extract_urls

# A tag line: two characters, two spaces, a hyphen (RIS specification, Research Information Systems 2012).
# Exporters vary in the spaces, so one or two are accepted.
_TAG_RE = lazy.regex(r"^([A-Z][A-Z0-9])\s{1,2}-(?: (.*)|\s*)$")
TYPES = {
    "JOUR": "article", "JFULL": "article", "EJOUR": "article", "MGZN": "article", "NEWS": "article",
    "ABST": "article", "INPR": "article", "BOOK": "book", "EBOOK": "book", "EDBOOK": "book",
    "CHAP": "incollection", "ECHAP": "incollection", "ELEC": "online", "WEB": "online", "BLOG": "online",
    "RPRT": "report", "THES": "thesis", "CONF": "inproceedings", "CPAPER": "inproceedings",
    "GEN": "misc", "UNPB": "unpublished", "STAND": "techreport", "DATA": "dataset", "COMP": "software",
}
# RIS tags -> the BibTeX-style field names the rules and the export look up; the first tag present wins.
FIELDS = {
    "title": ("TI", "T1", "CT"),
    "journal": ("JF", "JO", "T2", "JA", "J2", "BT"),
    "series": ("T3",),
    "volume": ("VL",),
    "number": ("IS",),
    "publisher": ("PB",),
    "address": ("CY", "PP"),
    "edition": ("ET",),
    "language": ("LA",),
    "type": ("M3",),  # "Type of Work": the genre (PhD thesis, Technical report)
    "doi": ("DO",),
    "note": ("N1",),
    "abstract": ("AB", "N2"),
}
_AUTHOR_TAGS = ("AU", "A1")
_EDITOR_TAGS = ("A2", "ED")
# Name tags besides the authors -> BibTeX-style fields, written as BibTeX name lists ("Family, Given and {Org}").
_NAME_FIELDS = {"editor": _EDITOR_TAGS, "collection-editor": ("A3",), "translator": ("A4",)}
_NAME_TAGS = frozenset((*_AUTHOR_TAGS, *_EDITOR_TAGS, "A3", "A4"))
_RIS_DATE = lazy.regex(r"^\s*(\d{4})?\s*/\s*(\d{1,2})?\s*/\s*(\d{1,2})?\s*/?(.*)$")
_ISO_DATE = lazy.regex(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ].*)?$")
_INITIALS = lazy.regex(r"(?:[A-Z]\.?){1,3}")
_ISSN = lazy.regex(r"^\s*\d{4}-?\d{3}[\dXx]\s*$")

Record = list[tuple[int, str, str]]


def _author(name: str, people_have_commas: bool) -> Author:
    """One RIS name: "Family, Given[, Suffix]" a person; "Micro Focus," (a comma at the end, EndNote's form)
    an organisation; without a comma, an organisation when it looks like one or when the file writes its
    people with commas (Zotero writes a one-field name so), else "Smith JA" or "Jane Smith"."""
    name = " ".join(name.split())
    if name.endswith(","):
        return Author(name.rstrip(", "), literal=True)
    family, comma, given = name.partition(",")
    if comma:
        given, _, suffix = given.partition(",")
        given = " ".join(p for p in (given.strip(), suffix.strip()) if p)
        return Author(family.strip(), given)
    words = name.split()
    if len(words) == 1:
        return Author(name)
    if is_organisation(name) or people_have_commas:
        return Author(name, literal=True)
    if _INITIALS.fullmatch(words[-1]) and not _INITIALS.fullmatch(words[0]):
        return Author(" ".join(words[:-1]), words[-1])  # "Smith JA" (PubMed, Vancouver)
    return Author(words[-1], " ".join(words[:-1]))


def _bibtex_names(authors: Iterable[Author]) -> str:
    """Names as a BibTeX name list, the form the export reads editors and translators in."""
    return " and ".join("{" + a.family + "}" if a.literal else str(a) for a in authors)


def _has_people_commas(records: Iterable[Record]) -> bool:
    """True when the file writes people as "Family, Given": then a name without a comma is a whole name."""
    for record in records:
        for _, tag, value in record:
            if tag in _NAME_TAGS and not value.rstrip().endswith(","):
                _, comma, given = value.partition(",")
                if comma and given.strip():
                    return True
    return False


def _date(value: str | None) -> tuple[str | None, int | None, int | None, str]:
    """(year, month, day, other text) of an RIS date: "2019/05/03/", "2019/05//", "2019-05-03", "July"."""
    if not value or not value.strip():
        return None, None, None, ""
    match = _RIS_DATE.match(value) if "/" in value else None
    if match:
        year, month, day, other = match.groups()
    else:
        iso = _ISO_DATE.match(value)
        if not iso:
            return year_of(value), None, None, value.strip()
        year, month, day, other = (*iso.groups(), "")
    month_number = int(month) if month and 1 <= int(month) <= 12 else None
    day_number = int(day) if day and month_number and 1 <= int(day) <= 31 else None
    return year, month_number, day_number, (other or "").strip()


def _iso(year: str, month: int | None, day: int | None) -> str:
    return year + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if month and day else "")


def _reference(path: str, record: Record, number: int, raw: str, people_have_commas: bool) -> Reference:
    values: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    for line, tag, value in record:
        values.setdefault(tag, []).append(value)
        lines.setdefault(tag, line)
    first_line = record[0][0]

    def first(tags: tuple[str, ...]) -> tuple[str | None, int | None]:
        for tag in tags:
            for value in values.get(tag, []):
                if value.strip():
                    return value.strip(), lines[tag]
        return None, None

    raw_fields: dict[str, str] = {tag.lower(): " ; ".join(v) for tag, v in values.items()}
    fields: dict[str, str] = {}
    field_lines: dict[str, int] = {tag.lower(): line for tag, line in lines.items()}

    def put(name: str, value: str, line: int | None) -> None:
        fields[name] = raw_fields[name] = value
        field_lines[name] = line or first_line

    for name, tags in FIELDS.items():
        found, found_line = first(tags)
        if found is not None:
            put(name, found, found_line)
    start, start_line = first(("SP",))
    end = first(("EP",))[0]
    pages = f"{start}-{end}" if start and end and end != start else start
    if pages:
        put("pages", pages, start_line)
    issue = fields.get("number")
    if issue is None:
        issue = first(("M1",))[0]  # "Number": a report's number when it has no issue
    # Dates: PY/Y1 give the year (older files the whole date), DA the month, day and any other text.
    year_value, year_line = first(("PY", "Y1"))
    date_value, date_line = first(("DA",))
    year, month, day, other = _date(year_value)
    d_year, d_month, d_day, d_other = _date(date_value)
    year = year_of(year) or year_of(d_year) or year_of(d_other) or year_of(other)
    month, day, other = month or d_month, day or d_day, other or d_other
    if year:
        put("year", year, year_line or date_line)
        if month:
            put("month", str(month), date_line or year_line)
        if day:
            put("date", _iso(year, month, day), date_line or year_line)
    if other and not month:
        put("date", other if year_of(other) or not year else f"{other} {year}", date_line or year_line)
    accessed_value, accessed_line = first(("Y2",))
    a_year, a_month, a_day, a_other = _date(accessed_value)
    if a_year:
        put("urldate", _iso(a_year, a_month, a_day), accessed_line)
    elif a_other:
        put("urldate", a_other, accessed_line)
    isbn: list[str] = []
    issn: list[str] = []
    for value in values.get("SN", []):
        for part in (p.strip() for p in re.split(r"\s*;\s*", value) if p.strip()):
            (issn if _ISSN.match(part) else isbn).append(part)
    if isbn:
        put("isbn", " ".join(isbn), lines["SN"])
    if issn:
        put("issn", " ".join(issn), lines["SN"])
    keywords = [k.strip() for k in values.get("KW", []) if k.strip()]
    if keywords:
        put("keywords", ", ".join(keywords), lines["KW"])

    names = [v for t in _AUTHOR_TAGS for v in values.get(t, []) if v.strip()]
    editors = [v for t in _EDITOR_TAGS for v in values.get(t, []) if v.strip()]
    authors = tuple(_author(n, people_have_commas) for n in names or editors)
    if names:
        put("author", " and ".join(names), next(lines[t] for t in _AUTHOR_TAGS if t in lines))
    for name, tags in _NAME_FIELDS.items():
        people = [_author(v, people_have_commas) for t in tags for v in values.get(t, []) if v.strip()]
        if people:
            put(name, _bibtex_names(people), next(lines[t] for t in tags if t in lines))
    url_values = [v for t in ("UR", "L2", "LK") for v in values.get(t, [])]
    all_urls = [u for v in url_values for u in extract_urls(v)]
    urls = list(dict.fromkeys(u for u in all_urls if not is_doi_url(u)))
    if urls:
        put("url", " ".join(urls), lines.get("UR") or lines.get("L2") or lines.get("LK"))
    doi = fields.get("doi") or next((u for u in all_urls if is_doi_url(u)), None) or find_doi(fields.get("note", ""))
    ris_type = first(("TY",))[0]
    key = first(("ID",))[0]
    return Reference(
        location=Location(path, first_line, key or f"ris-{number}"),
        type=TYPES.get((ris_type or "").upper(), "misc"),
        title=fields.get("title"),
        authors=authors,
        year=fields.get("year"),
        container=fields.get("journal"),
        volume=fields.get("volume"),
        issue=issue,
        pages=pages,
        publisher=fields.get("publisher"),
        doi=doi,
        urls=tuple(urls),
        raw=raw,
        fields={**raw_fields, **fields},
        field_lines=field_lines,
        raw_fields=raw_fields,
    )


def _problem(path: str, line: int, message: str) -> Problem:
    return Problem(Location(path, line), "KR001", message, "start each record with 'TY  - ' and end it with 'ER  - '")


def read(path: str, text: str) -> Document:
    """Read an RIS file's text. One pass over the lines, then one per record: time and memory grow with the
    file's length, whatever its records look like (a value wrapped over many lines is joined once)."""
    too_large = over_limits(path, "ris", text)
    if too_large is not None:
        return Document(path, "ris", problems=(too_large,))
    lines = text.splitlines()
    problems: list[Problem] = []
    # (first line index, last line index + 1, [(line number, tag, value parts)])
    records: list[tuple[int, int, list[tuple[int, str, list[str]]]]] = []
    record: list[tuple[int, str, list[str]]] = []
    record_start = 0
    stray_reported = False

    def close(end_index: int) -> None:
        records.append((record_start, end_index, record))

    for index, line in enumerate(lines):
        tagged = _TAG_RE.match(line.lstrip("\ufeff"))
        if tagged:
            tag, value = tagged.group(1), (tagged.group(2) or "").strip()
            if tag == "TY":
                if record:
                    problems.append(_problem(path, record[0][0], "record has no ER line before the next TY"))
                    close(index)
                record = [(index + 1, tag, [value])]
                record_start = index
            elif tag == "ER":
                if record:
                    close(index + 1)
                record = []
            elif record:
                record.append((index + 1, tag, [value]))
            elif not stray_reported:
                problems.append(_problem(path, index + 1, f"tag {tag} outside a record (no TY line before it)"))
                stray_reported = True
        elif record and line.strip():
            # A long value wrapped onto the next line belongs to the tag above it.
            record[-1][2].append(line.strip())
        elif line.strip() and not stray_reported:
            problems.append(_problem(path, index + 1, "text outside a record: not an RIS tag line"))
            stray_reported = True
    if record:
        problems.append(_problem(path, record[0][0], "the last record has no ER line"))
        close(len(lines))
    joined: list[tuple[int, int, Record]] = [
        (start, end, [(number, tag, " ".join(p for p in parts if p)) for number, tag, parts in entries])
        for start, end, entries in records
    ]
    people_have_commas = _has_people_commas(r for _, _, r in joined)
    references = [
        _reference(path, entries, number, "\n".join(lines[start:end]), people_have_commas)
        for number, (start, end, entries) in enumerate(joined, start=1)
    ]
    return Document(path, "ris", references=tuple(references), problems=tuple(problems))
