"""CSL-JSON items from kratomref's `Reference` model and from Crossref works, and enrichment of one from the other.

CSL-JSON is the one intermediate form every export writer starts from: the CSL styles render it, and the
RIS and BibTeX writers translate it field by field.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kratomref.doi import normalise_doi
from kratomref.model import Author, Reference
from kratomref.readers.bibtex import parse_names

# BibTeX/BibLaTeX entry types (as the model normalises them) -> CSL 1.0.2 item types.
CSL_TYPES = {
    "article": "article-journal",
    "book": "book",
    "proceedings": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "chapter": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "online": "webpage",
    "webpage": "webpage",
    "www": "webpage",
    "electronic": "webpage",
    "unpublished": "manuscript",
    "preprint": "article",
    "misc": "document",
}
THESIS_GENRES = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}

# Crossref work types (api.crossref.org/types) -> CSL item types.
CROSSREF_TYPES = {
    "journal-article": "article-journal",
    "journal-issue": "periodical",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "reference-entry": "entry",
    "proceedings-article": "paper-conference",
    "proceedings": "book",
    "posted-content": "article",
    "report": "report",
    "report-component": "report",
    "dissertation": "thesis",
    "dataset": "dataset",
    "standard": "standard",
    "peer-review": "review",
    "component": "document",
}

# Fields `--enrich` may fill from a verified Crossref record (the issue's list: DOI, volume, issue, pages,
# full author lists, container titles; the publisher and date come along when the entry has none).
ENRICH_FIELDS = ("DOI", "volume", "issue", "page", "container-title", "publisher", "issued", "author")

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
         ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
         ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")


def csl_name(author: Author) -> dict[str, str]:
    if author.literal or not author.given:
        return {"literal": author.family} if author.literal else {"family": author.family}
    return {"family": author.family, "given": author.given}


def date_parts(text: str | None, month: str | None = None) -> dict[str, Any] | None:
    """A CSL date from "2019", "2019-05-03" (BibLaTeX date) or "May 2019"; `literal` when unparseable.

    citeproc-py drops `raw` dates, so every exported date is given as date-parts (or literal).
    """
    if not text or not text.strip():
        return None
    match = _ISO_DATE.match(text)
    if match:
        parts = [int(p) for p in match.groups() if p]
        if len(parts) == 1 and month:
            number = _month(month)
            if number:
                parts.append(number)
        return {"date-parts": [parts]}
    words = re.findall(r"[A-Za-z]+|\d+", text)
    years = [int(w) for w in words if w.isdigit() and len(w) == 4]
    months = [m for m in (_month(w) for w in words if w.isalpha()) if m]
    days = [int(w) for w in words if w.isdigit() and len(w) <= 2 and 1 <= int(w) <= 31]
    if len(years) == 1 and len(words) <= 3 and (months or len(words) == 1):
        parts = [years[0]] + (months[:1] + days[:1] if months else [])
        return {"date-parts": [parts]}
    return {"literal": " ".join(text.split())}


def _month(text: str) -> int | None:
    text = text.strip().lower().rstrip(".")
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    return _MONTHS.get(text)


def normalise_dates(item: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a CSL item with every `raw` date turned into date-parts (citeproc-py ignores `raw`)."""
    out = dict(item)
    for name in ("issued", "accessed", "original-date", "event-date", "submitted"):
        value = out.get(name)
        if isinstance(value, Mapping) and "date-parts" not in value:
            raw = value.get("raw") or value.get("literal")
            parsed = date_parts(str(raw)) if raw else None
            if parsed is not None:
                out[name] = parsed
        elif isinstance(value, str):
            parsed = date_parts(value)
            if parsed is not None:
                out[name] = parsed
    return out


def _names(ref: Reference, field: str) -> list[dict[str, str]]:
    value = ref.raw_fields.get(field)
    if not value:
        return []
    authors, _ = parse_names(value)
    return [csl_name(a) for a in authors]


def from_reference(ref: Reference) -> dict[str, Any]:
    """The CSL-JSON item of a reference. Only fields the reference gives are written."""
    csl_type = CSL_TYPES.get(ref.type, "document")
    item: dict[str, Any] = {"id": ref.key, "type": csl_type}
    f = ref.fields
    if ref.authors and (f.get("author") or not f.get("editor")):
        item["author"] = [csl_name(a) for a in ref.authors]
        editors = _names(ref, "editor")
        if editors:
            item["editor"] = editors
    elif ref.authors:
        item["editor"] = [csl_name(a) for a in ref.authors]
    if ref.title:
        item["title"] = ref.title
    if ref.container:
        item["container-title"] = ref.container
    if f.get("series"):
        item["collection-title"] = f["series"]
    issued = date_parts(f.get("date")) if f.get("date") else None
    if issued is None and ref.year:
        issued = date_parts(ref.year, f.get("month"))
    if issued is not None:
        item["issued"] = issued
    if ref.volume:
        item["volume"] = ref.volume
    if ref.issue:
        # A report's "number" is the report number, not an issue of a periodical.
        item["number" if csl_type == "report" else "issue"] = ref.issue
    if ref.pages:
        item["page"] = ref.pages
    if ref.publisher:
        item["publisher"] = ref.publisher
    elif csl_type in ("report", "thesis") and (f.get("institution") or f.get("school")):
        item["publisher"] = f.get("institution") or f.get("school")
    place = f.get("address") or f.get("location")
    if place:
        item["publisher-place"] = place
    if f.get("edition"):
        item["edition"] = f["edition"]
    if ref.type in THESIS_GENRES:
        item["genre"] = THESIS_GENRES[ref.type]
    doi = normalise_doi(ref.doi)
    if doi:
        item["DOI"] = doi
    if ref.urls:
        item["URL"] = ref.urls[0]
    accessed = date_parts(f.get("urldate")) if f.get("urldate") else None
    if accessed is not None:
        item["accessed"] = accessed
    for source, target in (("isbn", "ISBN"), ("issn", "ISSN"), ("pmid", "PMID"), ("language", "language")):
        if f.get(source):
            item[target] = f[source]
    return item


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if isinstance(value, str | int) and str(value).strip():
        return " ".join(str(value).split())
    return None


def _crossref_date(record: Mapping[str, Any]) -> dict[str, Any] | None:
    for name in ("issued", "published-print", "published-online", "published", "created"):
        value = record.get(name)
        parts = value.get("date-parts") if isinstance(value, Mapping) else None
        if parts and parts[0] and parts[0][0] is not None:
            return {"date-parts": [[int(p) for p in parts[0] if p is not None]]}
    return None


def from_crossref(record: Mapping[str, Any], item_id: str | None = None) -> dict[str, Any]:
    """The CSL-JSON item of a Crossref work (the `message` of /works/{doi})."""
    doi = normalise_doi(str(record.get("DOI") or "")) or None
    item: dict[str, Any] = {
        "id": item_id or doi or "item",
        "type": CROSSREF_TYPES.get(str(record.get("type") or ""), "document"),
    }
    authors: list[dict[str, str]] = []
    for author in record.get("author") or []:
        if not isinstance(author, Mapping):
            continue
        family, given, name = _first(author.get("family")), _first(author.get("given")), _first(author.get("name"))
        if family:
            authors.append({"family": family, "given": given} if given else {"family": family})
        elif name:
            authors.append({"literal": name})
    if authors:
        item["author"] = authors
    for target, source in (("title", "title"), ("container-title", "container-title"), ("publisher", "publisher"),
                           ("volume", "volume"), ("issue", "issue"), ("ISSN", "ISSN"), ("ISBN", "ISBN")):
        value = _first(record.get(source))
        if value:
            item[target] = value
    page = _first(record.get("page")) or _first(record.get("article-number"))
    if page:
        item["page"] = page
    issued = _crossref_date(record)
    if issued:
        item["issued"] = issued
    if doi:
        item["DOI"] = doi
    return item


def _author_list_truncated(item: Mapping[str, Any], et_al: bool, record_item: Mapping[str, Any]) -> bool:
    """True when the user's author list is a truncated form of Crossref's: "and others", or fewer names
    than Crossref with the same first author."""
    mine = item.get("author") or []
    theirs = record_item.get("author") or []
    if not mine or len(theirs) <= len(mine):
        return False
    first_mine = str(mine[0].get("family") or mine[0].get("literal") or "").casefold()
    first_theirs = str(theirs[0].get("family") or theirs[0].get("literal") or "").casefold()
    return et_al and first_mine == first_theirs


def enrich(
    item: Mapping[str, Any], record_item: Mapping[str, Any], *, et_al: bool = False, prefer_crossref: bool = False
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """`item` with missing fields filled from `record_item` (both CSL-JSON); with `prefer_crossref`, Crossref's
    value replaces the user's too. Returns the new item and the CSL variables that changed."""
    out = copy.deepcopy(dict(item))
    changed: list[str] = []
    for name in ENRICH_FIELDS:
        theirs = record_item.get(name)
        if not theirs:
            continue
        mine = out.get(name)
        if name == "author" and mine and not prefer_crossref:
            if not _author_list_truncated(out, et_al, record_item):
                continue
        elif mine and not prefer_crossref:
            continue
        if mine != theirs:
            out[name] = copy.deepcopy(theirs)
            changed.append(name)
    return out, tuple(changed)


def unique_ids(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items with unique ids: a key is only unique within its file, an export may join several files."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for item in items:
        base = str(item.get("id") or "item")
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}-{n}"
        seen.add(candidate)
        out.append({**item, "id": candidate})
    return out


def family_names(item: Mapping[str, Any]) -> tuple[str, ...]:
    names: Sequence[Mapping[str, Any]] = item.get("author") or item.get("editor") or []
    return tuple(str(n.get("family") or n.get("literal") or "") + "|" + str(n.get("given") or "") for n in names)
