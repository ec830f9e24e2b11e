"""KR105, KR201, KR210, KR211, KR401: what each must report and what it must leave alone."""

from __future__ import annotations

import datetime as dt

import pytest

from kratomref.model import NO_DOCUMENT_EVIDENCE, NO_EVIDENCE, FieldFix, Finding
from kratomref.options import Options
from kratomref.readers.bibtex import read as read_bibtex
from kratomref.readers.csljson import read as read_csljson
from kratomref.readers.text import read_draft
from kratomref.rules import Context
from kratomref.rules import entries as rules

CTX = Context(Options(today=dt.date(2026, 11, 25)))


def _bib(source: str, ctx: Context = CTX) -> list[Finding]:
    doc = read_bibtex("refs.bib", source)
    return [f for ref in doc.references for f in rules.judge(ref, NO_EVIDENCE, ctx)]


def _codes(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.rule.code == code]


# --- KR105 missing-field --------------------------------------------------------------------------

MISSING = {
    "an article without a journal": ("@article{a, author = {Smith, J.}, title = {Kratom}, year = {2020}}", "journal"),
    "an entry without an author": ("@book{a, title = {Kratom}, year = {2020}, publisher = {P}}", "author"),
    "an entry without a title": ("@article{a, author = {Smith, J.}, journal = {J}, year = {2020}}", "title"),
    "an entry without a year": ("@article{a, author = {Smith, J.}, title = {K}, journal = {J}}", "year"),
    "a web page without its title": ("@online{a, author = {{FDA}}, url = {https://x.org/k}, year = 2020}", "title"),
}


@pytest.mark.parametrize(("source", "field"), list(MISSING.values()), ids=list(MISSING))
def test_missing_field_is_reported(source: str, field: str) -> None:
    [finding] = _codes(_bib(source), "KR105")
    assert field in finding.message and finding.location.line == 1 and finding.location.key == "a"


COMPLETE = {
    "a complete article": "@article{a, author = {Smith, J.}, title = {K}, journal = {J}, year = {2020}}",
    "an organisation as author": "@online{a, author = {{Food and Drug Administration}}, title = {K}, year = {2020}}",
    "a web page whose site is its author": "@online{a, title = {Kratom}, organization = {FDA}, year = {2024}}",
    "an undated web page": "@online{a, author = {{FDA}}, title = {Kratom}, year = {n.d.}}",
    "a biblatex date instead of a year": "@article{a, author = {S}, title = {K}, journaltitle = {J}, date = {2020-05}}",
    "an entry inheriting through crossref": "@inproceedings{a, author = {S, J}, title = {K}, crossref = {proc}}",
    "a law has no author": "@legislation{a, title = {Controlled Substances Act}, year = {1970}}",
    "a web page dated by its access date": "@online{a, title = {pytest}, url = {https://docs.pytest.org/},\n"
                                           "  urldate = {2019-06-30}}",
    "an undated web page (APA: n.d.)": "@online{a, title = {The NETLIB LP test set}, url = {https://x.org/k}}",
    "a program at its URL": "@software{a, title = {gcov}, url = {https://gcc.gnu.org/gcov.html}}",
}


@pytest.mark.parametrize("source", list(COMPLETE.values()), ids=list(COMPLETE))
def test_complete_entry_has_no_missing_field(source: str) -> None:
    assert _codes(_bib(source), "KR105") == []


def test_draft_items_are_reported_only_for_what_they_clearly_lack() -> None:
    doc = read_draft("d.md", "## References\n\n"
                     "1. Kratom. (2020). Food and Drug Administration. https://www.fda.gov/kratom\n"
                     "2. Smith J. Kratom use in Malaysia. Some Journal 12:3-4.\n"
                     "3. https://www.dea.gov/factsheets/kratom\n"
                     "4. Hassan Z, Singh D. A review of kratom. Drug Alcohol Depend. 2014;139:1-5.\n", "markdown")
    found = {ref.key: [f.message for f in rules.judge(ref, NO_EVIDENCE, CTX) if f.rule.code == "KR105"]
             for ref in doc.references}
    assert found["ref-1"] == [] and found["ref-4"] == []
    assert found["ref-2"] == ["the entry has no year"]
    assert found["ref-3"] == ["the item is only a link: it gives no author, title or year"]


# --- KR201 doi-invalid / KR210 doi-form -----------------------------------------------------------

def _doi(value: str) -> list[Finding]:
    return _bib(f"@article{{a, author = {{S}}, title = {{K}}, journal = {{J}}, year = {{2020}},\n  doi = {{{value}}}}}")


@pytest.mark.parametrize(
    "value", ["N/A", "10.1016", "1016/j.neubiorev.2012.11.012", "10.1016/j. neubiorev.2012.11.012", "PMID 23123"],
    ids=["N/A", "a prefix alone", "the 10. missing", "a space inside", "a PubMed id"],
)
def test_invalid_doi_is_an_error_on_the_doi_line(value: str) -> None:
    [finding] = _codes(_doi(value), "KR201")
    assert finding.location.line == 2 and _codes(_doi(value), "KR210") == []


def test_a_doi_split_by_a_space_gets_the_joined_doi_suggested() -> None:
    [finding] = _codes(_doi("10.1016/j. neubiorev.2012.11.012"), "KR201")
    assert finding.suggestion is not None and "10.1016/j.neubiorev.2012.11.012" in finding.suggestion


def test_a_placeholder_doi_is_left_to_the_placeholder_rules() -> None:
    assert _codes(_doi("TBD"), "KR201") == []


FORMS = {
    "a doi.org URL": ("https://doi.org/10.1016/j.x.2012.11.012", "URL"),
    "a dx.doi.org URL": ("http://dx.doi.org/10.1016/j.x.2012.11.012", "URL"),
    "a doi: prefix": ("doi:10.1016/j.x.2012.11.012", "prefix"),
    "a DOI: prefix with a space": ("DOI: 10.1016/j.x.2012.11.012", "prefix"),
    "a trailing full stop": ("10.1016/j.x.2012.11.012.", "punctuation"),
}


@pytest.mark.parametrize(("value", "said"), list(FORMS.values()), ids=list(FORMS))
def test_doi_form_gives_the_canonical_doi_and_a_fix(value: str, said: str) -> None:
    [finding] = _codes(_doi(value), "KR210")
    assert said in finding.message and finding.location.line == 2
    assert finding.suggestion == "write doi = {10.1016/j.x.2012.11.012}"
    assert finding.fix == FieldFix("doi", value, "10.1016/j.x.2012.11.012")
    assert finding.rule.advisory


def test_a_doi_keeps_the_case_it_was_written_in() -> None:
    assert _codes(_doi("10.1109/TSMCB.2006.886952"), "KR210") == [], "DOIs are case-insensitive"
    [finding] = _codes(_doi("https://doi.org/10.1109/TSMCB.2006.886952"), "KR210")
    assert finding.fix == FieldFix("doi", "https://doi.org/10.1109/TSMCB.2006.886952", "10.1109/TSMCB.2006.886952")


@pytest.mark.parametrize("value", ["10/bqhp9z", "https://doi.org/10/bqhp9z"], ids=["short", "short as a URL"])
def test_a_short_doi_is_not_invalid(value: str) -> None:
    assert _codes(_doi(value), "KR201") == []


@pytest.mark.parametrize("value", ["10.1016/j.x.2012.11.012", "10.1371/journal.pone.0020476"])
def test_a_canonical_doi_is_not_reported(value: str) -> None:
    assert _codes(_doi(value), "KR210") == [] and _codes(_doi(value), "KR201") == []


def test_a_doi_only_in_the_url_field_should_move_to_a_doi_field() -> None:
    findings = _bib("@article{a, author = {S, J}, title = {K}, journal = {J}, year = {2020},\n"
                    "  url = {https://doi.org/10.1000/xyz123}}")
    [finding] = _codes(findings, "KR210")
    assert "url field" in finding.message and finding.location.line == 2
    assert finding.suggestion == "move it into a doi field: doi = {10.1000/xyz123}" and finding.fix is None


def test_a_doi_url_in_csl_json_is_reported_too() -> None:
    doc = read_csljson("lib.json", '[{"id": "c", "type": "chapter", "title": "K", "container-title": "H",'
                                   ' "author": [{"family": "S"}], "issued": {"date-parts": [[2019]]},'
                                   ' "URL": "https://doi.org/10.1000/xyz123"}]')
    [finding] = _codes(list(rules.judge(doc.references[0], NO_EVIDENCE, CTX)), "KR210")
    assert "10.1000/xyz123" in (finding.suggestion or "")


@pytest.mark.parametrize(
    ("written", "reported"),
    [("https://doi.org/10.1016/j.x.1", False), ("doi:10.1016/j.x.1", False),
     ("http://dx.doi.org/10.1016/j.x.1", True), ("http://doi.org/10.1016/j.x.1", True)],
    ids=["the recommended https form", "Vancouver's doi: form", "the old dx.doi.org resolver", "plain http"],
)
def test_draft_items_are_reported_only_for_old_resolver_forms(written: str, reported: bool) -> None:
    doc = read_draft("d.md", f"## References\n\n1. Smith, J. (2020). Kratom. J Pain, 1, 1-2. {written}\n", "markdown")
    found = _codes(list(rules.judge(doc.references[0], NO_EVIDENCE, CTX)), "KR210")
    assert bool(found) is reported
    if reported:
        assert found[0].suggestion == "write it as https://doi.org/10.1016/j.x.1"


# --- KR211 duplicate ------------------------------------------------------------------------------

def _duplicates(source: str) -> list[Finding]:
    return list(rules.judge_document(read_bibtex("refs.bib", source), NO_DOCUMENT_EVIDENCE, CTX))


def test_same_doi_in_another_form_is_a_duplicate_naming_the_first() -> None:
    [finding] = _duplicates("@article{a, title = {One}, doi = {10.1000/ABC}}\n\n"
                            "@article{b, title = {Two}, doi = {https://doi.org/10.1000/abc}}\n")
    assert finding.location.key == "b" and finding.location.line == 3
    assert "a (line 1)" in finding.message


def test_same_title_and_year_is_a_duplicate() -> None:
    [finding] = _duplicates("@article{a, author = {Hassan, Z.}, title = {From Kratom to Mitragynine}, year = 2013}\n"
                            "@article{b, author = {Hassan, Zurina}, title = {From kratom to mitragynine.},\n"
                            "  year = 2013}\n")
    assert finding.location.key == "b" and "a (line 1)" in finding.message


@pytest.mark.parametrize(
    "source",
    [
        "@article{a, title = {From Kratom to Mitragynine}, year = 2013}\n"
        "@article{b, title = {From Kratom to Mitragynine}, year = 2014}\n",
        "@online{a, author = {{DEA}}, title = {Kratom drug fact sheet}, year = 2019, url = {https://www.dea.gov/k}}\n"
        "@online{b, author = {{NIDA}}, title = {Kratom drug fact sheet}, year = 2019, url = {https://nida.nih.gov/k}}\n",
        "@online{a, author = {{DEA}}, title = {Kratom}, year = 2019}\n"
        "@online{b, author = {{DEA}}, title = {Kratom}, year = 2019}\n",
        "@article{a, title = {One}, doi = {10.1000/abc}}\n@article{b, title = {Two}, doi = {10.1000/abd}}\n",
    ],
    ids=["same title, other year", "same title, other agencies", "a title too short to tell", "other DOIs"],
)
def test_different_works_are_not_duplicates(source: str) -> None:
    assert _duplicates(source) == []


# --- KR401 source-old -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("entry_type", "year", "reported"),
    [("article", 2000, False), ("book", 1990, False), ("techreport", 2015, True), ("report", 2021, False),
     ("online", 2020, True), ("online", 2021, False), ("misc", 2019, True), ("software", 2001, False),
     ("manual", 2009, False)],
    ids=["an old article is not outdated by age", "nor an old book", "a report 11 years old (grey literature)",
         "a report exactly 5 years old", "a web page 6 years old", "a web page exactly 5 years old",
         "a misc entry 7 years old", "software is cited as the version used", "so is a manual"],
)
def test_age_policy(entry_type: str, year: int, reported: bool) -> None:
    findings = _codes(_bib(f"@{entry_type}{{a, author = {{S, J}}, title = {{K}}, journal = {{J}},\n"
                           f"  year = {{{year}}}}}"), "KR401")
    assert bool(findings) is reported
    if reported:
        assert findings[0].location.line == 2 and f"{2026 - year} years ago" in findings[0].message


@pytest.mark.parametrize(("limit", "reported"), [(10, True), (11, False)])
def test_scholarly_works_are_judged_by_age_only_when_a_limit_is_set(limit: int, reported: bool) -> None:
    ctx = Context(Options(today=dt.date(2026, 11, 25), max_age_scholarly=limit))
    findings = _codes(_bib("@article{a, author = {S, J}, title = {K}, journal = {J}, year = 2015}", ctx), "KR401")
    assert bool(findings) is reported
    if reported:
        assert "10-year policy for scholarly works" in findings[0].message


def test_age_policy_follows_the_options() -> None:
    ctx = Context(Options(today=dt.date(2026, 11, 25), max_age_scholarly=20, max_age_web=1))
    source = "@article{a, author = {S, J}, title = {K}, journal = {J}, year = 2012}\n" \
             "@online{b, author = {{FDA}}, title = {K}, year = 2024}\n"
    assert [f.location.key for f in _codes(_bib(source, ctx), "KR401")] == ["b"]


def test_agency_statements_are_told_to_look_for_a_newer_statement() -> None:
    [finding] = _codes(_bib("@online{a, author = {{Drug Enforcement Administration}}, title = {K}, year = 2016}"),
                       "KR401")
    assert "5-year policy for web pages" in finding.message and "agency" in (finding.suggestion or "")


def test_a_restructuredtext_footnote_may_be_a_bare_link() -> None:
    doc = read_draft("pep.rst", "Zip [1]_ and unzip [2]_.\n\nReferences\n==========\n\n"
                                ".. [1] http://docs.python.org/reference/compound_stmts.html#for\n"
                                ".. [2] http://www.haskell.org/onlinereport/standard-prelude.html\n", "text")
    assert len(doc.references) == 2
    assert [f for ref in doc.references for f in rules.judge(ref, NO_EVIDENCE, CTX) if f.rule.code == "KR105"] == []
