"""Fixtures of the link tests: one local link farm per module, and no proxy from the machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from link_farm import Farm


@pytest.fixture(scope="module")
def farm() -> Iterator[Farm]:
    running = Farm().start()
    yield running
    running.close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _instant_waits(instant_waits: object) -> None:
    """Backoffs, Retry-After pauses and pacing gaps pass at once (see FakeClock); a test marked real_clock
    keeps real time."""
