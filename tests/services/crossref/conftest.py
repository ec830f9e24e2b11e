"""Fixtures for the Crossref tests: a local Crossref (see crossref_server.py), options pointing at it, a cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crossref_server import FakeCrossref, serve

from kratomref.options import Options
from kratomref.services.cache import Cache


@pytest.fixture
def crossref() -> Iterator[FakeCrossref]:
    fake = FakeCrossref()
    server = serve(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def options(crossref: FakeCrossref) -> Options:
    return Options(crossref_url=crossref.url, doi_url=crossref.url, mailto="test@example.org", timeout=2.0,
                   max_retries=2)


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture(autouse=True)
def _instant_waits(instant_waits: object) -> None:
    """Backoffs, Retry-After pauses and pacing gaps pass at once (see FakeClock); a test marked real_clock
    keeps real time."""
