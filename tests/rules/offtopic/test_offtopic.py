"""KR506 citation-off-topic: a real work cited for a sentence it has nothing to do with, opt-in, offline model."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kratomref import semantic
from kratomref.check import check
from kratomref.model import NO_DOCUMENT_EVIDENCE, Author, Citation, Finding, Location, Reference
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


# --- the bibliography and the words the text shares -----------------------------------------------------------
WEAK_SENTENCE = "These results were later confirmed in larger samples [@k]."
JUDGED = "Omega-3 fatty acids and depressive symptoms in older adults: a randomized controlled trial"
ON_TOPIC = ("Fish consumption and the risk of major depression in a prospective cohort",
            "Dietary n-3 polyunsaturated fatty acids and depression: a meta-analysis",
            "Eicosapentaenoic acid supplementation for depressed mood in adults",
            "Mediterranean diet and incident depressive symptoms in older people")
OFF_TOPIC = ("Radial velocity detection of a Neptune-mass exoplanet around a nearby M dwarf",
             "Photometric redshifts of faint galaxies from deep multi-band imaging",
             "Magnetic field reversals in the geodynamo simulated at low Ekman number")


def entry(key: str, title: str) -> Reference:
    return Reference(Location("refs.bib", 1, key), "article", title)


def weak_citing(title: str = JUDGED) -> offtopic.Citing:
    citation = Citation(Location("draft.md", 3, None, 52), "[@k]", "k", "key", "k")
    text = offtopic.clean(WEAK_SENTENCE)
    return offtopic.Citing(citation, entry("k", title), WEAK_SENTENCE, text, text)


def judge(bibliography: list[Reference], citing: offtopic.Citing | None = None) -> list[offtopic.Judged]:
    citing = citing or weak_citing()
    return offtopic.judge_citings([citing], NO_DOCUMENT_EVIDENCE, citing.sentence_text, bibliography)


@needs_model
def test_a_weakly_worded_citation_passes_when_the_work_belongs_with_the_bibliography() -> None:
    among_its_kind = judge([entry("k", JUDGED), *(entry(f"on{i}", t) for i, t in enumerate(ON_TOPIC))])
    among_strangers = judge([entry("k", JUDGED), *(entry(f"off{i}", t) for i, t in enumerate(OFF_TOPIC))])
    # the sentence says nothing of the topic: only the other cited works can tell
    assert among_its_kind[0].score >= offtopic.THRESHOLD > among_strangers[0].score
    assert among_its_kind[0].bibliography_similarity > among_strangers[0].bibliography_similarity


@needs_model
def test_the_judged_entry_is_not_its_own_neighbour_and_a_few_strangers_do_not_sink_a_real_citation() -> None:
    # listed under the same key (as a draft lists what it cites): compared with the others only
    assert judge([entry("k", JUDGED), *(entry(f"off{i}", t) for i, t in enumerate(OFF_TOPIC))])[0].score \
        < offtopic.THRESHOLD
    assert judge([entry("k", JUDGED)]) == []  # nothing else cited: not judged
    mixed = [entry("k", JUDGED), *(entry(f"on{i}", t) for i, t in enumerate(ON_TOPIC)),
             *(entry(f"off{i}", t) for i, t in enumerate(OFF_TOPIC))]
    assert judge(mixed)[0].score >= offtopic.THRESHOLD


@needs_model
def test_shared_words_count_the_telling_words_in_any_case() -> None:
    text = "We followed adults who ate fish; their DEPRESSIVE symptoms and omega-3 intake were recorded."
    shares = semantic.shared_words(["Omega-3 intake and depressive symptoms in adults",
                                    "Isokinetic quadriceps strength of dogs", "the of and with"], text)
    assert shares[0] > 0.9 and shares[1] < 0.1 and shares[2] == 0.0


@needs_model
def test_the_finding_gives_each_signal() -> None:
    message = findings(("KR506",))[0].message
    for part in ("unlike the sentence (", "its paragraph (", "the whole text (", "the other works cited (",
                 "no author or journal in common", "of its telling words"):
        assert part in message


# --- coupling: an author or a journal in common with another cited work ------------------------------------------
def by(authors: tuple[Author, ...] = (), *, key: str = "k", title: str = JUDGED, kind: str = "article",
       container: str | None = None) -> Reference:
    return dataclasses.replace(entry(key, title), authors=authors, type=kind, container=container)


def judged_among(work: Reference, *others: Reference) -> offtopic.Judged:
    strangers = [entry(f"off{i}", t) for i, t in enumerate(OFF_TOPIC)]
    citing = dataclasses.replace(weak_citing(), reference=work)
    return judge([work, *strangers, *others], citing)[0]


@needs_model
def test_a_work_sharing_an_author_with_another_cited_work_belongs_with_the_bibliography() -> None:
    lone = judged_among(by((Author("Grosso", "Giuseppe"),)))
    assert not lone.coupled and lone.score < offtopic.THRESHOLD  # among strangers, as above: reported
    colleague = by((Author("Grosso", "G."), Author("Marventano", "S.")), key="other", title=OFF_TOPIC[0])
    shared = judged_among(by((Author("Lee", "J."), Author("{Grosso}", "Giuseppe"))), colleague)
    assert shared.coupled and shared.score >= offtopic.THRESHOLD
    # the same surname with another initial is someone else; an organisation is no one's own work
    assert not judged_among(by((Author("Grosso", "Marco"),)), colleague).coupled
    agency = (Author("World Health Organization", literal=True),)
    assert not judged_among(by(agency), by(agency, key="other", title=OFF_TOPIC[1])).coupled


@needs_model
def test_a_journal_in_common_couples_a_preprint_server_or_a_web_site_does_not() -> None:
    journal = "Journal of Affective Disorders"
    written_otherwise = by(key="other", title=OFF_TOPIC[0], container="journal of  affective disorders.")
    same = judged_among(by(container=journal), written_otherwise)
    assert same.coupled and same.score >= offtopic.THRESHOLD
    arxiv = "arXiv preprint arXiv:2101.00001"
    assert not judged_among(by(container=arxiv), by(key="other", title=OFF_TOPIC[0], container=arxiv)).coupled
    site = by(kind="online", container="Wikipedia")
    assert not judged_among(site, by(key="other", title=OFF_TOPIC[0], kind="online", container="Wikipedia")).coupled
    # the entry's own key never couples it with itself (a draft lists what it cites under that key)
    assert not judged_among(by(container=journal)).coupled
