"""Published writing nobody on the project wrote (../shared/realworld): no crash, no unreviewed error, few warnings.

The corpus is other people's files and stays in ../shared; CI has it beside the clone. Without it these tests
skip with the reason. Every error-level finding must be one `bench/realworld-errors.md` lists with a verdict.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "realworld"
ERRORS = ROOT / "bench" / "realworld-errors.md"

pytestmark = pytest.mark.skipif(not (CORPUS / "manifest.json").exists(),
                                reason=f"no real-world corpus at {CORPUS} (it is in ../shared beside the clone)")


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("realworld_bench", ROOT / "bench" / "realworld.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reviewed() -> dict[tuple[str, str], int]:
    table = ERRORS.read_text(encoding="utf-8")
    return {(row.group(2), row.group(1)): int(row.group(3))
            for row in re.finditer(r"^\| (KR\d{3}) \| `([^`]+)` \| (\d+) \|", table, re.MULTILINE)}


def _warnings_per_100(results: list[dict[str, Any]], kind: str) -> float:
    chosen = [r for r in results if r["kind"] == kind]
    references = sum(r["references"] for r in chosen)
    warnings = sum(1 for r in chosen for f in r["findings"] if f["level"] == "warning")
    return warnings / max(references, 1) * 100


@pytest.mark.slow
def test_published_writing_is_read_whole_with_reviewed_errors_and_few_warnings() -> None:
    """One run over the corpus (about 30 s on one core), so that pytest-xdist's workers do not each repeat it."""
    bench = _bench()
    documents = bench.documents(CORPUS)
    results = [bench.check_one(str(CORPUS), item) for item in documents]

    assert len(results) == len(documents) > 0
    assert [r["file"] for r in results if r["crash"]] == [], "no document crashes the check"

    found: Counter[tuple[str, str]] = Counter()
    for result in results:
        for f in result["findings"]:
            if f["level"] == "error":
                found[(f["where"].rsplit(":", 1)[0], f["code"])] += 1
    reviewed = _reviewed()
    unreviewed = {key: n for key, n in found.items() if n > reviewed.get(key, 0)}
    assert unreviewed == {}, "new error-level findings on published writing: judge them in bench/realworld-errors.md"

    references = {suffix: next(r["references"] for r in results if r["file"].endswith(suffix))
                  for suffix in ("dfm__emcee/document/ms.tex", "peps/pep-0208.rst", "CitaviXmlImporterTest1.bib")}
    # a thebibliography list, reStructuredText footnotes, keyless BibTeX entries each read as its own
    assert references == {"dfm__emcee/document/ms.tex": 34, "peps/pep-0208.rst": 3, "CitaviXmlImporterTest1.bib": 60}

    for kind in ("latex", "pandoc"):  # published papers: warnings are things to fix, and few
        assert _warnings_per_100(results, kind) <= 4, kind
