"""What a mirror keeps of a work: the fields a check reads (`slim`), a few hundred bytes of a record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The fields of a Crossref work that kratomref reads (the rules, matching, `fix` and `export --enrich`), kept
# as they are. Everything else is dropped at load: abstract, reference, license, link, assertion, funder,
# content-domain, resource, URL (the DOI's own link), language, journal-issue, indexed/deposited time stamps,
# counts, scores, member, prefix...
# The abstract is the one read anywhere (KR506, off-topic, adds it to the cited work's title and subjects):
# a work answered by the mirror is judged on its title and subjects (and the entry's own abstract).
KEPT = (
    "DOI", "type", "source", "title", "subtitle", "short-title", "container-title", "short-container-title",
    "publisher", "volume", "issue", "page", "article-number", "ISSN", "ISBN", "subject", "updated-by",
)
PEOPLE = ("author", "editor")
PERSON = ("given", "family", "name")  # not ORCID iDs, affiliations, roles nor `sequence` (the list's order says it)
DATES = ("issued", "published", "published-print", "published-online", "created")  # only their date-parts
RELATIONS = ("is-preprint-of", "has-preprint")  # of `relation`, the links a check follows


def slim(record: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a work (Crossref's `message` shape, already checked by `well_formed_work`) a mirror keeps;
    empty values are left out (every reader takes a missing field as an empty one)."""
    work: dict[str, Any] = {}
    for name in KEPT:
        value = record.get(name)
        if value or value == 0:
            work[name] = value
    for name in PEOPLE:
        people = record.get(name)
        if isinstance(people, list) and people:
            work[name] = [
                {k: v for k, v in person.items() if k in PERSON and v} if isinstance(person, dict) else person
                for person in people
            ]
    for name in DATES:
        date = record.get(name)
        if isinstance(date, dict) and date.get("date-parts"):
            work[name] = {"date-parts": date["date-parts"]}
    relation = record.get("relation")
    if isinstance(relation, dict):
        kept = {k: v for k, v in relation.items() if k in RELATIONS and v}
        if kept:
            work["relation"] = kept
    return work
