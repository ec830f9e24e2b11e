"""Client-side rate limits for Crossref: one pacing limiter per request kind and one concurrency cap,
adapted to the limits the server announces and to its 429s."""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from kratomref.services.clock import Clock, current

# Crossref's documented limits (https://www.crossref.org/documentation/retrieve-metadata/rest-api/access-and-authentication/,
# 2025): the polite pool (requests carrying a mailto) allows 10 single-record requests/s, 3 list or search
# requests/s and 3 concurrent requests; the public pool about half of each.
POOL_LIMITS: Mapping[str, Mapping[str, float]] = {
    "polite": {"single": 10.0, "list": 3.0, "concurrency": 3},
    "public": {"single": 5.0, "list": 1.0, "concurrency": 1},
}
# Requests are spaced 8 % wider than the announced rate, so that jitter between our clock and the server's
# (arrival times differ from send times by tens of ms when the machine is busy) never puts N+1 requests into
# one server window: at 3 requests/s, 4 requests span 1.08 s, 80 ms more than the window. 5 % (50 ms) was
# not enough on a busy 2-core machine (bench/crossref_bench.py: a 429 now and then, each costing seconds).
SAFETY_MARGIN = 1.08
# After a 429 the kind's rate is multiplied by this, at most once per Retry-After window: the 429s of
# requests sent before the last slowdown were provoked by the old rate and say nothing about the new one.
BACKOFF_FACTOR = 0.5
# Never slower than this share of the kind's limit: Retry-After is honoured whatever the rate, and a floor
# of half keeps 1,000 DOIs (about 12 batches) within seconds even after a storm of 429s.
MIN_FRACTION = 0.5
MIN_RATE = 0.2  # requests/s, when the announced limit itself is tiny
# Additive increase: after this many answered requests in a row the rate grows by RECOVERY_STEP of the
# limit, up to the limit (the pool's documented one, or what the server announces if lower).
RECOVERY_AFTER = 10
RATE_WINDOW = 1.0  # seconds: Crossref's X-Rate-Limit-Interval ("1s")
MAX_WINDOW_REQUESTS = 64  # starts remembered; more than any pool allows per window
RECOVERY_STEP = 0.1


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


class Pacer:
    """Spaces request starts at least 1/rate apart (a smooth limiter, not a burst bucket); the rate moves
    between a floor and a ceiling (the limit) as 429s and answers come in."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.ceiling = rate
        self._clock = clock
        self._next = 0.0
        self._starts: collections.deque[float] = collections.deque(maxlen=MAX_WINDOW_REQUESTS)
        self._answered = 0  # in a row since the last change
        self._lock = threading.Lock()

    @property
    def floor(self) -> float:
        return min(self.ceiling, max(MIN_RATE, self.ceiling * MIN_FRACTION))

    def set_rate(self, rate: float) -> None:
        """Set the rate outright (a caller that knows better, e.g. a benchmark lifting the pacing for a
        local server); it becomes the ceiling too when above it."""
        with self._lock:
            self.rate = max(MIN_RATE, rate)
            self.ceiling = max(self.ceiling, self.rate)

    def lower_ceiling(self, ceiling: float) -> None:
        """A limit the server announces: never rise above it (nor above what it was)."""
        with self._lock:
            self.ceiling = min(self.ceiling, max(MIN_RATE, ceiling))
            self.rate = min(self.rate, self.ceiling)

    def slow_down(self) -> None:
        with self._lock:
            self.rate = max(self.floor, self.rate * BACKOFF_FACTOR)
            self._answered = 0

    def answered(self) -> None:
        with self._lock:
            self._answered += 1
            if self._answered >= RECOVERY_AFTER:
                self._answered = 0
                self.rate = min(self.ceiling, self.rate + self.ceiling * RECOVERY_STEP)

    def reserve(self, not_before: float = 0.0) -> float:
        """Book the next slot; returns how long the caller must sleep before sending."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next, not_before)
            self._next = slot + SAFETY_MARGIN / self.rate
            return slot - now

    def start(self, now: float) -> float:
        """A caller whose slot has come is about to send: 0 when it may (the start is recorded), else how
        much longer to wait.

        A thread that woke late from its sleep (a busy machine) sent later than booked, so the requests
        booked after it may now be closer to it than the spacing. What the server counts is requests per
        window: a request waits only if it would be the (n+1)th within SAFETY_MARGIN windows of the real
        starts, n being what the current rate allows per window. Keeping every consecutive gap instead
        would add up each late wake-up into the rest of the run."""
        with self._lock:
            allowed = max(1, math.floor(self.rate * RATE_WINDOW + 1e-9))
            span = allowed * SAFETY_MARGIN / self.rate
            if len(self._starts) >= allowed:
                earliest = self._starts[-allowed] + span
                if now < earliest:
                    return earliest - now
            self._starts.append(now)
            return 0.0


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

    def __init__(self, pool: str, clock: Clock | None = None) -> None:
        limits = POOL_LIMITS[pool]
        self.pool = pool
        self.clock = clock or current()
        self._clock = self.clock.monotonic
        self.pacers = {kind: Pacer(limits[kind], self._clock) for kind in ("single", "list")}
        self.cap = ConcurrencyCap(int(limits["concurrency"]))
        self._blocked_until = 0.0
        self._slowed_at = {kind: float("-inf") for kind in self.pacers}
        self._lock = threading.Lock()

    @property
    def state(self) -> PoolState:
        return PoolState(self.pool, self.pacers["single"].rate, self.pacers["list"].rate, self.cap.limit)

    @contextmanager
    def request(self, kind: str) -> Iterator[float]:
        """Wait for a concurrency slot and a paced start outside any Retry-After pause; yields the start."""
        with self.cap.slot():
            while True:
                with self._lock:
                    blocked_until = self._blocked_until
                pacer = self.pacers[kind]
                wait = pacer.reserve(not_before=blocked_until)
                if wait > 0:
                    self.clock.sleep(wait)
                # A 429 may have arrived while this thread slept on a slot booked before it: book again,
                # after the pause, rather than send inside the Retry-After window.
                with self._lock:
                    if self._clock() < self._blocked_until:
                        continue
                while (late := pacer.start(self._clock())) > 0:
                    self.clock.sleep(late)
                break
            yield self._clock()

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
                self.pacers[k].lower_ceiling(limits[k])
            self.cap.set_limit(min(self.cap.limit, int(limits["concurrency"])))
        ceiling = POOL_LIMITS[self.pool]
        limit, interval = headers.get("x-rate-limit-limit"), parse_interval(headers.get("x-rate-limit-interval"))
        if limit and interval:
            try:
                rate = float(limit) / interval
            except ValueError:
                rate = 0.0
            if rate > 0:
                self.pacers[kind].lower_ceiling(min(rate, ceiling[kind]))
        concurrency = headers.get("x-concurrency-limit")
        if concurrency and concurrency.strip().isdigit() and int(concurrency) > 0:
            self.cap.set_limit(min(int(concurrency), int(ceiling["concurrency"]), self.cap.limit))

    def too_many(self, kind: str, retry_after: float | None, started: float | None = None) -> float:
        """A 429 for a request that started at `started`: hold every request back for Retry-After (or one
        interval), and halve the kind's rate unless the request was sent before the last slowdown (its
        429 was provoked by the old rate). Returns the wait applied."""
        pacer = self.pacers[kind]
        wait = retry_after if retry_after is not None else 1.0 / pacer.rate
        with self._lock:
            now = self._clock()
            if started is None or started >= self._slowed_at[kind]:
                pacer.slow_down()
                self._slowed_at[kind] = now
            self._blocked_until = max(self._blocked_until, now + wait)
        return wait

    def succeeded(self, kind: str) -> None:
        """An answered request (not a 429, 5xx or timeout): after enough in a row, speed back up."""
        self.pacers[kind].answered()
