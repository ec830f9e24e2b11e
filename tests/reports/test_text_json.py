"""The text and JSON reports as a user reads them, from a report built by hand."""

from __future__ import annotations

import json

from kratomref.model import (
    Author,
    Citation,
    Document,
    FieldFix,
    Finding,
    Location,
    Reference,
    ReferenceResult,
    Report,
    Rule,
    Severity,
    Verdict,
)
from kratomref.reports import json as json_report
from kratomref.reports import text as text_report

GENERIC = Rule("KR304", "link-generic", Severity.WARNING, "A home page cited as a document.", "")
FORM = Rule("KR210", "doi-form", Severity.INFO, "DOI written as a URL.", "", advisory=True)
PLACEHOLDER = Rule("KR101", "placeholder-text", Severity.ERROR, "Placeholder text.", "")


def _report(fail_on: Severity | None = Severity.ERROR) -> Report:
    fda = Reference(Location("refs.bib", 27, "fda2020"), "online", "FDA and Kratom", urls=("https://www.fda.gov",))
    hassan = Reference(
        Location("refs.bib", 4, "hassan2013"),
        "article",
        "From Kratom to mitragynine",
        authors=(Author("Hassan", "Z."),),
        year="2013",
        doi="https://doi.org/10.1016/j.neubiorev.2012.11.012",
    )
    doc = Document(
        "refs.bib",
        "bibtex",
        (hassan, fda),
        citations=(Citation(Location("paper.md", 3), "[@hassan2013]", "hassan2013", "key", "hassan2013"),),
    )
    findings = (
        Finding(GENERIC, Location("refs.bib", 31, "fda2020"), "https://www.fda.gov is a home page", "cite the page"),
        Finding(
            FORM,
            Location("refs.bib", 12, "hassan2013"),
            "DOI written as a URL",
            "10.1016/j.neubiorev.2012.11.012",
            fix=FieldFix("doi", "https://doi.org/10.1016/j.neubiorev.2012.11.012", "10.1016/j.neubiorev.2012.11.012"),
        ),
        Finding(PLACEHOLDER, Location("refs.bib", 1), "'TODO' left in the file"),
    )
    results = (
        ReferenceResult(hassan, Verdict.VERIFIED, (), {"doi": "10.1016/j.neubiorev.2012.11.012"}),
        ReferenceResult(fda, Verdict.PROBLEM, ("KR304 link-generic: home page",)),
    )
    return Report("9.9.9", (doc,), results, findings, fail_on=fail_on)


def test_json_report_has_the_documented_keys() -> None:
    data = json.loads(json_report.render(_report()))
    assert data["schema_version"] == json_report.SCHEMA_VERSION
    assert data["tool"] == {"name": "kratomref", "version": "9.9.9"}
    ref = data["references"][0]
    assert set(ref) >= {"key", "file", "line", "type", "title", "authors", "year", "doi", "url", "verdict"}
    assert ref["verdict"] == "verified" and ref["authors"] == ["Hassan, Z."]
    finding = data["findings"][1]
    assert set(finding) >= {"code", "name", "severity", "file", "line", "key", "message", "suggestion"}
    assert finding["fix"]["new"] == "10.1016/j.neubiorev.2012.11.012"
    assert data["citations"][0]["resolved"] == "hassan2013"
    summary = data["summary"]
    assert (summary["verified"], summary["problem"], summary["errors"], summary["warnings"]) == (1, 1, 1, 1)
    assert summary["exit_code"] == 1


def test_json_doi_is_the_doi_itself_and_the_text_as_written_is_kept() -> None:
    hassan, fda = json.loads(json_report.render(_report()))["references"]
    assert hassan["doi"] == "10.1016/j.neubiorev.2012.11.012"
    assert hassan["doi_as_written"] == "https://doi.org/10.1016/j.neubiorev.2012.11.012"
    assert fda["doi"] is None and fda["doi_as_written"] is None


def test_json_report_says_never_when_nothing_fails_the_run() -> None:
    data = json.loads(json_report.render(_report(fail_on=None)))
    assert data["summary"]["fail_on"] == "never"
    assert data["summary"]["exit_code"] == 0


def test_text_report_groups_findings_under_their_reference_with_locations() -> None:
    out = text_report.render(_report())
    assert "fda2020 (refs.bib:27)  problem" in out
    assert "refs.bib:31: KR304 link-generic [warning] https://www.fda.gov is a home page" in out
    assert "suggestion: cite the page" in out
    assert "refs.bib:1: KR101 placeholder-text [error]" in out
    assert out.rstrip().endswith("1 error, 1 warning, 1 info. 1 in-text citation, 0 undefined.")


def test_text_report_has_no_escape_codes_without_colour() -> None:
    assert "\x1b[" not in text_report.render(_report(), color=False)
    assert "\x1b[" in text_report.render(_report(), color=True)
