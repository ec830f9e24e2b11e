"""The offline rules through the library API (`kratomref.check.check`), on every input format."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kratomref.check import check
from kratomref.model import FieldFix, Report, Verdict

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TODAY = dt.date(2026, 11, 25)
RULE_CODES = {"KR101", "KR102", "KR103", "KR104", "KR105", "KR201", "KR210", "KR211", "KR401"}


def _check(*paths: Path) -> Report:
    from kratomref.options import Options

    return check(Options(paths=tuple(str(p) for p in paths), offline=True, today=TODAY))


def _found(report: Report) -> set[tuple[str, int | None, str | None]]:
    return {(f.rule.code, f.location.line, f.location.key) for f in report.findings if f.rule.code in RULE_CODES}


def test_bundled_references_bib_reports_doi_forms_and_old_sources() -> None:
    report = _check(ROOT / "references.bib")
    found = _found(report)
    doi_lines = {"hassan2013kratom": 12, "singh2014kratom": 22, "cinosi2015following": 39, "henningfield2018abuse": 69}
    assert {(key, line) for code, line, key in found if code == "KR210"} == set(doi_lines.items())
    fixes = {f.location.key: f.fix for f in report.findings if f.rule.code == "KR210"}
    assert fixes["hassan2013kratom"] == FieldFix(
        "doi", "https://doi.org/10.1016/j.neubiorev.2012.11.012", "10.1016/j.neubiorev.2012.11.012"
    )
    # The 2016-2020 agency pages (policy 5 years); the scholarly works are not judged by age by default.
    assert {key for code, _, key in found if code == "KR401"} == {"dea2016kratom", "fda2020kratom", "nida2019kratom"}
    assert not {code for code, _, _ in found} & {"KR101", "KR102", "KR103", "KR104", "KR105", "KR201", "KR211"}
    # Info findings fail nothing and impugn nothing: offline, the references stay unverified (exit 3).
    assert all(r.verdict is not Verdict.PROBLEM or any("KR304" in x for x in r.reasons) for r in report.results)
    assert report.exit_code == 3


def test_draft_reports_each_placeholder_on_its_own_line() -> None:
    draft = FIXTURES / "drafts" / "placeholders-draft.md"
    report = _check(draft)
    assert [r.reference.key for r in report.results] == [f"ref-{n}" for n in range(1, 7)]
    body = sorted((f.rule.code, f.location.line, f.location.column) for f in report.findings
                  if f.location.key is None and f.rule.code in RULE_CODES)
    assert body == [
        ("KR101", 3, 40), ("KR101", 6, 26), ("KR101", 6, 39), ("KR101", 19, 86),
        ("KR102", 4, 41), ("KR102", 19, 23), ("KR102", 19, 51),
        ("KR103", 5, 33), ("KR103", 8, 11),
        ("KR104", 7, 1), ("KR104", 8, 52),
    ]
    lines = draft.read_text(encoding="utf-8").splitlines()
    prose = {n for n, text in enumerate(lines, 1) if "Jane Austen" in text or "Dr. Xavier" in text
             or "example-kratom-page" in text or "(TBD)" in text or "code blocks" in text}
    assert len(prose) == 5 and not prose & {line for _, line, _ in body}
    refs = _found(report) - {(c, line, None) for c, line, _ in body}
    assert {
        ("KR103", 25, "ref-3"), ("KR101", 25, "ref-3"), ("KR105", 26, "ref-4"), ("KR210", 27, "ref-5"),
        ("KR211", 28, "ref-6"), ("KR401", 24, "ref-2"),
    } <= refs
    assert ("KR401", 23, "ref-1") not in refs, "a 2013 review is not outdated by age alone"
    assert ("KR105", 25, "ref-3") not in refs, "a placeholder year is KR101's, not a missing year"
    assert report.exit_code == 1  # placeholders are errors


def test_json_report_carries_the_placeholder_findings(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kratomref.cli import main

    draft = FIXTURES / "drafts" / "placeholders-draft.md"
    result = CliRunner().invoke(main, ["check", str(draft), "--offline", "--format", "json", "--no-color"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output)["findings"]
    codes = {(f["code"], f["name"], f["severity"], f["line"]) for f in findings}
    assert ("KR101", "placeholder-text", "error", 3) in codes
    assert ("KR102", "placeholder-link", "error", 4) in codes
    assert ("KR103", "placeholder-name", "warning", 5) in codes
    assert ("KR104", "drafting-note", "warning", 7) in codes


FORMATS = {
    "bibtex": ("refs.bib", "@article{a,\n  author = {Doe, Jane},\n  title = {Kratom [citation needed]},\n"
                           "  year = {2020}\n}\n", 3),
    "markdown": ("draft.md", "# Draft\n\nText.\n\n## References\n\n1. Doe, J. Kratom [citation needed]. "
                             "Some Review 3:1-2.\n", 7),
    "csljson": ("lib.json", json.dumps([{"id": "a", "type": "article-journal", "title": "Kratom [citation needed]",
                                         "author": [{"family": "Doe", "given": "Jane"}],
                                         "issued": {"date-parts": [[2020]]}}], indent=1), None),
    "ris": ("lib.ris", "TY  - JOUR\nAU  - Doe, Jane\nTI  - Kratom [citation needed]\nPY  - 2020\nER  - \n", None),
}


@pytest.mark.parametrize(("name", "source", "line"), list(FORMATS.values()), ids=list(FORMATS))
def test_every_input_format_gets_placeholder_and_missing_field_findings(
    tmp_path: Path, name: str, source: str, line: int | None
) -> None:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    report = _check(path)
    codes = {f.rule.code for f in report.findings}
    assert {"KR101", "KR103", "KR105"} <= codes, codes
    [missing] = [f for f in report.findings if f.rule.code == "KR105"]
    # A structured entry lacks its journal; the free-text item clearly lacks a year (the parser cannot find the
    # journal of "Some Review 3:1-2", so that is not reported).
    assert ("year" in missing.message) if name.endswith(".md") else ("journal" in missing.message)
    placeholder = next(f for f in report.findings if f.rule.code == "KR101")
    assert "[citation needed]" in placeholder.message and placeholder.location.file == str(path)
    if line is not None:
        assert placeholder.location.line == line


@pytest.mark.parametrize(
    "fixture", ["library.json", "library.ris", "kratom-draft.md", "kratom-draft.txt"],
)
def test_bundled_fixtures_have_no_missing_fields_or_invalid_dois(fixture: str) -> None:
    report = _check(FIXTURES / "inputs" / fixture)
    assert not {f.rule.code for f in report.findings} & {"KR105", "KR201", "KR211", "KR103", "KR104"}
