"""The reference pages of the manual (rules, command line, configuration keys) are what docs/gen.py makes of
the code today: a change to a rule, an option or a key that is not regenerated fails here, naming the command."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest

from kratomref import catalogue
from kratomref.cli import main
from kratomref.config import FIELD_OF

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_MODULE = "kratomref_docs_gen"


def _gen() -> ModuleType:
    if _MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(_MODULE, DOCS / "gen.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[_MODULE]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference pages written afresh from the code, into a directory of their own."""
    out = tmp_path_factory.mktemp("docs")
    assert _gen().main(["--docs", str(out)]) == 0
    return out


def _page(name: str) -> str:
    return (DOCS / "reference" / name).read_text(encoding="utf-8")


def test_the_committed_reference_pages_are_up_to_date(regenerated: Path) -> None:
    written = sorted(p.relative_to(regenerated).as_posix() for p in regenerated.rglob("*.md"))
    assert written == ["reference/cli.md", "reference/configuration.md", "reference/rules.md"]
    stale = [
        name for name in written
        if not (DOCS / name).is_file()
        or (DOCS / name).read_text(encoding="utf-8") != (regenerated / name).read_text(encoding="utf-8")
    ]
    assert stale == [], f"docs/{', docs/'.join(stale)} stale: run `python docs/gen.py` and commit the result"


def test_check_mode_names_a_stale_page_and_the_command(regenerated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen = _gen()
    assert gen.main(["--check", "--docs", str(regenerated)]) == 0
    page = regenerated / "reference" / "cli.md"
    page.write_text(page.read_text(encoding="utf-8").replace("--offline", "--offlime"), encoding="utf-8")
    try:
        assert gen.main(["--check", "--docs", str(regenerated)]) == 1
        assert "reference/cli.md is stale: run `python docs/gen.py`" in capsys.readouterr().err
    finally:
        gen.main(["--docs", str(regenerated)])


def _commands(group: click.Group, path: str) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((f"{path} {name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{path} {name}")
    return found


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    page = _page("cli.md")
    missing = []
    for path, command in _commands(main, "kratomref"):
        if f"\n## {path}\n" not in page:
            missing.append(path)
            continue
        section = page.split(f"\n## {path}\n", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            if isinstance(param, click.Option):
                missing += [f"{path} {flag}" for flag in param.opts + param.secondary_opts if flag not in section]
            elif param.human_readable_name not in section:
                missing.append(f"{path} {param.human_readable_name}")
    assert missing == []


def test_every_configuration_key_is_in_the_reference_with_what_a_repository_may_set() -> None:
    lines = _page("configuration.md").splitlines()
    rows = {line.split("|")[1].strip(): line for line in lines if line.startswith("| `")}
    assert sorted(FIELD_OF) == sorted(key.strip("`") for key in rows)
    # what config.py refuses from a repository's file, as a reader of the page sees it
    assert "only `false`" in rows["`allow-private`"]
    assert "your choice only" in rows["`crossref-url`"] and "your choice only" in rows["`cache-dir`"]
    assert "at most 30" in rows["`timeout`"]
    assert "not above" in rows["`ttl-found`"] and "90 days" in rows["`ttl-found`"]
    assert "inside its own directory" in rows["`paths`"]
    assert rows["`select`"].split("|")[4].strip() == "anything"


def test_every_rule_is_explained_in_the_rules_reference() -> None:
    page = _page("rules.md")
    for rule in catalogue.load():
        section = page.split(f"\n## {rule.code} {rule.name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"**{rule.severity}**" in section
        for heading in ("What it does", "Why it matters", "Example", "How to fix"):
            if heading in rule.explanation:
                assert f"**{heading}**" in section, f"{rule.code}: {heading}"
