"""Shared fixtures: an isolated cache and environment for every test, and paths to bundled inputs."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's cache or configuration, or the network settings of the machine."""
    monkeypatch.setenv("KRATOMREF_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    for name in ("KRATOMREF_CROSSREF_URL", "KRATOMREF_MAILTO", "GITHUB_ACTIONS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bundled_bib() -> Path:
    return ROOT / "references.bib"


# The local Crossref server of tests/crossref, for tests elsewhere (export --enrich, fix) that need one. It is
# loaded by path because every conftest module has the same name; tests/crossref overrides the fixture.
_SERVER_MODULE = "kratomref_tests_fake_crossref"


def fake_crossref_module() -> ModuleType:
    if _SERVER_MODULE not in sys.modules:
        path = Path(__file__).resolve().parent / "crossref" / "conftest.py"
        spec = importlib.util.spec_from_file_location(_SERVER_MODULE, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_SERVER_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[_SERVER_MODULE]


@pytest.fixture
def crossref() -> Iterator[object]:
    module = fake_crossref_module()
    fake = module.FakeCrossref()
    server = module._Server(("127.0.0.1", 0), module._Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
