"""Where the report goes: stdout and --output files, progress on a terminal only, --quiet, baselines
written from the CLI, shell completion. Offline: no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kratomref.cli import main

GOOD = (
    "@article{a,\n  title = {Kratom alkaloids},\n  author = {Smith, J.},\n"
    "  journal = {Journal of Ethnopharmacology},\n  year = {2019},\n  doi = {10.1000/xyz}\n}\n"
)
HOME_PAGE = (
    "@online{fda2020,\n  title = {FDA and Kratom},\n  author = {{Food and Drug Administration}},\n"
    "  year = {2020},\n  url = {https://www.fda.gov}\n}\n"
)
BROKEN = "@article{b,\n title = {Broken\n"
TODAY = "2021-06-01"  # the age policy counts from here: no source is old


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "refs.bib").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.bib").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "web.bib").write_text(HOME_PAGE, encoding="utf-8")
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    base_env = {"GITHUB_ACTIONS": "", "NO_COLOR": "1"}
    argv = ("check", "--offline", "--no-cache", "--today", TODAY, *args)
    return CliRunner().invoke(main, argv, env={**base_env, **(env or {})})


# --- formats and files --------------------------------------------------------------------------------


def test_format_files_do_not_take_the_place_of_the_report_on_stdout(workdir: Path) -> None:
    result = run("bad.bib", "-o", "sarif=out.sarif")
    assert result.exit_code == 1
    assert "KR001 parse-error [error]" in result.stdout, "the text report still goes to stdout"
    assert json.loads((workdir / "out.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_on_github_actions_stdout_gets_annotations_next_to_the_sarif_file(workdir: Path) -> None:
    result = run("bad.bib", "-o", "sarif=out.sarif", env={"GITHUB_ACTIONS": "true"})
    assert result.stdout.startswith("::error file=bad.bib,line=1,title=KR001 parse-error::")
    assert (workdir / "out.sarif").exists()


def test_on_github_actions_a_plain_output_file_gets_the_text_report(workdir: Path) -> None:
    result = run("bad.bib", "-o", "report.txt", env={"GITHUB_ACTIONS": "true"})
    assert result.stdout == ""
    assert "KR001 parse-error [error]" in (workdir / "report.txt").read_text(encoding="utf-8")


def test_format_and_plain_output_send_every_report_to_files(workdir: Path) -> None:
    result = run("bad.bib", "-f", "json", "-o", "r.json", "-o", "junit=r.xml", "-o", "markdown=r.md")
    assert (result.exit_code, result.stdout) == (1, "")
    assert json.loads((workdir / "r.json").read_text(encoding="utf-8"))["findings"][0]["code"] == "KR001"
    assert (workdir / "r.xml").read_text(encoding="utf-8").startswith("<?xml")
    assert "| error | KR001 parse-error |" in (workdir / "r.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        pytest.param(("-o", "sarf=out.sarif"), "unknown format 'sarf'", id="a misspelt format is refused"),
        pytest.param(("-o", "sarif="), "names no file", id="a format without a file is refused"),
        pytest.param(("-o", "a.txt", "-o", "b.txt"), "give one --output FILE", id="two plain files are refused"),
        pytest.param(("-o", "no/such/dir/r.txt"), "cannot write no/such/dir/r.txt", id="an unwritable file"),
    ],
)
def test_bad_outputs_exit_2_with_a_message(workdir: Path, outputs: tuple[str, ...], message: str) -> None:
    result = run("refs.bib", *outputs)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_quiet_keeps_the_findings_and_the_summary_only(workdir: Path) -> None:
    loud, quiet = run("refs.bib", "bad.bib"), run("refs.bib", "bad.bib", "--quiet")
    assert "unverified: DOI 10.1000/xyz could not be checked" in loud.stdout
    assert "unverified:" not in quiet.stdout and "a (refs.bib:1)" not in quiet.stdout
    assert "KR001 parse-error" in quiet.stdout and "1 error," in quiet.stdout
    assert quiet.exit_code == loud.exit_code == 1


# --- progress -------------------------------------------------------------------------------------------


def _check_in_subprocess(cwd: Path, stderr: int) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100", "KRATOMREF_CACHE_DIR": str(cwd / "cache")}
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "kratomref", "check", "--offline", "--today", TODAY, "refs.bib"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr, timeout=60,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_progress_bar_goes_to_stderr_when_it_is_a_terminal(workdir: Path) -> None:
    import pty

    controller, terminal = pty.openpty()
    try:
        result = _check_in_subprocess(workdir, terminal)
    finally:
        os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal side is closed and everything has been read
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert result.returncode == 3
    assert b"resolving DOIs" in shown and b"1/1" in shown
    assert b"resolving DOIs" not in result.stdout, "progress never mixes into the report"


def test_no_progress_when_stderr_is_not_a_terminal(workdir: Path) -> None:
    result = _check_in_subprocess(workdir, subprocess.PIPE)
    assert result.returncode == 3
    assert result.stderr == b""
    assert b"a (refs.bib:1)  unverified" in result.stdout


# --- baselines through the CLI --------------------------------------------------------------------------


def test_writing_a_baseline_records_the_findings_and_exits_0(workdir: Path) -> None:
    result = run("web.bib", "--fail-on", "warning", "--write-baseline", "baseline.json")
    assert result.exit_code == 0, result.output
    assert "wrote 1 finding to baseline.json" in result.stderr
    recorded = json.loads((workdir / "baseline.json").read_text(encoding="utf-8"))["findings"]
    assert [(e["code"], e["key"]) for e in recorded] == [("KR304", "fda2020")]


def test_a_baseline_still_matches_after_entries_are_inserted_above(workdir: Path) -> None:
    run("web.bib", "--fail-on", "warning", "--write-baseline", "baseline.json")
    assert run("web.bib", "--fail-on", "warning", "--allow-unverified", "--baseline", "baseline.json").exit_code == 0
    (workdir / "web.bib").write_text("% new entry\n" + GOOD + "\n\n" + HOME_PAGE, encoding="utf-8")
    moved = run("web.bib", "--fail-on", "warning", "--allow-unverified", "--baseline", "baseline.json")
    assert moved.exit_code == 0, moved.output
    assert "KR304" not in moved.stdout
    # the same problem on a new entry is new
    (workdir / "web.bib").write_text(HOME_PAGE + "\n" + HOME_PAGE.replace("fda2020", "fda2021"), encoding="utf-8")
    new = run("web.bib", "--fail-on", "warning", "--allow-unverified", "--baseline", "baseline.json")
    assert new.exit_code == 1
    assert "fda2021 (web.bib:8)  problem" in new.stdout and "fda2020 (web.bib:1)  unverified" in new.stdout
    assert new.stdout.count("KR304") == 1


def test_rewriting_a_baseline_keeps_what_the_old_baseline_held(workdir: Path) -> None:
    run("web.bib", "--write-baseline", "baseline.json")
    result = run("web.bib", "--baseline", "baseline.json", "--write-baseline", "baseline.json")
    assert result.exit_code == 0
    recorded = json.loads((workdir / "baseline.json").read_text(encoding="utf-8"))["findings"]
    assert [e["code"] for e in recorded] == ["KR304"]


# --- shell completion -----------------------------------------------------------------------------------


def _complete(words: str) -> list[str]:
    env = {"_KRATOMREF_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    result = CliRunner().invoke(main, [], env=env, prog_name="kratomref")
    return [line.split(",", 1)[1] for line in result.output.splitlines() if "," in line]


def test_click_completes_commands_options_and_format_names() -> None:
    assert "check" in _complete("kratomref ch")
    assert "--fail-on" in _complete("kratomref check --fail")
    assert _complete("kratomref check --format sa") == ["sarif"]


def test_the_completion_script_is_what_the_docs_tell_users_to_source() -> None:
    result = CliRunner().invoke(main, [], env={"_KRATOMREF_COMPLETE": "bash_source"}, prog_name="kratomref")
    assert result.exit_code == 0
    assert "_KRATOMREF_COMPLETE=bash_complete" in result.output
    assert "_KRATOMREF_COMPLETE=bash_source" in (Path(__file__).parents[2] / "README.md").read_text(
        encoding="utf-8"
    )
