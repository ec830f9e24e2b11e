"""Red-team attacks on the repository's kratomref.toml that the first round of trust tests did not try: TOML's
special numbers and over-long integers, NUL bytes in file names, a pause between requests that holds the
runner, and an `exclude` pattern that backtracks for ever. Each is refused or ignored with a message, never a
traceback, a hang or a value that slips past a bound."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from trust_kit import User, run, warnings_of, write

from kratomref.config import backtracking_risk

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def shown_value(stdout: str, key: str) -> str:
    [row] = [line for line in stdout.splitlines() if line.startswith(f"{key} = ")]
    return row


# --- numbers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    pytest.param("timeout = nan", id="nan timeout: every bound compares false with nan"),
    pytest.param("timeout = inf", id="inf timeout"),
    pytest.param("ttl-links = nan", id="nan TTL"),
    pytest.param("host-interval = nan", id="nan pause"),
    pytest.param("host-interval = inf", id="inf pause: a crash in the link checker"),
    pytest.param("timeout = " + "9" * 400, id="an integer too large for a float"),
])
def test_a_number_that_is_not_finite_is_refused_with_a_message(repo: Path, line: str) -> None:
    write(repo / "kratomref.toml", line + "\n")
    result = run("check", "--show-config")
    assert result.exit_code == 2, result.output
    key = line.split(" = ")[0]
    assert f"bad value for '{key}'" in result.stderr and "finite number" in result.stderr
    assert len(result.stderr) < 400, "the value is shortened in the message"


def test_an_integer_beyond_pythons_digit_limit_is_a_toml_error_not_a_traceback(repo: Path) -> None:
    write(repo / "kratomref.toml", "max-retries = " + "9" * 5000 + "\n")
    result = run("check", "--show-config")
    assert result.exit_code == 2 and "not valid TOML" in result.stderr, result.output


def test_the_users_own_config_cannot_set_a_nan_timeout_either(repo: Path, user: User) -> None:
    user.configure("timeout = nan\n")
    result = run("check", "--show-config")
    assert result.exit_code == 2 and "finite number" in result.stderr


# --- a pause that holds the runner -----------------------------------------------------------------------


def test_a_repository_config_cannot_pause_for_ever_between_requests(repo: Path, user: User) -> None:
    write(repo / "kratomref.toml", "host-interval = 1e9\n")
    result = run("check", "--show-config")
    assert result.exit_code == 0, result.output
    assert shown_value(result.stdout, "host-interval").endswith("ignored)")
    [warning] = warnings_of(result)
    assert "ignoring host-interval = 1000000000.0" in warning and "above 5" in warning
    # a longer, polite pause is still the project's to choose (the test can fail)
    write(repo / "kratomref.toml", "host-interval = 2\n")
    assert shown_value(run("check", "--show-config").stdout, "host-interval") == "host-interval = 2.0  # kratomref.toml"
    # and the user may ask for more
    user.configure("host-interval = 60\n")
    (repo / "kratomref.toml").unlink()
    assert "host-interval = 60.0  # user config" in run("check", "--show-config").stdout


# --- NUL bytes in file names -----------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    pytest.param('paths = ["refs\\u0000.bib"]', id="paths"),
    pytest.param('baseline = "base\\u0000.json"', id="baseline"),
])
def test_a_nul_byte_in_a_file_name_is_refused_not_a_traceback(repo: Path, line: str) -> None:
    write(repo / "kratomref.toml", line + "\n")
    result = run("check", "--offline")
    assert result.exit_code == 2, result.output
    assert "NUL" in result.stderr and "\x00" not in result.stderr


@pytest.mark.parametrize("spelling", ["~/refs.bib", "$HOME/refs.bib", "${HOME}/refs.bib"])
def test_home_spellings_name_a_file_inside_the_repository(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    home = tmp_path / "home"
    write(home / "refs.bib", "@misc{x, title = {HOMEFILE}, year = {2024}}\n")
    monkeypatch.setenv("HOME", str(home))
    write(repo / "kratomref.toml", f'paths = ["{spelling}"]\n')
    result = run("check", "--offline", "--format", "json")
    assert "HOMEFILE" not in result.output, "the home directory was read"
    assert spelling in result.output, "the file the run looked for is the literal name, in the repository"


# --- exclude patterns that backtrack ---------------------------------------------------------------------

SLOW_PATTERNS = [
    pytest.param(r"(a+)+$", id="nested repetition"),
    pytest.param(r"(a|ab)*$", id="alternation in a repetition"),
    pytest.param(r".*a.*a.*b", id="three long repetitions"),
    pytest.param("a?" * 30 + "a" * 30, id="many optional parts"),
    pytest.param(r"(\w+)\1$", id="a backreference"),
]


@pytest.mark.parametrize("pattern", SLOW_PATTERNS)
def test_a_repository_exclude_pattern_that_can_backtrack_for_ever_is_ignored(repo: Path, pattern: str) -> None:
    toml_pattern = pattern.replace("\\", "\\\\")
    write(repo / "kratomref.toml", f'exclude = ["{toml_pattern}"]\n')
    result = run("check", "--show-config")
    assert result.exit_code == 0, result.output
    assert shown_value(result.stdout, "exclude").endswith("ignored)")
    [warning] = warnings_of(result)
    assert "ignoring exclude" in warning and "exponential time" in warning and "--exclude" in warning


@pytest.mark.parametrize("pattern", [
    r"^https?://(www\.)?linkedin\.com/", r"example\.org", r"\.pdf$", r"^https://github\.com/.*/issues",
    r"\d{4}-\d{2}-\d{2}", r"(?i)twitter\.com|x\.com",
])
def test_the_exclude_patterns_projects_write_are_still_taken(pattern: str) -> None:
    assert backtracking_risk(pattern) is None


def test_the_user_may_still_give_any_pattern(repo: Path, user: User) -> None:
    user.configure('exclude = ["(a+)+$"]\n')
    result = run("check", "--show-config")
    assert warnings_of(result) == [] and 'exclude = ["(a+)+$"]  # user config' in result.stdout
    shown = run("check", "--show-config", "--exclude", "(x|xy)*$")
    assert 'exclude = ["(x|xy)*$"]  # command line' in shown.stdout


# --- what a warning shows of a repository's value -----------------------------------------------------------


def test_a_warning_shows_invisible_and_separator_characters_as_toml_escapes(repo: Path) -> None:
    hidden = "x\u2028y\u061cz\u200b\U000e0041"
    write(repo / "kratomref.toml", 'cache-dir = "x\\u2028y\\u061Cz\\u200B\\U000E0041"\n')
    result = run("check", "--show-config")
    [warning] = warnings_of(result)
    assert not re.search("[\u2028\u061c\u200b\U000e0041]", result.output), repr(warning)
    shown = warning.split("ignoring cache-dir = ")[1].split(": the cache")[0]
    assert tomllib.loads(f"v = {shown}")["v"] == hidden, "the escapes are TOML's, so the value reads back exact"

