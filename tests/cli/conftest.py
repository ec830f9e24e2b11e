"""Fixtures of the CI-gating tests: the fixed report and a pinned rule catalogue."""

from __future__ import annotations

import pytest
from ci_report import FIXED_RULES, build_report

from kratomref import rules as rules_registry
from kratomref.model import Report, Rule


@pytest.fixture
def report() -> Report:
    return build_report()


@pytest.fixture
def fixed_catalogue(monkeypatch: pytest.MonkeyPatch) -> tuple[Rule, ...]:
    """Pin the rule catalogue so SARIF goldens do not change whenever a rule is added elsewhere."""
    monkeypatch.setattr(rules_registry, "RULES", FIXED_RULES)
    return FIXED_RULES

