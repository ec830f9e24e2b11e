"""A placeholder's candidate works are ordered by meaning with the semantic extra, and in Crossref's order without."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from kratomref import semantic
from kratomref.model import DocumentEvidence, Lookup, SearchResolution
from kratomref.readers.text import read_draft
from kratomref.rules import placeholder_candidates
from kratomref.rules.placeholders import placeholder_spans

needs_model = pytest.mark.skipif(not semantic.available(), reason="the semantic extra (wordllama) is not installed")

DRAFT = (
    "# Kratom\n"
    "\n"
    "People who stop taking kratom after daily use report withdrawal symptoms such as muscle aches,\n"
    "irritability and insomnia [citation needed]. Most of them are over within a week.\n"
)
PLACEHOLDER_LINE = 4  # the line that holds "[citation needed]" (its sentence begins on line 3)


def work(doi: str, title: str, journal: str, family: str, year: int) -> dict[str, Any]:
    return {"DOI": doi, "title": [title], "container-title": [journal], "author": [{"family": family}],
            "issued": {"date-parts": [[year]]}}


# In Crossref's order: the unrelated work shares words with the sentence ("daily", "use", "muscle") and comes
# first; the kratom withdrawal study comes third.
UNRELATED = work("10.1/bridge", "Daily use of steel bridges: fatigue cracks and muscle-like reinforcement",
                 "Journal of Bridge Engineering", "Okafor", 2015)
ALSO_UNRELATED = work("10.1/tides", "Tidal patterns of a coastal estuary over a week of storms",
                      "Estuarine, Coastal and Shelf Science", "Lindqvist", 2020)
WITHDRAWAL = work("10.1/kratom", "Kratom withdrawal: symptoms and duration after stopping regular use",
                  "Drug and Alcohol Dependence", "Singh", 2016)
MORE = [work(f"10.1/other{n}", title, "Some Journal", "Author", 2010 + n) for n, title in enumerate(
    ("Soil bacteria in alpine meadows", "The price of rice in village markets", "Sorting networks of depth four"))]


def suggestion_for(candidates: Sequence[Mapping[str, Any]]) -> str:
    doc = read_draft("d.md", DRAFT, "markdown")
    search = SearchResolution("kratom withdrawal symptoms", Lookup.FOUND, tuple(candidates))
    evidence = DocumentEvidence(placeholders={f"placeholder:d.md:{PLACEHOLDER_LINE}": search})
    found = placeholder_candidates.placeholder_candidates(doc, PLACEHOLDER_LINE, evidence, spans=placeholder_spans)
    assert found is not None
    return found


def listed(suggestion: str) -> list[str]:
    """The DOIs the suggestion names, in its order."""
    return [part.split("https://doi.org/")[1].rstrip(";") for part in suggestion.split("; ")]


@needs_model
def test_with_the_model_the_work_that_fits_the_sentence_comes_first() -> None:
    suggestion = suggestion_for([UNRELATED, ALSO_UNRELATED, WITHDRAWAL])
    assert suggestion.startswith("candidate works to verify before citing")
    assert listed(suggestion)[0] == "10.1/kratom"
    assert listed(suggestion).index("10.1/kratom") < listed(suggestion).index("10.1/bridge")


def test_without_the_model_the_order_is_crossrefs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "available", lambda: False)
    assert listed(suggestion_for([UNRELATED, ALSO_UNRELATED, WITHDRAWAL])) == ["10.1/bridge", "10.1/tides",
                                                                             "10.1/kratom"]


@pytest.mark.parametrize("model", [pytest.param(True, marks=needs_model), False])
def test_the_finding_names_at_most_three_candidates(model: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not model:
        monkeypatch.setattr(semantic, "available", lambda: False)
    candidates = [UNRELATED, *MORE, WITHDRAWAL]  # five, as a Crossref search returns
    shown = listed(suggestion_for(candidates))
    assert len(shown) == placeholder_candidates.MAX_SUGGESTIONS
    if model:
        assert shown[0] == "10.1/kratom"  # the fifth of Crossref's hits, shown first
    else:
        assert shown == ["10.1/bridge", "10.1/other0", "10.1/other1"]


def test_the_placeholder_context_is_its_sentence_and_paragraph() -> None:
    doc = read_draft("d.md", DRAFT, "markdown")
    context = placeholder_candidates.placeholder_context(doc, "d.md", PLACEHOLDER_LINE, placeholder_spans)
    assert context is not None
    sentence, paragraph = context
    assert sentence.startswith("People who stop taking kratom") and sentence.endswith("[citation needed].")
    assert paragraph.endswith("over within a week.")
    # the heading holds none
    assert placeholder_candidates.placeholder_context(doc, "d.md", 1, placeholder_spans) is None


RANK_AND_LIST = (
    "import json, sys\n"
    "from kratomref import semantic\n"
    "semantic.available = lambda: False\n"
    "from kratomref.model import DocumentEvidence, Lookup, SearchResolution\n"
    "from kratomref.readers.text import read_draft\n"
    "from kratomref.rules.placeholder_candidates import placeholder_candidates\n"
    "from kratomref.rules.placeholders import placeholder_spans\n"
    "works = json.loads(sys.argv[1])\n"
    "doc = read_draft('d.md', sys.argv[2], 'markdown')\n"
    "search = SearchResolution('q', Lookup.FOUND, tuple(works))\n"
    "evidence = DocumentEvidence(placeholders={'placeholder:d.md:%s' % sys.argv[3]: search})\n"
    "print(placeholder_candidates(doc, int(sys.argv[3]), evidence, spans=placeholder_spans))\n"
    "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('numpy', 'wordllama')))))\n"
)


def test_without_the_model_neither_numpy_nor_wordllama_is_imported(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(Path(placeholder_candidates.__file__).parents[2])  # this kratomref
    run = subprocess.run([sys.executable, "-c", RANK_AND_LIST, json.dumps([UNRELATED, WITHDRAWAL]), DRAFT,
                          str(PLACEHOLDER_LINE)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    suggestion, modules = run.stdout.strip().splitlines()
    assert "1) Okafor (2015)" in suggestion  # the candidates were listed, in Crossref's order
    assert json.loads(modules) == []
