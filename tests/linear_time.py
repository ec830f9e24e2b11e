"""How the time of a piece of work grows when its input doubles: the best of a few runs of each size.

The verdict of the tests that use it is "the best of the large runs is under some bound set by the best of the
small ones". More runs of the large input can only lower its best, so once one large run is under the bound the
verdict is known: the rest are not run. The verdict is the one all the runs would give; a linear piece of work
costs one large run instead of three, and a regression still runs all three before it fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable

RUNS = 3


def best_seconds(work: Callable[[], object], runs: int = RUNS,
                 clock: Callable[[], float] = time.process_time) -> float:
    """The shortest of `runs` runs of work, by clock (CPU time unless told: another process does not count)."""
    best = float("inf")
    for _ in range(runs):
        started = clock()
        work()
        best = min(best, clock() - started)
    return best


def best_seconds_until(work: Callable[[], object], under: float, runs: int = RUNS,
                       clock: Callable[[], float] = time.process_time) -> float:
    """The shortest of up to `runs` runs of work, stopping at the first run under `under` (the best of all of
    them would be under it too)."""
    best = float("inf")
    for _ in range(runs):
        started = clock()
        work()
        best = min(best, clock() - started)
        if best < under:
            break
    return best
