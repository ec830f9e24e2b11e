"""The real Crossref works recorded in tests/fixtures/crossref (see SOURCES.md there), for the fake servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "crossref"


def load_records() -> dict[str, dict[str, Any]]:
    """Normalised DOI -> Crossref work ("message") from the recorded /works/{doi} responses."""
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(FIXTURES.glob("work-10.*.json")):
        message = json.loads(path.read_text(encoding="utf-8"))["message"]
        records[message["DOI"].lower()] = message
    return records
