"""The placeholder patterns' pre-filter data: data/placeholder_triggers.json and its writer.

`python -m kratomref.rules.placeholder_triggers` rewrites the file; tests/cli/startup fails when it is stale.

Each pattern's matches all hold one of a few literal strings ("replace", "[", "19xx"...): a text that holds none
of them is not scanned with it (rules/placeholders.py). Reading them takes re's parser most of an offline check's
time, so it is done here, once, and the result shipped as data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kratomref.rules.literals import exact, triggers
from kratomref.rules.placeholders import PATTERNS, TRIGGERS_FILE


def entries() -> list[dict[str, Any]]:
    """What the data file holds for each pattern of PATTERNS, in order: its source as written (a pattern whose
    source differs is read at run time), whether its triggers are compared in their case, and its ways."""
    found = []
    for pattern in PATTERNS:
        ways = triggers(pattern.regex)
        found.append({"pattern": pattern.regex.pattern, "exact": exact(pattern.regex),
                      "ways": None if ways is None else [[sorted(texts) for texts in sets] for sets in ways]})
    return found


def generate() -> str:
    """The JSON that data/placeholder_triggers.json must hold for today's PATTERNS: a pattern a line."""
    lines = ",\n".join("  " + json.dumps(entry, ensure_ascii=True) for entry in entries())
    return ('{\n "generated-by": "python -m kratomref.rules.placeholder_triggers",\n "patterns": [\n'
            + lines + "\n ]\n}\n")


def data_path() -> Path:
    return Path(__file__).parent.parent / "data" / TRIGGERS_FILE


if __name__ == "__main__":  # pragma: no cover - `python -m kratomref.rules.placeholder_triggers` rewrites the file
    data_path().write_text(generate(), encoding="utf-8")
