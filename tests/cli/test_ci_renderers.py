"""Every output format (text, json, sarif, junit, github, markdown) rendered from one fixed report."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from ci_report import FIXED_RULES, build_report

from kratomref.model import Finding, Location, Report, Severity
from kratomref.reports import github, junit, markdown, renderers, sarif

GOLDEN_DIR = Path(__file__).parent.parent / "golden" / "ci"
SCHEMA = Path(__file__).parent.parent / "schemas" / "sarif-2.1.0.json"
UPDATE = os.environ.get("KRATOMREF_UPDATE_GOLDEN") == "1"
GOLDEN_FILES = {"sarif": "report.sarif", "junit": "report.junit.xml", "github": "report.github.txt",
                "markdown": "report.md", "json": "report.json", "text": "report.txt"}


@pytest.mark.parametrize("fmt", sorted(GOLDEN_FILES))
def test_format_matches_its_golden_file(fmt: str, report: Report, fixed_catalogue: object) -> None:
    """Rerun with KRATOMREF_UPDATE_GOLDEN=1 to accept a deliberate change, then review the diff."""
    rendered = renderers()[fmt](report)
    golden = GOLDEN_DIR / GOLDEN_FILES[fmt]
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8", newline="")
    assert golden.exists(), f"{golden} missing: run with KRATOMREF_UPDATE_GOLDEN=1"
    assert rendered == golden.read_bytes().decode("utf-8")


# --- SARIF ------------------------------------------------------------------------------------------


def _validate(document: object) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)


def test_sarif_of_the_fixed_report_is_valid_sarif_2_1_0(report: Report, fixed_catalogue: object) -> None:
    _validate(json.loads(sarif.render(report)))


def test_sarif_with_the_real_catalogue_is_valid_and_lists_every_rule(report: Report) -> None:
    from kratomref.rules import RULES

    document = json.loads(sarif.render(report))
    _validate(document)
    listed = [r["id"] for r in document["runs"][0]["tool"]["driver"]["rules"]]
    assert {r.code for r in RULES} <= set(listed)
    assert {f.rule.code for f in report.findings} <= set(listed), "a finding's rule is missing from the run"


def test_schema_validation_would_catch_a_broken_result(report: Report, fixed_catalogue: object) -> None:
    document = json.loads(sarif.render(report))
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        _validate(document)


def test_sarif_results_carry_level_location_fingerprint_and_suggestion(
    report: Report, fixed_catalogue: object
) -> None:
    run = json.loads(sarif.render(report))["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    mismatch = by_rule["KR203"]
    assert mismatch["level"] == "error"
    location = mismatch["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "refs.bib", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4}
    assert mismatch["partialFingerprints"]["kratomref/v1"] == report.findings[0].fingerprint
    assert "use DOI 10.1000/abc456" in mismatch["message"]["text"]
    fix = mismatch["fixes"][0]
    assert fix["description"]["text"] == "use DOI 10.1000/abc456"
    empty = fix["artifactChanges"][0]["replacements"][0]
    assert empty == {"deletedRegion": {"startLine": 4, "startColumn": 1, "endColumn": 1}}, "changes nothing"
    assert "fixes" not in by_rule["KR002"], "no line, so no place to hang a fix"
    assert by_rule["KR501"]["level"] == "note"
    assert by_rule["KR304"]["level"] == "warning"
    unreadable = by_rule["KR002"]["locations"][0]["physicalLocation"]
    assert "region" not in unreadable, "a finding without a line must not get a made-up region"
    space = by_rule["KR101"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert space == "notes/draft%20paper.md"
    rules = run["tool"]["driver"]["rules"]
    assert rules[by_rule["KR203"]["ruleIndex"]]["id"] == "KR203"
    assert {r["id"]: r["defaultConfiguration"]["level"] for r in rules}["KR501"] == "note"


def test_sarif_reports_unverified_references_as_notifications(report: Report, fixed_catalogue: object) -> None:
    run = json.loads(sarif.render(report))["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == ["lee2020: unverified: Crossref timed out after 10 s"]


def test_sarif_level_follows_a_severity_override(report: Report, fixed_catalogue: object) -> None:
    import dataclasses

    demoted = dataclasses.replace(report.findings[0], severity=Severity.INFO)
    run = json.loads(sarif.render(dataclasses.replace(report, findings=(demoted,))))["runs"][0]
    assert run["results"][0]["level"] == "note"


# --- JUnit ------------------------------------------------------------------------------------------


def _suites(xml_text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    return {s.get("name", ""): s for s in root.findall("testsuite")}


def test_junit_has_one_suite_per_file_and_one_case_per_reference_plus_document(report: Report) -> None:
    suites = _suites(junit.render(report))
    assert list(suites) == ["refs.bib", "notes/draft paper.md", "bad.bib"]
    names = {file: [c.get("name") for c in s.findall("testcase")] for file, s in suites.items()}
    assert names == {
        "refs.bib": ["document", "smith2019", "who2023", "lee2020"],
        "notes/draft paper.md": ["document", "ref-1"],
        "bad.bib": ["document"],
    }
    for file, suite in suites.items():
        assert all(c.get("classname") == file for c in suite.findall("testcase"))
        assert suite.get("tests") == str(len(names[file]))


def test_junit_fails_at_or_above_fail_on_and_keeps_the_rest_as_output(report: Report) -> None:
    root = ET.fromstring(junit.render(report))  # fail_on=warning
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    failure = cases[("refs.bib", "smith2019")].find("failure")
    assert failure is not None and failure.get("type") == "KR203 doi-mismatch"
    assert cases[("refs.bib", "who2023")].find("failure") is not None
    assert cases[("notes/draft paper.md", "document")].find("failure") is not None, "body placeholder"
    error = cases[("bad.bib", "document")].find("error")
    assert error is not None and error.get("type") == "KR002 unreadable-input"
    info = cases[("notes/draft paper.md", "ref-1")]
    assert info.find("failure") is None
    assert "KR501" in (info.findtext("system-out") or "")
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("7", "3", "1", "1")


def test_junit_keeps_unverified_references_as_skipped_with_the_reason(report: Report) -> None:
    root = ET.fromstring(junit.render(report))
    skipped = [(c.get("name"), s.get("message")) for c in root.iter("testcase") for s in c.findall("skipped")]
    assert skipped == [("lee2020", "unverified: Crossref timed out after 10 s")]


def test_junit_with_fail_on_never_has_no_failures_but_still_shows_findings() -> None:
    root = ET.fromstring(junit.render(build_report(fail_on=None)))
    assert root.get("failures") == "0" and root.get("errors") == "0"
    outputs = "".join(c.findtext("system-out") or "" for c in root.iter("testcase"))
    assert all(code in outputs for code in ("KR203", "KR304", "KR501", "KR101", "KR002"))


def test_junit_survives_control_characters_in_messages(report: Report) -> None:
    import dataclasses

    odd = dataclasses.replace(report.findings[0], message="title with \x0b vertical tab and \x00 nul")
    ET.fromstring(junit.render(dataclasses.replace(report, findings=(odd,))))


# --- GitHub workflow commands -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        pytest.param("plain words", "plain words", "plain words", id="plain text is left alone"),
        pytest.param("50%", "50%25", "50%25", id="a percent sign is escaped first"),
        pytest.param("a\nb", "a%0Ab", "a%0Ab", id="a newline would end the command"),
        pytest.param("a\r\nb", "a%0D%0Ab", "a%0D%0Ab", id="a carriage return is escaped too"),
        pytest.param("a:b,c", "a:b,c", "a%3Ab%2Cc", id="colon and comma end a property but not the message"),
        pytest.param("%0A", "%250A", "%250A", id="an already escaped-looking sequence is not unescaped"),
    ],
)
def test_github_escaping(text: str, data: str, prop: str) -> None:
    assert github.escape_data(text) == data
    assert github.escape_property(text) == prop


def test_github_annotation_for_each_level_and_location(report: Report) -> None:
    lines = github.render(report).splitlines()
    assert lines[0].startswith("::error file=refs.bib,line=4,title=KR203 doi-mismatch::smith2019: DOI 10.1000")
    assert any(line.startswith("::warning file=refs.bib,line=11,title=KR304 link-generic::") for line in lines)
    assert any(line.startswith("::notice file=notes/draft paper.md,line=30,title=KR501 ") for line in lines)
    assert "::error file=bad.bib,title=KR002 unreadable-input::" in github.render(report)
    assert any(line.startswith("::notice file=refs.bib,line=20,title=unverified reference::lee2020") for line in lines)
    assert all("\n" not in line and "\r" not in line for line in lines)


def test_github_annotation_of_a_multiline_suggestion_stays_on_one_line() -> None:
    finding = Finding(FIXED_RULES[3], Location("a,b:c.bib", 2, "k"), "m", suggestion="x\ny%")
    assert github.annotation(finding) == (
        "::warning file=a%2Cb%3Ac.bib,line=2,title=KR304 link-generic::k: m%0ASuggestion: x%0Ay%25"
    )


# --- Markdown ---------------------------------------------------------------------------------------

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def test_markdown_table_keeps_five_columns_whatever_the_text(report: Report) -> None:
    text = markdown.render(report)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + len(report.findings)
    for row in rows:
        assert len(_UNESCAPED_PIPE.findall(row)) == 6, row
    assert "\\| the \\| specific page \\|" in text
    assert "<sure>" not in text and "&lt;sure&gt;" in text


def test_markdown_summary_and_unverified_list(report: Report) -> None:
    text = markdown.render(report)
    assert text.splitlines()[0] == (
        "**kratomref**: 2 errors, 2 warnings, 1 info in 3 files; 4 references, 1 unverified; verified by Crossref 1"
    )
    assert "lee2020" in text and "Crossref timed out after 10 s" in text


def test_markdown_with_no_findings_says_so(report: Report) -> None:
    import dataclasses

    assert "No findings." in markdown.render(dataclasses.replace(report, findings=()))
