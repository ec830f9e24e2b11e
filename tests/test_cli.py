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
    assert "links: 1 entries" in info.output
    cleared = runner.invoke(main, ["cache", "clear", "--cache-dir", str(tmp_path)])
    assert "removed 1 entries" in cleared.output
    assert "links" not in runner.invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)]).output
