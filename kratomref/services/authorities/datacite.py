"""DataCite's REST API (api.datacite.org/dois/{doi}): the metadata of DataCite DOIs (arXiv, Zenodo, figshare,
Dryad...), in Crossref's shape so that a DataCite DOI is compared field by field like a Crossref one."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from kratomref.doi import normalise_doi
from kratomref.model import AuthorityAnswer, AuthorityRecord, Reference
from kratomref.services.authorities.base import Authority, family_name, obj, subject_list, text_of, year_in


class DataCite(Authority):
    """One request per DOI: GET /dois/{doi} answers the JSON:API document {"data": {"attributes": ...}}, or 404
    with {"errors": [{"status": "404", "title": ...}]} for a DOI DataCite does not hold."""

    name = "datacite"
    label = "DataCite"
    interval = 0.1  # DataCite allows 3,000 requests per 5 minutes per address: 10/s is well inside it

    def covers(self, ref: Reference) -> bool:
        return normalise_doi(ref.doi) is not None

    def by_identifier(self, ref: Reference) -> bool:
        return True

    def _lookup(self, refs: Mapping[str, Reference]) -> dict[str, AuthorityAnswer]:
        dois = {key: normalise_doi(ref.doi) for key, ref in refs.items()}
        answers = self.lookup_dois([d for d in dois.values() if d])
        return {key: answers[doi] for key, doi in dois.items() if doi}

    def resolve(self, dois: Sequence[str]) -> dict[str, AuthorityAnswer]:
        """Normalised DOI -> DataCite's answer (the pipeline's DOI path, without references)."""
        if not dois:
            return {}
        with self._session():
            return self.lookup_dois(dois)

    def lookup_dois(self, dois: Sequence[str]) -> dict[str, AuthorityAnswer]:
        answers: dict[str, AuthorityAnswer] = {}
        for doi in dict.fromkeys(dois):
            asked = f"DOI {doi}"
            cached = self.cached(f"doi:{doi}", asked, "doi")
            answers[doi] = cached if cached is not None else self.store(f"doi:{doi}", self._one(doi))
        return answers

    def _one(self, doi: str) -> AuthorityAnswer:
        asked = f"DOI {doi}"
        body, reply = self.get_json(f"/dois/{urllib.parse.quote(doi, safe='/:;()._-')}")
        if reply.status == 404 and reply.error is None:
            # Only DataCite's own error document is a verdict; a proxy's 404 page says nothing about the DOI.
            errors = obj(reply.json()).get("errors")
            if isinstance(errors, list) and errors:
                return self.answer([], asked, "doi")
            return self.unverified("DataCite answered HTTP 404 without its error document", asked, "doi")
        if body is None:
            return self.unverified(self.failure(reply), asked, "doi")
        record = parse_doi(body)
        if record is None:
            return self.unverified("DataCite sent a malformed answer", asked, "doi")
        return self.answer([record], asked, "doi")


def parse_doi(body: Any) -> AuthorityRecord | None:
    """A DataCite JSON:API document -> the record, or None when it is not one."""
    data = obj(obj(body).get("data"))
    attrs = data.get("attributes")
    if not isinstance(attrs, dict):
        return None
    doi = normalise_doi(str(attrs.get("doi") or data.get("id") or ""))
    if doi is None:
        return None
    titles = [text_of(t.get("title")) for t in attrs.get("titles") or [] if isinstance(t, dict)]
    authors: list[str] = []
    for creator in attrs.get("creators") or []:
        if not isinstance(creator, dict):
            continue
        family = text_of(creator.get("familyName"))
        whole = text_of(creator.get("name"))
        if family:
            authors.append(family)
        elif whole:
            authors.append(whole if creator.get("nameType") == "Organizational" else family_name(whole))
    publisher = attrs.get("publisher")
    venue = text_of(publisher.get("name")) if isinstance(publisher, dict) else text_of(publisher)
    container = attrs.get("container")
    if isinstance(container, dict) and text_of(container.get("title")):
        venue = text_of(container.get("title"))
    types = obj(attrs.get("types"))
    published_doi = None
    for related in attrs.get("relatedIdentifiers") or []:
        if (isinstance(related, dict) and related.get("relationType") == "IsPreviousVersionOf"
                and str(related.get("relatedIdentifierType", "")).upper() == "DOI"):
            published_doi = normalise_doi(str(related.get("relatedIdentifier") or ""))
            break
    year = year_in(attrs.get("publicationYear"))
    identifiers: list[tuple[str, str]] = [("doi", doi)]
    if doi.startswith("10.48550/arxiv."):
        identifiers.append(("arxiv", doi.removeprefix("10.48550/arxiv.")))
    return AuthorityRecord(
        authority="datacite",
        title=next((t for t in titles if t), None),
        authors=tuple(authors),
        year=year,
        years=(year,) if year else (),
        venue=venue,
        identifiers=tuple(identifiers),
        url=text_of(attrs.get("url")),
        kind=text_of(types.get("resourceTypeGeneral")),
        published_doi=published_doi,
        abstract=_abstract(attrs.get("descriptions")),
        subjects=_subjects(attrs.get("subjects")),
    )


def _subjects(subjects: Any) -> tuple[str, ...]:
    """The subjects' words; "FOS: Computer and information sciences" comes with its twin "Computer and
    information sciences" (the OECD's Fields of Science), one is kept."""
    if not isinstance(subjects, list):
        return ()
    return subject_list(text_of(str(s.get("subject") or "").removeprefix("FOS: ")) for s in subjects
                        if isinstance(s, dict))


def _abstract(descriptions: Any) -> str | None:
    """The description of type "Abstract" (in English when there are several languages); as DataCite holds it,
    which may be HTML (Zenodo's are), as Crossref's abstracts are JATS."""
    abstracts = [d for d in descriptions if isinstance(d, dict) and d.get("descriptionType") == "Abstract"
                 and text_of(d.get("description"))] if isinstance(descriptions, list) else []
    english = [d for d in abstracts if str(d.get("lang") or "en").lower().startswith("en")]
    return text_of((english or abstracts or [{}])[0].get("description"))


def as_crossref_work(record: AuthorityRecord) -> dict[str, Any]:
    """The DataCite record as the DOI path's record (Crossref's shape), for KR203, KR208 and KR209."""
    work = record.as_work()
    work["DOI"] = record.ids("doi")[0] if record.ids("doi") else None
    work["type"] = record.kind
    work["publisher"] = record.venue
    if record.url:
        work["URL"] = record.url
    if record.published_doi:
        work["relation"] = {"is-preprint-of": [{"id": record.published_doi, "id-type": "doi"}]}
    return work

