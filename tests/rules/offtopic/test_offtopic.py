"""KR506 citation-off-topic: a real work cited for a sentence it has nothing to do with, opt-in, offline model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kratomref import semantic
from kratomref.check import check
from kratomref.model import NO_DOCUMENT_EVIDENCE, Finding
from kratomref.options import Options
from kratomref.rules import Context, offtopic

INPUTS = Path(__file__).parent / "inputs"
DRAFT = INPUTS / "draft.md"
needs_model = pytest.mark.skipif(not semantic.available(), reason="the semantic extra (wordllama) is not installed")


def findings(select: tuple[str, ...]) -> list[Finding]:
    report = check(Options(paths=(str(DRAFT),), offline=True, use_cache=False, archive=False, select=select))
    return [f for f in report.findings if f.rule.code == "KR506"]


@needs_model
def test_the_off_topic_citation_is_reported_and_the_on_topic_ones_are_not() -> None:
    found = findings(("KR506",))
    assert [f.location.line for f in found] == [9]
    message = found[0].message
    assert "dogs2019" in message and "muscle strength" in message  # what the cited work is about
    assert "depression by a third" in message  # what the sentence claims


@needs_model
def test_each_place_a_reference_is_cited_is_judged_on_its_own() -> None:
    doc = next(d for d in check(Options(paths=(str(DRAFT),), offline=True, use_cache=False,
                                        archive=False)).documents if d.body)
    judged = offtopic.judge_citings(offtopic.citings(doc), NO_DOCUMENT_EVIDENCE, offtopic.document_text(doc))
    by_line = {j.citing.citation.location.line: j for j in judged}
    assert set(by_line) == {8, 9, 11}  # grosso2016 twice, dogs2019 once
    assert by_line[9].score < offtopic.THRESHOLD <= min(by_line[8].score, by_line[11].score)


@needs_model
def test_the_rule_is_opt_in() -> None:
    assert findings(()) == []  # every rule selected: not this one
    assert findings(("KR5",)) == []  # a prefix does not opt in
    assert len(findings(("citation-off-topic",))) == 1


@needs_model
def test_an_abstract_from_crossref_is_part_of_what_the_work_is_about() -> None:
    from kratomref.model import DoiResolution, Evidence, Location, Lookup, Reference

    ref = Reference(Location("refs.bib", 1, "k"), title="A study")
    record = {"abstract": "<jats:p>Dogs were trained on a treadmill.</jats:p>", "subject": ["Veterinary"]}
    evidence = Evidence(doi=DoiResolution("10.1/x", Lookup.FOUND, record=record))
    text = offtopic.work_text(ref, evidence)
    assert "Dogs were trained on a treadmill." in text and "Veterinary" in text and "jats" not in text


@needs_model
def test_similarity_ranks_the_related_candidate_first() -> None:
    ranked = semantic.rank("fish consumption and the risk of depression",
                           ["muscle strength of dogs on a treadmill", "omega-3 fatty acids and depressive symptoms"])
    assert ranked[0][0] == 1


def test_without_the_model_the_rule_says_so_once_and_is_skipped(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(semantic, "available", lambda: False)
    semantic._model.cache_clear()
    monkeypatch.setattr(offtopic, "_warned", set())
    try:
        doc = next(d for d in check(Options(paths=(str(DRAFT),), offline=True, use_cache=False,
                                            archive=False)).documents if d.body)
        ctx = Context(Options(select=("KR506",)))
        assert list(offtopic.judge_document(doc, NO_DOCUMENT_EVIDENCE, ctx)) == []
        assert list(offtopic.judge_document(doc, NO_DOCUMENT_EVIDENCE, ctx)) == []
    finally:
        semantic._model.cache_clear()
    lines = [line for line in capsys.readouterr().err.splitlines() if "KR506" in line]
    assert len(lines) == 1 and "kratomref[semantic]" in lines[0]


RUN_AND_LIST = (
    "import json, sys\n"
    "from kratomref.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "finally:\n"
    "    print(json.dumps(sorted(m for m in sys.modules if m.startswith(('kratomref', 'wordllama', 'numpy')))),"
    " file=sys.stderr)\n"
)


def loaded_modules(tmp_path: Path, *extra: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-c", RUN_AND_LIST, "check", str(DRAFT), "--offline", "--isolated",
                          "--no-cache", "--format", "json", *extra],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert run.returncode in (0, 1, 3), run.stderr
    return set(json.loads(run.stderr.strip().splitlines()[-1]))


def test_a_check_that_does_not_select_the_rule_loads_neither_it_nor_the_model(tmp_path: Path) -> None:
    loaded = loaded_modules(tmp_path)
    assert "kratomref.rules.claims" in loaded  # the draft's other editor rules ran
    assert not {"kratomref.rules.offtopic", "kratomref.semantic", "wordllama", "numpy"} & loaded


@needs_model
def test_selecting_the_rule_loads_the_model(tmp_path: Path) -> None:
    assert {"kratomref.rules.offtopic", "kratomref.semantic", "wordllama"} <= loaded_modules(tmp_path, "--select",
                                                                                             "KR506")
