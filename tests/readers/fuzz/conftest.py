"""Hypothesis profiles: a fixed, fast set of examples by default (a CI gate must not be flaky), and a
deep random search on demand: KRATOMREF_FUZZ=deep pytest tests/readers/fuzz."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# 200 examples per property keep the whole fuzz suite around ten seconds.
settings.register_profile(
    "gate", max_examples=200, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("deep" if os.environ.get("KRATOMREF_FUZZ") == "deep" else "gate")
