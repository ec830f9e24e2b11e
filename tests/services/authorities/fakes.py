"""Local HTTP servers answering like OpenAlex, DataCite, arXiv, PubMed's E-utilities, DBLP and Open Library,
from a `World` of the works each one holds; bodies follow the shapes of the real APIs' answers (their
documentation and public client libraries' fixtures). Each server records what it was asked and can be
told to fail (429, 5xx, malformed bodies, slowness).

A module of its own, not conftest.py, so that the benchmark can load it by path too."""

from __future__ import annotations

import json
import re
import textwrap
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import local_server

from kratomref.options import Options
from kratomref.services import clock

# The authorities' settings are Options fields (openalex_url..., use_<name>, authority_pacing); the name stays
# for the tests that annotate with it.
AuthorityOptions = Options


@dataclass
class World:
    """What each authority holds, in each API's own record shape."""

    openalex: list[dict[str, Any]] = field(default_factory=list)  # Work objects
    datacite: dict[str, dict[str, Any]] = field(default_factory=dict)  # DOI -> "attributes"
    arxiv: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> title, authors, published, doi...
    pubmed: dict[str, dict[str, Any]] = field(default_factory=dict)  # PMID -> esummary item
    pmc: dict[str, dict[str, Any]] = field(default_factory=dict)  # PMC number -> esummary item
    dblp: list[dict[str, Any]] = field(default_factory=list)  # "info" objects of search hits
    books: dict[str, dict[str, Any]] = field(default_factory=dict)  # ISBN-13 -> /api/books jscmd=data entry
    book_docs: list[dict[str, Any]] = field(default_factory=list)  # /search.json documents
    # PMID -> what efetch (rettype=abstract, retmode=xml) holds besides the summary: "abstract" [(label, text)],
    # "mesh" [(descriptor, major)], "keywords"
    pubmed_abstracts: dict[str, dict[str, Any]] = field(default_factory=dict)


def world_of(works: list[Mapping[str, Any]]) -> World:
    """A World from compact descriptions of genuine works, each put in the shape of every API that holds it:
    {"title", "authors": [[given, family], ...], "year", "venue", "volume", "pages", "doi", "pmid", "pmcid",
    "arxiv", "isbn", "kind", "held_by": ["openalex", "pubmed", ...], "retracted", "published_doi", "journal_ref",
    "abstract", "subjects": [...]}; PubMed's abstract may be structured, [(label, text), ...], and its subjects
    are MeSH headings, [(descriptor, major), ...]."""
    world = World()
    for work in works:
        held = set(work["held_by"])
        names = [f"{given} {family}".strip() for given, family in work["authors"]]
        if "openalex" in held:
            ids: dict[str, str] = {"openalex": f"https://openalex.org/W{abs(hash(work['title'])) % 10**9}"}
            if work.get("doi"):
                ids["doi"] = f"https://doi.org/{work['doi']}"
            if work.get("pmid"):
                ids["pmid"] = f"https://pubmed.ncbi.nlm.nih.gov/{work['pmid']}"
            locations = [{"is_oa": True, "landing_page_url": f"https://arxiv.org/abs/{work['arxiv']}",
                          "source": {"display_name": "arXiv (Cornell University)", "type": "repository"}}] \
                if work.get("arxiv") else []
            first, _, last = str(work.get("pages") or "").partition("-")
            world.openalex.append({
                "id": ids["openalex"], "doi": ids.get("doi"), "title": work["title"], "display_name": work["title"],
                "publication_year": work["year"], "publication_date": f"{work['year']}-01-01", "ids": ids,
                "type": work.get("kind", "article"), "is_retracted": bool(work.get("retracted")),
                "primary_location": {"is_oa": False, "landing_page_url": None,
                                     "source": {"display_name": work.get("venue"), "type": "journal"}
                                     if work.get("venue") else None},
                "locations": locations,
                "authorships": [{"author_position": "first" if i == 0 else "middle",
                                 "author": {"id": f"https://openalex.org/A{i}", "display_name": n, "orcid": None},
                                 "raw_author_name": n, "institutions": []} for i, n in enumerate(names)],
                "biblio": {"volume": work.get("volume"), "issue": None, "first_page": first or None,
                           "last_page": last or None},
                "abstract_inverted_index": inverted_index(abstract_of(work)) if work.get("abstract") else None,
                **openalex_subjects(work.get("subjects") or []),
            })
        if "datacite" in held and work.get("doi"):
            world.datacite[work["doi"].lower()] = {
                "identifiers": [], "titles": [{"title": work["title"]}],
                "creators": [{"name": f"{family}, {given}", "nameType": "Personal", "givenName": given,
                              "familyName": family, "affiliation": [], "nameIdentifiers": []}
                             for given, family in work["authors"]],
                "publisher": work.get("venue") or "Zenodo", "container": {}, "publicationYear": work["year"],
                "types": {"resourceTypeGeneral": work.get("kind", "Software"), "bibtex": "misc"},
                "relatedIdentifiers": [{"relationType": "IsPreviousVersionOf", "relatedIdentifier":
                                        work["published_doi"], "relatedIdentifierType": "DOI"}]
                if work.get("published_doi") else [],
                "url": f"https://zenodo.org/records/{abs(hash(work['title'])) % 10**7}", "state": "findable",
                "descriptions": [{"description": abstract_of(work), "descriptionType": "Abstract"}]
                if work.get("abstract") else [],
                "subjects": [{"subject": name} for name in work.get("subjects") or []],
            }
        if "arxiv" in held and work.get("arxiv"):
            world.arxiv[work["arxiv"]] = {"title": work["title"], "authors": names,
                                          "published": f"{work['year']}-06-12T17:57:34Z",
                                          "doi": work.get("published_doi"), "journal_ref": work.get("journal_ref"),
                                          "summary": abstract_of(work) or "An abstract."}
        if "pubmed" in held and work.get("pmid"):
            world.pubmed[str(work["pmid"])] = {
                "pubdate": f"{work['year']} Jun", "epubdate": "", "source": work.get("venue", ""),
                "authors": [{"name": f"{family} {''.join(p[0] for p in given.split())}", "authtype": "Author",
                             "clusterid": ""} for given, family in work["authors"]],
                "title": work["title"] + ".", "volume": work.get("volume", ""), "issue": "",
                "pages": work.get("pages", ""), "fulljournalname": work.get("venue", ""),
                "pubtype": ["Journal Article"] + (["Retracted Publication"] if work.get("retracted") else []),
                "articleids": [{"idtype": "pubmed", "idtypen": 1, "value": str(work["pmid"])}]
                + ([{"idtype": "doi", "idtypen": 3, "value": work["doi"]}] if work.get("doi") else [])
                + ([{"idtype": "pmc", "idtypen": 8, "value": work["pmcid"]}] if work.get("pmcid") else []),
            }
            if work.get("abstract") or work.get("subjects"):
                sections = work.get("abstract") or []
                world.pubmed_abstracts[str(work["pmid"])] = {
                    "title": work["title"], "journal": work.get("venue", ""), "year": work["year"],
                    "abstract": [("", sections)] if isinstance(sections, str) else sections,
                    "mesh": work.get("subjects") or [], "keywords": work.get("keywords") or []}
            if work.get("pmcid"):
                world.pmc[str(work["pmcid"]).removeprefix("PMC")] = {
                    **world.pubmed[str(work["pmid"])], "articleids": [
                        {"idtype": "pmid", "value": str(work["pmid"])}, {"idtype": "pmcid", "value": work["pmcid"]}]}
        if "dblp" in held:
            world.dblp.append({
                "authors": {"author": [{"@pid": f"p/{i}", "text": n} for i, n in enumerate(names)]
                            if len(names) > 1 else {"@pid": "p/0", "text": names[0]}},
                "title": work["title"] + ".", "venue": work.get("venue", "CoRR"), "pages": work.get("pages"),
                "year": str(work["year"]), "type": "Conference and Workshop Papers",
                "key": f"conf/x/{abs(hash(work['title'])) % 10**6}", "url": "https://dblp.org/rec/conf/x/1",
                **({"doi": work["doi"]} if work.get("doi") else {}),
            })
        if "openlibrary" in held:
            if work.get("isbn"):
                world.books[work["isbn"]] = {
                    "url": f"https://openlibrary.org/books/OL{abs(hash(work['title'])) % 10**6}M/x",
                    "key": "/books/OL1M", "title": work["title"], "authors": [
                        {"url": "https://openlibrary.org/authors/OL1A/x", "name": n} for n in names],
                    "identifiers": {"isbn_13": [work["isbn"]], "openlibrary": ["OL1M"]},
                    "publishers": [{"name": work.get("venue", "")}], "publish_date": str(work["year"]),
                }
            world.book_docs.append({
                "key": f"/works/OL{abs(hash(work['title'])) % 10**6}W", "title": work["title"],
                "author_name": names, "first_publish_year": work.get("first_year", work["year"]),
                "publish_year": sorted({work["year"], work.get("first_year", work["year"])}),
                "isbn": [work["isbn"]] if work.get("isbn") else [], "publisher": [work.get("venue", "")],
            })
    return world


def abstract_of(work: Mapping[str, Any]) -> str:
    """A work's abstract as one text (a structured one's sections joined)."""
    abstract = work.get("abstract") or ""
    return abstract if isinstance(abstract, str) else " ".join(text for _, text in abstract)


def inverted_index(text: str) -> dict[str, list[int]]:
    """OpenAlex's abstract_inverted_index: each word as written (its punctuation kept) with its positions, in
    the order the words first occur."""
    index: dict[str, list[int]] = {}
    for position, word in enumerate(text.split()):
        index.setdefault(word, []).append(position)
    return index


def openalex_subjects(subjects: list[str]) -> dict[str, list[dict[str, Any]]]:
    """A work's keywords, topics and concepts as OpenAlex tags them: the first subjects as keywords, the next as
    topics (with their subfield, field and domain), the rest as concepts, scores falling; and a level-0 concept
    scored 0, as OpenAlex lists a tagged concept's ancestors."""
    keywords, topics, concepts = subjects[:2], subjects[2:4], subjects[4:]
    return {
        "keywords": [{"id": f"https://openalex.org/keywords/{re.sub(r'[^a-z]+', '-', name.lower())}",
                      "display_name": name, "score": round(0.7 - 0.1 * i, 2)} for i, name in enumerate(keywords)],
        "topics": [{"id": f"https://openalex.org/T1{i:04d}", "display_name": name, "score": round(0.99 - 0.05 * i, 4),
                    "subfield": {"id": "https://openalex.org/subfields/2738",
                                 "display_name": "Psychiatry and Mental health"},
                    "field": {"id": "https://openalex.org/fields/27", "display_name": "Medicine"},
                    "domain": {"id": "https://openalex.org/domains/4", "display_name": "Health Sciences"}}
                   for i, name in enumerate(topics)],
        "concepts": [{"id": f"https://openalex.org/C{100 + i}", "wikidata": f"https://www.wikidata.org/wiki/Q{100 + i}",
                      "display_name": name, "level": 2, "score": round(0.8 - 0.05 * i, 6)}
                     for i, name in enumerate(concepts)]
        + ([{"id": "https://openalex.org/C71924100", "wikidata": "https://www.wikidata.org/wiki/Q11190",
             "display_name": "Medicine", "level": 0, "score": 0.0}] if subjects else []),
    }


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, list[str]]
    at: float
    headers: Mapping[str, str]

    def param(self, name: str) -> str:
        return self.query.get(name, [""])[0]


Reply = tuple[int, "str | bytes", Mapping[str, str]]
Fault = Callable[[Seen], "Reply | None"]
JSON = {"Content-Type": "application/json"}


def words(text: str) -> list[str]:
    s = unicodedata.normalize("NFKD", text.lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return [w for w in re.findall(r"[a-z0-9]+", s) if w not in {"a", "an", "the", "of", "and", "in", "on", "for"}]


def overlap(query: str, title: str) -> float:
    """Share of the title's words the query has: how a relevance search ranks a title."""
    t, q = set(words(title)), set(words(query))
    return len(t & q) / len(t) if t else 0.0


@dataclass
class FakeService:
    """One fake API: `answer` turns a request into a reply; `fault` may answer first."""

    name: str
    answer: Callable[[Seen], Reply]
    fault: Fault | None = None
    latency: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path_part: str = "") -> int:
        return sum(1 for s in self.seen if path_part in s.path)

    def reply(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
        if self.latency:
            time.sleep(self.latency)
        if self.fault is not None and (faulty := self.fault(seen)) is not None:
            return faulty
        return self.answer(seen)


class _Handler(local_server.Handler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        seen = Seen(unquote(parts.path), parse_qs(parts.query), clock.current().monotonic(), dict(self.headers.items()))
        status, body, headers = self.server.fake.reply(seen)
        data = body.encode("utf-8") if isinstance(body, str) else body
        local_server.send_body(self, data, content_type=None, status=status, headers=headers)


class _Server(local_server.Server):
    request_queue_size = 64
    fake: FakeService


# --- the APIs -----------------------------------------------------------------------------------------------


def openalex_answer(world: World) -> Callable[[Seen], Reply]:
    def answer(seen: Seen) -> Reply:
        if seen.path.rstrip("/") != "/works":
            return 404, json.dumps({"error": "404 Not Found", "message": "The requested URL was not found."}), JSON
        results: list[dict[str, Any]]
        if flt := seen.param("filter"):
            kind, _, values = flt.partition(":")
            if kind not in ("doi", "pmid"):
                return 400, json.dumps({"error": "Invalid query parameters error.",
                                        "message": f"{kind} is not a valid field."}), JSON
            wanted = {v.lower().removeprefix("https://doi.org/") for v in values.split("|")}
            key = "doi" if kind == "doi" else "pmid"
            results = [w for w in world.openalex
                       if str((w.get("ids") or {}).get(key, "")).lower().rsplit("/", 1)[-1] in wanted
                       or (kind == "doi" and str(w.get("doi", "")).lower().removeprefix("https://doi.org/") in wanted)]
        else:
            query = seen.param("search")
            scored = sorted(((overlap(query, w["title"]), i) for i, w in enumerate(world.openalex)), reverse=True)
            # OpenAlex searches titles, abstracts and full text: weak candidates come back too.
            results = [world.openalex[i] for score, i in scored if score >= 0.3]
        per_page = int(seen.param("per-page") or 25)
        body = {"meta": {"count": len(results), "db_response_time_ms": 12, "page": 1, "per_page": per_page,
                         "groups_count": None}, "results": results[:per_page], "group_by": []}
        return 200, json.dumps(body), JSON
    return answer


def datacite_answer(world: World) -> Callable[[Seen], Reply]:
    def answer(seen: Seen) -> Reply:
        doi = seen.path.removeprefix("/dois/").lower()
        attrs = world.datacite.get(doi)
        if not seen.path.startswith("/dois/") or attrs is None:
            errors = {"errors": [{"status": "404", "title": "The resource you are looking for doesn't exist."}]}
            return 404, json.dumps(errors), {"Content-Type": "application/vnd.api+json"}
        body = {"data": {"id": doi, "type": "dois", "attributes": {"doi": doi, **attrs},
                         "relationships": {"client": {"data": {"id": "cern.zenodo", "type": "clients"}}}}}
        return 200, json.dumps(body), {"Content-Type": "application/vnd.api+json"}
    return answer


ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


def atom_feed(entries: list[str], query: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
        f'  <link href="http://arxiv.org/api/query?{escape(query)}" rel="self" type="application/atom+xml"/>\n'
        f"  <title type=\"html\">ArXiv Query: {escape(query)}</title>\n"
        "  <id>http://arxiv.org/api/fake</id>\n  <updated>2026-11-27T00:00:00-05:00</updated>\n"
        f"  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>\n"
        "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        f"  <opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage>\n"
        + "".join(entries) + "</feed>\n"
    )


def arxiv_entry(ident: str, item: Mapping[str, Any]) -> str:
    authors = "".join(f"    <author>\n      <name>{escape(a)}</name>\n    </author>\n" for a in item["authors"])
    # arXiv wraps a summary at about 80 characters, as its authors' abstract was submitted
    summary = textwrap.fill(item.get("summary", "An abstract."), 78)
    extra = ""
    if item.get("doi"):
        extra += f'    <arxiv:doi>{escape(item["doi"])}</arxiv:doi>\n'
    if item.get("journal_ref"):
        extra += f'    <arxiv:journal_ref>{escape(item["journal_ref"])}</arxiv:journal_ref>\n'
    return (
        "  <entry>\n"
        f"    <id>http://arxiv.org/abs/{ident}v1</id>\n"
        f"    <updated>{item['published']}</updated>\n    <published>{item['published']}</published>\n"
        f"    <title>{escape(item['title'])}</title>\n    <summary>  {escape(summary)}\n</summary>\n{authors}{extra}"
        f'    <link href="http://arxiv.org/abs/{ident}v1" rel="alternate" type="text/html"/>\n'
        f'    <arxiv:primary_category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>\n'
        f'    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>\n'
        f'    <category term="stat.ML" scheme="http://arxiv.org/schemas/atom"/>\n'
        "  </entry>\n"
    )


def arxiv_answer(world: World) -> Callable[[Seen], Reply]:
    def answer(seen: Seen) -> Reply:
        ids = [i for i in seen.param("id_list").split(",") if i]
        query = f"id_list={seen.param('id_list')}"
        bad = next((i for i in ids if not ARXIV_ID.match(i)), None)
        if bad is not None:  # arXiv answers a malformed id with one error entry for the whole query
            entry = (f"  <entry>\n    <id>http://arxiv.org/api/errors#incorrect_id_format_for_{escape(bad)}</id>\n"
                     f"    <title>Error</title>\n    <summary>incorrect id format for {escape(bad)}</summary>\n"
                     "  </entry>\n")
            return 400, atom_feed([entry], query), {"Content-Type": "application/atom+xml"}
        entries = [arxiv_entry(i, world.arxiv[i]) for i in ids if i in world.arxiv]
        return 200, atom_feed(entries, query), {"Content-Type": "application/atom+xml; charset=utf-8"}
    return answer


def pubmed_answer(world: World) -> Callable[[Seen], Reply]:
    def answer(seen: Seen) -> Reply:
        header = {"type": "esummary", "version": "0.3"}
        if seen.path.endswith("/esummary.fcgi"):
            store = world.pubmed if seen.param("db") == "pubmed" else world.pmc
            uids = [u for u in seen.param("id").split(",") if u]
            result: dict[str, Any] = {"uids": [u for u in uids if u in store]}
            for uid in uids:
                result[uid] = {"uid": uid, **store[uid]} if uid in store else \
                    {"uid": uid, "error": "cannot get document summary"}
            if not result["uids"]:
                result["uids"] = uids
            return 200, json.dumps({"header": header, "result": result}), JSON
        if seen.path.endswith("/efetch.fcgi"):
            if seen.param("db") != "pubmed" or seen.param("retmode") != "xml":
                return 400, json.dumps({"error": "this fake serves db=pubmed&retmode=xml only"}), JSON
            uids = [u for u in seen.param("id").split(",") if u]
            held = world.pubmed_abstracts
            articles = [pubmed_article(uid, held[uid]) for uid in uids if uid in held]
            return 200, pubmed_article_set(articles), {"Content-Type": "text/xml; charset=UTF-8"}
        if seen.path.endswith("/esearch.fcgi"):
            terms = [w for w in words(seen.param("term").replace("[Title]", " ")) if w != "title"]
            ids = [uid for uid, item in world.pubmed.items() if terms and all(t in words(item["title"]) for t in terms)]
            retmax = int(seen.param("retmax") or 20)
            body = {"header": {"type": "esearch", "version": "0.3"},
                    "esearchresult": {"count": str(len(ids)), "retmax": str(min(len(ids), retmax)), "retstart": "0",
                                      "idlist": ids[:retmax], "translationset": [], "querytranslation": ""}}
            return 200, json.dumps(body), JSON
        return 404, "<html><body>Not Found</body></html>", {"Content-Type": "text/html"}
    return answer


def pubmed_article_set(articles: list[str]) -> str:
    """efetch's answer: the PubmedArticleSet, with the DOCTYPE naming NLM's public DTD that opens every one."""
    return ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC '
            '"-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
            '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
            + "".join(articles) + "</PubmedArticleSet>\n")


def pubmed_article(uid: str, item: Mapping[str, Any]) -> str:
    """One PubmedArticle as efetch gives it (trimmed of the parts nobody reads here: affiliations, history)."""
    sections = "".join(
        f'        <AbstractText Label="{escape(label)}" NlmCategory="{escape(label)}">{escape(text)}</AbstractText>\n'
        if label else f"        <AbstractText>{escape(text)}</AbstractText>\n" for label, text in item["abstract"])
    abstract = f"      <Abstract>\n{sections}      </Abstract>\n" if sections else ""
    mesh = "".join(
        f'      <MeshHeading>\n        <DescriptorName UI="D{i:06d}" MajorTopicYN="{"Y" if major else "N"}">'
        f"{escape(name)}</DescriptorName>\n      </MeshHeading>\n" for i, (name, major) in enumerate(item["mesh"]))
    keywords = "".join(f'      <Keyword MajorTopicYN="N">{escape(k)}</Keyword>\n' for k in item["keywords"])
    return (
        '<PubmedArticle>\n  <MedlineCitation Status="MEDLINE" Owner="NLM">\n'
        f'    <PMID Version="1">{uid}</PMID>\n'
        '    <Article PubModel="Print">\n      <Journal>\n'
        f'        <JournalIssue CitedMedium="Print"><PubDate><Year>{item["year"]}</Year></PubDate></JournalIssue>\n'
        f'        <Title>{escape(item["journal"])}</Title>\n      </Journal>\n'
        f'      <ArticleTitle>{escape(item["title"])}.</ArticleTitle>\n{abstract}'
        '      <Language>eng</Language>\n'
        '      <PublicationTypeList>\n        <PublicationType UI="D016428">Journal Article</PublicationType>\n'
        "      </PublicationTypeList>\n    </Article>\n"
        + (f'    <MeshHeadingList>\n{mesh}    </MeshHeadingList>\n' if mesh else "")
        + (f'    <KeywordList Owner="NOTNLM">\n{keywords}    </KeywordList>\n' if keywords else "")
        + "  </MedlineCitation>\n  <PubmedData>\n    <PublicationStatus>ppublish</PublicationStatus>\n"
        f'    <ArticleIdList>\n      <ArticleId IdType="pubmed">{uid}</ArticleId>\n    </ArticleIdList>\n'
        "    <ReferenceList>\n      <Reference>\n        <Citation>An earlier study.</Citation>\n"
        '        <ArticleIdList>\n          <ArticleId IdType="pubmed">999</ArticleId>\n        </ArticleIdList>\n'
        "      </Reference>\n    </ReferenceList>\n  </PubmedData>\n</PubmedArticle>\n"
    )


def dblp_answer(world: World) -> Callable[[Seen], Reply]:
    def answer(seen: Seen) -> Reply:
        if seen.path != "/search/publ/api":
            return 404, "<html>Not Found</html>", {"Content-Type": "text/html"}
        query = seen.param("q")
        q = set(words(query))
        hits = [info for info in world.dblp if q and len(q & set(words(info["title"]))) >= 0.8 * len(q)]
        count = int(seen.param("h") or 30)
        hit = [{"@score": "6", "@id": str(100 + i), "info": info, "url": f"URL#{100 + i}"}
               for i, info in enumerate(hits[:count])]
        body = {"result": {"query": query, "status": {"@code": "200", "text": "OK"},
                           "time": {"@unit": "msecs", "text": "1.23"},
                           "completions": {"@total": "0", "@computed": "0", "@sent": "0", "c": []},
                           "hits": {"@total": str(len(hits)), "@computed": str(len(hits)), "@sent": str(len(hit)),
                                    "@first": "0", **({"hit": hit} if hit else {})}}}
        return 200, json.dumps(body), JSON
    return answer


def openlibrary_answer(world: World) -> Callable[[Seen], Reply]:
    def answer(seen: Seen) -> Reply:
        if seen.path == "/api/books":
            keys = [k for k in seen.param("bibkeys").split(",") if k]
            body = {k: world.books[k.removeprefix("ISBN:")] for k in keys if k.removeprefix("ISBN:") in world.books}
            return 200, json.dumps(body), JSON
        if seen.path == "/search.json":
            title, author = seen.param("title"), seen.param("author").lower()
            docs = [d for d in world.book_docs if overlap(title, d["title"]) >= 0.6
                    and (not author or any(author in n.lower() for n in d.get("author_name", [])))]
            limit = int(seen.param("limit") or 100)
            body = {"numFound": len(docs), "start": 0, "numFoundExact": True, "docs": docs[:limit],
                    "num_found": len(docs), "q": "", "offset": None}
            return 200, json.dumps(body), JSON
        return 404, json.dumps({"error": "notfound", "key": seen.path}), JSON
    return answer


ANSWERS: Mapping[str, Callable[[World], Callable[[Seen], Reply]]] = {
    "openalex": openalex_answer, "datacite": datacite_answer, "arxiv": arxiv_answer, "pubmed": pubmed_answer,
    "dblp": dblp_answer, "openlibrary": openlibrary_answer,
}
# Where each API lives under its base URL (the arXiv and E-utilities bases carry a path of their own).
BASE_PATHS = {"arxiv": "/api", "pubmed": "/entrez/eutils"}


@dataclass
class Fakes:
    services: dict[str, FakeService]

    def __getitem__(self, name: str) -> FakeService:
        return self.services[name]

    def urls(self) -> dict[str, str]:
        return {f"{name}_url": fake.url for name, fake in self.services.items()}

    def requests(self) -> dict[str, int]:
        return {name: len(fake.seen) for name, fake in self.services.items()}


@contextmanager
def serve_world(world: World) -> Iterator[Fakes]:
    """Every fake authority on 127.0.0.1, each on a port of its own; shut down on exit."""
    servers: list[_Server] = []
    services: dict[str, FakeService] = {}
    try:
        for name, make in ANSWERS.items():
            inner = make(world)
            prefix = BASE_PATHS.get(name, "")

            def routed(seen: Seen, inner: Callable[[Seen], Reply] = inner, prefix: str = prefix) -> Reply:
                if not seen.path.startswith(prefix):
                    return 404, "Not Found", {"Content-Type": "text/plain"}
                return inner(Seen(seen.path.removeprefix(prefix), seen.query, seen.at, seen.headers))

            fake = FakeService(name, routed)
            server = _Server(("127.0.0.1", 0), _Handler)
            server.fake = fake
            fake.url = f"http://127.0.0.1:{server.server_address[1]}{prefix}"
            local_server.serve(server)
            servers.append(server)
            services[name] = fake
        yield Fakes(services)
    finally:
        for server in servers:
            local_server.stop(server)


def options_for(fakes: Fakes, crossref_url: str = "http://127.0.0.1:9", **changes: Any) -> AuthorityOptions:
    """Options pointing every authority (and Crossref and doi.org) at local servers, without pacing."""
    settings: dict[str, Any] = {"crossref_url": crossref_url, "doi_url": crossref_url, "mailto": "test@example.org",
                                "timeout": 2.0, "max_retries": 1, "authority_pacing": 0.0, **fakes.urls()}
    settings.update(changes)
    return AuthorityOptions(**settings)
