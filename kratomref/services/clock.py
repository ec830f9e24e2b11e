"""The clock the services pace, back off and honour Retry-After by: real time unless a caller gives another."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What a service waits by. Deadlines that bound real I/O (a socket's read) stay on real time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass on this clock."""
        ...

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        """With `cond` held: wait for a notify, or until `timeout` seconds have passed on this clock."""
        ...


class SystemClock:
    """Real time: time.monotonic, time.sleep, Condition.wait."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        cond.wait(timeout)


SYSTEM = SystemClock()
_current: Clock = SYSTEM


def current() -> Clock:
    """The clock a service built without one uses (real time, unless `use` changed it)."""
    return _current


def use(clock: Clock) -> Clock:
    """Make `clock` the one services built from now on use; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous
