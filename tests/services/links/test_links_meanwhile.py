"""`check` fetches the links while Crossref is asked: the two overlap, and the findings are the same whichever
of them finishes first."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from link_farm import Farm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "crossref"))
from crossref_server import FakeCrossref
from local_server import Handler, running, send_body

from kratomref import check as check_module
from kratomref.check import check
from kratomref.model import Report
from kratomref.options import Options

LIEBER = "10.1002/jor.1100150407"  # a recorded Crossref work


def write_bib(tmp_path: Path, farm: Farm) -> Path:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{lieber1997,\n"
        "  author = {Lieber, Richard L. and Jacks, Thomas M. and Mohler, Randall L.},\n"
        "  title = {Growth hormone secretagogue increases muscle strength during remobilization after canine\n"
        "           hindlimb immobilization},\n"
        "  journal = {J. Orthop. Res.}, year = {1997}, volume = {15}, number = {4}, pages = {519--527},\n"
        f"  doi = {{{LIEBER}}}\n}}\n\n"
        "@online{dead,\n  author = {{Kratom Agency}},\n  title = {A withdrawn report},\n  year = {2021},\n"
        f"  url = {{{farm.url('/missing')}}}\n}}\n\n"
        "@online{moved,\n  author = {{Kratom Agency}},\n  title = {The moved report},\n  year = {2021},\n"
        f"  url = {{{farm.url('/moved')}}}\n}}\n\n"
        "@online{working,\n  author = {{Kratom Agency}},\n  title = {Kratom: a specific statement},\n"
        f"  year = {{2021}},\n  url = {{{farm.url('/ok')}}}\n}}\n",
        encoding="utf-8",
    )
    return bib


def options_for(bib: Path, crossref: FakeCrossref) -> Options:
    return Options(
        paths=(str(bib),), crossref_url=crossref.url, doi_url=crossref.url, mailto="test@example.org",
        allow_private=True, archive=False, use_cache=False, timeout=5.0, use_openalex=False, use_datacite=False,
        use_arxiv=False, use_pubmed=False, use_dblp=False, use_openlibrary=False,
        ignore=("KR102",),  # the entry rules' opinion of a link to 127.0.0.1
    )


def what_a_user_sees(report: Report) -> tuple[set[tuple[str, str | None, int | None, str]], dict[str, str]]:
    findings = {(f.rule.code, f.location.key, f.location.line, f.message) for f in report.findings}
    verdicts = {r.reference.key: r.verdict.value for r in report.results}
    return findings, verdicts


def test_links_are_fetched_while_crossref_is_asked(farm: Farm, crossref: FakeCrossref, tmp_path: Path) -> None:
    bib = write_bib(tmp_path, farm)
    options = options_for(bib, crossref)

    quick = what_a_user_sees(check(options))  # Crossref answers at once

    crossref.seen.clear()
    crossref.latency = 1.0  # now every Crossref answer takes a second
    started = time.monotonic()
    slow = what_a_user_sees(check(options))
    links = [r for r in farm.site.requests if r.received >= started]
    assert links and crossref.seen, "both the links and Crossref were asked"
    first_answer = min(s.at for s in crossref.seen) + crossref.latency
    assert max(r.received for r in links) < first_answer, "every link was fetched before Crossref's first answer"

    assert slow == quick, "the same findings and verdicts whichever finished first"
    findings, verdicts = slow
    codes = {(code, key) for code, key, _, _ in findings}
    assert {("KR301", "dead"), ("KR303", "moved")} <= codes, codes
    assert verdicts == {"lieber1997": "verified", "dead": "problem", "moved": "verified",
                        "working": "verified"}, "a moved link still works: KR303 is advice"


def test_a_failing_link_check_fails_the_run(
    farm: Farm, crossref: FakeCrossref, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What goes wrong in the background is raised in the run, not lost with the thread."""
    from kratomref.services.links import LinkChecker

    def broken(self: LinkChecker, urls: list[str], years: object = None) -> None:
        raise RuntimeError("the link check failed")

    monkeypatch.setattr(LinkChecker, "check", broken)
    with pytest.raises(RuntimeError, match="the link check failed"):
        check(options_for(write_bib(tmp_path, farm), crossref))



def test_the_rules_and_report_writers_load_while_the_links_are_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the run needs after the last answer is loaded while the link workers wait on the network."""
    answer = threading.Event()  # the page answers once check() has called its warm_up

    class Slow(Handler):
        def do_GET(self) -> None:
            answer.wait(10)
            send_body(self, b"<!doctype html><title>Kratom survey 2021</title><h1>Kratom survey 2021</h1>", "text/html")

    calls: list[bool] = []

    def warm_up() -> None:
        calls.append(answer.is_set())
        answer.set()

    monkeypatch.setattr(check_module, "WARM_UP_AFTER", 0.0)
    with running(Slow) as base:
        draft = tmp_path / "draft.md"
        draft.write_text(f"# Notes\n\nSee [the survey]({base}/survey-2021).\n", encoding="utf-8")
        options = Options(paths=(str(draft),), allow_private=True, archive=False, use_cache=False, timeout=20.0,
                          select=("KR3",))
        report = check(options, warm_up=warm_up)
    assert calls == [False], "called once, while the link was still unanswered"
    assert [f.rule.code for f in report.findings if f.rule.code in ("KR301", "KR302")] == [], "the link works"
