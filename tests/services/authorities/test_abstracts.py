"""What a cited work is about (issue 21): the abstract and subject terms each authority's answer holds, kept in
the cache, and PubMed's abstracts fetched (efetch) only when KR506 will read them, never changing a verdict."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fakes import AuthorityOptions, Fakes, Seen

from kratomref import check
from kratomref.check import authority_settings
from kratomref.model import AuthorityAnswer, AuthorityRecord, Evidence, Location, Lookup, Reference, Report
from kratomref.services.authorities import AuthoritySettings
from kratomref.services.authorities.arxiv import Arxiv
from kratomref.services.authorities.base import NAMESPACE, SUBJECTS_KEPT
from kratomref.services.authorities.datacite import DataCite
from kratomref.services.authorities.openalex import OpenAlex, parse_work
from kratomref.services.authorities.pubmed import ABSTRACTS_PER_REQUEST, PubMed, parse_abstracts
from kratomref.services.cache import Cache

MAKAR_ABSTRACT = ("Formate accumulates in the blood of those poisoned by methanol. An enzymatic assay measured "
                  "formate in serum and urine. The assay found formate at levels that tracked the poisoning's course.")


def make(cls: type[Any], options: AuthorityOptions, cache: Cache) -> Any:
    settings: AuthoritySettings = authority_settings(options, cls.name)
    return cls(settings, cache)


def bib_ref(key: str, type_: str = "misc", **fields: str) -> Reference:
    title = fields.pop("title", None)
    return Reference(Location("refs.bib", 1, key), type=type_, title=title, doi=fields.pop("doi", None), fields=fields)


# --- each authority's own answer ---------------------------------------------------------------------------


def test_openalex_rebuilds_the_abstract_in_reading_order_and_keeps_its_best_scored_subjects(
    options: AuthorityOptions, cache: Cache
) -> None:
    answers = make(OpenAlex, options, cache).lookup({"k": bib_ref("k", "article", doi="10.9999/bn.1975.27")})
    record = answers["k"].records[0]
    assert record.abstract == ("Men in southern Thailand who chewed kratom leaves every day for years were interviewed "
                               "about why they began, how much they ate, and what happened when they stopped.")
    # keywords first, then topics, then concepts; the ancestor concept scored 0 ("Medicine") left out
    assert record.subjects == ("Kratom", "Mitragyna speciosa", "Substance Abuse Treatment and Outcomes",
                               "Plant alkaloids", "Psychiatry", "Drug", "Traditional medicine", "Thailand")
    assert len(record.subjects) == SUBJECTS_KEPT


@pytest.mark.parametrize(
    ("work", "abstract", "subjects"),
    [
        pytest.param({"abstract_inverted_index": {"cited": [3], "Kratom": [0], "is": [1, 4], "often": [2],
                                                  "misread.": [5]}},
                     "Kratom is often cited is misread.", (),
                     id="a word used twice is placed at each of its positions"),
        pytest.param({"abstract_inverted_index": None, "keywords": [], "concepts": []}, None, (),
                     id="a work without an abstract has none"),
        pytest.param({"concepts": [{"display_name": "Biology", "score": 0.2}, {"display_name": "Sleep", "score": 0.9},
                                   {"display_name": "Medicine", "score": 0.0}],
                      "topics": [{"display_name": "sleep", "score": 0.99}]},
                     None, ("sleep", "Biology"), id="the higher score first, a term named twice kept once"),
        pytest.param({"abstract_inverted_index": {"word": "not a list", "7": [True]}, "keywords": "nope",
                      "topics": [5, {"display_name": "Opioids"}]}, None, ("Opioids",),
                     id="malformed parts are skipped, not fatal"),
    ],
)
def test_openalex_work_parts(work: dict[str, Any], abstract: str | None, subjects: tuple[str, ...]) -> None:
    record = parse_work({"title": "A work", **work})
    assert record is not None
    assert (record.abstract, record.subjects) == (abstract, subjects)


def test_arxiv_summary_is_the_abstract_and_its_category_codes_are_no_subjects(
    options: AuthorityOptions, cache: Cache
) -> None:
    answers = make(Arxiv, options, cache).lookup({"a": bib_ref("a", eprint="1706.03762", archiveprefix="arXiv")})
    record = answers["a"].records[0]
    assert record.abstract == ("A network built on attention alone, without recurrence or convolution, translates "
                               "between languages better and trains faster; attention weighs every word of a "
                               "sentence against every other.")  # arXiv's line breaks folded
    assert record.subjects == ()  # "cs.LG", "stat.ML"


def test_datacite_abstract_and_subjects(options: AuthorityOptions, cache: Cache) -> None:
    record = make(DataCite, options, cache).resolve(["10.5281/zenodo.4998373"])["10.5281/zenodo.4998373"].records[0]
    assert record.abstract == "<p>NumPy is the fundamental package for array computing with Python.</p>"
    assert record.subjects == ("Computer and information sciences", "arrays", "python")  # the FOS twin once


def test_pubmed_abstract_sections_in_order_and_its_major_headings_first(
    options: AuthorityOptions, cache: Cache, fakes: Fakes
) -> None:
    answers = make(PubMed, options, cache).abstracts(["1", "29248691"])
    assert answers["1"].status is Lookup.FOUND
    assert answers["1"].records[0].abstract == MAKAR_ABSTRACT  # the labels (BACKGROUND...) left out
    # the major topics first; "Humans" and "Male" (check tags) say nothing of the topic
    assert answers["1"].records[0].subjects == ("Formates", "Methanol", "Poisoning", "Body Fluids")
    assert answers["29248691"].status is Lookup.NOT_FOUND  # PubMed holds no abstract for it
    assert fakes["pubmed"].count("efetch") == 1
    seen = fakes["pubmed"].seen[0]
    assert (seen.param("db"), seen.param("rettype"), seen.param("retmode"), seen.param("tool")) == \
        ("pubmed", "abstract", "xml", "kratomref")


def test_pubmed_abstracts_are_batched_and_cached(options: AuthorityOptions, cache: Cache, fakes: Fakes) -> None:
    pmids = ["1", *(str(n) for n in range(1000, 1000 + ABSTRACTS_PER_REQUEST + 20))]
    make(PubMed, options, cache).abstracts(pmids)
    assert [len(s.param("id").split(",")) for s in fakes["pubmed"].seen] == [ABSTRACTS_PER_REQUEST, 21]
    again = make(PubMed, options, cache).abstracts(pmids)
    assert fakes["pubmed"].count() == 2  # the second run asks nothing
    assert again["1"].from_cache and again["1"].records[0].abstract == MAKAR_ABSTRACT


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        pytest.param(b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaaaaaaaa">]>'
                     b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><Abstract>"
                     b"<AbstractText>&a;&a;</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>"
                     b"</PubmedArticleSet>", None, id="an entity declaration is refused, not expanded"),
        pytest.param(b"<eFetchResult><ERROR>Empty id list - nothing todo</ERROR></eFetchResult>",
                     "Empty id list - nothing todo", id="NCBI's error document gives its message"),
        pytest.param(b"<html><body>Service unavailable</body></html>", None, id="an HTML page is no answer"),
        pytest.param(b"<PubmedArticleSet><PubmedBookArticle><BookDocument><PMID>20301295</PMID><Abstract>"
                     b"<AbstractText>Kratom is a <i>tropical</i> tree.</AbstractText></Abstract><KeywordList>"
                     b"<Keyword>kratom</Keyword></KeywordList></BookDocument></PubmedBookArticle></PubmedArticleSet>",
                     {"20301295": ("Kratom is a tropical tree.", ("kratom",))},
                     id="a book's abstract and keywords, inline markup read as text"),
    ],
)
def test_pubmed_efetch_answers(body: bytes, outcome: object) -> None:
    parsed = parse_abstracts(body)
    if isinstance(parsed, dict):
        parsed = {uid: (r.abstract, r.subjects) for uid, r in parsed.items()}
    assert parsed == outcome


def test_a_failed_efetch_is_could_not_check_and_not_cached(
    options: AuthorityOptions, cache: Cache, fakes: Fakes
) -> None:
    fakes["pubmed"].fault = lambda seen: (503, "<html>busy</html>", {"Content-Type": "text/html"})
    answer = make(PubMed, options, cache).abstracts(["1"])["1"]
    assert answer.status is Lookup.UNVERIFIED and answer.reason == "PubMed answered HTTP 503"
    fakes["pubmed"].fault = None
    assert make(PubMed, options, cache).abstracts(["1"])["1"].status is Lookup.FOUND


# --- the cache --------------------------------------------------------------------------------------------


def test_the_cache_keeps_the_abstract_and_subjects_and_reads_entries_from_before_them(
    options: AuthorityOptions, cache: Cache
) -> None:
    openalex = make(OpenAlex, options, cache)
    record = AuthorityRecord("openalex", "A study of kratom eaters in Thailand", ("Suwanlert",), 1975,
                             abstract="Men who chewed kratom were interviewed.", subjects=("Kratom", "Thailand"))
    openalex.store("doi:10.9999/x", AuthorityAnswer("openalex", Lookup.FOUND, (record,), "DOI 10.9999/x", "doi"))
    cached = make(OpenAlex, options, cache).cached("doi:10.9999/x", "DOI 10.9999/x", "doi")
    assert cached is not None and cached.records == (record,)
    # an entry written before issue 21: no abstract, no subjects, still the record
    old = {"status": "found", "records": [{"title": "An old answer", "authors": ["Doe"], "year": 2001, "years": [2001],
                                           "identifiers": [["doi", "10.9999/y"]], "is_retracted": False}]}
    cache.put(NAMESPACE, openalex._prefix + "doi:10.9999/y", old, 3600)
    loaded = make(OpenAlex, options, cache).cached("doi:10.9999/y", "DOI 10.9999/y", "doi")
    assert loaded is not None and loaded.status is Lookup.FOUND
    assert (loaded.records[0].title, loaded.records[0].abstract, loaded.records[0].subjects) == \
        ("An old answer", None, ())


# --- PubMed's abstracts in a whole check: only for KR506 -----------------------------------------------------

BIB = r"""
@article{makar, author = {Makar, A. B. and McMartin, K. E.}, title = {Formate assay in body fluids: application
  in methanol poisoning}, journal = {Biochem Med}, year = {1975}, volume = {13}, pages = {117--126}, pmid = {1}}
@article{swogger, author = {Swogger, Marc T. and Walsh, Zach}, title = {Kratom use and mental health: A systematic
  review}, journal = {Drug Alcohol Depend}, year = {2018}, pmid = {29248691}}
"""
DRAFT = """---
title: Poisons
bibliography: refs.bib
---

Formate in the blood is the mark of methanol poisoning [@makar].
People who use kratom report less anxiety and depression [@swogger].
"""


def write_draft(tmp_path: Path) -> Path:
    (tmp_path / "refs.bib").write_text(BIB, encoding="utf-8")
    draft = tmp_path / "draft.md"
    draft.write_text(DRAFT, encoding="utf-8")
    return draft


def evidence(tmp_path: Path, options: AuthorityOptions, path: Path, **changes: Any) -> dict[str, Evidence]:
    """Each reference's evidence, as the rules are handed it."""
    run = dataclasses.replace(options, paths=(str(path),), **changes)
    docs = check.read_documents(run)
    resolved = check.resolve(docs, run, Cache(tmp_path / "cache", enabled=run.use_cache))
    return {key: ev for doc in docs for key, ev in check.evidence_for(doc, resolved).references.items()}


@pytest.mark.parametrize(
    ("select", "efetches"),
    [pytest.param((), 0, id="every default rule: KR506 is opt-in, no efetch"),
     pytest.param(("KR5",), 0, id="a prefix does not opt in"),
     pytest.param(("KR506",), 1, id="KR506 named: one efetch for both works"),
     pytest.param(("citation-off-topic",), 1, id="KR506 named by its name")],
)
def test_pubmed_abstracts_are_fetched_only_when_kr506_is_selected(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes, select: tuple[str, ...], efetches: int
) -> None:
    found = evidence(tmp_path, options, write_draft(tmp_path), select=select)
    assert fakes["pubmed"].count("efetch") == efetches
    # the work's own record, found by its PMID
    record = found["makar"].authorities["pubmed"].records[0]
    assert found["makar"].authorities["pubmed"].identifier == "pmid"
    assert record.abstract == (MAKAR_ABSTRACT if efetches else None)
    assert record.subjects == (("Formates", "Methanol", "Poisoning", "Body Fluids") if efetches else ())
    assert found["swogger"].authorities["pubmed"].records[0].abstract is None  # PubMed holds none


def test_kr506_ignored_or_a_bibliography_without_a_draft_fetches_no_abstract(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes
) -> None:
    draft = write_draft(tmp_path)
    evidence(tmp_path, options, draft, select=("KR506",), ignore=("KR506",))
    evidence(tmp_path, options, tmp_path / "refs.bib", select=("KR506",))  # nothing cites: KR506 judges nothing
    assert fakes["pubmed"].count("esummary") == 2
    assert fakes["pubmed"].count("efetch") == 0


def test_abstracts_are_cached_like_the_look_ups(tmp_path: Path, options: AuthorityOptions, fakes: Fakes) -> None:
    draft = write_draft(tmp_path)
    evidence(tmp_path, options, draft, select=("KR506",), use_cache=True)
    offline = evidence(tmp_path, options, draft, select=("KR506",), use_cache=True, offline=True)
    assert fakes["pubmed"].count("efetch") == 1
    assert offline["makar"].authorities["pubmed"].records[0].abstract == MAKAR_ABSTRACT


def summary(report: Report) -> tuple[object, ...]:
    """What a user sees of a check: each reference's verdict, the findings and the exit code."""
    return (sorted((r.reference.key, r.verdict.value, r.confirmed_by, r.reasons) for r in report.results),
            sorted((f.rule.code, f.location.key, f.location.line, f.message) for f in report.findings),
            report.unverified_checks, report.exit_code)


@pytest.mark.parametrize(
    "fault",
    [pytest.param(lambda seen: (503, "<html>busy</html>", {"Content-Type": "text/html"}), id="PubMed busy"),
     pytest.param(lambda seen: (200, "<html>maintenance</html>", {"Content-Type": "text/html"}),
                  id="a page that is no answer"),
     pytest.param(lambda seen: (429, '{"error":"API rate limit exceeded"}', {"Retry-After": "3600"}),
                  id="rate-limited for an hour")],
)
def test_an_efetch_that_fails_changes_no_verdict(
    tmp_path: Path, options: AuthorityOptions, fakes: Fakes, fault: Any
) -> None:
    draft = write_draft(tmp_path)
    run = dataclasses.replace(options, paths=(str(draft),), select=("KR506",))
    working = check.check(run)
    assert fakes["pubmed"].count("efetch") == 1

    def efetch_fails(seen: Seen) -> Any:
        return fault(seen) if seen.path.endswith("/efetch.fcgi") else None

    fakes["pubmed"].fault = efetch_fails
    failing = check.check(run)
    assert fakes["pubmed"].count("efetch") >= 2  # it was asked, and failed
    assert summary(failing) == summary(working)
    assert {r.reference.key: r.verdict.value for r in failing.results} == {"makar": "verified", "swogger": "verified"}
    assert failing.unverified_checks == 0
    records = evidence(tmp_path, options, draft, select=("KR506",))
    assert records["makar"].authorities["pubmed"].records[0].abstract is None  # left as it was
