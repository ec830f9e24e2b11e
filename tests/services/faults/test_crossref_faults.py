"""Crossref and doi.org misbehaving: every affected reference stays unverified (exit 3), never
doi-not-found or reference-not-found; every other reference is still judged; nothing wrong is cached."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_crossref import (
    RECORDS,
    FakeCrossref,
    bibtex_entry,
    doi_of,
    is_agency,
    is_batch,
    is_crossref,
    is_handle,
    is_search,
    is_single,
)
from servers import HttpServer, RawServer, Reply, Request, closed_port, json_reply

from kratomref.check import check, crossref_settings, exit_code
from kratomref.cli import main
from kratomref.model import Lookup, Report, Verdict
from kratomref.options import Options
from kratomref.services import clock
from kratomref.services.cache import Cache

A = "10.1371/journal.pone.0033693"
B = "10.1038/srep16696"
C = "10.1002/jor.1100150407"
D = "10.1016/j.neurobiolaging.2010.03.024"  # cited without its DOI: found by a bibliographic search
KEYS = {A: "sadasivan2012", B: "tosatto2015", C: "lieber1997", D: "lee2012"}
DOIS = (A, B, C)
ALL = frozenset(KEYS)

# Codes that claim a reference is wrong: a fault must never produce them.
FALSE_ALARMS = {"KR202", "KR205"}  # doi-not-found, reference-not-found
TIMEOUT = 0.5  # seconds; the slow server answers after SLOW
SLOW = 3.0
TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def pipeline() -> None:
    """check() and the CLI need the whole pipeline: skip (not fail) until the lead's modules land."""
    for module in ("kratomref.selection", "kratomref.config", "kratomref.rules.crossref"):
        pytest.importorskip(module, reason=f"{module} has not landed yet")


@pytest.fixture
def bib(tmp_path: Path, pipeline: None) -> Path:
    path = tmp_path / "refs.bib"
    entries = [bibtex_entry(KEYS[doi], RECORDS[doi]) for doi in DOIS]
    entries.append(bibtex_entry(KEYS[D], RECORDS[D], with_doi=False))
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def options_for(bib: Path, url: str, cache_dir: Path) -> Options:
    return Options(
        paths=(str(bib),),
        crossref_url=url,
        doi_url=url,
        cache_dir=str(cache_dir),
        timeout=TIMEOUT,
        max_retries=1,
        archive=False,
        today=TODAY,
    )


def verdicts(report: Report) -> dict[str, Verdict]:
    return {r.reference.key: r.verdict for r in report.results}


def codes(report: Report) -> set[str]:
    return {f.rule.code for f in report.findings}


# --- faults -------------------------------------------------------------------------------------------

Fault = Callable[[Request], "Reply | None"]


def on(predicate: Callable[[Request], bool], reply: Reply) -> Fault:
    return lambda request: reply if predicate(request) else None


def every_crossref(reply: Reply) -> Fault:
    """Every Crossref and doi.org request gets `reply`."""
    return lambda request: reply


def for_dois(dois: set[str], reply: Reply) -> Fault:
    """Batched filters and searches fail; so do single look-ups of `dois`; the rest answer normally."""

    def fault(request: Request) -> Reply | None:
        if is_batch(request) or is_search(request):
            return reply
        if doi_of(request) in dois:
            return reply
        return None

    return fault


def empty_batch_then(single: Reply | None, handle: Reply | None = None) -> Fault:
    """The batched filter answers 200 with no items; single look-ups (with the agency route) and doi.org
    then do as told."""
    empty = json_reply('{"status":"ok","message-type":"work-list","message":{"total-results":0,"items":[]}}')

    def fault(request: Request) -> Reply | None:
        if is_batch(request):
            return empty
        if single is not None and (is_single(request) or is_agency(request)):
            return single
        if handle is not None and is_handle(request):
            return handle
        return None

    return fault


def batch_without(doi: str, single: Reply) -> Fault:
    """The batch answers for every DOI but `doi`; the single look-up of `doi` gets `single`."""

    def fault(request: Request) -> Reply | None:
        if is_batch(request):
            healthy = FakeCrossref({d: r for d, r in RECORDS.items() if d != doi})
            return healthy.healthy(request)
        if doi_of(request) == doi:
            return single
        return None

    return fault


def truncated_json(request: Request) -> Reply | None:
    """The healthy answer, cut off after a third of its bytes."""
    healthy = FakeCrossref().healthy(request)
    return Reply(healthy.status, healthy.body, healthy.headers, truncate=len(healthy.data) // 3)


SERVER_ERROR = Reply(500, "<html><body>Internal Server Error</body></html>", {"Content-Type": "text/html"})
BAD_GATEWAY = Reply(502, "<html><body>Bad Gateway</body></html>", {"Content-Type": "text/html"})
TOO_MANY = Reply(429, "Too Many Requests", {"Content-Type": "text/plain", "Retry-After": "1"})
TOO_MANY_NO_HINT = Reply(429, "Too Many Requests", {"Content-Type": "text/plain"})
TOO_MANY_FOR_AN_HOUR = Reply(429, "Too Many Requests", {"Content-Type": "text/plain", "Retry-After": "3600"})
SLOW_ANSWER = Reply(200, '{"status":"ok","message":{"items":[]}}', {"Content-Type": "application/json"}, delay=SLOW)
MALFORMED = json_reply('{"status": "ok", "message": {"items": [{"DOI": "10.1371/journal.pone.0033693", "title": [')
PROXY_PAGE = Reply(200, "<html><body>Please log in to the campus network</body></html>", {"Content-Type": "text/html"})
ITEMS_NOT_A_LIST = json_reply('{"status":"ok","message-type":"work-list","message":{"items":{"DOI":"10.1/x"}}}')
MESSAGE_A_LIST = json_reply('{"status":"ok","message-type":"work","message":["not", "a", "work"]}')
MESSAGE_NULL = json_reply('{"status":"ok","message":null}')
JSON_ARRAY = json_reply("[1, 2, 3]")
CROSSREF_404 = Reply(404, "Resource not found.", {"Content-Type": "text/plain"})


@dataclass(frozen=True)
class Case:
    fault: Fault | None  # None: nothing listens on the port at all
    affected: frozenset[str]  # DOIs (or D, searched) whose references must stay unverified
    bug: str | None = None  # a known bug this case exposes (the case is then a strict xfail)


CASES: dict[str, Case] = {
    "Crossref and doi.org down (connection refused)": Case(None, ALL),
    "every answer slower than the timeout": Case(on(is_crossref, SLOW_ANSWER), ALL),
    "every request answers 500": Case(every_crossref(SERVER_ERROR), ALL),
    "every request answers 502 from a proxy": Case(every_crossref(BAD_GATEWAY), ALL),
    "a storm of 429s with Retry-After": Case(every_crossref(TOO_MANY), ALL),
    "a storm of 429s without Retry-After": Case(every_crossref(TOO_MANY_NO_HINT), ALL),
    "JSON cut off in the middle of the body": Case(truncated_json, ALL),
    "malformed JSON": Case(every_crossref(MALFORMED), ALL),
    "an HTML login page with status 200": Case(every_crossref(PROXY_PAGE), ALL),
    "valid JSON whose items are not a list": Case(on(is_crossref, ITEMS_NOT_A_LIST), ALL),
    "valid JSON whose message is a list": Case(on(is_crossref, MESSAGE_A_LIST), ALL),
    "valid JSON whose message is null": Case(on(is_crossref, MESSAGE_NULL), ALL),
    "a JSON array instead of an object": Case(on(is_crossref, JSON_ARRAY), ALL),
    "an empty batch, then every single look-up answers 500": Case(
        empty_batch_then(SERVER_ERROR), frozenset(DOIS)
    ),
    "an empty batch, single look-ups 404 and doi.org down": Case(
        empty_batch_then(CROSSREF_404, SERVER_ERROR), frozenset(DOIS)
    ),
    "the batch omits one DOI and its single look-up answers 500": Case(
        batch_without(B, SERVER_ERROR), frozenset({B})
    ),
    "the batch omits one DOI and its single look-up times out": Case(
        batch_without(C, SLOW_ANSWER), frozenset({C})
    ),
    "only the bibliographic search answers 500": Case(on(is_search, SERVER_ERROR), frozenset({D})),
    "the batch answers 404, then every single look-up answers 500": Case(
        lambda r: CROSSREF_404 if is_batch(r) else SERVER_ERROR if is_crossref(r) else None, ALL
    ),
    "the batch and one single look-up fail, the others answer": Case(
        for_dois({B}, SERVER_ERROR), frozenset({B, D})
    ),
    "the batch and one single look-up time out, the others answer": Case(
        for_dois({C}, SLOW_ANSWER), frozenset({C, D})
    ),
}
CASE_PARAMS = [
    pytest.param(name, id=name, marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [])
    for name, case in CASES.items()
]


def _serve(fault: Fault | None, port: int) -> HttpServer | None:
    return None if fault is None else HttpServer(FakeCrossref(fault=fault), port=port).start()


@pytest.mark.parametrize("name", CASE_PARAMS)
def test_a_fault_leaves_the_affected_references_unverified_and_caches_nothing_wrong(
    name: str, bib: Path, tmp_path: Path
) -> None:
    case = CASES[name]
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    cache_dir = tmp_path / "cache"
    options = options_for(bib, url, cache_dir)

    server = _serve(case.fault, port)
    try:
        report = check(options)
    finally:
        if server is not None:
            server.close()

    seen = verdicts(report)
    for doi, key in KEYS.items():
        expected = Verdict.UNVERIFIED if doi in case.affected else Verdict.VERIFIED
        assert seen[key] is expected, f"{key} ({doi}): {seen[key]} {report.results}"
    assert not codes(report) & FALSE_ALARMS, [f.message for f in report.findings]
    for result in report.results:
        if result.verdict is Verdict.UNVERIFIED:
            assert result.reasons, f"{result.reference.key} is unverified without saying why"
    assert exit_code(report, options) == 3

    # The same cache, a healthy server on the same address: every reference is now judged on its merits.
    with HttpServer(FakeCrossref(), port=port):
        healthy = check(options)
    assert {k: v for k, v in verdicts(healthy).items() if k != KEYS[D]} == {
        KEYS[doi]: Verdict.VERIFIED for doi in DOIS
    }
    assert verdicts(healthy)[KEYS[D]] is not Verdict.UNVERIFIED
    assert not codes(healthy) & FALSE_ALARMS


def _query(doi: str) -> str:
    record = RECORDS[doi]
    return f"{record['author'][0]['family']} {record['issued']['date-parts'][0][0]} {record['title'][0]}"


def _resolve(url: str, cache_dir: Path) -> tuple[dict[str, Lookup], dict[str, Lookup], list[str]]:
    """What the Crossref service says about DOIS and about a search for D, and its reasons."""
    from kratomref.services.crossref import CrossrefService

    options = Options(crossref_url=url, doi_url=url, cache_dir=str(cache_dir), timeout=TIMEOUT, max_retries=1)
    cache = Cache(options.cache_dir)
    try:
        service = CrossrefService(crossref_settings(options), cache)
        dois = service.resolve_dois(list(DOIS))
        searches = service.search({KEYS[D]: _query(D)})
    finally:
        cache.close()
    reasons = [r.reason or "" for r in (*dois.values(), *searches.values()) if r.status is Lookup.UNVERIFIED]
    return {d: r.status for d, r in dois.items()}, {k: r.status for k, r in searches.items()}, reasons


@pytest.mark.parametrize("name", CASE_PARAMS)
def test_the_crossref_service_turns_a_fault_into_unverified_and_caches_nothing(name: str, tmp_path: Path) -> None:
    """The same faults, one layer down: the service's own answer, then the cache it leaves behind."""
    case = CASES[name]
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(case.fault, port)
    try:
        dois, searches, reasons = _resolve(url, tmp_path / "cache")
    finally:
        if server is not None:
            server.close()
    assert dois == {doi: Lookup.UNVERIFIED if doi in case.affected else Lookup.FOUND for doi in DOIS}
    assert searches == {KEYS[D]: Lookup.UNVERIFIED if D in case.affected else Lookup.FOUND}
    assert all(reasons), "an unverified look-up says why"

    with HttpServer(FakeCrossref(), port=port):
        dois, searches, _ = _resolve(url, tmp_path / "cache")
    assert set(dois.values()) == {Lookup.FOUND}
    assert searches == {KEYS[D]: Lookup.FOUND}


def test_a_healthy_server_verifies_every_reference_and_exits_0_or_flags_only_the_missing_doi(
    bib: Path, tmp_path: Path
) -> None:
    with HttpServer(FakeCrossref()) as server:
        options = options_for(bib, server.url, tmp_path / "cache")
        report = check(options)
    seen = verdicts(report)
    assert all(seen[KEYS[doi]] is Verdict.VERIFIED for doi in DOIS)
    assert "KR204" in codes(report)  # lee2012 cites a work Crossref has, without its DOI
    assert exit_code(report, options) == 0  # doi-missing is a warning; the default --fail-on is error


def test_a_doi_nobody_registered_is_still_reported_as_not_found(tmp_path: Path, pipeline: None) -> None:
    """The other direction: the fault tests above would pass vacuously if doi-not-found never fired."""
    bib = tmp_path / "refs.bib"
    fake = dict(RECORDS[A], DOI="10.1371/journal.pone.9999999")
    bib.write_text(bibtex_entry("invented", fake), encoding="utf-8")
    with HttpServer(FakeCrossref()) as server:
        report = check(options_for(bib, server.url, tmp_path / "cache"))
    assert "KR202" in codes(report)
    assert verdicts(report)["invented"] is Verdict.PROBLEM


def test_a_429_asking_for_an_hour_does_not_stall_the_run(tmp_path: Path) -> None:
    with HttpServer(FakeCrossref(fault=every_crossref(TOO_MANY_FOR_AN_HOUR))) as server:
        started = clock.current().monotonic()  # the services' clock: real time plus the waits
        dois, searches, reasons = _resolve(server.url, tmp_path / "cache")
        elapsed = clock.current().monotonic() - started
    assert set(dois.values()) | set(searches.values()) == {Lookup.UNVERIFIED}
    assert all("429" in reason for reason in reasons), reasons
    assert elapsed < 30, f"the run waited {elapsed:.0f} s for a Retry-After of an hour"


def test_the_cli_exits_3_and_says_unverified_when_crossref_is_down(bib: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(
        main,
        ["check", str(bib), "--crossref-url", url, "--doi-url", url, "--cache-dir", str(tmp_path / "c"),
         "--timeout", str(TIMEOUT), "--no-archive", "--today", TODAY.isoformat()],
    )
    assert result.exit_code == 3, result.output
    assert "unverified" in result.output.lower()
    assert "Traceback" not in result.output


def trickle(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """Headers at once, then the promised body one byte every 0.2 s: each read is quick, the whole is not."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        if closing.wait(0.2):
            return
        conn.sendall(b" ")


def test_a_server_trickling_its_answer_is_cut_off_at_the_timeout(tmp_path: Path) -> None:
    with RawServer(trickle) as server:
        options = Options(crossref_url=server.url, doi_url=server.url, timeout=TIMEOUT, max_retries=0)
        started = time.monotonic()
        cache = Cache(tmp_path / "cache")
        try:
            from kratomref.services.crossref import CrossrefService

            results = CrossrefService(crossref_settings(options), cache).resolve_dois([A])
        finally:
            cache.close()
        elapsed = time.monotonic() - started
    assert results[A].status is Lookup.UNVERIFIED
    assert results[A].reason == f"Crossref timed out after {TIMEOUT:g} s"
    assert elapsed < 3 * TIMEOUT + 1, f"a {TIMEOUT} s timeout let the run go on for {elapsed:.1f} s"
