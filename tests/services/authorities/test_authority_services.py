"""Each authority against its local fake: what it finds, what it does not, batching, the cache, --offline, and
faults (429, 5xx, malformed and slow answers) that must leave a reference unverified, never not-found."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import TypeVar

import pytest
from fakes import AuthorityOptions, Fakes, Seen

from kratomref.check import authority_settings
from kratomref.model import Location, Lookup, Reference
from kratomref.services.authorities import Authority, AuthoritySettings
from kratomref.services.authorities.arxiv import Arxiv
from kratomref.services.authorities.datacite import DataCite
from kratomref.services.authorities.dblp import Dblp
from kratomref.services.authorities.openalex import OpenAlex
from kratomref.services.authorities.openlibrary import OpenLibrary
from kratomref.services.authorities.pubmed import PubMed
from kratomref.services.cache import Cache

A = TypeVar("A", bound=Authority)


def ref(key: str, type_: str = "misc", **fields: str) -> Reference:
    title = fields.pop("title", None)
    return Reference(Location("refs.bib", 1, key), type=type_, title=title, fields=fields)


def make(cls: type[A], options: AuthorityOptions, cache: Cache) -> A:
    """The authority as a run builds it: the settings check.py maps out of the options."""
    settings: AuthoritySettings = authority_settings(options, cls.name)
    return cls(settings, cache)


# --- found, not found, batched --------------------------------------------------------------------------


def test_arxiv_ids_are_looked_up_in_one_request(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    refs = {"a": ref("a", eprint="1706.03762", archiveprefix="arXiv"),
            "b": ref("b", eprint="1512.03385v2", archiveprefix="arXiv"),
            "c": ref("c", eprint="2301.99999", archiveprefix="arXiv")}
    answers = make(Arxiv, options, cache).lookup(refs)
    assert fakes["arxiv"].count() == 1
    assert answers["a"].status is Lookup.FOUND
    assert answers["a"].records[0].title == "Attention Is All You Need"
    assert answers["a"].records[0].authors == ("Vaswani", "Shazeer")
    assert answers["b"].records[0].published_doi == "10.1109/cvpr.2016.90"
    assert answers["b"].records[0].journal_ref == "CVPR 2016"
    assert answers["c"].status is Lookup.NOT_FOUND
    assert answers["c"].asked == "arXiv:2301.99999"


def test_openlibrary_finds_books_by_isbn_in_one_request_and_by_title(
    options: AuthorityOptions, cache: Cache, fakes: Fakes
) -> None:
    refs = {"isbn10": ref("isbn10", "book", isbn="0-262-03384-4"),  # the ISBN-10 of the same book
            "missing": ref("missing", "book", isbn="978-1-4732-0001-2"),
            "bishop": Reference(Location("refs.bib", 1, "bishop"), type="book",
                                title="Pattern Recognition and Machine Learning")}
    answers = make(OpenLibrary, options, cache).lookup(refs)
    assert fakes["openlibrary"].count("/api/books") == 1
    assert answers["isbn10"].status is Lookup.FOUND
    assert answers["isbn10"].records[0].authors == ("Cormen", "Leiserson")
    assert answers["isbn10"].identifier == "isbn"
    assert answers["missing"].status is Lookup.NOT_FOUND
    assert answers["bishop"].status is Lookup.FOUND and answers["bishop"].identifier is None
    assert answers["bishop"].records[0].year == 2006


def test_pubmed_by_pmid_pmcid_and_title(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    refs = {"one": ref("one", pmid="1"), "none": ref("none", pmid="99999999"), "pmc": ref("pmc", pmcid="PMC5799002"),
            "title": Reference(Location("r.bib", 1, "title"), type="article",
                               title="Formate assay in body fluids: application in methanol poisoning")}
    answers = make(PubMed, options, cache).lookup(refs)
    assert answers["one"].records[0].authors == ("Makar", "McMartin")  # "Makar AB" is PubMed's form
    assert answers["one"].records[0].title == "Formate assay in body fluids: application in methanol poisoning"
    assert answers["none"].status is Lookup.NOT_FOUND
    assert answers["pmc"].status is Lookup.FOUND and "29248691" in answers["pmc"].records[0].ids("pmid")
    assert answers["title"].status is Lookup.FOUND and answers["title"].records[0].ids("pmid") == ("1",)
    # One batch per database; the search found PMID 1, whose summary the first batch had cached.
    assert fakes["pubmed"].count("esummary") == 2
    assert fakes["pubmed"].count("esearch") == 1
    assert all(s.param("tool") == "kratomref" and s.param("email") == "test@example.org" for s in fakes["pubmed"].seen)


def test_openalex_batches_dois_and_searches(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    refs = {"retracted": Reference(Location("r.bib", 1, "k"), type="article",
                                   title="A study of kratom eaters in Thailand"),
            "pmid": ref("pmid", pmid="31000001")}
    answers = make(OpenAlex, options, cache).lookup(refs)
    assert answers["retracted"].records[0].is_retracted
    assert answers["retracted"].records[0].volume == "27"
    assert answers["pmid"].status is Lookup.NOT_FOUND
    assert any(s.param("filter") == "pmid:31000001" for s in fakes["openalex"].seen)
    assert all(s.param("mailto") == "test@example.org" for s in fakes["openalex"].seen)


def test_dblp_search_reads_single_and_listed_authors(options: AuthorityOptions, cache: Cache) -> None:
    title = "ImageNet Classification with Deep Convolutional Neural Networks"
    paper = Reference(Location("r.bib", 1, "k"), "inproceedings", title=title)
    answers = make(Dblp, options, cache).lookup({"k": paper})
    record = answers["k"].records[0]
    assert record.title == title  # DBLP's closing full stop removed
    assert record.authors == ("Krizhevsky", "Hinton")


def test_datacite_record_and_its_404(options: AuthorityOptions, cache: Cache) -> None:
    answers = make(DataCite, options, cache).resolve(["10.5281/zenodo.4998373", "10.5281/zenodo.9999999"])
    found = answers["10.5281/zenodo.4998373"]
    assert found.status is Lookup.FOUND
    assert found.records[0].authors == ("Harris",)
    assert found.records[0].kind == "Software"
    assert answers["10.5281/zenodo.9999999"].status is Lookup.NOT_FOUND


def test_every_request_says_who_we_are(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    make(Arxiv, options, cache).lookup({"a": ref("a", eprint="1706.03762", archiveprefix="arXiv")})
    agent = fakes["arxiv"].seen[0].headers.get("User-Agent", "")
    assert agent.startswith("kratomref/") and "mailto:test@example.org" in agent


# --- the cache and --offline ----------------------------------------------------------------------------


def test_answers_are_cached_per_service_url(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    refs = {"a": ref("a", eprint="1706.03762", archiveprefix="arXiv"),
            "c": ref("c", eprint="2301.99999", archiveprefix="arXiv")}
    make(Arxiv, options, cache).lookup(refs)
    again = make(Arxiv, options, cache).lookup(refs)
    assert fakes["arxiv"].count() == 1
    assert again["a"].from_cache and again["c"].status is Lookup.NOT_FOUND
    # Another server (a mirror, a test server) never gets this one's answers.
    elsewhere = dataclasses.replace(options, arxiv_url=fakes["arxiv"].url + "/")
    make(Arxiv, elsewhere, cache).lookup(refs)
    assert fakes["arxiv"].count() == 1  # a trailing slash is the same service
    other = dataclasses.replace(options, arxiv_url=fakes["arxiv"].url.replace("127.0.0.1", "localhost"))
    make(Arxiv, other, cache).lookup(refs)
    assert fakes["arxiv"].count() == 2


def test_offline_asks_nothing_and_stays_unverified(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    offline = dataclasses.replace(options, offline=True)
    answers = make(OpenLibrary, offline, cache).lookup({"b": ref("b", "book", isbn="9780262033848")})
    assert answers["b"].status is Lookup.UNVERIFIED and answers["b"].reason == "offline"
    assert fakes["openlibrary"].count() == 0


def test_could_not_check_is_never_cached(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    fakes["arxiv"].fault = lambda seen: (503, "busy", {})
    refs = {"a": ref("a", eprint="1706.03762", archiveprefix="arXiv")}
    assert make(Arxiv, options, cache).lookup(refs)["a"].status is Lookup.UNVERIFIED
    fakes["arxiv"].fault = None
    assert make(Arxiv, options, cache).lookup(refs)["a"].status is Lookup.FOUND


# --- faults -----------------------------------------------------------------------------------------------


def test_a_short_retry_after_is_waited_for(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    calls: list[Seen] = []

    def once(seen: Seen) -> tuple[int, str, dict[str, str]] | None:
        calls.append(seen)
        return (429, json.dumps({"error": "API rate limit exceeded"}), {"Retry-After": "0.2"}) if len(calls) == 1 \
            else None

    fakes["pubmed"].fault = once
    answers = make(PubMed, options, cache).lookup({"one": ref("one", pmid="1")})
    assert answers["one"].status is Lookup.FOUND
    assert fakes["pubmed"].seen[1].at - fakes["pubmed"].seen[0].at >= 0.2


def test_a_long_retry_after_leaves_it_unverified(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    fakes["dblp"].fault = lambda seen: (429, "Too Many Requests", {"Retry-After": "3600"})
    title = "ImageNet Classification with Deep Convolutional Neural Networks"
    paper = Reference(Location("r", 1, "k"), "inproceedings", title=title)
    answer = make(Dblp, options, cache).lookup({"k": paper})["k"]
    assert answer.status is Lookup.UNVERIFIED
    assert answer.reason == "rate-limited by DBLP (HTTP 429, Retry-After 3600 s)"
    assert fakes["dblp"].count() == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_unverified(
    options: AuthorityOptions, cache: Cache, fakes: Fakes, status: int
) -> None:
    fakes["openlibrary"].fault = lambda seen: (status, "<html>error</html>", {"Content-Type": "text/html"})
    answer = make(OpenLibrary, options, cache).lookup({"b": ref("b", "book", isbn="9780262033848")})["b"]
    assert answer.status is Lookup.UNVERIFIED
    assert answer.reason == f"Open Library answered HTTP {status}"
    assert fakes["openlibrary"].count() == 2  # max_retries=1


def test_a_service_that_is_down_is_asked_twice_per_run_not_once_per_reference(
    options: AuthorityOptions, cache: Cache, fakes: Fakes
) -> None:
    fakes["openlibrary"].fault = lambda seen: (503, "<html>down</html>", {"Content-Type": "text/html"})
    books = {f"b{i}": ref(f"b{i}", "book", title=f"A book about topic {i}", author="Doe, Jane") for i in range(6)}
    answers = make(OpenLibrary, options, cache).lookup(books)
    assert all(a.status is Lookup.UNVERIFIED for a in answers.values())
    assert fakes["openlibrary"].count() == 4  # two requests, each retried once (max_retries=1), then no more
    assert any("not asked again in this run" in a.reason for a in answers.values())


def test_a_refused_connection_is_not_retried(options: AuthorityOptions, cache: Cache) -> None:
    import socket

    with socket.socket() as unused:  # a port with nothing listening: every connection is refused at once
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    down = dataclasses.replace(options, openlibrary_url=f"http://127.0.0.1:{port}", max_retries=3)
    service = make(OpenLibrary, down, cache)
    answer = service.lookup({"b": ref("b", "book", isbn="9780262033848")})["b"]
    assert answer.status is Lookup.UNVERIFIED and "unreachable" in answer.reason
    assert (service.stats.requests, service.stats.retries) == (1, 0)  # not 4 requests, 3.5 s of back-off


@pytest.mark.parametrize(
    ("name", "body"),
    [("openalex", "<html>maintenance</html>"), ("openalex", json.dumps({"results": "nope"})),
     ("openalex", json.dumps({"results": [{"title": "A study of kratom eaters", "authorships": 5}]})),
     ("pubmed", json.dumps({"result": []})), ("pubmed", json.dumps({"error": "API rate limit exceeded"})),
     ("dblp", json.dumps({"result": {"hits": []}})), ("openlibrary", json.dumps(["not", "an", "object"])),
     ("datacite", json.dumps({"data": {"attributes": "x"}})), ("arxiv", "<feed><entry>unclosed"),
     ("arxiv", "<html><body>Service unavailable</body></html>")],
)
def test_a_malformed_answer_is_could_not_check(
    options: AuthorityOptions, cache: Cache, fakes: Fakes, name: str, body: str
) -> None:
    fakes[name].fault = lambda seen: (200, body, {"Content-Type": "application/json"})
    work = {
        "openalex": (OpenAlex, Reference(Location("r", 1, "k"), "article", title="A study of kratom eaters")),
        "pubmed": (PubMed, ref("k", pmid="1")),
        "dblp": (Dblp, Reference(Location("r", 1, "k"), "inproceedings", title="ImageNet Classification")),
        "openlibrary": (OpenLibrary, ref("k", "book", isbn="9780262033848")),
        "datacite": (DataCite, Reference(Location("r", 1, "k"), doi="10.5281/zenodo.4998373")),
        "arxiv": (Arxiv, ref("k", eprint="1706.03762", archiveprefix="arXiv")),
    }
    cls, reference = work[name]
    answer = make(cls, options, cache).lookup({"k": reference})["k"]
    assert answer.status is Lookup.UNVERIFIED, answer
    assert answer.reason


def test_a_proxy_404_is_not_a_verdict_on_the_doi(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    fakes["datacite"].fault = lambda seen: (404, "<html>Not Found</html>", {"Content-Type": "text/html"})
    answer = make(DataCite, options, cache).resolve(["10.5281/zenodo.4998373"])["10.5281/zenodo.4998373"]
    assert answer.status is Lookup.UNVERIFIED


def test_a_slow_service_times_out_as_unverified(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    fakes["openalex"].latency = 1.5
    quick = dataclasses.replace(options, timeout=0.5, max_retries=0)
    answer = make(OpenAlex, quick, cache).lookup(
        {"k": Reference(Location("r", 1, "k"), "article", title="A study of kratom eaters in Thailand")})["k"]
    assert answer.status is Lookup.UNVERIFIED
    assert answer.reason == "OpenAlex timed out after 0.5 s"


def test_an_xml_bomb_is_refused_not_expanded(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/1706.03762v1</id>'
            '<title>&b;</title></entry></feed>')
    fakes["arxiv"].fault = lambda seen: (200, bomb, {"Content-Type": "application/atom+xml"})
    answer = make(Arxiv, options, cache).lookup({"k": ref("k", eprint="1706.03762", archiveprefix="arXiv")})["k"]
    assert answer.status is Lookup.UNVERIFIED
    assert answer.reason == "arXiv sent a malformed answer"


def test_arxiv_error_entry_is_could_not_check(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    # A malformed id never reaches arXiv (it is no arXiv id); an error entry for the query still says nothing
    # about the ids in it.
    fakes["arxiv"].fault = lambda seen: (200, (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_x'
        '</id><title>Error</title><summary>incorrect id format for x</summary></entry></feed>'), {})
    answer = make(Arxiv, options, cache).lookup({"k": ref("k", eprint="1706.03762", archiveprefix="arXiv")})["k"]
    assert answer.status is Lookup.UNVERIFIED
    assert answer.reason == "arXiv refused the query: incorrect id format for x"


def test_arxiv_is_paced(fakes: Fakes, cache: Cache, tmp_path: Path) -> None:
    """arXiv asks for one request per 3 s: two batches go out at least that far apart (scaled down here)."""
    options = AuthorityOptions(arxiv_url=fakes["arxiv"].url, authority_pacing=0.1, timeout=2.0, max_retries=0)
    refs = {str(n): ref(str(n), eprint=f"2101.{n:05d}", archiveprefix="arXiv") for n in range(150)}
    started = time.monotonic()
    make(Arxiv, options, cache).lookup(refs)
    seen = fakes["arxiv"].seen
    assert len(seen) == 2
    assert seen[1].at - seen[0].at >= 0.3 * 0.95
    assert time.monotonic() - started < 5
