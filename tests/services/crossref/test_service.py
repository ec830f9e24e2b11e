"""CrossrefService against a local Crossref: batching, fallbacks, other agencies, 429s, outages, cache."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import socket
from pathlib import Path

import pytest
from crossref_server import NOT_FOUND_BODY, RECORDS, FakeCrossref, Seen, serve

from kratomref.check import crossref_settings
from kratomref.model import Lookup
from kratomref.options import Options
from kratomref.services import clock
from kratomref.services.cache import Cache
from kratomref.services.crossref import MAX_URL_LENGTH, CrossrefService

A = "10.1371/journal.pone.0033693"
B = "10.1038/srep16696"
C = "10.1002/jor.1100150407"
ARXIV = "10.48550/arxiv.2101.00001"
FAKE = "10.1371/notarealdoi"


def crossref_service(options: Options, cache: Cache) -> CrossrefService:
    """The service as a run builds it: the settings check.py maps out of the options."""
    return CrossrefService(crossref_settings(options), cache)


def resolve(options: Options, cache: Cache, dois: list[str]) -> tuple[CrossrefService, dict[str, Lookup]]:
    service = crossref_service(options, cache)
    results = service.resolve_dois(dois)
    return service, {doi: r.status for doi, r in results.items()}


def test_dois_crossref_has_are_resolved_in_one_batch_request(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    dois = sorted(RECORDS)
    service = crossref_service(options, cache)
    results = service.resolve_dois(dois)
    assert {d: r.status for d, r in results.items()} == {d: Lookup.FOUND for d in dois}
    assert results[A].record is not None and results[A].record["DOI"].lower() == A
    assert results[A].agency == "crossref"
    assert crossref.count() == 1 and crossref.count("batch") == 1
    assert service.stats.requests == 1


def test_many_dois_are_split_into_batches_whose_urls_stay_short(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    extra = {f"10.5555/kratom.test.{i:04d}.with-a-longish-suffix": i for i in range(250)}
    for doi in extra:
        crossref.records[doi] = dict(RECORDS[A], DOI=doi)
    _, statuses = resolve(options, cache, list(extra))
    assert set(statuses.values()) == {Lookup.FOUND}
    batches = [s for s in crossref.seen if s.kind == "batch"]
    assert 3 <= len(batches) <= 5
    assert all(len(crossref.url + s.target) <= MAX_URL_LENGTH for s in batches)
    assert crossref.count("single") == 0


def test_a_doi_missing_from_its_batch_is_asked_for_alone(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.left_out_of_batches.add(B)
    _, statuses = resolve(options, cache, [A, B, C])
    assert statuses == {A: Lookup.FOUND, B: Lookup.FOUND, C: Lookup.FOUND}
    assert [s.path for s in crossref.seen if s.kind == "single"] == [f"/works/{B}"]


def test_a_datacite_doi_is_found_with_its_agency_and_no_record(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.other_agencies[ARXIV] = "DataCite"
    results = crossref_service(options, cache).resolve_dois([ARXIV])
    assert results[ARXIV].status is Lookup.FOUND
    assert results[ARXIV].agency == "datacite" and results[ARXIV].record is None
    assert {s.kind for s in crossref.seen} == {"batch", "single", "handle", "agency"}


def test_a_doi_no_agency_has_is_not_found(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    _, statuses = resolve(options, cache, [FAKE])
    assert statuses == {FAKE: Lookup.NOT_FOUND}


def test_not_found_needs_doi_org_to_agree(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    def handle_down(seen: Seen) -> tuple[int, str, dict[str, str]] | None:
        return (503, "down", {}) if seen.kind == "handle" else None

    crossref.fault = handle_down
    results = crossref_service(options, cache).resolve_dois([FAKE])
    assert results[FAKE].status is Lookup.UNVERIFIED
    assert "503" in (results[FAKE].reason or "")


def test_a_429_slows_the_client_down_and_the_doi_is_still_verified(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    def first_request_throttled(seen: Seen) -> tuple[int, str, dict[str, str]] | None:
        if len(crossref.seen) == 1:
            return 429, "Too Many Requests", {"Retry-After": "1", "Content-Type": "text/plain"}
        return None

    crossref.fault = first_request_throttled
    service = crossref_service(options, cache)
    statuses = {d: r.status for d, r in service.resolve_dois([A, B]).items()}
    assert statuses == {A: Lookup.FOUND, B: Lookup.FOUND}
    assert service.stats.rate_limited == 1
    assert crossref.count("batch") == 2
    assert crossref.seen[1].at - crossref.seen[0].at >= 0.95  # Retry-After honoured
    assert service.limiter.pacers["list"].rate < 3.0  # and the list rate lowered for the rest of the run


def test_endless_429s_leave_the_doi_unverified_not_not_found(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.fault = lambda seen: (429, "Too Many Requests", {"Retry-After": "3600"})
    results = crossref_service(options, cache).resolve_dois([A])
    assert results[A].status is Lookup.UNVERIFIED
    assert "429" in (results[A].reason or "") and crossref.count() == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


OUTAGES = {
    "every request answers 500": lambda seen: (500, "Internal Server Error", {"Content-Type": "text/plain"}),
    "malformed JSON": lambda seen: (200, '{"status": "ok", "message": {', {"Content-Type": "application/json"}),
    "an HTML page with status 200": lambda seen: (200, "<html>Log in</html>", {"Content-Type": "text/html"}),
    "items that are not a list": lambda seen: (
        200, json.dumps({"status": "ok", "message": {"items": "nope"}}), {"Content-Type": "application/json"}),
    "a message that is a list": lambda seen: (
        200, json.dumps({"status": "ok", "message": []}), {"Content-Type": "application/json"}),
}


@pytest.mark.parametrize("fault", OUTAGES.values(), ids=OUTAGES.keys())
def test_an_outage_leaves_dois_unverified_with_a_reason_and_caches_nothing(
    crossref: FakeCrossref, options: Options, cache: Cache, fault: object
) -> None:
    crossref.fault = fault  # type: ignore[assignment]
    results = crossref_service(dataclasses.replace(options, max_retries=1), cache).resolve_dois([A, FAKE])
    assert {r.status for r in results.values()} == {Lookup.UNVERIFIED}
    assert all(r.reason for r in results.values())
    crossref.fault = None
    crossref.seen.clear()
    _, statuses = resolve(options, cache, [A, FAKE])
    assert statuses == {A: Lookup.FOUND, FAKE: Lookup.NOT_FOUND}
    assert crossref.count() > 0


def test_connection_refused_leaves_dois_unverified(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    options = Options(crossref_url=url, doi_url=url, timeout=1.0, max_retries=1)
    results = crossref_service(options, Cache(tmp_path)).resolve_dois([A])
    assert results[A].status is Lookup.UNVERIFIED
    assert "unreachable" in (results[A].reason or "")


def test_a_timeout_leaves_dois_unverified(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    crossref.latency = 1.5
    results = crossref_service(dataclasses.replace(options, timeout=0.3, max_retries=0), cache).resolve_dois([A])
    assert results[A].status is Lookup.UNVERIFIED
    assert "timed out" in (results[A].reason or "")


def test_a_rerun_answers_from_the_cache_without_a_request(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.other_agencies[ARXIV] = "DataCite"
    first = crossref_service(options, cache).resolve_dois([A, B, FAKE, ARXIV])
    crossref.seen.clear()
    service = crossref_service(options, cache)
    second = service.resolve_dois([A, B, FAKE, ARXIV])
    assert crossref.count() == 0
    assert {d: (r.status, r.agency) for d, r in second.items()} == {
        d: (r.status, r.agency) for d, r in first.items()
    }
    assert all(r.from_cache for r in second.values()) and service.stats.cache_hits == 4


def test_offline_answers_from_the_cache_and_leaves_the_rest_unverified(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref_service(options, cache).resolve_dois([A])
    crossref.seen.clear()
    results = crossref_service(dataclasses.replace(options, offline=True), cache).resolve_dois([A, B])
    assert results[A].status is Lookup.FOUND
    assert (results[B].status, results[B].reason) == (Lookup.UNVERIFIED, "offline")
    assert crossref.count() == 0


def test_a_disabled_cache_is_neither_read_nor_written(
    crossref: FakeCrossref, options: Options, tmp_path: Path
) -> None:
    cache = Cache(tmp_path, enabled=False)
    resolve(options, cache, [A])
    resolve(options, cache, [A])
    assert crossref.count("batch") == 2


def test_the_client_never_exceeds_the_announced_concurrency(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.headers["x-concurrency-limit"] = "1"
    crossref.latency = 0.05
    crossref.left_out_of_batches.update(RECORDS)  # every DOI falls back to a single request
    service = crossref_service(options, cache)
    service.resolve_dois(sorted(RECORDS))
    assert crossref.max_in_flight == 1
    assert service.limiter.cap.limit == 1


def test_the_public_pool_is_used_without_a_mailto(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    crossref.headers.clear()
    crossref.left_out_of_batches.update([A, B, C])
    crossref.latency = 0.02
    service = crossref_service(dataclasses.replace(options, mailto=None), cache)
    service.resolve_dois([A, B, C])
    assert service.stats.pool == "public"
    singles = [s.at for s in crossref.seen if s.kind == "single"]
    assert crossref.max_in_flight == 1
    # the public pool's 5 single requests/s, as the server sees them: one gap between two arrivals can shrink
    # when the machine is busy, so it is the span of the three that is asserted
    assert len(singles) == 3
    assert singles[-1] - singles[0] >= 2 * 0.19


def test_the_user_agent_names_kratomref_and_the_mailto(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    crossref.left_out_of_batches.add(A)
    resolve(options, cache, [A])
    agents = [s.headers.get("User-Agent", "") for s in crossref.seen if s.kind != "handle"]
    assert len(agents) == 2
    assert all("kratomref/" in a and "mailto:test@example.org" in a for a in agents)


def test_a_search_returns_candidates_keyed_by_the_callers_ids(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.search_results["umbilical cord"] = ["10.1016/j.neurobiolaging.2010.03.024"]
    service = crossref_service(options, cache)
    results = service.search({"ref-1": "Lee umbilical cord blood Alzheimer 2012", "ref-2": "nothing like it"})
    assert results["ref-1"].status is Lookup.FOUND
    assert [c["DOI"].lower() for c in results["ref-1"].candidates] == ["10.1016/j.neurobiolaging.2010.03.024"]
    assert results["ref-2"].status is Lookup.FOUND and results["ref-2"].candidates == ()
    assert crossref.seen[0].query["rows"] == ["5"]
    crossref.seen.clear()
    again = crossref_service(options, cache).search({"x": "Lee umbilical cord blood Alzheimer 2012"})
    assert again["x"].from_cache and crossref.count() == 0


def test_a_failed_search_is_unverified(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    crossref.fault = lambda seen: (502, "Bad Gateway", {"Content-Type": "text/plain"})
    results = crossref_service(dataclasses.replace(options, max_retries=0), cache).search({"r": "anything at all"})
    assert results["r"].status is Lookup.UNVERIFIED and "502" in (results["r"].reason or "")


def test_a_batch_crossref_refuses_falls_back_to_single_requests(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.fault = lambda seen: (400, "bad filter", {"Content-Type": "text/plain"}) if seen.kind == "batch" else None
    _, statuses = resolve(options, cache, [A, FAKE])
    assert statuses == {A: Lookup.FOUND, FAKE: Lookup.NOT_FOUND}
    assert crossref.count("single") == 2


def test_a_passing_503_is_retried_and_the_doi_verified(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    crossref.fault = lambda seen: (503, "busy", {"Content-Type": "text/plain"}) if len(crossref.seen) == 1 else None
    service = crossref_service(options, cache)
    assert service.resolve_dois([A])[A].status is Lookup.FOUND
    assert service.stats.retries == 1 and crossref.count("batch") == 2


def test_a_server_announcing_the_public_pool_slows_a_polite_client(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.headers.update({"x-api-pool": "public", "x-concurrency-limit": "1", "x-rate-limit-limit": "5"})
    service = crossref_service(options, cache)
    service.resolve_dois([A])
    state = service.limiter.state
    assert (state.pool, state.single, state.list, state.concurrency) == ("public", 5.0, 1.0, 1)


# --- regressions: a batch 404, cache keys per service, searches behind a breaker, 429 pacing, User-Agent --


def test_a_batch_answering_404_is_a_failed_batch_not_a_crash(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    """A wrong path in --crossref-url, a mirror without filters or a proxy's 404 page."""
    not_found = (404, NOT_FOUND_BODY, {"Content-Type": "text/plain"})
    crossref.fault = lambda seen: not_found if seen.kind == "batch" else None
    _, statuses = resolve(options, cache, [A, B])
    assert statuses == {A: Lookup.FOUND, B: Lookup.FOUND}  # found by the single look-ups it falls back on

    crossref.fault = lambda seen: not_found if seen.kind == "batch" else (500, "down", {})
    service = crossref_service(dataclasses.replace(options, max_retries=0), Cache(cache.path.parent / "other"))
    results = service.resolve_dois([C])
    assert results[C].status is Lookup.UNVERIFIED
    assert results[C].reason


def test_answers_from_one_service_are_not_reused_against_another(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    """A test server or a mirror named in a repository's config must not plant answers in a shared cache."""
    crossref.records[FAKE] = dict(RECORDS[A], DOI=FAKE)  # the planted answer
    assert resolve(options, cache, [FAKE])[1] == {FAKE: Lookup.FOUND}
    crossref.search_results["planted"] = [A]
    assert crossref_service(options, cache).search({"r": "planted query"})["r"].candidates

    honest = FakeCrossref()
    server = serve(honest)
    try:
        elsewhere = dataclasses.replace(options, crossref_url=honest.url, doi_url=honest.url)
        assert resolve(elsewhere, cache, [FAKE])[1] == {FAKE: Lookup.NOT_FOUND}
        assert crossref_service(elsewhere, cache).search({"r": "planted query"})["r"].candidates == ()
        assert honest.count("batch") == 1 and honest.count("search") == 1
        # doi.org's answer is part of a DOI's verdict: another --doi-url is another key too
        crossref.seen.clear()
        crossref_service(dataclasses.replace(options, doi_url=honest.url), cache).resolve_dois([FAKE])
        assert crossref.count("batch") == 1
    finally:
        server.shutdown()
        server.server_close()


def test_searches_stop_after_two_failures_when_crossref_is_down(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.fault = lambda seen: (503, "Service Unavailable", {"Content-Type": "text/plain"})
    queries = {f"ref-{i}": f"Author {i} some title {i} 2020" for i in range(30)}
    started = clock.current().monotonic()  # the services' clock: real time plus the backoffs waited
    results = crossref_service(dataclasses.replace(options, max_retries=1), cache).search(queries)
    elapsed = clock.current().monotonic() - started
    assert {r.status for r in results.values()} == {Lookup.UNVERIFIED}
    assert all("503" in (r.reason or "") for r in results.values())
    assert crossref.count("search") == 4  # two probes, each tried twice
    assert elapsed < 2.5  # 0.5 s of backoff per probe, and none after its last attempt


def test_no_backoff_after_the_last_attempt(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    crossref.fault = lambda seen: (503, "Service Unavailable", {"Content-Type": "text/plain"})
    started = clock.current().monotonic()  # the services' clock: real time plus the backoffs waited
    results = crossref_service(dataclasses.replace(options, max_retries=0), cache).search({"r": "anything"})
    assert results["r"].status is Lookup.UNVERIFIED
    assert clock.current().monotonic() - started < 0.4


RETRY_AFTER = 0.3  # Crossref sends whole seconds; a fraction keeps the test fast and the windows the same


@pytest.mark.real_clock  # when each request lands against the Retry-After windows: threads in real time
def test_scattered_429s_slow_the_client_once_per_window_and_it_never_sends_inside_one(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    dois = [f"10.5555/kratom.pace.{i:02d}" for i in range(12)]  # 20 take 8 s: too slow for the suite
    for doi in dois:
        crossref.records[doi] = dict(RECORDS[A], DOI=doi)
    crossref.left_out_of_batches.update(dois)  # each DOI needs a single look-up
    counter = itertools.count(1)
    throttled: list[float] = []

    def every_third(seen: Seen) -> tuple[int, str, dict[str, str]] | None:
        if next(counter) % 3 == 0:
            throttled.append(clock.current().monotonic())  # the services' (fake) clock, as Seen.at
            return 429, "Too Many Requests", {"Retry-After": f"{RETRY_AFTER}", "Content-Type": "text/plain"}
        return None

    crossref.fault = every_third
    service = crossref_service(dataclasses.replace(options, max_retries=10), cache)
    started = clock.current().monotonic()  # what a user would wait, with the Retry-After pauses
    statuses = {d: r.status for d, r in service.resolve_dois(dois).items()}
    elapsed = clock.current().monotonic() - started
    assert set(statuses.values()) == {Lookup.FOUND}
    assert elapsed < 7, f"12 DOIs took {elapsed:.1f} s"  # the old pace collapse took a minute
    assert service.limiter.pacers["single"].rate >= 5.0  # never below half the polite pool's 10/s
    for at in throttled:
        # A request already on its way when the 429 went out may land just after it; none later.
        inside = [s.at - at for s in crossref.seen if at + 0.05 < s.at < at + RETRY_AFTER - 0.02]
        assert not inside, f"requests sent {inside} s into a Retry-After window"


def test_the_rate_recovers_after_a_quiet_period() -> None:
    from kratomref.services.ratelimit import RECOVERY_AFTER, CrossrefLimiter

    limiter = CrossrefLimiter("polite")
    with limiter.request("single") as started:
        pass
    limiter.too_many("single", 0.0, started)
    limiter.too_many("single", 0.0, started)  # a second 429 from the same burst: no second halving
    assert limiter.pacers["single"].rate == 5.0
    for _ in range(RECOVERY_AFTER * 10):
        limiter.succeeded("single")
    assert limiter.pacers["single"].rate == 10.0  # back to the pool's limit, never above it


def test_the_user_agent_always_names_kratomref_and_appends_the_users_string(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    crossref.left_out_of_batches.add(FAKE)
    resolve(dataclasses.replace(options, user_agent="MyLab-CI/2.0"), cache, [FAKE])
    agents = {s.kind: s.headers.get("User-Agent", "") for s in crossref.seen}
    assert set(agents) == {"batch", "single", "handle", "agency"}
    for kind, agent in agents.items():
        assert re.search(r"kratomref/\d", agent), (kind, agent)
        assert agent.endswith("MyLab-CI/2.0"), (kind, agent)
    assert "mailto:test@example.org" in agents["batch"]


def test_a_retry_after_is_waited_out_before_asking_again(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    """Crossref's whole-second Retry-After, at its real size: the client waits it out (on the services'
    clock, which in these tests does not sleep; the server times requests by it) and asks again only after
    it, then gets its answer."""
    asked = itertools.count()

    def first_refused(seen: Seen) -> tuple[int, str, dict[str, str]] | None:
        if next(asked) == 0:
            return 429, "Too Many Requests", {"Retry-After": "5", "Content-Type": "text/plain"}
        return None

    crossref.fault = first_refused
    results = crossref_service(options, cache).resolve_dois([A])
    assert results[A].status is Lookup.FOUND
    assert len(crossref.seen) == 2
    assert crossref.seen[1].at - crossref.seen[0].at >= 5.0
