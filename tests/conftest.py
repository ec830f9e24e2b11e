"""Shared fixtures: an isolated cache and environment for every test, and paths to bundled inputs."""

from __future__ import annotations

import importlib.util
import sys
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
    user_config = tmp_path_factory.mktemp("userconfig") / "kratomref.toml"
    monkeypatch.setattr("kratomref.config.user_config_file", lambda: user_config)
    # nor the user's metadata mirror: the default one lives in a directory of the test's own
    user_data = tmp_path_factory.mktemp("userdata")
    monkeypatch.setattr("kratomref.services.mirror.default_path", lambda: user_data / "mirror.sqlite3")
    monkeypatch.delenv("KRATOMREF_MIRROR", raising=False)


@pytest.fixture(autouse=True)
def _no_real_authorities(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only tests/authorities serves OpenAlex, DataCite, arXiv, PubMed, DBLP and Open Library: every other
    test runs with them off, as it ran before issue 15, instead of asking the real services."""
    if "authorities" not in request.path.parts:
        monkeypatch.setattr("kratomref.services.authorities.enabled", lambda options: ())


@pytest.fixture
def bundled_bib() -> Path:
    return ROOT / "references.bib"


# The local Crossref server of tests/crossref, for tests elsewhere (export --enrich, fix) that need one. It is
# loaded by path, under a name of its own; tests/crossref has its own fixture of the same name.
_SERVER_MODULE = "kratomref_tests_crossref_server"


def crossref_server_module() -> ModuleType:
    if _SERVER_MODULE not in sys.modules:
        path = Path(__file__).resolve().parent / "crossref" / "crossref_server.py"
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
