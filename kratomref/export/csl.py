"""CSL-JSON items from kratomref's `Reference` model and from Crossref works, and enrichment of one from the other.

CSL-JSON is the one intermediate form every export writer starts from: the CSL styles render it, and the
RIS and BibTeX writers translate it field by field. Entries read from a .bib file are converted by pandoc's
biblatex reader (the converter the field uses), with what it leaves out filled from the `Reference`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kratomref.doi import normalise_doi
from kratomref.export.titles import keep_written_case
from kratomref.model import Author, Reference
from kratomref.readers.bibtex import decode_latex, parse_names
from kratomref.readers.csljson import TYPES as CSL_READER_TYPES

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
    "dataset": "dataset",
    "software": "software",
    "misc": "document",
}
THESIS_GENRES = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}
# Fields that name a container (a journal, a book, a web site as written in howpublished). A .bib entry without
# one has no container: the BibTeX reader's container is then its institution, publisher or organization.
CONTAINER_FIELDS = ("journal", "journaltitle", "booktitle", "maintitle", "howpublished")
SITE_FIELDS = ("organization", "institution", "publisher", "school")
# CSL item type names: a CSL-JSON item's `type`, which is not a genre ("Doctoral dissertation") as a .bib's is.
_CSL_TYPE_NAMES = frozenset(name.casefold() for name in (*CSL_TYPES.values(), *CSL_READER_TYPES))

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

    Every exported date is given as date-parts (or literal), which every CSL consumer reads.
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
    roles: tuple[str, ...] = ("editor", "translator", "collection-editor")
    if ref.authors and (f.get("author") or not f.get("editor")):
        item["author"] = [csl_name(a) for a in ref.authors]
    elif ref.authors:
        item["editor"] = [csl_name(a) for a in ref.authors]  # the editors stand in for the missing authors
        roles = ("translator", "collection-editor")
    for role in roles:
        names = _names(ref, role)
        if names:
            item[role] = names
    if ref.title:
        item["title"] = ref.title
    site = None  # the organization or institution the reader took for a container: the publisher, not one
    if ref.container and _has_container(ref, csl_type):
        item["container-title"] = ref.container
    elif ref.container:
        site = ref.container
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
    elif site:
        item["publisher"] = site
    place = f.get("address") or f.get("location")
    if place:
        item["publisher-place"] = place
    if f.get("edition"):
        item["edition"] = f["edition"]
    written_type = f.get("type")
    if written_type and written_type.casefold() in _CSL_TYPE_NAMES:
        written_type = None  # a CSL-JSON item's type, read into the same field
    genre = f.get("genre") or written_type or THESIS_GENRES.get(ref.type)
    if genre:
        item["genre"] = genre
    doi = normalise_doi(ref.doi)
    if doi:
        item["DOI"] = doi
    if ref.urls:
        item["URL"] = ref.urls[0]
    accessed = date_parts(f.get("urldate")) if f.get("urldate") else None
    if accessed is not None:
        item["accessed"] = accessed
    for source, target in (("isbn", "ISBN"), ("issn", "ISSN"), ("pmid", "PMID"), ("language", "language"),
                           ("note", "note"), ("abstract", "abstract"), ("keyword", "keyword"),
                           ("keywords", "keyword")):
        if f.get(source):
            item[target] = f[source]
    return item


def _has_container(ref: Reference, csl_type: str) -> bool:
    """False when the reference's container is only the institution, publisher or organization the BibTeX reader
    fell back on (an entry with no journal, book or site field of its own): that is the publisher, not a
    container. A web page's site (organization) is its container."""
    f = ref.fields
    if csl_type == "webpage" or any(f.get(name) for name in CONTAINER_FIELDS):
        return True
    return not any(f.get(name) == ref.container for name in SITE_FIELDS)


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



# --- BibTeX/BibLaTeX through pandoc's biblatex reader ---------------------------------------------------

_ENTRY_HEAD = re.compile(r"^(\s*@\s*[A-Za-z]+\s*[{(]\s*)([^,\s]*)")
_STRING_HEAD = re.compile(r"@\s*string\s*[{(]", re.IGNORECASE)
_PANDOC_LINE = re.compile(r"line (\d+)")
# List fields biblatex splits at " and ": a name such as "Food and Drug Administration" written without
# braces comes back from pandoc as "Food; Drug Administration"; kratomref keeps the name as written.
_LITERAL_LISTS = {"publisher": ("publisher", "organization", "institution", "school"),
                  "publisher-place": ("address", "location")}
_MAX_RETRIES = 8


def is_bibtex(ref: Reference) -> bool:
    """The reference is an entry of a .bib file (its source is an @type{key, ...} block)."""
    return bool(_ENTRY_HEAD.match(ref.raw)) and not ref.raw.lstrip().lower().startswith(("@string", "@preamble"))


def _string_macros(path: str) -> str:
    """The @string definitions of a .bib file, as written, so that an entry's macros expand."""
    try:
        text = Path(path).read_text("utf-8", errors="replace")
    except OSError:
        return ""
    blocks: list[str] = []
    for match in _STRING_HEAD.finditer(text):
        depth, position = 0, match.end() - 1
        for position in range(match.end() - 1, len(text)):
            char = text[position]
            if char in "{(":
                depth += 1
            elif char in "})":
                depth -= 1
                if depth == 0:
                    break
        blocks.append(text[match.start() : position + 1])
    return "\n".join(blocks)


def _biblatex_items(sources: Mapping[str, str], macros: str) -> dict[str, dict[str, Any]]:
    """kr-id -> pandoc's CSL-JSON item, for entries renamed to kr-ids. An entry pandoc cannot parse is
    left out (its caller converts it itself); pandoc is run once unless an entry breaks the run."""
    from kratomref.export.pandoc import PandocError, PandocMissing, run_pandoc

    pending = dict(sources)
    for _ in range(_MAX_RETRIES):
        if not pending:
            return {}
        text = macros + "\n\n" + "\n\n".join(pending.values()) + "\n"
        try:
            out = run_pandoc(["-f", "biblatex", "-t", "csljson"], text.encode("utf-8"))
        except PandocMissing:
            raise
        except PandocError as exc:
            match = _PANDOC_LINE.search(str(exc))
            if match is None:
                return {}
            line = int(match.group(1)) - macros.count("\n") - 2
            start = 1
            for key, source in list(pending.items()):
                end = start + source.count("\n") + 2
                if line < end:
                    del pending[key]
                    break
                start = end
            else:
                return {}
            continue
        items = json.loads(out.decode("utf-8"))
        return {str(item.get("id")): item for item in items if isinstance(item, dict)}
    return {}


def _closing_brace(text: str) -> int:
    """The position of the brace that closes the one opening `text`, -1 when none does."""
    depth = 0
    for position, char in enumerate(text):
        escaped = position > 0 and text[position - 1] == "\\"
        if char == "{" and not escaped:
            depth += 1
        elif char == "}" and not escaped:
            depth -= 1
            if depth == 0:
                return position
    return -1


def braced_words(raw: str) -> frozenset[str]:
    """The words of a BibTeX field's brace groups of several words with a capital, as a binomial is written
    ("{Mitragyna speciosa}"), LaTeX decoded: words kept as written, the lower-case ones from a title-case
    style. A group of one word ("{effects}", as a BibTeX writer protects a word from a sentence-casing reader)
    is not one."""
    text = raw.strip()
    if len(text) > 1 and text[0] == "{" and _closing_brace(text) == len(text) - 1:
        # the whole title in braces, "{{How to use the Plugin}}": the habit that stops BibTeX lower-casing,
        # not a mark on some words
        return braced_words(text[1:-1])
    words: set[str] = set()
    depth, start = 0, 0
    for position, char in enumerate(raw):
        escaped = position > 0 and raw[position - 1] == "\\"
        if char == "{" and not escaped:
            if depth == 0:
                start = position + 1
            depth += 1
        elif char == "}" and depth and not escaped:
            depth -= 1
            if depth == 0:
                text = decode_latex(raw[start:position])
                group = re.findall(r"\w+", text)
                if len(text.split()) > 1 and any(w[:1].isupper() for w in group):
                    words.update(group)
    return frozenset(words)


def _without_others(names: Any) -> tuple[list[Any], bool]:
    kept = [n for n in names if not (isinstance(n, Mapping) and str(n.get("literal", "")).lower() == "others")]
    return kept, len(kept) != len(names)


def merge_biblatex(ref: Reference, theirs: Mapping[str, Any], mine: Mapping[str, Any]) -> dict[str, Any]:
    """pandoc's item for a .bib entry, completed with what kratomref's own conversion (`mine`) has and it lacks:
    the DOI normalised, "and others" dropped from the name lists, list fields kept whole, the writer's proper
    nouns and italic words kept in the title (kratomref.export.titles)."""
    item: dict[str, Any] = {k: copy.deepcopy(v) for k, v in theirs.items() if v not in (None, "", [], {})}
    for role in ("author", "editor", "translator"):
        if isinstance(item.get(role), list):
            item[role], _ = _without_others(item[role])
            if not item[role]:
                del item[role]
    for target, fields in _LITERAL_LISTS.items():
        value = item.get(target)
        if isinstance(value, str) and "; " in value:
            written = next((ref.fields[f] for f in fields if ref.fields.get(f)), None)
            if written and " and " in written:
                item[target] = " ".join(written.split())
    if isinstance(item.get("title"), str) and ref.title:
        # pandoc's reader sentence-cases the title; the writer's proper nouns and italics keep their case
        item["title"] = keep_written_case(item["title"], ref.title, braced_words(ref.raw_fields.get("title", "")))
    if mine.get("DOI"):
        item["DOI"] = mine["DOI"]
    for name, value in mine.items():
        if name not in item and name != "id":
            item[name] = copy.deepcopy(value)
    if item.get("type") == "webpage" and item.get("container-title") == item.get("publisher"):
        del item["publisher"]
    item["id"] = mine["id"]
    return item


def items_from(references: Sequence[Reference]) -> list[dict[str, Any]]:
    """The CSL-JSON items of references (ids made unique): .bib entries through pandoc's biblatex reader
    (one run for all of them), the others through `from_reference`. Without pandoc, every item is
    kratomref's own conversion."""
    own = unique_ids(from_reference(ref) for ref in references)
    sources: dict[str, str] = {}
    files: list[str] = []
    for n, ref in enumerate(references):
        if is_bibtex(ref):
            head = _ENTRY_HEAD.match(ref.raw)
            assert head is not None  # is_bibtex
            sources[f"kr{n}"] = f"{head.group(1)}kr{n}{ref.raw[head.end():]}"
            if ref.location.file not in files:
                files.append(ref.location.file)
    if not sources:
        return own
    from kratomref.export.pandoc import PandocMissing

    macros = "\n".join(m for m in (_string_macros(f) for f in files) if m)
    try:
        converted = _biblatex_items(sources, macros)
    except PandocMissing:
        return own
    out: list[dict[str, Any]] = []
    for n, (ref, item) in enumerate(zip(references, own, strict=True)):
        theirs = converted.get(f"kr{n}")
        out.append(merge_biblatex(ref, theirs, item) if theirs is not None else item)
    return out
