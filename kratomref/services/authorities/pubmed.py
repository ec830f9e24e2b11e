"""PubMed through NCBI's E-utilities: esummary for PMIDs (db=pubmed) and PMCIDs (db=pmc) in batches, and an
esearch by title for journal articles no other authority holds. Three requests per second without an API key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kratomref import lazy
from kratomref.identifiers import arxiv_id, pmcid, pmid
from kratomref.model import AuthorityAnswer, AuthorityRecord, Reference
from kratomref.services.authorities.base import Authority, family_name, text_of, year_in

MAX_IDS_PER_REQUEST = 200  # NCBI: "up to 200 UIDs" in one esummary GET; more need a POST
SEARCH_ROWS = 5
_WORD = lazy.regex(r"[^\W_]+")


class PubMed(Authority):
    name = "pubmed"
    label = "PubMed"
    interval = 0.34  # NCBI allows 3 requests per second without an API key

    def covers(self, ref: Reference) -> bool:
        if pmid(ref) or pmcid(ref):
            return True
        return ref.type == "article" and bool(ref.title) and arxiv_id(ref) is None

    def by_identifier(self, ref: Reference) -> bool:
        return bool(pmid(ref) or pmcid(ref))

    def _params(self, **params: str) -> dict[str, str]:
        params.update(retmode="json", tool="kratomref")
        if self.settings.mailto:
            params["email"] = self.settings.mailto  # NCBI asks for tool and email
        return params

    def _lookup(self, refs: Mapping[str, Reference]) -> dict[str, AuthorityAnswer]:
        answers: dict[str, AuthorityAnswer] = {}
        by_pmid = {key: p for key, ref in refs.items() if (p := pmid(ref))}
        by_pmc = {key: p for key, ref in refs.items() if key not in by_pmid and (p := pmcid(ref))}
        found = self.summaries("pubmed", list(by_pmid.values()))
        answers.update({key: found[value] for key, value in by_pmid.items()})
        found = self.summaries("pmc", [p.removeprefix("PMC") for p in by_pmc.values()])
        answers.update({key: found[value.removeprefix("PMC")] for key, value in by_pmc.items()})
        for key, ref in refs.items():
            if key not in answers and ref.title:
                answers[key] = self._search(ref.title)
        return answers

    def summaries(self, db: str, uids: Sequence[str]) -> dict[str, AuthorityAnswer]:
        label = "PMID " if db == "pubmed" else "PMC"

        def ask(chunk: list[str]) -> dict[str, list[AuthorityRecord]] | str:
            body, reply = self.get_json("/esummary.fcgi", self._params(db=db, id=",".join(chunk)))
            records = _summaries(body, db)
            if records is None:
                return self.failure(reply) if body is None else _error(body) or "PubMed sent a malformed answer"
            return {uid: [record] if (record := records.get(uid)) else [] for uid in chunk}

        return self.batched(uids, key=lambda u: f"{db}:{u}", asked=lambda u: f"{label}{u}",
                            identifier="pmid" if db == "pubmed" else "pmcid", per_request=MAX_IDS_PER_REQUEST,
                            ask=ask)

    def _search(self, title: str) -> AuthorityAnswer:
        asked = "a title search"
        term = " ".join(f"{w}[Title]" for w in _WORD.findall(title)[:20])
        cached = self.cached(f"search:{term}", asked)
        if cached is not None:
            return cached
        body, reply = self.get_json("/esearch.fcgi", self._params(db="pubmed", term=term, retmax=str(SEARCH_ROWS)))
        result = body.get("esearchresult") if isinstance(body, dict) else None
        ids = result.get("idlist") if isinstance(result, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) and i.isdigit() for i in ids):
            reason = self.failure(reply) if body is None else _error(body) or "PubMed sent a malformed answer"
            return self.unverified(reason, asked)
        if not ids:
            return self.store(f"search:{term}", self.answer([], asked))
        found = self.summaries("pubmed", ids)
        if any(a.status.value == "unverified" for a in found.values()):
            return self.unverified(next(a.reason or "" for a in found.values() if a.reason), asked)
        records = [r for uid in ids for r in found[uid].records]
        return self.store(f"search:{term}", self.answer(records, asked))


def _error(body: Any) -> str | None:
    """NCBI's error text: {"error": "API rate limit exceeded"} or {"esearchresult": {"ERROR": "..."}}."""
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            return f"PubMed said: {body['error']}"
        result = body.get("esearchresult")
        if isinstance(result, dict) and isinstance(result.get("ERROR"), str):
            return f"PubMed said: {result['ERROR']}"
    return None


def _summaries(body: Any, db: str) -> dict[str, AuthorityRecord] | None:
    """uid -> record from an esummary JSON answer; uids PubMed has no summary for are left out. None when
    the answer is not an esummary result."""
    result = body.get("result") if isinstance(body, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("uids", []), list):
        return None
    records: dict[str, AuthorityRecord] = {}
    for uid in result.get("uids", []):
        item = result.get(str(uid))
        if not isinstance(item, dict) or item.get("error"):
            continue
        record = parse_summary(item, db)
        if record is not None:
            records[str(uid)] = record
    return records


def parse_summary(item: Mapping[str, Any], db: str = "pubmed") -> AuthorityRecord | None:
    title = text_of(item.get("title"))
    if not title:
        return None
    authors = tuple(
        family_name(name) for name in (text_of(a.get("name")) for a in item.get("authors") or []
                                       if isinstance(a, dict) and a.get("authtype", "Author") == "Author") if name
    )
    identifiers: list[tuple[str, str]] = []
    for article_id in item.get("articleids") or []:
        if not isinstance(article_id, dict):
            continue
        kind, value = str(article_id.get("idtype", "")).lower(), text_of(article_id.get("value"))
        if not value:
            continue
        if kind == "pubmed" or kind == "pmid":
            identifiers.append(("pmid", value))
        elif kind == "doi":
            identifiers.append(("doi", value.lower()))
        elif kind in ("pmc", "pmcid"):
            identifiers.append(("pmcid", value if value.upper().startswith("PMC") else f"PMC{value}"))
    uid = text_of(item.get("uid"))
    if uid and db == "pubmed" and ("pmid", uid) not in identifiers:
        identifiers.append(("pmid", uid))
    if uid and db == "pmc" and ("pmcid", f"PMC{uid}") not in identifiers:
        identifiers.append(("pmcid", f"PMC{uid}"))
    years = tuple(sorted({y for y in (year_in(item.get(k)) for k in ("pubdate", "epubdate", "printpubdate")) if y}))
    base = "https://pubmed.ncbi.nlm.nih.gov/" if db == "pubmed" else "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC"
    return AuthorityRecord(
        authority="pubmed",
        title=title.rstrip("."),
        authors=authors,
        year=year_in(item.get("pubdate")) or (years[0] if years else None),
        years=years,
        venue=text_of(item.get("fulljournalname")) or text_of(item.get("source")),
        volume=text_of(item.get("volume")),
        pages=text_of(item.get("pages")),
        identifiers=tuple(identifiers),
        url=f"{base}{uid}" if uid else None,
        kind="journal-article",
        is_retracted="Retracted Publication" in [str(t) for t in item.get("pubtype") or []],
    )
