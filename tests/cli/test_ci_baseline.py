"""Baselines: record the findings, then only new ones count; matched on rule, key and fingerprint."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from ci_report import DOI_MISMATCH, LINK_GENERIC

from kratomref.baseline import BaselineError, filter_new, write_baseline
from kratomref.model import Finding, Location
from kratomref.options import Options
from kratomref.selection import select

OLD = (
    Finding(DOI_MISMATCH, Location("refs.bib", 4, "smith2019"), "DOI 10.1/x resolves to another work"),
    Finding(LINK_GENERIC, Location("refs.bib", 11, "who2023"), "home page link (line 11)"),
)


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    path = tmp_path / "kratomref-baseline.json"
    write_baseline(path, select(OLD, [], Options()))
    return path


def test_the_baseline_file_records_code_key_file_and_fingerprint(baseline: Path) -> None:
    data = json.loads(baseline.read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert [(e["code"], e["key"], e["file"]) for e in data["findings"]] == [
        ("KR203", "smith2019", "refs.bib"),
        ("KR304", "who2023", "refs.bib"),
    ]
    assert all(len(e["fingerprint"]) == 64 for e in data["findings"])


def test_unchanged_findings_are_not_new(baseline: Path) -> None:
    assert filter_new(select(OLD, [], Options()), baseline) == []


def test_a_finding_that_moved_lines_still_matches(baseline: Path) -> None:
    moved = dataclasses.replace(
        OLD[1], location=Location("refs.bib", 57, "who2023"), message="home page link (line 57)"
    )
    assert filter_new(select([moved, OLD[0]], [], Options()), baseline) == []


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(Finding(DOI_MISMATCH, Location("refs.bib", 30, "lee2020"), "DOI 10.1/x resolves to another work"),
                     id="the same problem on another entry is new"),
        pytest.param(Finding(LINK_GENERIC, Location("refs.bib", 4, "smith2019"), "home page link (line 4)"),
                     id="another rule on a baselined entry is new"),
        pytest.param(Finding(DOI_MISMATCH, Location("refs.bib", 4, "smith2019"), "DOI 10.1/y resolves to another work"),
                     id="a changed message on a baselined entry is new"),
    ],
)
def test_a_new_finding_is_reported(baseline: Path, new: Finding) -> None:
    kept = filter_new(select([*OLD, new], [], Options()), baseline)
    assert [(f.rule.code, f.location.key, f.message) for f in kept] == [(new.rule.code, new.location.key, new.message)]


def test_a_second_copy_of_a_baselined_finding_is_new(baseline: Path) -> None:
    kept = filter_new(select([*OLD, OLD[0]], [], Options()), baseline)
    assert [f.rule.code for f in kept] == ["KR203"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "baseline not found", id="a missing baseline is an error"),
        pytest.param("{not json", "cannot read the baseline", id="a baseline that is not JSON is an error"),
        pytest.param(
            '{"version": 99, "findings": []}', "not a kratomref baseline", id="an unknown version is an error"
        ),
    ],
)
def test_a_bad_baseline_is_an_input_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=message):
        filter_new(OLD, path)
