"""PubMed through NCBI's E-utilities: esummary for PMIDs (db=pubmed) and PMCIDs (db=pmc) in batches, and an
esearch by title for journal articles no other authority holds; efetch for the abstracts and MeSH headings of
works found, which esummary lacks, when a rule needs them. Three requests per second without an API key."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kratomref import lazy
from kratomref.identifiers import arxiv_id, pmcid, pmid
from kratomref.model import AuthorityAnswer, AuthorityRecord, Reference
from kratomref.services.authorities.base import Authority, family_name, parse_xml, subject_list, text_of, year_in

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

MAX_IDS_PER_REQUEST = 200  # NCBI: "up to 200 UIDs" in one esummary or efetch GET; more need a POST
# An efetch record is the whole citation (affiliations, grants, often the reference list): 10-40 KB, so 100 of
# them stay well under the HTTP layer's 10 MB cap on an answer and within one request's timeout.
ABSTRACTS_PER_REQUEST = 100
SEARCH_ROWS = 5
_WORD = lazy.regex(r"[^\W_]+")
# efetch's XML names its public DTD, which nothing here reads; any other declaration (an internal subset,
# an entity) is how XML bombs and external entities get in, and a PubmedArticleSet never has one.
_PUBLIC_DOCTYPE = re.compile(rb'<!DOCTYPE\s+PubmedArticleSet\s+PUBLIC\s+"[^"<>\[\]]*"\s+"[^"<>\[\]]*"\s*>')
# MeSH check tags: who was studied (species, sex, age), on nearly every article, nothing of what it is about
# (NLM, "Check Tags" in the MeSH indexing manual).
_CHECK_TAGS = frozenset({
    "Humans", "Animals", "Male", "Female", "Pregnancy", "Infant, Newborn", "Infant", "Child, Preschool", "Child",
    "Adolescent", "Young Adult", "Adult", "Middle Aged", "Aged", "Aged, 80 and over",
})


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
        params.setdefault("retmode", "json")
        params["tool"] = "kratomref"
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

    def abstracts(self, pmids: Sequence[str]) -> dict[str, AuthorityAnswer]:
        """PMID -> a record holding the work's abstract and subject terms only (efetch, rettype=abstract), for
        the works a lookup found; NOT_FOUND when PubMed holds neither for it, UNVERIFIED when it could not be
        asked. Batched, paced and cached as the look-ups are."""
        if not pmids:
            return {}
        with self._session():
            try:
                return self.batched(pmids, key=lambda p: f"abstract:{p}", asked=lambda p: f"the abstract of PMID {p}",
                                    identifier="pmid", per_request=ABSTRACTS_PER_REQUEST, ask=self._ask_abstracts)
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                reason = f"PubMed sent an answer kratomref could not read ({type(exc).__name__})"
                return {p: self.unverified(reason, f"the abstract of PMID {p}", "pmid") for p in pmids}

    def _ask_abstracts(self, chunk: list[str]) -> dict[str, list[AuthorityRecord]] | str:
        reply = self.get("/efetch.fcgi", self._params(db="pubmed", id=",".join(chunk), rettype="abstract",
                                                      retmode="xml"))
        if reply.error or reply.status != 200:
            return self.failure(reply)
        found = parse_abstracts(reply.body)
        if found is None:
            return _error(reply.json()) or "PubMed sent a malformed answer"
        if isinstance(found, str):
            return f"PubMed said: {found}"
        return {uid: [record] if (record := found.get(uid)) else [] for uid in chunk}

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


def parse_abstracts(body: bytes) -> dict[str, AuthorityRecord] | str | None:
    """PMID -> a record of the work's abstract and subjects, from efetch's PubmedArticleSet (articles with
    neither are left out); a string when the answer is NCBI's error document (its message); None when the
    body is neither."""
    root = parse_xml(_PUBLIC_DOCTYPE.sub(b"", body, count=1))
    if root is None:
        return None
    if root.tag == "eFetchResult":  # <eFetchResult><ERROR>...</ERROR></eFetchResult>
        return text_of(root.findtext("ERROR")) or "error"
    if root.tag != "PubmedArticleSet":
        return None
    records: dict[str, AuthorityRecord] = {}
    for item in root:
        # a journal article's PMID, abstract and headings are in its MedlineCitation, a book's in its BookDocument
        held = item.find("MedlineCitation") if item.tag == "PubmedArticle" else \
            item.find("BookDocument") if item.tag == "PubmedBookArticle" else None
        uid = text_of(held.findtext("PMID")) if held is not None else None
        if held is None or uid is None:
            continue
        abstract = held.find("Article/Abstract") if item.tag == "PubmedArticle" else held.find("Abstract")
        record = AuthorityRecord(authority="pubmed", identifiers=(("pmid", uid),),
                                 abstract=_abstract_text(abstract), subjects=_subjects(held))
        if record.abstract or record.subjects:
            records[uid] = record
    return records


def _abstract_text(abstract: Element | None) -> str | None:
    """The abstract's sections (AbstractText, labelled BACKGROUND, METHODS... in a structured abstract) in
    order, their inline markup (<i>, <sup>) kept as text, the labels left out."""
    if abstract is None:
        return None
    return text_of(" ".join("".join(part.itertext()) for part in abstract.findall("AbstractText")))


def _subjects(held: Element) -> tuple[str, ...]:
    """The MeSH descriptors, the article's major topics first and the check tags left out; the authors'
    keywords for an article not yet indexed (a new one) or a book."""
    headings = held.findall("MeshHeadingList/MeshHeading")
    major = [h for h in headings if any(e.get("MajorTopicYN") == "Y" for e in h)]
    names = [text_of(h.findtext("DescriptorName")) for h in major + [h for h in headings if h not in major]]
    names = [n for n in names if n and n not in _CHECK_TAGS]
    if not names:
        names = [text_of("".join(k.itertext())) for k in held.findall("KeywordList/Keyword")]
    return subject_list(names)
