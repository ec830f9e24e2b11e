"""CSL-JSON, as Zotero, Mendeley and pandoc export it: a list of items (or {"items": [...]})."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from typing import Any

from kratomref.doi import is_doi_url
from kratomref.model import Author, Document, Location, Problem, Reference
from kratomref.readers.bibtex import find_doi, over_limits, year_of
from kratomref.urls import extract_urls

# CSL item types -> the BibTeX-style types of the model (CSL 1.0.2 specification, "Item Types").
TYPES = {
    "article-journal": "article", "article-magazine": "article", "article-newspaper": "article",
    "article": "article", "review": "article", "paper-conference": "inproceedings", "book": "book",
    "chapter": "incollection", "entry-encyclopedia": "incollection", "entry-dictionary": "incollection",
    "report": "report", "thesis": "thesis", "webpage": "online", "post-weblog": "online", "post": "online",
    "dataset": "misc", "software": "misc", "manuscript": "unpublished", "standard": "techreport",
    "legislation": "misc", "legal_case": "misc", "patent": "misc", "motion_picture": "misc",
}
# CSL variables -> the BibTeX-style field names the rules look up (line_of("url"), line_of("doi")...).
FIELD_NAMES = {
    "title": "title", "container-title": "journal", "volume": "volume", "issue": "number", "page": "pages",
    "DOI": "doi", "URL": "url", "publisher": "publisher", "note": "note", "ISBN": "isbn", "ISSN": "issn",
    "abstract": "abstract", "collection-title": "series", "edition": "edition", "publisher-place": "address",
}


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = " ".join(str(value).split())
        return text or None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return _text(value[0])  # some exporters write container-title as a list
    return None


def _authors(names: Any) -> tuple[Author, ...]:
    authors: list[Author] = []
    if not isinstance(names, list):
        return ()
    for name in names:
        if not isinstance(name, Mapping):
            continue
        literal = _text(name.get("literal"))
        family = _text(name.get("family"))
        if literal or (family and not name.get("given") and name.get("isInstitution")):
            authors.append(Author(literal or family or "", literal=True))
        elif family:
            particle = _text(name.get("non-dropping-particle"))
            given = " ".join(p for p in (_text(name.get("given")), _text(name.get("dropping-particle"))) if p)
            authors.append(Author(f"{particle} {family}" if particle else family, given))
    return tuple(authors)


def _year(issued: Any) -> str | None:
    if not isinstance(issued, Mapping):
        return year_of(_text(issued))
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        year = year_of(_text(parts[0][0]))
        if year:
            return year
    return year_of(_text(issued.get("raw")) or _text(issued.get("literal")))


def _reference(item: Mapping[str, Any], path: str, line: int | None, number: int) -> Reference:
    key = _text(item.get("id")) or f"item-{number}"
    raw_fields: dict[str, str] = {}
    for name, value in item.items():
        text = _text(value)
        if text is not None and isinstance(name, str):
            raw_fields[FIELD_NAMES.get(name, name.lower())] = text
    authors = _authors(item.get("author")) or _authors(item.get("editor"))
    year = _year(item.get("issued"))
    if year:
        raw_fields["year"] = year
    urls = [u for u in extract_urls(raw_fields.get("url", "")) if not is_doi_url(u)]
    doi = raw_fields.get("doi") or find_doi(raw_fields.get("url", "")) or find_doi(raw_fields.get("note", ""))
    pages = raw_fields.get("pages")
    csl_type = _text(item.get("type")) or ""
    return Reference(
        location=Location(path, line, key),
        type=TYPES.get(csl_type, csl_type.lower() or "misc"),
        title=raw_fields.get("title"),
        authors=authors,
        year=year,
        container=raw_fields.get("journal"),
        volume=raw_fields.get("volume"),
        issue=raw_fields.get("number"),
        pages=re.sub(r"\s*[–—-]+\s*", "-", pages) if pages else None,
        publisher=raw_fields.get("publisher"),
        doi=doi,
        urls=tuple(urls),
        raw=json.dumps(item, ensure_ascii=False, indent=2),
        fields=dict(raw_fields),
        field_lines={name: line for name in raw_fields} if line else {},
        raw_fields=raw_fields,
    )


def _id_lines(text: str, items: list[Any]) -> list[int | None]:
    """Best effort: the line where each item's "id" is written, searching forward in order."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    lines: list[int | None] = []
    position = 0
    for item in items:
        line = None
        if isinstance(item, Mapping) and "id" in item:
            pattern = r'"id"\s*:\s*' + re.escape(json.dumps(item["id"], ensure_ascii=False))
            match = re.compile(pattern).search(text, position) or re.compile(r'"id"\s*:').search(text, position)
            if match:
                position = match.end()
                line = bisect.bisect_right(starts, match.start())
        lines.append(line)
    return lines


def read(path: str, text: str) -> Document:
    """Read a CSL-JSON file's text."""
    too_large = over_limits(path, "csljson", text)
    if too_large is not None:
        return Document(path, "csljson", problems=(too_large,))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        where = Location(path, exc.lineno, None, exc.colno)
        problem = Problem(where, "KR001", message, "repair the JSON or export it again")
        return Document(path, "csljson", problems=(problem,))
    except (ValueError, RecursionError) as exc:  # a number too long to convert, nesting too deep
        message = f"not readable as JSON: {str(exc).splitlines()[0][:200]}"
        problem = Problem(Location(path, 1), "KR001", message, "repair the JSON or export it again")
        return Document(path, "csljson", problems=(problem,))
    if isinstance(data, Mapping) and isinstance(data.get("items"), list):
        data = data["items"]
    elif isinstance(data, Mapping) and ("type" in data or "title" in data):
        data = [data]
    if not isinstance(data, list):
        message = "not CSL-JSON: expected a list of items"
        problem = Problem(Location(path, 1), "KR001", message, "export the library as CSL JSON")
        return Document(path, "csljson", problems=(problem,))
    references: list[Reference] = []
    problems: list[Problem] = []
    for number, (item, line) in enumerate(zip(data, _id_lines(text, data), strict=True), start=1):
        if not isinstance(item, Mapping):
            problems.append(Problem(Location(path, line), "KR001", f"item {number} is not a JSON object"))
            continue
        references.append(_reference(item, path, line, number))
    return Document(path, "csljson", references=tuple(references), problems=tuple(problems))
