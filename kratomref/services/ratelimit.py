"""Client-side rate limits for Crossref: one pacing limiter per request kind and one concurrency cap,
adapted to the limits the server announces and to its 429s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

# Crossref's documented limits (https://www.crossref.org/documentation/retrieve-metadata/rest-api/access-and-authentication/,
# 2025): the polite pool (requests carrying a mailto) allows 10 single-record requests/s, 3 list or search
# requests/s and 3 concurrent requests; the public pool about half of each.
POOL_LIMITS: Mapping[str, Mapping[str, float]] = {
    "polite": {"single": 10.0, "list": 3.0, "concurrency": 3},
    "public": {"single": 5.0, "list": 1.0, "concurrency": 1},
}
# Requests are spaced 5 % wider than the announced rate, so that jitter between our clock and the server's
# (arrival times differ from send times by a few ms) never puts N+1 requests into one server window.
SAFETY_MARGIN = 1.05
# After a 429 the kind's rate is multiplied by this, down to MIN_RATE, and stays there for the run.
BACKOFF_FACTOR = 0.5
MIN_RATE = 0.2  # requests/s


def parse_interval(text: str | None) -> float | None:
    """Seconds in an X-Rate-Limit-Interval value such as "1s", "500ms" or "1m"."""
    if not text:
        return None
    s = text.strip().lower()
    try:
        if s.endswith("ms"):
            return float(s[:-2]) / 1000
        if s.endswith("s"):
            return float(s[:-1])
        if s.endswith("m"):
            return float(s[:-1]) * 60
        return float(s)
    except ValueError:
        return None


def parse_retry_after(text: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (only the delay-seconds form; Crossref sends no dates)."""
    if not text:
        return None
    try:
        return max(0.0, float(text.strip()))
    except ValueError:
        return None


class Pacer:
    """Spaces request starts at least 1/rate apart (a smooth limiter, not a burst bucket)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self.rate = max(MIN_RATE, rate)

    def reserve(self, not_before: float = 0.0) -> float:
        """Book the next slot; returns how long the caller must sleep before sending."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next, not_before)
            self._next = slot + SAFETY_MARGIN / self.rate
            return slot - now


class ConcurrencyCap:
    """A semaphore whose size can shrink or grow while requests are in flight."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._in_flight = 0
        self._cond = threading.Condition()

    def set_limit(self, limit: int) -> None:
        with self._cond:
            self.limit = max(1, limit)
            self._cond.notify_all()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while self._in_flight >= self.limit:
                self._cond.wait()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()


@dataclass
class PoolState:
    """What the limiter currently believes about the pool it is in."""

    pool: str
    single: float
    list: float
    concurrency: int


class CrossrefLimiter:
    """Every Crossref request passes here: one pacer per kind ("single", "list"), one shared cap."""

    def __init__(self, pool: str, clock: Callable[[], float] = time.monotonic) -> None:
        limits = POOL_LIMITS[pool]
        self.pool = pool
        self._clock = clock
        self.pacers = {kind: Pacer(limits[kind], clock) for kind in ("single", "list")}
        self.cap = ConcurrencyCap(int(limits["concurrency"]))
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    @property
    def state(self) -> PoolState:
        return PoolState(self.pool, self.pacers["single"].rate, self.pacers["list"].rate, self.cap.limit)

    @contextmanager
    def request(self, kind: str) -> Iterator[None]:
        with self.cap.slot():
            with self._lock:
                blocked_until = self._blocked_until
            wait = self.pacers[kind].reserve(not_before=blocked_until)
            if wait > 0:
                time.sleep(wait)
            yield

    def adapt(self, kind: str, headers: Mapping[str, str]) -> None:
        """Follow the limits a response announces; never rise above the documented limits of the pool.

        Crossref sends the same X-Rate-Limit-Limit (e.g. 10) on single and list responses, while lists are
        limited to 3/s: taking the header at face value for lists would overshoot, so it only lowers rates.
        """
        pool = (headers.get("x-api-pool") or "").strip().lower()
        if pool in POOL_LIMITS and pool != self.pool:
            self.pool = pool
            limits = POOL_LIMITS[pool]
            for k in ("single", "list"):
                self.pacers[k].set_rate(min(self.pacers[k].rate, limits[k]))
            self.cap.set_limit(min(self.cap.limit, int(limits["concurrency"])))
        ceiling = POOL_LIMITS[self.pool]
        limit, interval = headers.get("x-rate-limit-limit"), parse_interval(headers.get("x-rate-limit-interval"))
        if limit and interval:
            try:
                rate = float(limit) / interval
            except ValueError:
                rate = 0.0
            if rate > 0:
                self.pacers[kind].set_rate(min(rate, ceiling[kind], self.pacers[kind].rate))
        concurrency = headers.get("x-concurrency-limit")
        if concurrency and concurrency.strip().isdigit() and int(concurrency) > 0:
            self.cap.set_limit(min(int(concurrency), int(ceiling["concurrency"]), self.cap.limit))

    def too_many(self, kind: str, retry_after: float | None) -> float:
        """A 429: halve the kind's rate and hold every request back; returns the wait applied."""
        wait = retry_after if retry_after is not None else 1.0 / self.pacers[kind].rate
        pacer = self.pacers[kind]
        pacer.set_rate(pacer.rate * BACKOFF_FACTOR)
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + wait)
        return wait
