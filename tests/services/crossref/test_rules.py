"""The Crossref rules (KR202-KR209), matching and confirms(): pure functions of a reference and its evidence,
with records built from real recorded Crossref responses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from crossref_server import RECORDS, record

from kratomref.matching import best_match, compare, first_page, journal_matches, title_similarity
from kratomref.model import (
    Author,
    DoiResolution,
    Evidence,
    FieldFix,
    Location,
    Lookup,
    Reference,
    SearchResolution,
)
from kratomref.options import Options
from kratomref.rules import Context
from kratomref.rules import crossref as rules

CTX = Context(Options(today=dt.date(2026, 11, 25)))
LEE = "10.1016/j.neurobiolaging.2010.03.024"
TOSATTO = "10.1038/srep16696"
LIEBER = "10.1002/jor.1100150407"
SADASIVAN = "10.1371/journal.pone.0033693"

LEE_AUTHORS = (Author("Lee", "H. J."), Author("Lee", "J. K."), Author("Lee", "H."))


def lee(**changes: Any) -> Reference:
    """A faithful citation of the Lee 2012 Neurobiology of Aging paper, with some fields changed."""
    fields: dict[str, Any] = dict(
        location=Location("refs.bib", 3, "lee2012"),
        type="article",
        title="Human umbilical cord blood-derived mesenchymal stem cells improve neuropathology and cognitive "
        "impairment in an Alzheimer's disease mouse model through modulation of neuroinflammation",
        authors=LEE_AUTHORS,
        et_al=True,
        year="2012",
        container="Neurobiology of Aging",
        volume="33",
        pages="588--602",
        doi=LEE,
        fields={"title": "..."},
    )
    fields.update(changes)
    return Reference(**fields)


def found(doi: str, rec: Mapping[str, Any] | None = None, agency: str = "crossref") -> Evidence:
    return Evidence(doi=DoiResolution(doi, Lookup.FOUND, RECORDS.get(doi) if rec is None else rec, agency))


def codes(ref: Reference, evidence: Evidence) -> list[str]:
    return [f.rule.code for f in rules.judge(ref, evidence, CTX)]


# --- every rule, both ways ---------------------------------------------------------------------------

RETRACTION = [{"DOI": "10.1016/j.neurobiolaging.2020.01.001", "type": "retraction", "label": "Retraction",
               "source": "retraction-watch", "updated": {"date-parts": [[2020, 1, 15]]}}]
CORRECTION = [{"DOI": "10.1016/j.neurobiolaging.2013.05.001", "type": "correction", "label": "Correction",
               "source": "publisher", "updated": {"date-parts": [[2013, 5, 2]]}}]
CONCERN = [{"DOI": "10.1016/j.x.2014.1", "type": "expression_of_concern", "label": "Expression of concern",
            "source": "publisher", "updated": {"date-parts": [[2014, 1, 2]]}}]
PUBLISHED_AS = {"id-type": "doi", "id": "10.1038/SREP99999", "asserted-by": "subject"}
PREPRINT = record(TOSATTO, type="posted-content", subtype="preprint", relation={"is-preprint-of": [PUBLISHED_AS]})

CASES: dict[str, tuple[Reference, Evidence, list[str]]] = {
    "a faithful citation with its DOI raises nothing": (lee(), found(LEE), []),
    "a DOI no agency has is doi-not-found": (lee(doi="10.1016/j.fake.2010"), Evidence(
        doi=DoiResolution("10.1016/j.fake.2010", Lookup.NOT_FOUND)), ["KR202"]),
    "a DOI that could not be checked is not doi-not-found": (lee(), Evidence(
        doi=DoiResolution(LEE, Lookup.UNVERIFIED, reason="timeout")), []),
    "a DataCite DOI without Crossref metadata raises nothing": (lee(doi="10.48550/arxiv.2101.00001"), found(
        "10.48550/arxiv.2101.00001", {}, "datacite"), []),
    "a real DOI of another paper is doi-mismatch": (lee(doi=TOSATTO), found(TOSATTO), ["KR203"]),
    "a sloppy title with the right authors is not doi-mismatch": (lee(
        title="Umbilical cord blood stem cells improve neuropathology in an Alzheimer mouse model"),
        found(LEE), []),
    "a retracted work is retracted": (lee(), found(LEE, record(LEE, **{"updated-by": RETRACTION})), ["KR206"]),
    "a title saying RETRACTED is retracted": (lee(), found(LEE, record(
        LEE, title=["RETRACTED: " + RECORDS[LEE]["title"][0]])), ["KR206"]),
    "a correction is updated, not retracted": (lee(), found(LEE, record(LEE, **{"updated-by": CORRECTION})),
                                               ["KR207"]),
    "an expression of concern is updated": (lee(), found(LEE, record(LEE, **{"updated-by": CONCERN})), ["KR207"]),
    "a published preprint is preprint-published": (Reference(
        Location("refs.bib", 9, "tosatto"), "article", RECORDS[TOSATTO]["title"][0],
        (Author("Tosatto", "L."),), True, "2015", doi=TOSATTO, fields={"title": "x"}), found(TOSATTO, PREPRINT),
        ["KR208"]),
    "a preprint with no published version raises nothing": (Reference(
        Location("refs.bib", 9, "tosatto"), "article", RECORDS[TOSATTO]["title"][0],
        (Author("Tosatto", "L."),), True, "2015", doi=TOSATTO, fields={"title": "x"}),
        found(TOSATTO, record(TOSATTO, type="posted-content")), []),
    "a wrong volume is metadata-differs": (lee(volume="32"), found(LEE), ["KR209"]),
    "a wrong first page is metadata-differs": (lee(pages="688-702"), found(LEE), ["KR209"]),
    "a year two off every record date is metadata-differs": (lee(year="2014"), found(LEE), ["KR209"]),
    "another journal is metadata-differs": (lee(container="Journal of Neurochemistry"), found(LEE), ["KR209"]),
    "the online-first year is not metadata-differs": (lee(year="2010"), found(LEE), []),
    "a year one off is not metadata-differs": (lee(year="2013"), found(LEE), []),
    "an abbreviated journal is not metadata-differs": (lee(container="Neurobiol. Aging"), found(LEE), []),
    "an en-dash page range is not metadata-differs": (lee(pages="588–602"), found(LEE), []),
    "a single-hyphen page range is not metadata-differs": (lee(pages="588-602"), found(LEE), []),
}


@pytest.mark.parametrize(("ref", "evidence", "expected"), CASES.values(), ids=CASES.keys())
def test_crossref_rules(ref: Reference, evidence: Evidence, expected: list[str]) -> None:
    assert codes(ref, evidence) == expected


def test_doi_mismatch_names_the_work_the_doi_identifies() -> None:
    [finding] = rules.judge(lee(doi=TOSATTO), found(TOSATTO), CTX)
    assert finding.message.startswith(f"{TOSATTO} is 'Single-molecule FRET studies")
    assert "by Tosatto et al., 2015" in finding.message


def test_retracted_names_the_notice_and_its_date() -> None:
    [finding] = rules.judge(lee(), found(LEE, record(LEE, **{"updated-by": RETRACTION})), CTX)
    assert "10.1016/j.neurobiolaging.2020.01.001" in finding.message and "2020-01-15" in finding.message


def test_preprint_published_suggests_the_published_doi() -> None:
    ref = Reference(Location("r.bib", 1, "t"), "article", RECORDS[TOSATTO]["title"][0], (Author("Tosatto"),),
                    year="2015", doi=TOSATTO, fields={"title": "x"})
    [finding] = rules.judge(ref, found(TOSATTO, PREPRINT), CTX)
    assert "10.1038/srep99999" in (finding.suggestion or "")


def test_metadata_differs_says_what_was_cited_and_what_crossref_has() -> None:
    [finding] = rules.judge(lee(volume="32"), found(LEE), CTX)
    assert "volume cited as 32, Crossref has 33" in finding.message


# --- searches: doi-missing and reference-not-found ----------------------------------------------------


def searched(*dois: str, status: Lookup = Lookup.FOUND) -> Evidence:
    return Evidence(search=SearchResolution("q", status, tuple(RECORDS[d] for d in dois)))


SEARCHES: dict[str, tuple[Reference, Evidence, list[str]]] = {
    "a confident match among the candidates is doi-missing": (lee(doi=None), searched(TOSATTO, LEE), ["KR204"]),
    "candidates that are other works are reference-not-found": (lee(doi=None), searched(TOSATTO, LIEBER),
                                                                 ["KR205"]),
    "no candidate at all is reference-not-found": (lee(doi=None), searched(), ["KR205"]),
    "a search that could not be made raises nothing": (lee(doi=None), searched(status=Lookup.UNVERIFIED), []),
    "the right title with no author in common is reference-not-found": (
        lee(doi=None, authors=(Author("Smith", "J."),)), searched(LEE), ["KR205"]),
    "a truncated author list with initials still matches": (
        lee(doi=None, authors=(Author("Lee", "H."),), et_al=True), searched(LEE), ["KR204"]),
    "title and author alone are too little": (
        lee(doi=None, volume=None, pages=None, year=None), searched(LEE), ["KR205"]),
    "volume and pages the parser missed still count from the text as written": (
        lee(doi=None, volume=None, pages=None, year=None,
            raw="Lee HJ, Lee JK, Lee H, et al. Human umbilical cord blood-derived mesenchymal stem cells improve "
                "neuropathology. Neurobiol Aging 33, 588-602."), searched(LEE), ["KR204"]),
    "only author and year agreeing is too little": (
        lee(doi=None, title="Completely different words about kratom and opioids", volume=None, pages=None),
        searched(LEE), ["KR205"]),
}


@pytest.mark.parametrize(("ref", "evidence", "expected"), SEARCHES.values(), ids=SEARCHES.keys())
def test_search_rules(ref: Reference, evidence: Evidence, expected: list[str]) -> None:
    assert codes(ref, evidence) == expected


def test_doi_missing_carries_a_fix_adding_the_doi() -> None:
    [finding] = rules.judge(lee(doi=None), searched(LEE), CTX)
    assert finding.fix == FieldFix("doi", None, LEE)
    assert finding.rule.advisory


def test_a_free_text_item_is_matched_from_its_raw_text() -> None:
    raw = ("3. Sadasivan S, Pond BB, Pani AK, Qu C, Jiao Y, Smeyne RJ. Methylphenidate exposure induces dopamine "
           "neuron loss and activation of microglia in the basal ganglia of mice. PLoS One. 2012;7(3):e33693.")
    ref = Reference(Location("draft.md", 40, "ref-3"), "article", raw=raw)
    match = best_match(ref, [RECORDS[LEE], RECORDS[SADASIVAN]])
    assert match is not None and match.doi == SADASIVAN
    assert rules.search_query(ref) == raw.removeprefix("3. ")


# --- matching details ---------------------------------------------------------------------------------

TITLES = {
    "LaTeX markup and accents": ("{M}ethylphenidate exposure induces dopamine neuron loss in the basal ganglia "
                                 "of mice: a st\\'udy", "Methylphenidate exposure induces dopamine neuron loss in the "
                                 "basal ganglia of mice", True),
    "a dropped subtitle": ("Cell biology", "Cell biology: a very long subtitle about many other things", False),
    "a long title without its subtitle": ("Growth hormone secretagogue increases muscle strength",
                                          "Growth hormone secretagogue increases muscle strength: a canine model",
                                          True),
    "ampersand for and": ("Kratom & opioid withdrawal", "Kratom and opioid withdrawal", True),
    "unrelated titles": ("Kratom use in Southeast Asia", "Single-molecule FRET studies on alpha-synuclein", False),
}


@pytest.mark.parametrize(("cited", "recorded", "similar"), TITLES.values(), ids=TITLES.keys())
def test_title_similarity(cited: str, recorded: str, similar: bool) -> None:
    assert ((title_similarity(cited, [recorded]) or 0) >= 0.85) is similar


JOURNALS = {
    "an ISO abbreviation without dots": ("Drug Alcohol Depend", "Drug and Alcohol Dependence", True),
    "an ISO abbreviation with dots": ("J. Ethnopharmacol.", "Journal of Ethnopharmacology", True),
    "ampersand in the journal name": ("Drug & Alcohol Dependence", "Drug and Alcohol Dependence", True),
    "another journal": ("Addiction", "Drug and Alcohol Dependence", False),
}


@pytest.mark.parametrize(("cited", "full", "same"), JOURNALS.values(), ids=JOURNALS.keys())
def test_journal_abbreviations(cited: str, full: str, same: bool) -> None:
    assert journal_matches(cited, full) is same


@pytest.mark.parametrize(
    ("pages", "first"),
    [("138-151", "138"), ("138–151", "138"), ("138--151", "138"), ("pp. 138 - 151", "138"), ("e33693", "e33693")],
    ids=["hyphen", "en dash", "BibTeX double hyphen", "pp. with spaces", "article number"],
)
def test_first_page_of_every_range_form(pages: str, first: str) -> None:
    assert first_page(pages) == first


def test_an_organisation_author_matches_by_its_literal_name() -> None:
    rec = record(LEE, author=[{"name": "World Health Organization", "sequence": "first"}])
    ref = lee(authors=(Author("World Health Organization", literal=True),))
    assert compare(ref, rec).authors_in_common == 1


# --- confirms() and search_query() --------------------------------------------------------------------


def test_confirms_a_found_doi_that_is_the_cited_work() -> None:
    summary = rules.confirms(lee(), found(LEE), CTX)
    assert summary is not None and summary["doi"] == LEE and summary["year"] == 2012
    assert summary["authors"][0] == "Lee, Hyun Ju" and summary["agency"] == "crossref"


@pytest.mark.parametrize(
    "evidence",
    [found(TOSATTO), Evidence(doi=DoiResolution(LEE, Lookup.NOT_FOUND)),
     Evidence(doi=DoiResolution(LEE, Lookup.UNVERIFIED, reason="offline")), searched(TOSATTO)],
    ids=["a DOI of another work", "a DOI not found", "a DOI not checked", "a search without a confident match"],
)
def test_confirms_nothing_without_a_confirming_record(evidence: Evidence) -> None:
    ref = lee(doi=TOSATTO) if evidence.doi and evidence.doi.doi == TOSATTO else lee()
    if evidence.search is not None:
        ref = lee(doi=None)
    assert rules.confirms(ref, evidence, CTX) is None


def test_confirms_a_datacite_doi_by_its_agency() -> None:
    summary = rules.confirms(lee(doi="10.48550/arxiv.1"), found("10.48550/arxiv.1", {}, "datacite"), CTX)
    assert summary is not None and summary["agency"] == "datacite" and summary["title"] is None


def test_confirms_a_confident_search_match() -> None:
    summary = rules.confirms(lee(doi=None), searched(TOSATTO, LEE), CTX)
    assert summary is not None and summary["doi"] == LEE


QUERIES = {
    "a web page gets no search": (Reference(Location("r.bib", 1, "w"), "online", "Kratom", fields={"t": "x"}),
                                  None),
    "a structured article searches authors, title, journal and year": (
        lee(doi=None), "Lee Lee Lee Human umbilical cord"),
}


@pytest.mark.parametrize(("ref", "start"), QUERIES.values(), ids=QUERIES.keys())
def test_search_query(ref: Reference, start: str | None) -> None:
    query = rules.search_query(ref)
    if start is None:
        assert query is None
    else:
        assert query is not None and query.startswith(start) and query.endswith("Neurobiology of Aging 2012")
