"""RIS files (EndNote, Zotero, Mendeley, PubMed exports): records from TY to ER."""

from __future__ import annotations

import re

from kratomref.doi import is_doi_url
from kratomref.model import Author, Document, Location, Problem, Reference
from kratomref.readers.bibtex import find_doi, year_of
from kratomref.readers.freetext import is_organisation
from kratomref.urls import extract_urls

# A tag line: two characters, two spaces, a hyphen (RIS specification, Research Information Systems 2012).
# Exporters vary in the spaces, so one or two are accepted.
_TAG_RE = re.compile(r"^([A-Z][A-Z0-9])\s{1,2}-(?: (.*)|\s*)$")
TYPES = {
    "JOUR": "article", "JFULL": "article", "EJOUR": "article", "MGZN": "article", "NEWS": "article",
    "ABST": "article", "INPR": "article", "BOOK": "book", "EBOOK": "book", "EDBOOK": "book",
    "CHAP": "incollection", "ECHAP": "incollection", "ELEC": "online", "WEB": "online", "BLOG": "online",
    "RPRT": "report", "THES": "thesis", "CONF": "inproceedings", "CPAPER": "inproceedings",
    "GEN": "misc", "UNPB": "unpublished", "STAND": "techreport", "DATA": "misc", "COMP": "misc",
}
# RIS tags -> the BibTeX-style field names the rules look up; the first tag present wins.
FIELDS = {
    "title": ("TI", "T1", "CT"),
    "journal": ("JF", "JO", "T2", "JA", "J2", "BT"),
    "year": ("PY", "Y1", "DA"),
    "volume": ("VL",),
    "number": ("IS",),
    "publisher": ("PB",),
    "doi": ("DO",),
    "note": ("N1",),
}
_AUTHOR_TAGS = ("AU", "A1")
_EDITOR_TAGS = ("A2", "ED", "A3")


def _author(name: str) -> Author:
    family, comma, given = name.partition(",")
    if comma:
        return Author(family.strip(), given.strip(" ,"))
    if is_organisation(name) or " " not in name.strip():
        return Author(name.strip(), literal=" " in name.strip())
    words = name.split()
    return Author(words[-1], " ".join(words[:-1]))


def _reference(path: str, record: list[tuple[int, str, str]], number: int, raw: str) -> Reference:
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
    for name, tags in FIELDS.items():
        found, found_line = first(tags)
        if found is not None and found_line is not None:
            fields[name] = raw_fields[name] = found
            field_lines[name] = found_line
    start, start_line = first(("SP",))
    end = first(("EP",))[0]
    pages = f"{start}-{end}" if start and end and end != start else start
    if pages and start_line:
        fields["pages"] = raw_fields["pages"] = pages
        field_lines["pages"] = start_line
    names = [v for t in _AUTHOR_TAGS for v in values.get(t, []) if v.strip()]
    names = names or [v for t in _EDITOR_TAGS for v in values.get(t, []) if v.strip()]
    authors = tuple(_author(n) for n in names)
    if names:
        fields["author"] = raw_fields["author"] = " and ".join(names)
        field_lines["author"] = next(lines[t] for t in (*_AUTHOR_TAGS, *_EDITOR_TAGS) if t in lines)
    url_values = [v for t in ("UR", "L2", "LK") for v in values.get(t, [])]
    all_urls = [u for v in url_values for u in extract_urls(v)]
    urls = list(dict.fromkeys(u for u in all_urls if not is_doi_url(u)))
    if urls:
        fields["url"] = raw_fields["url"] = " ".join(urls)
        field_lines["url"] = lines.get("UR") or lines.get("L2") or lines.get("LK") or first_line
    doi = fields.get("doi") or next((u for u in all_urls if is_doi_url(u)), None) or find_doi(fields.get("note", ""))
    ris_type = first(("TY",))[0]
    key = first(("ID",))[0]
    return Reference(
        location=Location(path, first_line, key or f"ris-{number}"),
        type=TYPES.get((ris_type or "").upper(), "misc"),
        title=fields.get("title"),
        authors=authors,
        year=year_of(fields.get("year")),
        container=fields.get("journal"),
        volume=fields.get("volume"),
        issue=fields.get("number"),
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
    """Read an RIS file's text."""
    lines = text.splitlines()
    references: list[Reference] = []
    problems: list[Problem] = []
    record: list[tuple[int, str, str]] = []
    record_start = 0
    stray_reported = False

    def close(end_index: int) -> None:
        raw = "\n".join(lines[record_start:end_index])
        references.append(_reference(path, record, len(references) + 1, raw))

    for index, line in enumerate(lines):
        tagged = _TAG_RE.match(line.lstrip("\ufeff"))
        if tagged:
            tag, value = tagged.group(1), (tagged.group(2) or "").strip()
            if tag == "TY":
                if record:
                    problems.append(_problem(path, record[0][0], "record has no ER line before the next TY"))
                    close(index)
                record = [(index + 1, tag, value)]
                record_start = index
            elif tag == "ER":
                if record:
                    close(index + 1)
                record = []
            elif record:
                record.append((index + 1, tag, value))
            elif not stray_reported:
                problems.append(_problem(path, index + 1, f"tag {tag} outside a record (no TY line before it)"))
                stray_reported = True
        elif record and line.strip():
            # A long value wrapped onto the next line belongs to the tag above it.
            number, tag, value = record[-1]
            record[-1] = (number, tag, f"{value} {line.strip()}".strip())
        elif line.strip() and not stray_reported:
            problems.append(_problem(path, index + 1, "text outside a record: not an RIS tag line"))
            stray_reported = True
    if record:
        problems.append(_problem(path, record[0][0], "the last record has no ER line"))
        close(len(lines))
    return Document(path, "ris", references=tuple(references), problems=tuple(problems))
