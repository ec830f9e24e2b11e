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


def test_an_abstract_from_an_authority_that_confirmed_the_work_is_part_of_what_it_is_about() -> None:
    from kratomref.model import AuthorityAnswer, AuthorityRecord, Evidence, Location, Lookup, Reference

    title = "Isokinetic quadriceps muscle strength in healthy adult dogs"
    ref = Reference(Location("refs.bib", 1, "k"), title=title, fields={"pmid": "123"})
    record = AuthorityRecord("pubmed", title=title, identifiers=(("pmid", "123"),),
                             abstract="Dogs were trained on a treadmill.", subjects=("Dogs", "Muscle Strength"))
    found = Evidence(authorities={"pubmed": AuthorityAnswer("pubmed", Lookup.FOUND, (record,), identifier="pmid")})
    text = offtopic.work_text(ref, found)
    assert "Dogs were trained on a treadmill." in text and "Muscle Strength" in text
    # the record of another work (a wrong PMID in the entry) is not what the cited work is about
    other = AuthorityRecord("pubmed", title="Heart rate variability in marathon runners",
                            identifiers=(("pmid", "123"),), abstract="Runners wore monitors.")
    wrong = Evidence(authorities={"pubmed": AuthorityAnswer("pubmed", Lookup.FOUND, (other,), identifier="pmid")})
    assert "Runners" not in offtopic.work_text(ref, wrong)
    # the entry's own abstract comes first
    own = dataclasses.replace(ref, fields={"pmid": "123", "abstract": "As the authors summarise it."})
    assert "As the authors summarise it." in offtopic.work_text(own, found)
    assert "treadmill" not in offtopic.work_text(own, found)


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
# its paragraph says what the results were about, in words none of the works' titles use
CONTEXT = "Older adults who eat little fish report low mood more often. " + WEAK_SENTENCE
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
    return offtopic.Citing(citation, entry("k", title), WEAK_SENTENCE, offtopic.clean(WEAK_SENTENCE),
                           offtopic.clean(CONTEXT))


def judge(bibliography: list[Reference], citing: offtopic.Citing | None = None) -> list[offtopic.Judged]:
    citing = citing or weak_citing()
    return offtopic.judge_citings([citing], NO_DOCUMENT_EVIDENCE, citing.paragraph_text, bibliography)


@needs_model
def test_a_weakly_worded_citation_passes_when_the_work_belongs_with_the_bibliography() -> None:
    among_its_kind = judge([entry("k", JUDGED), *(entry(f"on{i}", t) for i, t in enumerate(ON_TOPIC))])
    among_strangers = judge([entry("k", JUDGED), *(entry(f"off{i}", t) for i, t in enumerate(OFF_TOPIC))])
    # the sentence says nothing of the topic, its paragraph little: the other cited works tell
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
    for part in ("similarity to the sentence (", "its paragraph (", "the other works cited (",
                 "no author or journal in common", "of its telling words"):
        assert part in message


# --- coupling: an author or a journal in common with another cited work ------------------------------------------
def by(*authors: Author, key: str = "k", title: str = JUDGED, kind: str = "article", **fields: str) -> Reference:
    return dataclasses.replace(entry(key, title), authors=authors, type=kind, fields=fields)


def person(name: str) -> Author:
    family, _, given = name.partition(", ")
    return Author(family, given)


def strangers(count: int = 6) -> list[Reference]:  # works that share nothing: many, so that nothing is common
    return [by(person(f"Stranger{i}, Q."), key=f"s{i}", title=f"Unrelated work number {i}", journal=f"Venue {i}")
            for i in range(count)]


def coupled(work: Reference, *others: Reference) -> bool:
    return offtopic.couplings([work, *others, *strangers()])(work)


def test_an_author_in_common_with_another_cited_work_couples_a_work() -> None:
    colleague = by(person("Grosso, G."), person("Marventano, S."), key="other", title=OFF_TOPIC[0])
    assert coupled(by(person("Lee, J."), person("Grosso, Giuseppe")), colleague)
    assert not coupled(by(person("Grosso, Marco")), colleague)  # the same surname, someone else
    assert not coupled(by(person("Lee, J.")))  # the entry's own key never couples it with itself


def test_what_is_no_one_s_name_couples_nothing() -> None:
    for name in ("al., e", "et", "others", "Anonymous", "Organization, World Health", "Collaboration, ATLAS"):
        assert not coupled(by(person(name)), by(person(name), key="other", title=OFF_TOPIC[0])), name
    agency = Author("World Health Organization", literal=True)
    assert not coupled(by(agency), by(agency, key="other", title=OFF_TOPIC[1]))


def test_a_journal_in_common_couples_a_preprint_server_a_site_or_a_bare_proceedings_does_not() -> None:
    assert coupled(by(journal="Journal of Affective Disorders"),
                   by(key="other", title=OFF_TOPIC[0], journal="journal of  affective disorders."))
    for venue in ("arXiv preprint arXiv:2101.00001", "Wikipedia, the free encyclopedia", "Proceedings",
                  "In Proceedings of the", "Research Square"):
        assert not coupled(by(journal=venue), by(key="other", title=OFF_TOPIC[0], journal=venue)), venue
    # a publisher is not a venue: two IEEE papers without a booktitle
    assert not coupled(by(kind="inproceedings", publisher="IEEE"),
                       by(key="other", title=OFF_TOPIC[0], kind="inproceedings", publisher="IEEE"))


def test_a_work_listed_twice_is_not_its_own_partner() -> None:
    twin = by(person("Grosso, G."), key="K", journal="Nutrients")
    assert not coupled(by(person("Grosso, G."), journal="Nutrients"), twin)


def test_a_name_or_a_journal_most_of_the_works_share_couples_none() -> None:
    # a field published in one journal, or a name a reader got wrong in every entry: no sign of belonging
    same = [by(person("Common, A."), key=f"c{i}", title=f"Work {i}", journal="The Astrophysical Journal")
            for i in range(8)]
    assert not offtopic.couplings(same)(same[0])
    assert offtopic.couplings(same[:2])(same[0])  # two works: sharing says something


@needs_model
def test_a_coupled_work_is_not_reported_however_weak_its_sentence() -> None:
    lone = by(person("Grosso, Giuseppe"))
    citing = dataclasses.replace(weak_citing(), reference=lone)
    others = [entry(f"off{i}", t) for i, t in enumerate(OFF_TOPIC)]
    alone = judge([lone, *others], citing)[0]
    assert not alone.coupled and alone.score < offtopic.THRESHOLD  # among strangers: reported
    colleague = by(person("Grosso, G."), key="other", title=OFF_TOPIC[0])
    together = judge([lone, *others, colleague], citing)[0]
    assert together.coupled and together.score >= offtopic.THRESHOLD


# --- beside: the works cited in the same sentence ------------------------------------------------------------
def citing_in(sentence: str, key: str, title: str) -> offtopic.Citing:
    citation = Citation(Location("draft.md", 5, None, 40), f"@{key}", key, "key", key)
    return offtopic.Citing(citation, entry(key, title), sentence, offtopic.clean(sentence), offtopic.clean(CONTEXT))


@needs_model
def test_a_work_is_compared_with_the_works_cited_beside_it_in_its_sentence() -> None:
    # the same bibliography each time; only which work is cited beside the judged one changes
    bibliography = [entry("k", JUDGED), entry("kin", ON_TOPIC[1]),
                    *(entry(f"off{i}", t) for i, t in enumerate(OFF_TOPIC))]

    def judged_beside(partner: str) -> offtopic.Judged:
        sentence = f"These results were later confirmed in larger samples [@k; @{partner}]."
        cited = [citing_in(sentence, "k", JUDGED), citing_in(sentence, partner, "")]
        return offtopic.judge_citings(cited, NO_DOCUMENT_EVIDENCE, offtopic.clean(CONTEXT), bibliography)[0]

    with_its_kind, with_a_stranger = judged_beside("kin"), judged_beside("off0")
    assert with_its_kind.beside_similarity == pytest.approx(semantic.similarity(JUDGED, ON_TOPIC[1]), abs=1e-4)
    assert with_its_kind.bibliography_similarity == with_a_stranger.bibliography_similarity
    assert with_its_kind.score >= offtopic.THRESHOLD > with_a_stranger.score
    assert "the nearest work cited beside it (" in offtopic._finding(with_a_stranger).message
    alone = judge(bibliography)[0]  # cited alone in its sentence
    assert alone.beside_similarity is None and alone.signals()["alone"] == 1.0
    assert "cited beside it" not in offtopic._finding(alone).message


# --- the sentence a citation is judged by --------------------------------------------------------------------
def test_each_citation_is_judged_by_its_own_sentence_when_a_line_holds_several(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text((INPUTS / "refs.bib").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "draft.md").write_text(
        "---\nbibliography: refs.bib\n---\n\n"
        "Oily fish is linked to fewer depressive symptoms [@grosso2016]. Treadmill training made the dogs "
        "stronger [@dogs2019]. Fish oil was also tested as a treatment [@grosso2016].\n", encoding="utf-8")
    doc = next(d for d in check(Options(paths=(str(tmp_path / "draft.md"),), offline=True, use_cache=False,
                                        archive=False)).documents if d.body)
    found = [(c.reference.key, c.sentence) for c in offtopic.citings(doc)]
    assert found == [
        ("grosso2016", "Oily fish is linked to fewer depressive symptoms [@grosso2016]."),
        ("dogs2019", "Treadmill training made the dogs stronger [@dogs2019]."),
        ("grosso2016", "Fish oil was also tested as a treatment [@grosso2016]."),
    ]


def test_a_web_page_s_citations_are_judged_by_their_own_sentences(tmp_path: Path) -> None:
    # the HTML reader keeps no column: each citation is found by its text on its line, in order
    page = tmp_path / "post.html"
    page.write_text(
        "<html><body><h1>Diet and mood</h1>\n"
        "<p>Oily fish is linked to fewer depressive symptoms [1]. Treadmill training made dogs stronger [2]. "
        "Fish oil was tested against low mood [1].</p>\n"
        "<h2>References</h2>\n<ol><li>Grosso, G. (2016). Dietary n-3 fatty acids, fish consumption and depression."
        " Journal of Affective Disorders.</li>\n<li>Hart, L. (2019). Isokinetic quadriceps muscle strength in"
        " healthy adult dogs. Veterinary Orthopaedics.</li></ol>\n</body></html>\n", encoding="utf-8")
    doc = next(d for d in check(Options(paths=(str(page),), offline=True, use_cache=False,
                                        archive=False)).documents if d.body)
    assert [c.sentence for c in offtopic.citings(doc)] == [
        "Oily fish is linked to fewer depressive symptoms [1].",
        "Treadmill training made dogs stronger [2].",
        "Fish oil was tested against low mood [1].",
    ]
