"""Work shared with a forked child process on the second core: a long list's tail, or a stream made ahead."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

# Below this many items a child is not worth its start: a split costs 4-12 ms before any work (fork and wait, in a
# process holding 10,000 references), and pickling the findings both ways about 3% of judging them; a few thousand
# references take well under a second. Tests set it low to exercise the split on small inputs.
FORK_THRESHOLD = 5000
# The share of the items the parent keeps: it also unpickles the child's results and has work of its own besides
# (a bibliography's own rules, about a fifth of the judging). Judging 10,000 generated entries: 0.5 left the parent
# 0.79 s of CPU to the child's 0.68 s, 0.4 gave 0.63 s to 0.71 s.
PARENT_SHARE = 0.42


def can_fork() -> bool:
    """Whether a child can be forked safely here: Linux, and no other thread running (a fork copies only the
    calling thread, and a lock another thread holds would stay locked in the child). macOS has fork, but its
    system libraries are not safe in a forked child (Python's multiprocessing spawns there); Windows has none."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


def keep_read(count: int) -> None:
    """After reading `count` references: when that is many (FORK_THRESHOLD), move every object alive now out of
    the cyclic collector's reach (gc.freeze) for the rest of the process. Its passes over 100,000 references
    cost about a tenth of a check, and a forked child's passes would copy their memory pages. What is read stays
    until the run ends; only cyclic garbage among these objects would never be collected."""
    if count >= FORK_THRESHOLD:
        gc.freeze()


def _dumped(value: Any, shared: Sequence[object]) -> bytes:
    """value pickled, the objects both processes already hold (the rules) as their place in `shared`."""
    import pickle  # here, not at start-up: only a large input forks

    places = {id(obj): place for place, obj in enumerate(shared)}

    class Shared(pickle.Pickler):
        def persistent_id(self, obj: object) -> int | None:
            return places.get(id(obj))

    buffer = io.BytesIO()
    Shared(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def _loaded(data: bytes, shared: Sequence[object]) -> Any:
    import pickle

    class Unshared(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> object:
            return shared[pid]

    return Unshared(io.BytesIO(data)).load()


def split_map(
    func: Callable[[_T], _R],
    items: Sequence[_T],
    *,
    shared: Sequence[object] = (),
    threshold: int | None = None,
) -> list[_R]:
    """[func(item) for item in items], the tail of the list computed in a forked child when the list is long
    (threshold, FORK_THRESHOLD by default) and forking is safe: the same results, in the same order.

    func must be pure (whatever it changes in the child is lost) and its results picklable; the objects in
    `shared` are sent as their place in it, not copied. When the child fails, the parent computes its part."""
    if len(items) < (FORK_THRESHOLD if threshold is None else threshold) or not can_fork():
        return [func(item) for item in items]
    cut = max(1, int(len(items) * PARENT_SHARE))
    try:
        child = _Child(lambda: [func(item) for item in items[cut:]], shared)
    except OSError:  # no process or pipe to be had (a limit reached): one process does it all
        return [func(item) for item in items]
    try:
        head = [func(item) for item in items[:cut]]
    except BaseException:
        child.stop()
        raise
    tail: list[_R] | None = child.result()
    if tail is None or len(tail) != len(items) - cut:
        tail = [func(item) for item in items[cut:]]
    return head + tail


class _Child:
    """`work` computed in a forked child process; result() waits for it and gives what work returned, or None
    when the child failed."""

    def __init__(self, work: Callable[[], Any], shared: Sequence[object]) -> None:
        self._shared = shared
        read_end, write_end = os.pipe()
        try:
            self._pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if self._pid == 0:  # the child: compute, send, and leave without running the parent's exit handlers
            status = 1
            try:
                os.close(read_end)
                gc.freeze()  # inherited objects are never collected here: a pass over them would copy their pages
                data = _dumped(work(), shared)
                with os.fdopen(write_end, "wb") as out:
                    out.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb")

    def result(self) -> Any:
        with self._pipe:
            data = self._pipe.read()
        _, status = os.waitpid(self._pid, 0)
        if status != 0 or not data:
            return None
        try:
            return _loaded(data, self._shared)
        except Exception:  # a result that did not arrive whole: the parent computes it again
            return None

    def stop(self) -> None:
        """End the child (the parent failed or was interrupted) and collect it."""
        import signal

        self._pipe.close()
        os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)


def streamed(produce: Callable[[], Iterable[_T]]) -> Generator[_T, None, None]:
    """The items `produce()` gives, produced in a forked child ahead of the caller (which works on one item while
    the child makes the next) and pickled across. It ends early when the child fails: the caller knows what it
    expected and makes the rest itself (all of it when no child could be forked). Call only when can_fork()."""
    import pickle
    import signal

    try:
        read_end, write_end = os.pipe()
    except OSError:
        return
    try:
        pid = os.fork()
    except OSError:  # no process to be had (a limit reached)
        os.close(read_end)
        os.close(write_end)
        return
    if pid == 0:  # the child
        status = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                for item in produce():
                    pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()  # the parent starts on it now
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    pipe = os.fdopen(read_end, "rb")
    try:
        while True:
            try:
                item = pickle.load(pipe)
            except Exception:  # the end, or a child that failed: the caller notices what is missing
                return
            yield item
    finally:
        pipe.close()  # a child still writing gets a broken pipe and exits
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
