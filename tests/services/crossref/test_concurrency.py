"""Crossref at its limits (issue 16): as many list requests at once as the pool grants, paced by its rate,
and a late start never squeezes the next request into the server's window."""

from __future__ import annotations

import itertools
import math

import pytest
from crossref_server import RECORDS, FakeCrossref, record

from kratomref.check import crossref_settings
from kratomref.options import Options
from kratomref.services.cache import Cache
from kratomref.services.crossref import CrossrefService, batches
from kratomref.services.ratelimit import SAFETY_MARGIN, Pacer


def crossref_service(options: Options, cache: Cache) -> CrossrefService:
    """The service as a run builds it: the settings check.py maps out of the options."""
    return CrossrefService(crossref_settings(options), cache)


def _dois(crossref: FakeCrossref, n: int) -> list[str]:
    """n DOIs the server holds (copies of a recorded work)."""
    template = next(iter(RECORDS))
    dois = [f"10.5555/concurrency.{i:04d}" for i in range(n)]
    crossref.records.update({doi: record(template, DOI=doi) for doi in dois})
    return dois


@pytest.mark.real_clock  # real answer latency against the pacing
def test_slow_batches_overlap_up_to_the_pools_concurrency(
    crossref: FakeCrossref, options: Options, cache: Cache
) -> None:
    """Each answer takes longer than the spacing of 3 list requests/s: a client sending one at a time would
    take len(batches) x latency; the polite pool allows 3 at once, and the client uses them."""
    dois = _dois(crossref, 600)
    plan = batches(dois, crossref.url)
    crossref.latency = 0.8
    service = crossref_service(options, cache)
    results = service.resolve_dois(dois)
    assert all(r.record is not None for r in results.values())
    starts = sorted(s.at for s in crossref.seen if s.kind == "batch")
    assert len(starts) == len(plan) >= 4
    assert crossref.max_in_flight >= 2  # overlapping, never more than the pool's 3
    assert crossref.max_in_flight <= 3
    # paced at 3/s as the server counts it: never 4 starts within a second, and no burst (services/ratelimit.Pacer
    # keeps windows, not every consecutive gap: after a thread that woke late, the next start may come sooner)
    assert min(b - a for a, b in zip(starts, starts[3:], strict=False)) >= 1.0 * 0.97
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 1 / 3 * 0.5
    assert starts[-1] - starts[0] < (len(plan) - 1) * crossref.latency  # faster than one at a time


@pytest.mark.real_clock
def test_the_public_pool_sends_one_list_request_at_a_time(crossref: FakeCrossref, cache: Cache) -> None:
    crossref.headers.clear()
    crossref.latency = 0.3
    dois = _dois(crossref, 300)
    service = crossref_service(Options(crossref_url=crossref.url, doi_url=crossref.url, timeout=5.0), cache)
    service.resolve_dois(dois)
    starts = sorted(s.at for s in crossref.seen if s.kind == "batch")
    assert crossref.max_in_flight == 1
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.97  # 1 list request/s


def test_a_late_start_never_puts_one_request_too_many_into_a_window() -> None:
    """A thread that wakes late (a busy machine) sends later than booked: the requests booked after it
    still never make 4 starts within 1.08 s at 3 requests/s; and one late wake-up does not delay the others."""
    now = [0.0]
    pacer = Pacer(3.0, clock=lambda: now[0])
    gap = SAFETY_MARGIN / 3.0
    slots = [pacer.reserve() for _ in range(5)]
    assert [round(s, 6) for s in slots] == [round(i * gap, 6) for i in range(5)]
    assert pacer.start(0.1) == 0.0  # the first sends 0.1 s late
    assert pacer.start(gap) == 0.0  # the second and third go on time: 3 in a window is allowed
    assert pacer.start(2 * gap) == 0.0
    assert math.isclose(pacer.start(3 * gap), 0.1)  # the fourth would be the 4th within 1.08 s: it waits
    assert pacer.start(3 * gap + 0.1) == 0.0
    assert pacer.start(4 * gap) == 0.0  # and the fifth is on time again
