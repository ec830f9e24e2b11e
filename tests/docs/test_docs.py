"""The README and the manual are part of the product: their commands are the ones CI runs, the rule table is the
catalogue, the example is what kratomref prints, and every link leads somewhere."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from kratomref.cli import main
from kratomref.config import build_options, load_config
from kratomref.rules import RULES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
PAGES = {path.relative_to(DOCS).as_posix(): path.read_text(encoding="utf-8") for path in sorted(DOCS.rglob("*.md"))}
TEST_COMMAND = re.compile(r"^python3 -m venv .venv && \.venv/bin/pip install -q -e '\.\[test\]' && (.+)$", re.M)


def _first_screen() -> str:
    return "\n".join(README.splitlines()[:40])


def _test_command(text: str = README) -> str:
    match = TEST_COMMAND.search(text)
    assert match, "the README's first screen shows no install-and-test command"
    return match.group(1)


def _steps(command: str) -> list[list[str]]:
    return [shlex.split(step) for step in command.split("&&")]


def test_the_first_screen_shows_how_to_install_and_check_and_how_to_run_the_tests() -> None:
    screen = _first_screen()
    assert re.search(r"pip install[^\n]*&& \.venv/bin/kratomref check\b", screen)
    command = _test_command()
    assert "pytest" in command and "ruff check" in command and "mypy" in command
    assert "mkdocs build --strict" in command, "the test command builds the manual, so a broken link fails CI"
    assert command in screen


def test_ci_runs_exactly_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme_steps = _steps(_test_command())
    ci_line = next(line for line in script.splitlines() if "pytest" in line)
    assert _steps(ci_line)[-len(readme_steps):] == readme_steps


def test_the_manual_shows_the_readme_commands() -> None:
    start = PAGES["index.md"]
    assert _test_command(start) == _test_command()
    install = next(line for line in README.splitlines() if line.endswith("&& .venv/bin/kratomref check"))
    assert install in start


def test_the_rule_table_is_the_catalogue() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "markdown"])
    assert result.exit_code == 0
    table = result.output.strip()
    page = PAGES["reference/rules.md"]
    assert table in page, "regenerate the rules reference with `python docs/gen.py`"
    for rule in RULES:
        assert f"| {rule.code} | {rule.name} |" in page
        assert f"\n## {rule.code} {rule.name}\n" in page


def test_every_exit_code_is_documented() -> None:
    for text, where in ((README, "README"), (PAGES["ci.md"], "docs/ci.md")):
        for code in ("0", "1", "2", "3"):
            assert re.search(rf"^\|\s*`?{code}`?\s*\|", text, re.M), f"exit code {code} is not in the {where} table"


def test_no_page_names_a_path_of_a_developer_machine() -> None:
    texts = {"README.md": README, "mkdocs.yml": (ROOT / "mkdocs.yml").read_text(encoding="utf-8")}
    texts.update({f"docs/{name}": text for name, text in PAGES.items()})
    leaking = [name for name, text in texts.items() if re.search(r"(?<![\w.])/(?:work|root|home/\w+)/", text)]
    assert leaking == []


def test_every_link_of_the_readme_leads_to_a_file_of_the_repository() -> None:
    prose = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", README, flags=re.S))
    targets = re.findall(r"\]\(([^)\s]+)\)", prose)
    local = [t.split("#", 1)[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert local, "the README links to the manual"
    assert [t for t in local if not (ROOT / t).is_file()] == []
    # the front door leads to every page of the manual
    assert sorted(set(PAGES) - {t.removeprefix("docs/") for t in local}) == []


def test_the_readme_example_is_what_a_check_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = re.search(r"```console\n\$ kratomref check --offline\n(.*?)```", README, re.S)
    assert block, "the README shows what `kratomref check --offline` prints"
    (tmp_path / "references.bib").write_bytes((ROOT / "references.bib").read_bytes())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--offline", "--no-color"])
    assert result.exit_code == 3, result.output
    shown = [line for line in block.group(1).splitlines() if line.strip() not in ("", "...")]
    assert [line for line in shown if line not in result.output.splitlines()] == []


def test_the_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        (tmp_path / "kratomref.toml").write_text(block, encoding="utf-8")
        config = load_config(tmp_path)
        assert config is not None and config.values
        _options, provenance = build_options({}, config, {})
        assert all(source in ("default", config.label) for source in provenance.values())
