"""The README is part of the product: its commands are the ones CI runs, its rule table is the catalogue."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from kratomref.cli import main
from kratomref.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _first_screen() -> str:
    return "\n".join(README.splitlines()[:40])


def _test_command() -> str:
    match = re.search(r"^python3 -m venv .venv && \.venv/bin/pip install -q -e '\.\[test\]' && (.+)$", README, re.M)
    assert match, "the README's first screen shows no install-and-test command"
    return match.group(1)


def test_the_first_screen_shows_how_to_install_and_check_and_how_to_run_the_tests() -> None:
    screen = _first_screen()
    assert re.search(r"pip install[^\n]*&& \.venv/bin/kratomref check\b", screen)
    assert "pytest" in _test_command() and "ruff check" in _test_command() and "mypy" in _test_command()
    assert _test_command() in screen


def test_ci_runs_exactly_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme_steps = [shlex.split(step) for step in _test_command().split("&&")]
    ci_line = next(line for line in script.splitlines() if "pytest" in line)
    ci_steps = [shlex.split(step) for step in ci_line.split("&&")]
    assert ci_steps[-len(readme_steps):] == readme_steps


def test_the_readme_rule_table_is_the_catalogue() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "markdown"])
    assert result.exit_code == 0
    table = result.output.strip()
    assert table in README, "regenerate the README's rule table with `kratomref rules --format markdown`"
    for rule in RULES:
        assert f"| {rule.code} | {rule.name} |" in README


def test_every_exit_code_is_documented() -> None:
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"^\|\s*`?{code}`?\s*\|", README, re.M), f"exit code {code} is not in the README's table"


def test_the_readme_names_no_path_of_a_developer_machine() -> None:
    assert not re.search(r"(?<![\w.])/(?:work|root|home/\w+)/", README)
