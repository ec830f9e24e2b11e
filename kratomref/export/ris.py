"""The RIS writer: each entry's CSL-JSON item as one RIS record, every bibliographic variable on its tag.

Tags follow the RIS specification (Research Information Systems, 2011/2012), as Zotero, EndNote and rispy
read them:

    TY type        ID id              AU author            A2 editor          A3 collection-editor
    A4 translator  TI title           T2 container-title   T3 collection-title
    PY year        DA issued (YYYY/MM/DD/other)            Y2 accessed (YYYY/MM/DD/)
    VL volume      IS issue           M1 number            SP, EP page        ET edition
    PB publisher   CY publisher-place SN ISBN, ISSN (one line each)            DO DOI      UR URL
    LA language    M3 genre           N1 note (and the --mark-problems note)   AB abstract
    KW keyword (one line each)

Names: a person is written "Family, Given" (a suffix after a second comma, the RIS rule); an organisation
(a CSL `literal` name) is written whole without a comma ("Micro Focus", Zotero's form for a one-field name)
when the file also holds a person written with a comma (that is what tells a reader the two apart); otherwise,
and when it has a comma of its own or is one word, it ends with a comma ("UNESCO,", EndNote's form for a
corporate author). kratomref's RIS reader reads both forms back as one name.

RIS values are plain text: CSL's rich-text tags (<i>, <span class="nocase">, ...) are left out, their text kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kratomref.export import fields as f
from kratomref.export.model import ExportEntry
from kratomref.export.styles import Style

# CSL item types -> RIS reference types.
RIS_TYPES = {
    "article-journal": "JOUR", "article-magazine": "MGZN", "article-newspaper": "NEWS", "article": "JOUR",
    "review": "JOUR", "book": "BOOK", "chapter": "CHAP", "paper-conference": "CPAPER", "report": "RPRT",
    "thesis": "THES", "webpage": "ELEC", "post-weblog": "BLOG", "post": "ELEC", "dataset": "DATA",
    "software": "COMP", "manuscript": "UNPB", "standard": "STAND", "entry-encyclopedia": "ENCYC",
    "entry-dictionary": "DICT", "patent": "PAT", "legislation": "STAT", "legal_case": "CASE",
    "map": "MAP", "motion_picture": "MPCT", "broadcast": "MPCT", "song": "SOUND", "graphic": "ART",
    "interview": "PCOMM", "personal_communication": "PCOMM", "speech": "SLIDE",
}
NAME_TAGS = (("author", "AU"), ("editor", "A2"), ("collection-editor", "A3"), ("translator", "A4"))
# Variables written as they are, one tag each.
TEXT_TAGS = (
    ("title", "TI"), ("container-title", "T2"), ("collection-title", "T3"), ("volume", "VL"), ("issue", "IS"),
    ("number", "M1"), ("edition", "ET"), ("publisher", "PB"), ("publisher-place", "CY"), ("ISBN", "SN"),
    ("ISSN", "SN"), ("DOI", "DO"), ("URL", "UR"), ("language", "LA"), ("genre", "M3"), ("note", "N1"),
    ("abstract", "AB"),
)


def ris_name(name: Mapping[str, Any], people_have_commas: bool = True) -> str:
    """A name as RIS writes it. `people_have_commas`: the file also holds a person written "Family, Given",
    which is what tells a reader that a name without a comma is an organisation's."""
    if f.is_literal(name):
        whole = f.literal_of(name)
        return f"{whole}," if "," in whole or " " not in whole or not people_have_commas else whole
    family, given, suffix = f.family_of(name), f.given_of(name), f.suffix_of(name)
    if not family:  # a given name alone ("Sappho" entered as given)
        return f"{given},"
    if suffix:
        return f"{family}, {given}, {suffix}"
    return f"{family}, {given}" if given else family


def ris_date(parts: Sequence[int] | None, other: str | None = None) -> str | None:
    """YYYY/MM/DD/other (the RIS date form; empty parts stay empty: "2019/05//")."""
    if not parts and not other:
        return None
    values = list(parts or [])
    year = str(values[0]) if values else (f.year_in(other) or "")
    month = f"{values[1]:02d}" if len(values) > 1 else ""
    day = f"{values[2]:02d}" if len(values) > 2 else ""
    return f"{year}/{month}/{day}/{other or ''}"


def _has_people(entries: Sequence[ExportEntry]) -> bool:
    return any(not f.is_literal(n) and f.family_of(n) and f.given_of(n)
               for e in entries for role, _ in NAME_TAGS for n in f.names(e.item, role))


def ris_record(entry: ExportEntry, people_have_commas: bool = True) -> list[str]:
    item = entry.item
    tags: list[tuple[str, str]] = [("TY", RIS_TYPES.get(str(item.get("type")), "GEN")), ("ID", str(item["id"]))]
    for role, tag in NAME_TAGS:
        tags += [(tag, ris_name(n, people_have_commas)) for n in f.names(item, role)]
    issued, literal = f.date_parts(item, "issued"), f.date_literal(item, "issued")
    year = str(issued[0]) if issued else f.year_in(literal)
    if year:
        tags.append(("PY", year))
    if (issued and len(issued) > 1) or literal:
        date = ris_date(issued, literal)
        if date:
            tags.append(("DA", date))
    accessed = ris_date(f.date_parts(item, "accessed"), f.date_literal(item, "accessed"))
    if accessed:
        tags.append(("Y2", accessed))
    page = f.text(item.get("page"))
    if page:
        start, end = f.split_pages(page)
        tags.append(("SP", start))
        if end:
            tags.append(("EP", end))
    for variable, tag in TEXT_TAGS:
        value = f.plain(item.get(variable))  # RIS is plain text: CSL's <i>, <span class="nocase"> tags left out
        if value:
            tags.append((tag, value))
    tags += [("KW", keyword) for keyword in f.keywords(item.get("keyword"))]
    if entry.marker:
        tags.append(("N1", f"kratomref: {entry.marker} {entry.reason}".strip()))
    # One line per tag: a value never spans lines, so a newline inside one becomes a space.
    lines = [f"{tag}  - {' '.join(value.split())}" for tag, value in tags]
    lines.append("ER  - ")
    return lines


def write_ris(entries: Sequence[ExportEntry], style: Style | None) -> str:
    people = _has_people(entries)
    return "\n".join("\n".join(ris_record(e, people)) + "\n" for e in entries)
