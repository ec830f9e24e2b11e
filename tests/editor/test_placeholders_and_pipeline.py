"""Issue 9: placeholder searches against a local Crossref server, and LaTeX/pandoc through the pipeline."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

import kratomref.readers as readers
from kratomref.model import Lookup, SearchResolution
from kratomref.options import Options
from kratomref.readers.text import read_draft
from kratomref.rules import citations
from kratomref.services.cache import Cache
from kratomref.services.crossref import CrossrefService

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECORDED = json.loads((FIXTURES / "crossref" / "works-query-ecology-rows2.json").read_text())


class _Handler(BaseHTTPRequestHandler):
    queries: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        params = parse_qs(urlparse(self.path).query)
        _Handler.queries.append(params.get("query.bibliographic", [""])[0])
        body = json.dumps(RECORDED).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def crossref_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _Handler.queries = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


SENTENCE = ("A study published in the Journal of Ethnopharmacology (reference needed) found that mitragynine has "
            "analgesic properties in mice.\n")


def test_placeholder_sentence_becomes_a_query_with_its_journal_and_content() -> None:
    queries = citations.placeholder_queries(read_draft("d.md", SENTENCE, "markdown"))
    assert list(queries) == ["placeholder:d.md:1"]
    query = queries["placeholder:d.md:1"]
    assert query.startswith("Journal of Ethnopharmacology") and "mitragynine" in query and "needed" not in query


@pytest.mark.parametrize(
    "text",
    ["Mitragynine has analgesic properties in mice.\n", "See [citation needed].\n"],
    ids=["no placeholder, no query", "a placeholder with nothing to search for"],
)
def test_no_query_without_something_to_search(text: str) -> None:
    assert citations.placeholder_queries(read_draft("d.md", text, "markdown")) == {}


def test_suggestion_lists_up_to_three_candidates_from_a_local_crossref(crossref_url: str, tmp_path: Path) -> None:
    options = Options(crossref_url=crossref_url, mailto="test@example.org", timeout=2.0, max_retries=1)
    service = CrossrefService(options, Cache(tmp_path / "cache"))
    queries = citations.placeholder_queries(read_draft("d.md", SENTENCE, "markdown"))
    resolution = service.search(queries)["placeholder:d.md:1"]
    suggestion = citations.placeholder_suggestion(resolution)
    assert _Handler.queries and "mitragynine" in _Handler.queries[0]
    assert suggestion is not None and suggestion.startswith("candidate works to verify")
    assert "https://doi.org/10.1093/obo/9780199830060-0238" in suggestion
    assert suggestion.count("https://doi.org/") <= citations.MAX_SUGGESTIONS


def test_offline_search_gives_no_suggestion() -> None:
    assert citations.placeholder_suggestion(SearchResolution("q", Lookup.UNVERIFIED, reason="offline")) is None


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
    assert ("KR502", "refs.bib", 15) in found
