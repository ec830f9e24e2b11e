"""The rule catalogue as data (`data/rules.json`), so that `rules` and `explain` start without the rule modules.

The rules are declared once, in their family modules under `kratomref/rules/`; this module reads the JSON that
`python -m kratomref.rules.catalogue` generates from them, and `tests/rules/test_catalogue.py` fails when it is stale.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kratomref.selectors import selector_matches

FIELDS = ("code", "name", "severity", "summary", "explanation", "advisory", "family", "needs_network", "fixable",
          "default_on")


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: str  # "error", "warning", "info"
    summary: str
    explanation: str
    advisory: bool
    family: str  # the module that declares it: "placeholders", "crossref"...
    needs_network: bool  # judges what a look-up (Crossref, a live link) answered: Rule.needs_network
    fixable: bool  # a finding may carry a fix `kratomref fix` applies
    default_on: bool  # False: runs only when --select names it (KR506)

    def matches(self, selector: str) -> bool:
        return selector_matches(self.code, self.name, selector)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


@functools.cache
def load() -> tuple[RuleInfo, ...]:
    # beside this module, as the package installs it (importlib.resources would cost more than the read)
    text = (Path(__file__).parent / "data" / "rules.json").read_text(encoding="utf-8")
    return tuple(RuleInfo(**{name: item[name] for name in FIELDS}) for item in json.loads(text))


def find(selector: str) -> RuleInfo | None:
    """A rule by its code (any case) or name, as `rules.find_rule` finds it."""
    s = selector.strip().lower()
    return next((r for r in load() if r.code.lower() == s or r.name == s), None)
