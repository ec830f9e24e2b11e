"""The command line as a user drives it: commands, exit codes, messages (in-process with CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kratomref import __version__
from kratomref.cli import main
from kratomref.rules import RULES


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_rules_lists_every_rule_of_the_catalogue(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules"])
    assert result.exit_code == 0
    for rule in RULES:
        assert rule.code in result.output and rule.name in result.output


def test_rules_as_json_is_machine_readable(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rules", "--format", "json"])
    data = json.loads(result.output)
    assert {r["code"] for r in data} == {r.code for r in RULES}


@pytest.mark.parametrize("selector", ["KR001", "kr001", "parse-error"], ids=["by code", "any case", "by name"])
def test_explain_prints_the_four_headings(runner: CliRunner, selector: str) -> None:
    result = runner.invoke(main, ["explain", selector])
    assert result.exit_code == 0
    for heading in ("What it does", "Why it matters", "Example", "How to fix"):
        assert heading in result.output


def test_every_rule_explains_itself_with_the_four_headings() -> None:
    for rule in RULES:
        for heading in ("What it does", "Why it matters", "Example", "How to fix"):
            assert heading in rule.explanation, f"{rule.code} lacks {heading!r}"


def test_explain_an_unknown_rule_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["explain", "KR999"])
    assert result.exit_code == 2
    assert "no rule" in result.output


def test_cache_info_and_clear(runner: CliRunner, tmp_path: Path) -> None:
    from kratomref.services.cache import Cache

    cache = Cache(tmp_path)
    cache.put("links", "https://a.example.org/", {"status": "ok"}, ttl=60)
    cache.close()
    info = runner.invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert info.exit_code == 0
    assert "links: 1 entry" in info.output
    cleared = runner.invoke(main, ["cache", "clear", "--cache-dir", str(tmp_path)])
    assert "removed 1 entry" in cleared.output
    assert "links" not in runner.invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)]).output


# --- user errors are one line and exit 2, never a traceback -------------------------------------------

ONE_ENTRY = "@misc{a,\n  title = {Kratom},\n  author = {Smith, J.},\n  year = {2020}\n}\n"
# an offline check still asks the cache about this DOI
WITH_DOI = "@article{a,\n  title = {Kratom},\n  author = {Smith, J.},\n  year = {2020},\n  doi = {10.1000/xyz}\n}\n"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["export", "--offline", "-o", "{missing}/x.txt", "{bib}"], id="export -o into a missing folder"),
        pytest.param(["check", "--offline", "-o", "{missing}/x.txt", "{bib}"], id="check -o into a missing folder"),
        pytest.param(["check", "--offline", "--write-baseline", "{missing}/b.json", "{bib}"],
                     id="--write-baseline into a missing folder"),
    ],
)
def test_an_output_file_that_cannot_be_written_is_exit_2_with_the_reason(
    runner: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(ONE_ENTRY, encoding="utf-8")
    argv = [a.format(missing=tmp_path / "no-such-folder", bib=bib) for a in args]
    result = runner.invoke(main, argv)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit), "a message, not a traceback"
    assert "cannot write" in result.stderr and "No such file or directory" in result.stderr


def test_check_with_a_cache_dir_that_is_a_file_runs_without_the_cache_and_says_so(
    runner: CliRunner, tmp_path: Path
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(WITH_DOI, encoding="utf-8")
    not_a_dir = tmp_path / "cachefile"
    not_a_dir.write_text("x", encoding="utf-8")
    result = runner.invoke(main, ["check", "--offline", "--cache-dir", str(not_a_dir), str(bib)])
    assert isinstance(result.exception, SystemExit) and result.exit_code in (0, 3)
    assert "1 reference:" in result.stdout, "the check ran"
    notices = [line for line in result.stderr.splitlines() if "cache" in line]
    assert len(notices) == 1 and "going on without the cache" in notices[0] and "cachefile" in notices[0]


def test_check_with_a_corrupt_cache_file_runs_without_the_cache_and_says_so(runner: CliRunner, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(WITH_DOI, encoding="utf-8")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "cache.sqlite3").write_text("garbage\n", encoding="utf-8")
    result = runner.invoke(main, ["check", "--offline", "--cache-dir", str(tmp_path / "cache"), str(bib)])
    assert isinstance(result.exception, SystemExit) and result.exit_code in (0, 3)
    assert "1 reference:" in result.stdout
    notices = [line for line in result.stderr.splitlines() if "cache" in line]
    assert len(notices) == 1 and "not a kratomref cache" in notices[0]


def test_cache_info_on_a_corrupt_cache_is_exit_2_and_cache_clear_starts_a_new_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "cache.sqlite3").write_text("garbage\n", encoding="utf-8")
    info = runner.invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert info.exit_code == 2 and isinstance(info.exception, SystemExit)
    assert "not a kratomref cache" in info.stderr and "cache clear" in info.stderr
    cleared = runner.invoke(main, ["cache", "clear", "--cache-dir", str(tmp_path)])
    assert cleared.exit_code == 0 and "not a kratomref cache" in cleared.stdout
    after = runner.invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert after.exit_code == 0 and "no cache file yet" in after.stdout


# --- suppressions, colour, messages -------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([], id="offline"),
        pytest.param(["--ignore", "KR203"], id="offline and the rule ignored on the command line"),
    ],
)
def test_an_offline_check_does_not_call_a_suppression_of_a_network_rule_unused(
    runner: CliRunner, tmp_path: Path, extra: list[str]
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("% kratomref: ignore[KR203]\n" + WITH_DOI, encoding="utf-8")
    result = runner.invoke(main, ["check", "--offline", *extra, str(bib)])
    assert "KR901" not in result.stdout and "unused suppression" not in result.stdout


def test_a_suppression_of_a_rule_the_config_file_ignores_is_not_called_unused(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kratomref.toml").write_text('ignore = ["KR401"]\n', encoding="utf-8")
    (tmp_path / "refs.bib").write_text("% kratomref: ignore[KR401]\n" + ONE_ENTRY, encoding="utf-8")
    result = runner.invoke(main, ["check", "--offline", "--today", "2021-01-01", "refs.bib"])
    assert "1 reference:" in result.stdout
    assert "unused suppression" not in result.stdout, "the configuration ignores KR401: it never ran"


def test_color_keeps_its_ansi_codes_when_the_output_is_piped(runner: CliRunner, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(ONE_ENTRY, encoding="utf-8")
    colored = runner.invoke(main, ["check", "--offline", "--color", str(bib)], env={"TERM": "xterm"})
    assert "\x1b[" in colored.stdout, "--color asked for colour even though stdout is not a terminal"
    plain = runner.invoke(main, ["check", "--offline", str(bib)], env={"TERM": "xterm"})
    assert "\x1b[" not in plain.stdout, "no colour by default when stdout is not a terminal"


def test_a_repeated_bibtex_field_suggests_removing_one(runner: CliRunner, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a,\n  title = {A},\n  title = {B},\n  year = {2000}\n}\n", encoding="utf-8")
    result = runner.invoke(main, ["check", "--offline", "-q", str(bib)])
    assert "KR001" in result.stdout
    assert "suggestion: remove one of the two title fields" in result.stdout
    assert "balance the braces" not in result.stdout


@pytest.mark.parametrize(("flags", "code"), [([], 3), (["--allow-unverified"], 0)])
def test_the_json_summary_exit_code_is_the_process_exit_code(
    runner: CliRunner, bundled_bib: Path, flags: list[str], code: int
) -> None:
    result = runner.invoke(
        main, ["check", str(bundled_bib), "--offline", "--format", "json", "--today", "2026-11-25", *flags]
    )
    assert result.exit_code == code, result.output
    assert json.loads(result.output)["summary"]["exit_code"] == code
