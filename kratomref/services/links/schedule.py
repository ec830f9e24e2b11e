"""Per-host scheduling: which URL a worker takes next, and when a request to its host may start."""

from __future__ import annotations

import threading
import urllib.parse
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from kratomref.services.clock import Clock, current


def host_key(url: str) -> str:
    """What the per-host limit counts: host and port (two ports are two servers)."""
    parts = urllib.parse.urlsplit(url)
    return (parts.netloc.rpartition("@")[2] or parts.netloc).lower()


class HostGate:
    """At most `per_host` requests in flight against one host, starts at least `interval` apart, and
    no start before a time the host asked for (Retry-After)."""

    def __init__(self, per_host: int, interval: float, clock: Clock | None = None) -> None:
        self.per_host = max(1, per_host)
        self.interval = max(0.0, interval)
        self.clock = clock or current()
        self._cond = threading.Condition()
        self._in_flight: dict[str, int] = {}
        self._next_start: dict[str, float] = {}
        self.max_in_flight = 0

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._cond:
            while True:
                now = self.clock.monotonic()
                busy = self._in_flight.get(host, 0) >= self.per_host
                wait = self._next_start.get(host, 0.0) - now
                if not busy and wait <= 0:
                    break
                self.clock.wait(self._cond, None if busy else wait)
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight[host])
            self._next_start[host] = now + self.interval
        try:
            yield
        finally:
            with self._cond:
                self._in_flight[host] -= 1
                if not self._in_flight[host]:
                    del self._in_flight[host]
                self._cond.notify_all()

    def hold_off(self, host: str, seconds: float) -> None:
        with self._cond:
            self._next_start[host] = max(self._next_start.get(host, 0.0), self.clock.monotonic() + seconds)
            self._cond.notify_all()

    def _wait_for(self, host: str, now: float, busy: int = 0) -> float | None:
        """With the lock held: 0 when a request to `host` may start now, the seconds until it may when
        only its gap holds it back, None when it is at its limit (a request ending will tell). `busy`:
        requests about to start there."""
        if max(self._in_flight.get(host, 0), busy) >= self.per_host:
            return None
        return max(0.0, self._next_start.get(host, 0.0) - now)


class HostQueue:
    """The URLs still to check, by host. `take` hands out the next URL of a host that has room now, hosts
    taken in turn, and waits only when every host with work is at its limit: a worker never sits on one
    busy host's gate while another host could be served. URLs may be added while workers take them (the
    first ones are fetched while the rest are still being read); `close` says no more will come."""

    def __init__(self, targets: Iterable[str], gate: HostGate, *, closed: bool = True) -> None:
        self.gate = gate
        self._active: dict[str, int] = {}  # URLs handed out and not done, by host
        self._pending: OrderedDict[str, deque[str]] = OrderedDict()
        self._stopped = False
        self._closed = closed
        for target in targets:
            self._pending.setdefault(host_key(target), deque()).append(target)

    def add(self, target: str) -> None:
        """One more URL to check (before `close`)."""
        host = host_key(target)
        with self.gate._cond:
            self._pending.setdefault(host, deque()).append(target)
            # Every waiter: a worker waiting in HostGate.slot (same condition) could take a single notify and
            # leave an idle worker asleep with the URL pending.
            self.gate._cond.notify_all()

    def close(self) -> None:
        """No more URLs will be added: `take` returns None once the queue is empty."""
        with self.gate._cond:
            self._closed = True
            self.gate._cond.notify_all()

    def stop(self) -> None:
        with self.gate._cond:
            self._stopped = True
            self.gate._cond.notify_all()

    def take(self) -> str | None:
        """The next URL to check, or None when there is none left and none will come (or the run was
        stopped)."""
        cond = self.gate._cond
        with cond:
            while (self._pending or not self._closed) and not self._stopped:
                now = self.gate.clock.monotonic()
                soonest: float | None = None
                for host, queue in self._pending.items():
                    wait = self.gate._wait_for(host, now, self._active.get(host, 0))
                    if wait == 0:
                        target = queue.popleft()
                        if queue:
                            self._pending.move_to_end(host)
                        else:
                            del self._pending[host]
                        self._active[host] = self._active.get(host, 0) + 1
                        return target
                    if wait is not None and (soonest is None or wait < soonest):
                        soonest = wait
                self.gate.clock.wait(cond, soonest)
            return None

    def done(self, target: str) -> None:
        """`target` is checked: its host has room for the next one."""
        host = host_key(target)
        with self.gate._cond:
            self._active[host] -= 1
            if not self._active[host]:
                del self._active[host]
            self.gate._cond.notify_all()
