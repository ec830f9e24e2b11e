"""DBLP's publication search (dblp.org/search/publ/api?q=…&format=json): computer-science conference and
journal papers, many of which have no DOI in Crossref."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kratomref import lazy
from kratomref.doi import normalise_doi
from kratomref.identifiers import arxiv_id
from kratomref.model import AuthorityAnswer, AuthorityRecord, Reference
from kratomref.services.authorities.base import Authority, family_name, obj, search_text, text_of, year_in

SEARCH_ROWS = 5
CONFERENCE_TYPES = frozenset({"inproceedings", "conference", "proceedings"})
# A journal or series name that says the work is computer science: DBLP indexes these, Crossref often not.
_CS_VENUE = lazy.regex(
    r"\b(proc(eedings)?|conference|symposium|workshop|lecture notes|lncs|lipics|ieee|acm|sigplan|sigmod|"
    r"neurips|nips|icml|iclr|aaai|ijcai|corr|vldb|usenix|computer|computing|comput)\b",
    re.IGNORECASE,
)


class Dblp(Authority):
    name = "dblp"
    label = "DBLP"
    interval = 1.0  # DBLP asks for moderate use and answers 429 with Retry-After when it is exceeded

    def covers(self, ref: Reference) -> bool:
        if search_text(ref) is None:
            return False
        if ref.type in CONFERENCE_TYPES:
            return True
        return (ref.type == "article" and bool(_CS_VENUE.search(ref.container or ""))) or arxiv_id(ref) is not None

    def _lookup(self, refs: Mapping[str, Reference]) -> dict[str, AuthorityAnswer]:
        answers: dict[str, AuthorityAnswer] = {}
        for key, ref in refs.items():
            text = search_text(ref)
            if text:
                answers[key] = self._search(text)
        return answers

    def _search(self, text: str) -> AuthorityAnswer:
        asked = "a title search"
        cached = self.cached(f"search:{text}", asked)
        if cached is not None:
            return cached
        body, reply = self.get_json("/search/publ/api", {"q": text, "format": "json", "h": str(SEARCH_ROWS)})
        hits = _hits(body)
        if hits is None:
            return self.unverified(self.failure(reply) if body is None else "DBLP sent a malformed answer", asked)
        return self.store(f"search:{text}", self.answer(hits, asked))


def _as_list(value: Any) -> list[Any]:
    # DBLP's JSON comes from XML: a single author or venue is an object or string, several are a list.
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _hits(body: Any) -> list[AuthorityRecord] | None:
    result = body.get("result") if isinstance(body, dict) else None
    hits = result.get("hits") if isinstance(result, dict) else None
    if not isinstance(hits, dict):
        return None
    records: list[AuthorityRecord] = []
    for hit in _as_list(hits.get("hit")):
        info = hit.get("info") if isinstance(hit, dict) else None
        if isinstance(info, dict) and (record := parse_info(info)) is not None:
            records.append(record)
    return records


def parse_info(info: Mapping[str, Any]) -> AuthorityRecord | None:
    title = text_of(info.get("title"))
    if not title:
        return None
    authors_field = obj(info.get("authors"))
    authors: list[str] = []
    for author in _as_list(authors_field.get("author")):
        name = text_of(author.get("text")) if isinstance(author, dict) else text_of(author)
        if name:
            authors.append(family_name(name))
    venues = [v for v in (text_of(x) for x in _as_list(info.get("venue"))) if v]
    identifiers: list[tuple[str, str]] = []
    doi = normalise_doi(str(info.get("doi") or ""))
    if doi:
        identifiers.append(("doi", doi))
    key = text_of(info.get("key"))
    if key:
        identifiers.append(("dblp", key))
    year = year_in(info.get("year"))
    return AuthorityRecord(
        authority="dblp",
        title=title.rstrip("."),  # DBLP ends every title with a full stop
        authors=tuple(authors),
        year=year,
        years=(year,) if year else (),
        venue=venues[0] if venues else None,
        volume=text_of(info.get("volume")),
        pages=text_of(info.get("pages")),
        identifiers=tuple(identifiers),
        url=text_of(info.get("url")),
        kind=text_of(info.get("type")),
    )
