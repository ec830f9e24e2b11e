"""The CI gate end to end through the CLI: exit codes, formats to files, baselines. Offline: no network."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from kratomref.cli import main

SCHEMA = Path(__file__).parent.parent / "schemas" / "sarif-2.1.0.json"
GOOD = (
    "@article{a,\n  title = {Kratom alkaloids},\n  author = {Smith, J.},\n"
    "  journal = {Journal of Ethnopharmacology},\n  year = {2019},\n  doi = {10.1000/xyz}\n}\n"
)
BROKEN = "@article{b,\n title = {Broken\n"
TODAY = "2021-06-01"  # the age policy counts from here: no source is old


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None) -> Result:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "refs.bib").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.bib").write_text(BROKEN, encoding="utf-8")
    base_env = {"GITHUB_ACTIONS": "", "KRATOMREF_CACHE_DIR": str(tmp_path / "cache")}
    argv = ("check", "--offline", "--no-cache", "--today", TODAY, *args)
    return CliRunner().invoke(main, argv, env={**base_env, **(env or {})})


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(("--allow-unverified", "refs.bib"), 0, id="0 when nothing failed and unverified is allowed"),
        pytest.param(("bad.bib",), 1, id="1 when a finding is at or above fail-on"),
        pytest.param(("bad.bib", "--fail-on", "never"), 0, id="0 with fail-on never despite an error"),
        pytest.param(("missing.bib",), 2, id="2 for an input that cannot be opened"),
        pytest.param(("refs.bib", "--select", "KR999"), 2, id="2 for an unknown rule on the command line"),
        pytest.param(("refs.bib",), 3, id="3 when nothing failed but a reference could not be checked"),
    ],
)
def test_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], code: int) -> None:
    result = run(tmp_path, monkeypatch, *args)
    assert result.exit_code == code, result.output


def test_a_bad_config_file_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kratomref.toml").write_text("fail-on = 'sometimes'\n", encoding="utf-8")
    result = run(tmp_path, monkeypatch, "refs.bib")
    assert result.exit_code == 2 and "fail-on" in result.output


def test_several_formats_at_once_to_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "bad.bib", "refs.bib", "-o", "sarif=out.sarif", "-o", "junit=out.xml",
                 "-o", "markdown=out.md", "-o", "github=out.txt")
    assert result.exit_code == 1, result.output
    document = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(document)
    assert [r["ruleId"] for r in document["runs"][0]["results"]] == ["KR001"]
    root = ET.fromstring((tmp_path / "out.xml").read_text(encoding="utf-8"))
    assert (root.get("errors"), root.get("skipped")) == ("1", "1")
    assert "KR001" in (tmp_path / "out.md").read_text(encoding="utf-8")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").startswith("::error file=bad.bib,line=1,title=KR001")


def test_github_format_is_chosen_on_github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "bad.bib", env={"GITHUB_ACTIONS": "true"})
    assert result.output.startswith("::error file=bad.bib")


def test_baseline_round_trip_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(tmp_path, monkeypatch, "bad.bib", "--write-baseline", "baseline.json")
    assert first.exit_code == 0, "recording a baseline is the job: it does not fail the run"
    again = run(tmp_path, monkeypatch, "bad.bib", "--baseline", "baseline.json")
    assert again.exit_code == 0, again.output
    (tmp_path / "bad.bib").write_text("\n\n" + BROKEN, encoding="utf-8")  # moved down: still the old finding
    moved = CliRunner().invoke(main, ["check", "--offline", "--no-cache", "bad.bib", "--baseline", "baseline.json"])
    assert moved.exit_code == 0, moved.output
    missing = run(tmp_path, monkeypatch, "bad.bib", "--baseline", "nope.json")
    assert missing.exit_code == 2
