"""OpenAlex (api.openalex.org): works by DOI or PMID in batches (filter=doi:a|b), and a title search for the
rest; each work's is_retracted flag, abstract and subject terms come with it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kratomref import lazy
from kratomref.doi import normalise_doi
from kratomref.identifiers import arxiv_id, pmid
from kratomref.model import AuthorityAnswer, AuthorityRecord, Reference
from kratomref.services.authorities.base import (
    Authority,
    family_name,
    obj,
    search_text,
    subject_list,
    text_of,
    year_in,
)

# OpenAlex ORs at most 100 values in one filter, and pages at most 200 results (docs.openalex.org).
MAX_PER_FILTER = 50  # DOIs are long: 50 keeps the URL well under 4,000 characters
SEARCH_ROWS = 5
_ARXIV_PAGE = lazy.regex(r"arxiv\.org/abs/([^v\s?#]+(?:v\d+)?)")


class OpenAlex(Authority):
    name = "openalex"
    label = "OpenAlex"
    interval = 0.1  # 10 requests per second at most (OpenAlex's documented limit)

    def covers(self, ref: Reference) -> bool:
        return (ref.is_scholarly or arxiv_id(ref) is not None or pmid(ref) is not None) and \
            (search_text(ref) is not None or pmid(ref) is not None or normalise_doi(ref.doi) is not None)

    def by_identifier(self, ref: Reference) -> bool:
        return normalise_doi(ref.doi) is not None or pmid(ref) is not None

    def _params(self, **params: str) -> dict[str, str]:
        if self.settings.mailto:
            params["mailto"] = self.settings.mailto  # OpenAlex's polite pool
        return params

    def _lookup(self, refs: Mapping[str, Reference]) -> dict[str, AuthorityAnswer]:
        answers: dict[str, AuthorityAnswer] = {}
        by_doi = {key: d for key, ref in refs.items() if (d := normalise_doi(ref.doi))}
        by_pmid = {key: p for key, ref in refs.items() if key not in by_doi and (p := pmid(ref))}
        for kind, wanted in (("doi", by_doi), ("pmid", by_pmid)):
            found = self._batch(kind, list(wanted.values()))
            answers.update({key: found[value] for key, value in wanted.items()})
        for key, ref in refs.items():
            if key not in answers and (text := search_text(ref)):
                answers[key] = self._search(text)
        return answers

    def _batch(self, kind: str, values: list[str]) -> dict[str, AuthorityAnswer]:
        label = "DOI" if kind == "doi" else "PMID"

        def ask(chunk: list[str]) -> dict[str, list[AuthorityRecord]] | str:
            body, reply = self.get_json(
                "/works", self._params(filter=f"{kind}:" + "|".join(chunk), **{"per-page": str(len(chunk))})
            )
            works = _results(body)
            if works is None:
                return self.failure(reply) if body is None else "OpenAlex sent a malformed answer"
            return {value: [w for w in works if value in w.ids(kind)][:1] for value in chunk}

        return self.batched(values, key=lambda v: f"{kind}:{v}", asked=lambda v: f"{label} {v}", identifier=kind,
                            per_request=MAX_PER_FILTER, ask=ask)

    def _search(self, text: str) -> AuthorityAnswer:
        asked = "a title search"
        cached = self.cached(f"search:{text}", asked)
        if cached is not None:
            return cached
        body, reply = self.get_json("/works", self._params(search=text, **{"per-page": str(SEARCH_ROWS)}))
        works = _results(body)
        if works is None:
            return self.unverified(self.failure(reply) if body is None else "OpenAlex sent a malformed answer", asked)
        return self.store(f"search:{text}", self.answer(works, asked))


def _results(body: Any) -> list[AuthorityRecord] | None:
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        return None
    return [r for r in (parse_work(w) for w in results) if r is not None]


def _strip(url: Any, prefix: str) -> str | None:
    text = text_of(url)
    if not text:
        return None
    return text.split(prefix, 1)[1] if prefix in text else text


def parse_work(work: Any) -> AuthorityRecord | None:
    """An OpenAlex Work object -> the record, or None when it is not one."""
    if not isinstance(work, dict):
        return None
    title = text_of(work.get("title")) or text_of(work.get("display_name"))
    if not title:
        return None
    authors: list[str] = []
    for authorship in work.get("authorships") or []:
        if not isinstance(authorship, dict):
            continue
        author = obj(authorship.get("author"))
        name = text_of(author.get("display_name")) or text_of(authorship.get("raw_author_name"))
        if name:
            authors.append(family_name(name))
    ids = obj(work.get("ids"))
    identifiers: list[tuple[str, str]] = []
    doi = normalise_doi(str(work.get("doi") or ids.get("doi") or ""))
    if doi:
        identifiers.append(("doi", doi))
    pm = _strip(ids.get("pmid"), "pubmed.ncbi.nlm.nih.gov/")
    if pm:
        identifiers.append(("pmid", pm.strip("/")))
    pmc = _strip(ids.get("pmcid"), "/pmc/articles/")
    if pmc:
        identifiers.append(("pmcid", pmc.strip("/")))
    venue = None
    locations = [work.get("primary_location"), *list(work.get("locations") or [])]
    for location in locations:
        if not isinstance(location, dict):
            continue
        source = obj(location.get("source"))
        venue = venue or text_of(source.get("display_name"))
        m = _ARXIV_PAGE.search(str(location.get("landing_page_url") or ""))
        if m and ("arxiv", m.group(1)) not in identifiers:
            identifiers.append(("arxiv", re.sub(r"v\d+$", "", m.group(1))))
    biblio = obj(work.get("biblio"))
    first, last = text_of(biblio.get("first_page")), text_of(biblio.get("last_page"))
    year = year_in(work.get("publication_year"))
    return AuthorityRecord(
        authority="openalex",
        title=title,
        authors=tuple(authors),
        year=year,
        years=(year,) if year else (),
        venue=venue,
        volume=text_of(biblio.get("volume")),
        pages=f"{first}-{last}" if first and last else first,
        identifiers=tuple(identifiers),
        url=text_of(work.get("id")),
        kind=text_of(work.get("type")),
        is_retracted=work.get("is_retracted") is True,
        abstract=abstract_text(work.get("abstract_inverted_index")),
        subjects=subjects(work),
    )


def abstract_text(index: Any) -> str | None:
    """OpenAlex's abstract_inverted_index ({"Despite": [0], "growing": [1], "interest": [2, 9], ...}: each word
    with the positions it holds) as the text it was made from, its words in reading order; None for none."""
    if not isinstance(index, dict):
        return None
    placed: dict[int, str] = {}
    for word, positions in index.items():
        if not isinstance(word, str) or not isinstance(positions, list):
            continue
        for position in positions:
            if isinstance(position, int) and not isinstance(position, bool) and position >= 0:
                placed.setdefault(position, word)
    return text_of(" ".join(placed[position] for position in sorted(placed)))


def subjects(work: dict[str, Any]) -> tuple[str, ...]:
    """What the work is about in OpenAlex's words: its keywords, then its topics, then its concepts (deprecated
    but still sent), each kind highest score first; a term scored 0 (a concept's ancestor) is left out."""
    names: list[str | None] = []
    for kind in ("keywords", "topics", "concepts"):
        tags = work.get(kind)
        scored = [(_score(tag), text_of(tag.get("display_name")))
                  for tag in (tags if isinstance(tags, list) else []) if isinstance(tag, dict)]
        names.extend(name for score, name in sorted(scored, key=lambda pair: -(pair[0] or 0.0))
                     if score is None or score > 0)
    return subject_list(names)


def _score(tag: dict[str, Any]) -> float | None:
    score = tag.get("score")
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None

