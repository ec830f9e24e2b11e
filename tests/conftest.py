"""Shared fixtures: an isolated cache and environment for every test, and paths to bundled inputs."""

from __future__ import annotations

from pathlib import Path

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
