"""Data-file parts for the mirror tests, written from the real recorded Crossref works (tests/fixtures/crossref)."""

from __future__ import annotations

import copy
import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

from recorded_works import load_records

from kratomref.options import Options

RECORDS = load_records()


@dataclasses.dataclass(frozen=True)
class MirrorOptions(Options):
    """Options with the `mirror` setting (a path, or "none")."""

    mirror: str | None = "none"


def crossref_part(path: Path, items: list[Any]) -> Path:
    """A Crossref public-data-file part: gzipped {"items": [...]}."""
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({"items": items}, handle, indent=1)  # over several lines, as the real parts are
    return path


def openalex_part(path: Path, lines: list[str]) -> Path:
    """An OpenAlex works snapshot part: gzipped JSON lines."""
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def works() -> list[dict[str, Any]]:
    return [copy.deepcopy(r) for r in RECORDS.values()]


def openalex_work(doi: str, title: str, authors: list[str], venue: str, year: int, **extra: Any) -> str:
    work = {
        "id": "https://openalex.org/W1", "doi": f"https://doi.org/{doi}", "title": title,
        "display_name": title, "publication_year": year, "publication_date": f"{year}-05-01",
        "authorships": [{"author_position": "first" if i == 0 else "middle", "author": {"display_name": a}}
                        for i, a in enumerate(authors)],
        "primary_location": {"source": {"display_name": venue}}, "type": "article",
        "biblio": {"volume": "12", "issue": "3", "first_page": "101", "last_page": "110"},
        "updated_date": "2026-01-01T00:00:00", **extra,
    }
    return json.dumps(work)
