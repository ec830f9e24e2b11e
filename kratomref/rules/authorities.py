"""Judging what the authorities besides Crossref said about a reference: which answer confirms it, whether every
authority that covers it answered without a match (KR205), and what a confirming record adds (KR206, KR208)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kratomref import lazy
from kratomref.doi import normalise_doi
from kratomref.identifiers import arxiv_id, isbns, pmcid, pmid
from kratomref.matching import TITLE_MATCH, TITLE_MISMATCH, best_match, compare, describe
from kratomref.model import AuthorityAnswer, AuthorityRecord, Evidence, Lookup, Reference

LABELS = {"crossref": "Crossref", "openalex": "OpenAlex", "datacite": "DataCite", "arxiv": "arXiv",
          "pubmed": "PubMed", "dblp": "DBLP", "openlibrary": "Open Library"}
CHAPTER_TYPES = frozenset({"inbook", "incollection", "chapter"})
_YEAR = lazy.regex(r"\b(1[5-9]\d\d|20\d\d)\b")


def label(name: str) -> str:
    return LABELS.get(name, name)


@dataclass(frozen=True)
class Confirmation:
    """An authority's record that is the cited work, and how strongly it was matched."""

    authority: str
    record: AuthorityRecord
    by_identifier: str | None  # "arxiv", "isbn", "pmid"...: the entry's identifier found the record
    supporting: tuple[str, ...]  # the fields that agree


def _cited(ref: Reference, record: AuthorityRecord) -> Reference:
    # A chapter is held by a book authority under its book's title.
    if record.authority == "openlibrary" and ref.type in CHAPTER_TYPES and ref.fields.get("booktitle"):
        return dataclasses.replace(ref, title=ref.fields["booktitle"], raw="")
    return ref


def _identifier_matches(ref: Reference, record: AuthorityRecord, kind: str) -> bool:
    if kind == "arxiv":
        mine = arxiv_id(ref)
        return mine is not None and mine.lower() in (i.lower() for i in record.ids("arxiv"))
    if kind == "isbn":
        return bool(set(isbns(ref)) & set(record.ids("isbn")))
    if kind == "pmid":
        return pmid(ref) in record.ids("pmid")
    if kind == "pmcid":
        return pmcid(ref) in record.ids("pmcid")
    if kind == "doi":
        return normalise_doi(ref.doi) in record.ids("doi")
    return False


def _year(ref: Reference) -> int | None:
    m = _YEAR.search(ref.year or "")
    return int(m.group(1)) if m else None


def confirmation(ref: Reference, answer: AuthorityAnswer) -> Confirmation | None:
    """The record of `answer` that is the cited work, or None.

    Found by an identifier the entry carries (arXiv id, ISBN, PMID, PMCID, DOI), the record is the cited work
    unless its title and authors clearly belong to another one (an identifier match is strong evidence: the
    title or an author agreeing is enough). Found by a search, a candidate needs what Crossref's candidates
    need (matching.best_match: an author in common and three of title, author, year, volume, first page)."""
    if answer.status is not Lookup.FOUND:
        return None
    if answer.identifier is not None:
        for record in answer.records:
            if not _identifier_matches(ref, record, answer.identifier):
                continue
            cited = _cited(ref, record)
            if not cited.title and not cited.authors:
                return Confirmation(answer.authority, record, answer.identifier, ("identifier",))
            comparison = compare(cited, record.as_work(_year(cited)))
            if comparison.different_work:
                return None
            title_ok = comparison.title is not None and comparison.title >= TITLE_MISMATCH
            if title_ok or comparison.author_agrees:
                return Confirmation(answer.authority, record, answer.identifier,
                                    ("identifier", *comparison.supporting))
        return None
    works = [r.as_work(_year(_cited(ref, r))) for r in answer.records]
    for record, work in zip(answer.records, works, strict=True):
        match = best_match(_cited(ref, record), [work])
        if match is not None and (match.comparison.title is None or match.comparison.title >= TITLE_MATCH
                                  or len(match.comparison.supporting) >= 4):
            return Confirmation(answer.authority, record, None, match.comparison.supporting)
    return None


def confirming(ref: Reference, evidence: Evidence) -> Confirmation | None:
    """The first authority answer, in the order they were asked, that confirms the reference."""
    for answer in evidence.authorities.values():
        found = confirmation(ref, answer)
        if found is not None:
            return found
    return None


def summary(found: Confirmation) -> dict[str, Any]:
    """What the reports show of the confirming record (the same keys as Crossref's, and who confirmed it)."""
    record = found.record
    ids = dict(record.identifiers)
    return {
        "doi": ids.get("doi"),
        "title": record.title,
        "authors": list(record.authors),
        "year": record.year,
        "container": record.venue,
        "agency": None,
        "authority": label(found.authority),
        "identifier": _identifier_words(record, found.by_identifier),
        "url": record.url,
    }


def _identifier_words(record: AuthorityRecord, kind: str | None) -> str | None:
    if kind is None:
        return None
    value = record.ids(kind)
    if not value:
        return None
    return {"arxiv": "arXiv:", "isbn": "ISBN ", "pmid": "PMID ", "pmcid": "", "doi": ""}.get(kind, "") + value[0]


def confirms(ref: Reference, evidence: Evidence, ctx: Any = None) -> Mapping[str, Any] | None:
    """The family hook: the summary of the authority record confirming the reference, else None."""
    found = confirming(ref, evidence)
    return summary(found) if found is not None else None


def could_not_check(evidence: Evidence) -> list[AuthorityAnswer]:
    return [a for a in evidence.authorities.values() if a.status.is_unverified()]


def not_found_message(ref: Reference, evidence: Evidence, crossref: bool = True) -> str | None:
    """KR205's message when Crossref's search found no match (crossref=True), or when no Crossref search was
    made but other authorities were asked (an entry with an arXiv id, PMID or ISBN but no scholarly type).

    None when an authority confirms the reference or one that covers it could not be checked (then it stays
    unverified), or, without Crossref, when no authority was asked; else the message names every authority
    that answered without a match, and what an identifier led to instead."""
    if confirming(ref, evidence) is not None or could_not_check(evidence):
        return None
    if not crossref and not any(a.identifier for a in evidence.authorities.values()):
        return None
    names = ["Crossref"] if crossref else []
    names += [label(a.authority) for a in evidence.authorities.values()]
    where = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    details = []
    for answer in evidence.authorities.values():
        if answer.identifier is None:
            continue
        if answer.status is Lookup.NOT_FOUND:
            details.append(f"{label(answer.authority)} has no {answer.asked}")
        elif answer.records:
            details.append(f"{answer.asked} is {describe(answer.records[0].as_work())}, not the cited work")
    tail = f" ({'; '.join(details)})" if details else ""
    return f"not in {where}{tail}: it may be fabricated, mis-cited or not indexed"


def could_not_check_reasons(evidence: Evidence) -> list[str]:
    """For an unverified verdict: each authority that could not be checked and why."""
    return [f"{label(a.authority)} could not be checked for {a.asked or 'this reference'}: "
            f"{a.reason or 'unknown reason'}" for a in could_not_check(evidence)]


def retraction(ref: Reference, evidence: Evidence) -> str | None:
    """KR206's message when the record that confirms the reference says the work was retracted."""
    found = confirming(ref, evidence)
    if found is None or not found.record.is_retracted:
        return None
    return f"{label(found.authority)} records {describe(found.record.as_work())} as retracted"


def published_version(ref: Reference, evidence: Evidence) -> tuple[str, str] | None:
    """(KR208's message, the published DOI) when the confirming record is a preprint published since."""
    found = confirming(ref, evidence)
    if found is None:
        return None
    record = found.record
    if record.published_doi and (not ref.doi or ref.doi.lower() != record.published_doi):
        ident = _identifier_words(record, "arxiv") or "the preprint"
        journal = f" ({record.journal_ref})" if record.journal_ref else ""
        return (f"{ident} has been published since as {record.published_doi}{journal}", record.published_doi)
    return None
