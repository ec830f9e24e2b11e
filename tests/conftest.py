"""Shared fixtures: an isolated cache and environment for every test, and paths to bundled inputs."""

from __future__ import annotations

import gc
import importlib.util
import itertools
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from kratomref.services import clock

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, then the files in an order that mixes the folders.

    pytest-xdist hands tests out in this order. Left in collection order, the 17 s corpus run came last and ran
    alone while the other workers idled, and the service tests, which mostly wait on local servers, all ran at
    the same time instead of beside tests that compute. Each file's tests stay together, so that its
    module-scoped fixtures are set up once; the order is the same in every worker, as pytest-xdist requires.
    """
    def place(item: pytest.Item) -> tuple[bool, int]:
        return item.get_closest_marker("slow") is None, zlib.crc32(item.nodeid.partition("::")[0].encode())

    items.sort(key=place)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection made (the test modules, their items and parameters, the modules they import) lives until
    the end: the cyclic garbage collector's full passes need not walk it again. They did, about 30 times in each
    worker, at about 100 ms each, as did every test that collects on purpose (tests/linear_time.py)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def _isolated_homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home of its own for each test (_isolated): base/1, base/2 and so on."""
    base = tmp_path_factory.mktemp("isolated")
    return (base / str(number) for number in itertools.count(1))


@pytest.fixture(autouse=True)
def _isolated(_isolated_homes: Iterator[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's cache or configuration, or the network settings of the machine."""
    # Nothing is made here: the cache and the mirror make their directory when they first write, which most tests
    # never do. Made for every test, four directories each, they were 9,000 a run for pytest to delete three runs
    # later (and pytest's numbered directories, mktemp, list every directory made so far to number the next).
    home = next(_isolated_homes)
    monkeypatch.setenv("KRATOMREF_CACHE_DIR", str(home / "cache"))
    for name in ("KRATOMREF_CROSSREF_URL", "KRATOMREF_MAILTO", "GITHUB_ACTIONS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    user_config = home / "userconfig" / "kratomref.toml"
    monkeypatch.setattr("kratomref.config.user_config_file", lambda: user_config)
    # nor the user's metadata mirror: the default one lives in a directory of the test's own
    user_data = home / "userdata"
    monkeypatch.setattr("kratomref.services.mirror.default_path", lambda: user_data / "mirror.sqlite3")
    monkeypatch.delenv("KRATOMREF_MIRROR", raising=False)


@pytest.fixture(autouse=True)
def _no_real_authorities(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only tests/services/authorities serves OpenAlex, DataCite, arXiv, PubMed, DBLP and Open Library: every other
    test runs with them off, as it ran before issue 15, instead of asking the real services."""
    if "authorities" not in request.path.parts:
        monkeypatch.setattr("kratomref.check.authorities_on", lambda options: ())


@pytest.fixture
def bundled_bib() -> Path:
    return ROOT / "references.bib"


# The local Crossref server of tests/services/crossref, for tests elsewhere (export --enrich, fix) that need one. It is
# loaded by path, under a name of its own; tests/services/crossref has its own fixture of the same name.
_SERVER_MODULE = "kratomref_tests_crossref_server"


def crossref_server_module() -> ModuleType:
    if _SERVER_MODULE not in sys.modules:
        path = Path(__file__).resolve().parent / "services" / "crossref" / "crossref_server.py"
        spec = importlib.util.spec_from_file_location(_SERVER_MODULE, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_SERVER_MODULE] = module  # before running it: dataclasses look their module up there
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[_SERVER_MODULE]
            raise
    return sys.modules[_SERVER_MODULE]


@pytest.fixture
def crossref() -> Iterator[object]:
    module = crossref_server_module()
    fake = module.FakeCrossref()
    server = module.serve(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


class FakeClock:
    """Time that passes at once when a service waits (a backoff, a Retry-After, a pacing gap): real time plus
    every wait so far, so that what a user would wait still shows on it. Threads waiting at once each add
    their wait: time runs faster than planned, never slower (a test of when concurrent requests land against
    a server's window keeps real time: mark it real_clock)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._offset += seconds
        time.sleep(0)  # let the other threads run, as a real sleep would

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        if timeout is None:
            cond.wait()
        else:
            self.sleep(timeout)
            cond.wait(0)


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    """Services built in the test wait by a clock that does not sleep (servers that time requests by
    `kratomref.services.clock.current()` see the same time)."""
    fake = FakeClock()
    previous = clock.use(fake)
    try:
        yield fake
    finally:
        clock.use(previous)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_clock: the test measures real waiting; services keep real time")


@pytest.fixture
def instant_waits(request: pytest.FixtureRequest) -> Iterator[FakeClock | None]:
    """For a directory's autouse fixture: the fake clock, unless the test is marked real_clock."""
    if request.node.get_closest_marker("real_clock"):
        yield None
        return
    yield request.getfixturevalue("fake_clock")
