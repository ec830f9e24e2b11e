"""Writes data/rules.json, the catalogue kratomref.catalogue reads, from the rules the family modules declare.

`python -m kratomref.rules.catalogue` rewrites the file; `tests/rules/test_catalogue.py` fails when it is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from kratomref.catalogue import RuleInfo
from kratomref.rules import FAMILIES


def generate() -> str:
    """The JSON the rule modules declare today (imports every family: for the generator and the test only)."""
    items = []
    for family in FAMILIES:
        name = family.__name__.rsplit(".", 1)[-1]
        for rule in family.RULES:
            items.append(RuleInfo(rule.code, rule.name, rule.severity.label, rule.summary, rule.explanation,
                                  rule.advisory, name, rule.needs_network, rule.fixable, rule.default_on))
    items.sort(key=lambda r: r.code)
    return json.dumps([r.as_dict() for r in items], indent=1, ensure_ascii=False) + "\n"


def data_path() -> Path:
    return Path(__file__).parent.parent / "data" / "rules.json"


if __name__ == "__main__":  # pragma: no cover - `python -m kratomref.rules.catalogue` rewrites data/rules.json
    data_path().write_text(generate(), encoding="utf-8")
