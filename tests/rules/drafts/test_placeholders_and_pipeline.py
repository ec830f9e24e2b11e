"""Issue 9: placeholder searches against a local Crossref server, and LaTeX/pandoc through the pipeline."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import local_server
import pytest

import kratomref.readers as readers
from kratomref.check import crossref_settings
from kratomref.model import Document, DocumentEvidence, Lookup, SearchResolution
from kratomref.options import Options
from kratomref.readers.text import read_draft
from kratomref.rules import placeholder_candidates, placeholder_search
from kratomref.services.cache import Cache
from kratomref.services.crossref import CrossrefService

FIXTURES = Path(__file__).parents[2] / "fixtures"
RECORDED = json.loads((FIXTURES / "crossref" / "works-query-ecology-rows2.json").read_text())


def _records() -> dict[str, dict[str, Any]]:
    records = {}
    for path in sorted((FIXTURES / "crossref").glob("work-10.*.json")):
        message = json.loads(path.read_text(encoding="utf-8"))["message"]
        records[message["DOI"].lower()] = message
    return records


RECORDS = _records()
# A search about the canine remobilization study finds it first, then three weaker hits.
SECRETAGOGUE = ["10.1002/jor.1100150407", "10.1371/journal.pone.0033693", "10.1038/srep16696",
                "10.3892/ijo_00000353"]


class _Handler(local_server.Handler):
    seen: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        params = parse_qs(urlparse(self.path).query)
        _Handler.seen.append(params)
        query = params.get("query.bibliographic", [""])[0]
        if "secretagogue" in query:
            message = {"items": [RECORDS[d] for d in SECRETAGOGUE], "total-results": 4}
            body = json.dumps({"status": "ok", "message-type": "work-list", "message": message}).encode()
        else:
            body = json.dumps(RECORDED).encode()
        local_server.send_body(self, body, "application/json")

    @classmethod
    def queries(cls) -> list[str]:
        return [p.get("query.bibliographic", [""])[0] for p in cls.seen]


@pytest.fixture
def crossref_url() -> Iterator[str]:
    _Handler.seen = []
    with local_server.running(_Handler) as url:
        yield url


def queries_of(doc: Document) -> dict[str, str]:
    """Placeholder id -> the Crossref query.bibliographic made of its sentence's content words."""
    return {key: search.query for key, search in placeholder_search.placeholder_searches(doc).items()}


def containers_of(doc: Document) -> dict[str, str]:
    """Placeholder id -> the journal its sentence names (query.container-title), where it names one."""
    return {key: search.container for key, search in placeholder_search.placeholder_searches(doc).items()
            if search.container}


SENTENCE = ("A study published in the Journal of Ethnopharmacology (reference needed) found that mitragynine has "
            "analgesic properties in mice.\n")


def test_placeholder_sentence_becomes_a_query_of_its_content_and_its_journal() -> None:
    doc = read_draft("d.md", SENTENCE, "markdown")
    queries = queries_of(doc)
    assert list(queries) == ["placeholder:d.md:1"]
    query = queries["placeholder:d.md:1"]
    assert "mitragynine" in query and "analgesic" in query
    assert "needed" not in query and "Ethnopharmacology" not in query and "study" not in query
    titles = containers_of(doc)
    assert titles == {"placeholder:d.md:1": "Journal of Ethnopharmacology"}


def test_a_sentence_over_two_lines_is_keyed_on_both_lines() -> None:
    text = ("Mice given mitragynine showed less pain in the hot-plate test\n"
            "than controls (reference needed). Water is wet.\n")
    queries = queries_of(read_draft("d.md", text, "markdown"))
    assert set(queries) == {"placeholder:d.md:1", "placeholder:d.md:2"}
    assert "hot-plate" in queries["placeholder:d.md:2"]


def test_placeholders_the_placeholder_rules_find_are_searched_and_stripped() -> None:
    text = ("The FDA has warned consumers against kratom [Link to FDA statement].\n"
            "A 2021 survey found that XX% of users (Author, Year) reduced their opioid use.\n"
            "The numbers come from the survey. TODO check them.\n")
    queries = queries_of(read_draft("d.md", text, "markdown"))
    assert set(queries) == {"placeholder:d.md:1", "placeholder:d.md:2"}
    assert "Link" not in queries["placeholder:d.md:1"] and "kratom" in queries["placeholder:d.md:1"]
    assert "XX" not in queries["placeholder:d.md:2"] and "Author" not in queries["placeholder:d.md:2"]


@pytest.mark.parametrize(
    "text",
    ["Mitragynine has analgesic properties in mice.\n", "See [citation needed].\n"],
    ids=["no placeholder, no query", "a placeholder with nothing to search for"],
)
def test_no_query_without_something_to_search(text: str) -> None:
    assert placeholder_search.placeholder_searches(read_draft("d.md", text, "markdown")) == {}


REMOBILIZATION = ("A study in the Journal of Orthopaedic Research (reference needed) found that a growth hormone "
                  "secretagogue increases muscle strength during remobilization in dogs.\n")


def test_suggestion_lists_up_to_three_candidates_from_a_local_crossref(crossref_url: str, tmp_path: Path) -> None:
    options = Options(crossref_url=crossref_url, mailto="test@example.org", timeout=2.0, max_retries=1)
    service = CrossrefService(crossref_settings(options), Cache(tmp_path / "cache"))
    doc = read_draft("d.md", REMOBILIZATION, "markdown")
    queries = queries_of(doc)
    resolution = service.search(queries, containers_of(doc))["placeholder:d.md:1"]
    [params] = _Handler.seen
    assert "secretagogue" in params["query.bibliographic"][0]
    assert params["query.container-title"] == ["Journal of Orthopaedic Research"]
    suggestion = placeholder_candidates.placeholder_suggestion(resolution)
    assert suggestion is not None and suggestion.startswith("candidate works to verify")
    assert suggestion.count("https://doi.org/") == placeholder_candidates.MAX_SUGGESTIONS
    first = suggestion.split("; 2) ")[0]
    assert "Lieber et al. (1997)" in first and "Growth hormone secretagogue" in first
    assert "Journal of Orthopaedic Research" in first and "https://doi.org/10.1002/jor.1100150407" in first
    assert "10.3892/ijo_00000353" not in suggestion  # the fourth hit is left out


def _evidence(doc: Document, options: Options) -> DocumentEvidence:
    """What check() hands the rules of one document: resolve (network, cache), then its DocumentEvidence."""
    from kratomref.check import evidence_for, resolve

    cache = Cache(Path(options.cache_dir or "."))
    try:
        return evidence_for(doc, resolve([doc], options, cache))
    finally:
        cache.close()


def test_the_pipeline_hands_candidates_to_the_placeholder_finding(crossref_url: str, tmp_path: Path) -> None:
    """What the placeholder rules (KR101/KR102) call for their finding's suggestion, after a real resolve."""
    draft = tmp_path / "draft.md"
    draft.write_text("# Growth hormone\n\n" + REMOBILIZATION, encoding="utf-8")
    options = Options(paths=(str(draft),), crossref_url=crossref_url, mailto="t@example.org", timeout=2.0,
                      max_retries=1, cache_dir=str(tmp_path / "cache"))
    doc = readers.read(str(draft))
    evidence = _evidence(doc, options)
    suggestion = placeholder_candidates.placeholder_candidates(doc, 3, evidence)
    assert suggestion is not None and "https://doi.org/10.1002/jor.1100150407" in suggestion
    assert placeholder_candidates.placeholder_candidates(doc, 1, evidence) is None  # the heading: no placeholder

    searches = len(_Handler.seen)
    again = _evidence(doc, options)  # a second run is answered from the cache
    assert len(_Handler.seen) == searches
    assert placeholder_candidates.placeholder_candidates(doc, 3, again) == suggestion


def test_the_placeholder_finding_names_the_candidate_works(crossref_url: str, tmp_path: Path) -> None:
    """End to end: the KR101 finding a user reads carries the works Crossref found, best first."""
    from kratomref.check import check

    draft = tmp_path / "draft.md"
    draft.write_text("# Growth hormone\n\n" + REMOBILIZATION, encoding="utf-8")
    options = Options(paths=(str(draft),), crossref_url=crossref_url, mailto="t@example.org", timeout=2.0,
                      max_retries=1, cache_dir=str(tmp_path / "cache"), archive=False)
    report = check(options)
    placeholders = [f for f in report.findings if f.rule.code == "KR101" and f.location.line == 3]
    assert placeholders, [(f.rule.code, f.location.line) for f in report.findings]
    assert "https://doi.org/10.1002/jor.1100150407" in (placeholders[0].suggestion or "")
    assert "verify" in (placeholders[0].suggestion or "")

    offline = check(dataclasses.replace(options, offline=True, use_cache=False))
    suggestion = next(f.suggestion for f in offline.findings if f.rule.code == "KR101" and f.location.line == 3)
    assert "10.1002/jor.1100150407" not in (suggestion or "")


def test_offline_makes_no_placeholder_search(crossref_url: str, tmp_path: Path) -> None:
    draft = tmp_path / "draft.md"
    draft.write_text(REMOBILIZATION, encoding="utf-8")
    options = Options(paths=(str(draft),), crossref_url=crossref_url, offline=True,
                      cache_dir=str(tmp_path / "cache"))
    doc = readers.read(str(draft))
    evidence = _evidence(doc, options)
    assert _Handler.seen == []
    assert placeholder_candidates.placeholder_candidates(doc, 1, evidence) is None


def test_offline_search_gives_no_suggestion() -> None:
    offline = SearchResolution("q", Lookup.UNVERIFIED, reason="offline")
    assert placeholder_candidates.placeholder_suggestion(offline) is None


def test_expand_attaches_the_bibliography_once(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text((FIXTURES / "drafts" / "latex" / "refs.bib").read_text())
    (tmp_path / "p.tex").write_text("Text \\cite{hughes2018}.\n\\bibliography{refs}\n")
    docs = readers.expand([readers.read(str(tmp_path / "p.tex")), readers.read(str(tmp_path / "refs.bib"))])
    assert [d.format for d in docs] == ["latex"]
    assert [r.key for r in docs[0].references] == ["hughes2018", "baker2008", "unused2001"]
    assert [c.resolved_key for c in docs[0].citations] == ["hughes2018"]


def test_a_missing_bibliography_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "p.tex").write_text("Text \\cite{a}.\n\\addbibresource{nowhere.bib}\n")
    [doc] = readers.expand([readers.read(str(tmp_path / "p.tex"))])
    assert [p.code for p in doc.problems] == ["KR002"]


def test_check_reports_latex_findings_offline(tmp_path: Path) -> None:
    from kratomref.check import check

    paper = FIXTURES / "drafts" / "latex" / "paper.tex"
    options = Options(paths=(str(paper),), offline=True, cache_dir=str(tmp_path / "cache"))
    report = check(options)
    found = {(f.rule.code, Path(f.location.file).name, f.location.line) for f in report.findings}
    assert ("KR501", "paper.tex", 6) in found
    assert ("KR502", "refs.bib", 15) not in found, "BibTeX prints only the cited entries"
    again = check(dataclasses.replace(options, uncited_bib=True))
    assert ("KR502", "refs.bib", 15) in {(f.rule.code, Path(f.location.file).name, f.location.line)
                                          for f in again.findings}


def test_candidates_are_formatted_from_evidence_even_when_fields_are_missing() -> None:
    doc = read_draft("d.md", SENTENCE, "markdown")
    works = ({"DOI": "10.1/a", "title": ["Analgesic effects of mitragynine"], "container-title": ["J Ethnopharmacol"],
              "author": [{"family": "Kruegel"}, {"family": "Grundmann"}], "issued": {"date-parts": [[2019]]}},
             {"DOI": "10.1/b", "title": [], "author": [{"name": "Kratom Study Group"}]})
    evidence = DocumentEvidence(placeholders={"placeholder:d.md:1": SearchResolution("q", Lookup.FOUND, works)})
    suggestion = placeholder_candidates.placeholder_candidates(doc, 1, evidence)
    assert suggestion == (
        "candidate works to verify before citing (Crossref search on this sentence, best first): "
        "1) Kruegel et al. (2019), “Analgesic effects of mitragynine”, J Ethnopharmacol, https://doi.org/10.1/a; "
        "2) Kratom Study Group, https://doi.org/10.1/b")
    assert placeholder_candidates.placeholder_candidates(doc, 2, evidence) is None
    empty = DocumentEvidence(placeholders={"placeholder:d.md:1": SearchResolution("q", Lookup.FOUND, ())})
    assert placeholder_candidates.placeholder_candidates(doc, 1, empty) is None
