"""A LaTeX reference-list item (\\bibitem text, already turned into plain text) read as a Reference: the
free-text parser, then the two forms it does not know, the astronomy journals' "Bovy, J., … 2012, ApJ, 753,
148" and "Surname, I., Title, Publisher, Year"."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from kratomref import lazy
from kratomref.model import Author, Location, Reference
from kratomref.readers.freetext import clean, parse_citation


def is_bibitem(ref: Reference) -> bool:
    """True for an item of a document's own thebibliography list (never a database entry)."""
    return ref.raw.lstrip().startswith("\\bibitem")


# natbib's label gives the year: \bibitem[Goodman \& Weare(2010)]{key}
_LABEL_YEAR_RE = lazy.regex(r"\((?P<year>(?:1[5-9]|20)\d\d)[a-z]?\)")
# The astronomy journals' style (AAS, MNRAS, A&A): "Bovy, J., Rix, H.-W., et al. 2012, ApJ, 753, 148", authors,
# then the year and a comma, then the journal, volume and page; no title.
_ASTRONOMY_RE = lazy.regex(r"^(?P<authors>[^()]{2,600}?(?:\b[A-Z][a-z]?\.|\bet al\.?))\s*,?\s+"
                           r"(?P<year>(?:1[5-9]|20)\d\d)[a-z]?\s*,\s*(?P<rest>.+)$")
_NUMBER = r"[A-Za-z]?\d+[A-Za-z]?(?:\s*[-\u2013]+\s*[A-Za-z]?\d+[A-Za-z]?)?"
_ASTRONOMY_SOURCE_RE = lazy.regex(rf"^(?P<container>[^,\d][^,]*),\s*(?P<numbers>{_NUMBER}(?:\s*,\s*{_NUMBER}){{0,2}})"
                                  r"\s*(?:[,.;]|$)")
_INITIALS_RE = lazy.regex(r"(?:[A-Z][a-z]?\.?[\s-]*){1,4}")
_SURNAME_RE = lazy.regex(r"(?:(?:van|von|der|den|de|del|della|di|du|le|la)\s+){0,3}"
                         r"[A-Z\u00c0-\u024f][^\s\d,.;:()]{0,30}(?:[\s-][A-Z\u00c0-\u024f][^\s\d,.;:()]{0,30})?")
_PUBLISHER_RE = lazy.regex(r"\b(?:Press|Publish\w*|Verlag|Springer|Wiley|Elsevier|Books|Editions?)\b")
_YEAR_RE = lazy.regex(r"\b(?:1[5-9]|20)\d\d\b")
_SURNAME_INITIALS_RE = lazy.regex(r"(?P<family>.+?)\s+(?P<given>(?:[A-Z][a-z]?\.[\s-]*){1,4})")


def _astronomy_authors(text: str) -> tuple[tuple[Author, ...], bool]:
    """The authors of "Bovy, J., Rix, H.-W., \\& Hogg, D. W." or "Brewer B. J., P\u00e1rtay L. B." and et al."""
    et_al = re.search(r"\bet\s+al\b", text) is not None
    text = re.sub(r"\bet\s+al\b\.?", " ", text)
    authors: list[Author] = []
    for part in (p.strip(" .") for p in re.split(r",|&|\band\b", text)):
        if not part:
            continue
        if _INITIALS_RE.fullmatch(part + ".") and authors and not authors[-1].given:
            authors[-1] = Author(authors[-1].family, part if part.endswith(".") else part + ".")
            continue
        named = _SURNAME_INITIALS_RE.fullmatch(part + ".")
        authors.append(Author(named.group("family"), named.group("given").strip()) if named else Author(part))
    return tuple(authors), et_al


def _astronomy_style(reference: Reference, text: str) -> Reference:
    """reference read again when text is in the astronomy journals' style: authors, year, journal, volume, page."""
    match = _ASTRONOMY_RE.match(text)
    if match is None:
        return reference
    authors, et_al = _astronomy_authors(match.group("authors"))
    if not authors or any(len(a.family.split()) > 4 for a in authors):
        return reference  # not a list of names: leave the item to the free-text parser
    rest = match.group("rest")
    source = _ASTRONOMY_SOURCE_RE.match(rest)
    container = volume = issue = pages = None
    if source is not None:
        container = clean(source.group("container"))
        numbers = [n.strip() for n in source.group("numbers").split(",")]
        volume, pages = numbers[0], numbers[-1] if len(numbers) > 1 else None
        issue = numbers[1] if len(numbers) == 3 else None
    kind = "article" if container and volume else "preprint" if rest.lower().startswith("arxiv") else "misc"
    kept = {k: v for k, v in reference.fields.items() if k in ("doi", "url")}
    found = {"author": clean(match.group("authors")), "year": match.group("year"), "journal": container,
             "volume": volume, "number": issue, "pages": re.sub(r"\s*[\u2013-]+\s*", "-", pages) if pages else None}
    fields = {**{k: v for k, v in found.items() if v}, **kept}
    line = reference.location.line or 1
    return dataclasses.replace(
        reference, type=kind, title=None, authors=authors, et_al=et_al, year=match.group("year"), container=container,
        volume=volume, issue=issue, pages=fields.get("pages"), publisher=None, fields=fields,
        field_lines={name: line for name in fields}, raw_fields=dict(fields))


def _leading_authors(parts: Sequence[str]) -> int:
    """How many of the comma-separated parts of an item are its author list: "Gregory, P. C., Title, ..."."""
    index = 0
    while index < len(parts):
        part = re.sub(r"^(?:&|and)\s+", "", parts[index])
        if (index + 1 < len(parts) and _SURNAME_RE.fullmatch(part)
                and _INITIALS_RE.fullmatch(re.sub(r"^(?:&|and)\s+", "", parts[index + 1]))):
            index += 2
            continue
        named = _SURNAME_INITIALS_RE.fullmatch(part)
        if named is None or not _SURNAME_RE.fullmatch(named.group("family")):
            break
        index += 1
    return index


def _book_style(reference: Reference, text: str) -> Reference:
    """reference read again when text is "Surname, I., Surname, I., Title, Publisher, Year" (a book or report)."""
    parts = [p.strip() for p in text.split(",")]
    count = _leading_authors(parts)
    rest = parts[count:]
    if count == 0 or len(rest) < 2 or _YEAR_RE.match(rest[0]):
        return reference
    authors, et_al = _astronomy_authors(", ".join(parts[:count]))
    years = _YEAR_RE.findall(", ".join(rest))
    year = years[-1] if years else None  # else the natbib label's
    chapter = rest[0].lower().startswith("in ")
    # the title runs up to the publisher, the report number or the year: "Information Theory, Inference, and ..."
    end = next((i for i, p in enumerate(rest) if i and (_PUBLISHER_RE.search(p) or _YEAR_RE.search(p)
                                                         or re.search(r"\b(?:report|ed|eds)\b", p, re.I))), 1)
    title = None if chapter else clean(", ".join(rest[:end]))
    container = clean(rest[0][3:]) if chapter else None
    publisher = next((clean(p) for p in rest[1:] if _PUBLISHER_RE.search(p)), None)
    pages = rest[-1] if re.fullmatch(r"\d+\s*[-\u2013]+\s*\d+", rest[-1]) else None
    kind = ("incollection" if chapter else "book" if publisher
            else "report" if re.search(r"\breport\b", text, re.IGNORECASE) else "misc")
    kept = {k: v for k, v in reference.fields.items() if k in ("doi", "url")}
    found = {"author": clean(", ".join(parts[:count])), "title": title, "year": year, "booktitle": container,
             "publisher": publisher, "pages": re.sub(r"\s*[\u2013-]+\s*", "-", pages) if pages else None}
    fields = {**{k: v for k, v in found.items() if v}, **kept}
    line = reference.location.line or 1
    return dataclasses.replace(
        reference, type=kind, title=title, authors=authors, et_al=et_al, year=year, container=container,
        volume=None, issue=None, pages=fields.get("pages"), publisher=publisher, fields=fields,
        field_lines={name: line for name in fields}, raw_fields=dict(fields))


def item_reference(text: str, location: Location, head: str = "") -> Reference:
    """A Reference from the text of a reference list item (head: its \\bibitem[label]{key}, whose natbib label
    gives the year when the text does not)."""
    parsed = parse_citation(text, location)
    reference = _astronomy_style(parsed, text)
    if reference is parsed and not parsed.authors:
        reference = _book_style(parsed, text)
    label = _LABEL_YEAR_RE.search(head)
    if reference.year is None and label is not None:
        year = label.group("year")
        reference = dataclasses.replace(reference, year=year, fields={**reference.fields, "year": year},
                                        raw_fields={**reference.raw_fields, "year": year},
                                        field_lines={**reference.field_lines, "year": location.line or 1})
    return reference
