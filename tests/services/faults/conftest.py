"""Fixtures for the fault tests: services wait by a clock that does not sleep."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _instant_waits(instant_waits: object) -> None:
    """Backoffs, Retry-After pauses and pacing gaps pass at once (see FakeClock); a test marked real_clock
    keeps real time."""
