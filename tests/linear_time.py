"""Linear time, measured: the CPU time of a piece of work on four times its input against its time on the input.

Linear work takes about 4 times as long on 4 times the input, quadratic work 16 times and cubic work 64, so the
bound of 8 leaves a factor of 2 on either side: runs of a few hundredths of a second are long enough (comparing n
with 2n, 2 against 4, needed tenths of a second). The clock is CPU time: another process on a busy machine does not
count, nor does the garbage collector (paused while a run is timed, and made to collect once before the runs,
not before each: a full collection in a test process costs about 25 ms, as much as a run). The small input grows
by a power of two towards the shortest run worth timing, then runs three times in all (its best is the least
disturbed run); the large one only until one run is under the bound (more runs could only lower its best: the
verdict is known), five at most, so a linear piece of work costs one large run (two when the machine slowed it)
and a regression five before it fails.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

RUNS = 3
LARGE_RUNS = 5  # a busy machine can slow one run of a few tenths of a second by half or more, not five in a row
GROWTH = 4  # the large input is GROWTH times the small one
MAX_RATIO = 8.0  # linear: about 4; quadratic: about 16; cubic: about 64
MIN_SECONDS = 0.025  # a small run shorter than this is mostly noise: the input grows (within max_n) until it is not

Input = TypeVar("Input")


def _seconds(work: Callable[[], object], clock: Callable[[], float]) -> float:
    """One run's time, the garbage collector paused: its full passes walk every live object, so their cost
    grows with the input's objects and would make allocation-heavy linear work look superlinear (reading RIS
    records: 5.1 times as long on 4 times the input with it, 4.3 without)."""
    gc.disable()
    try:
        started = clock()
        work()
        return clock() - started
    finally:
        gc.enable()


def best_seconds(work: Callable[[], object], runs: int = RUNS,
                 clock: Callable[[], float] = time.process_time) -> float:
    """The shortest of `runs` runs of work, by clock (CPU time unless told: another process does not count)."""
    return min(_seconds(work, clock) for _ in range(runs))


def best_seconds_until(work: Callable[[], object], under: float, runs: int = RUNS,
                       clock: Callable[[], float] = time.process_time) -> float:
    """The shortest of up to `runs` runs of work, stopping at the first run under `under` (the best of all of
    them would be under it too)."""
    best = float("inf")
    for _ in range(runs):
        best = min(best, _seconds(work, clock))
        if best < under:
            break
    return best


def assert_linear(make: Callable[[int], Input], work: Callable[[Input], object], n: int, what: str = "the work",
                  max_n: int | None = None, under: float | None = None) -> None:
    """Fail unless work(make(GROWTH * n)) takes under MAX_RATIO times as long as work(make(n)), by CPU time, and
    under `under` seconds when given. make builds the input (not timed); n grows by powers of two while a run at n
    is under MIN_SECONDS, as long as GROWTH * n stays within max_n (an input guard)."""
    def run(size: int) -> Callable[[], object]:
        built = make(size)
        return lambda: work(built)

    gc.collect()
    small = run(n)
    once = best_seconds(small, runs=2)  # the first run is also the warm-up: imports, compiled patterns
    while once < MIN_SECONDS and (max_n is None or 2 * GROWTH * n <= max_n):
        factor = 2  # the largest power of two (up to 64) the short run says is still not too long
        while factor < 64 and factor * 2 * once < MIN_SECONDS and (max_n is None or factor * 2 * GROWTH * n <= max_n):
            factor *= 2
        n *= factor
        small = run(n)
        once = best_seconds(small, runs=1)
    once = min(once, best_seconds(small, runs=RUNS - 1))
    bound = MAX_RATIO * once if under is None else min(MAX_RATIO * once, under)
    times = best_seconds_until(run(GROWTH * n), under=bound, runs=LARGE_RUNS)
    ratio = times / once
    assert ratio < MAX_RATIO, (f"{what}: {GROWTH} times the input ({n:,} -> {GROWTH * n:,}) took {ratio:.1f} times "
                               f"as long ({once:.3f} s -> {times:.3f} s of CPU); linear work takes about {GROWTH}")
    assert under is None or times < under, f"{what}: {times:.3f} s of CPU at {GROWTH * n:,}, over {under} s"
