"""The manual's CI chapters (docs/reports.md, configuration.md, ci.md) against the code: every format, JSON key,
configuration key and exit code is documented, every check option has a configuration key, and the TOML
examples are valid."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
from ci_report import build_report

from kratomref.cli import FORMATS, main
from kratomref.config import FIELD_OF, build_options, load_config
from kratomref.reports.json import as_dict

_MANUAL = Path(__file__).parents[2] / "docs"
DOCS = "\n".join((_MANUAL / page).read_text(encoding="utf-8") for page in ("reports.md", "configuration.md", "ci.md"))

# Options that describe one run's output, not the project: no configuration key on purpose.
COMMAND_LINE_ONLY = {"fmt", "outputs", "color", "write_baseline", "show_config", "config_file", "isolated"}
# Options whose key is not the option's own name.
KEY_OF_OPTION = {"no_cache": "use-cache", "no_archive": "archive", "no_authority": "use-openalex"}


def section(title: str) -> str:
    """The text under a heading of those pages, to the next heading of the same or a higher level (a `#` line
    inside a code block, a TOML comment, is no heading)."""
    lines: list[str] = []
    fence = False
    level = 0
    for line in DOCS.splitlines():
        if line.startswith("```"):
            fence = not fence
        heading = None if fence else re.match(r"(#+) (.*)", line)
        if heading and level and len(heading.group(1)) <= level:
            break
        if heading and not level and heading.group(2) == title:
            level = len(heading.group(1))
        if level:
            lines.append(line)
    assert level, f"no section {title!r} in docs/reports.md, configuration.md or ci.md"
    return "\n" + "\n".join(lines) + "\n"


def test_every_format_is_documented() -> None:
    table = section("Output formats")
    assert [f for f in FORMATS if f"| `{f}`" not in table] == []


def _keys(value: Any) -> set[str]:
    found = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(key)
            found |= _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _keys(inner)
    return found


def test_every_json_key_is_documented() -> None:
    report = as_dict(build_report())
    report["citations"] = [{"file": "", "line": 1, "text": "", "target": "", "style": "", "resolved": None}]
    report["findings"][0]["fix"] = {"field": "doi", "old": "", "new": ""}
    table = section("JSON report")
    assert "`schema_version`" in table
    # documented as `key`, `parent.key`, `.key` or `list[]`
    missing = sorted(key for key in _keys(report) if not re.search(rf"[`.]{re.escape(key)}(\[\])?[`.]", table))
    assert missing == []


def test_every_configuration_key_is_documented() -> None:
    table = section("Configuration")
    assert sorted(key for key in FIELD_OF if f"`{key}`" not in table) == []


def test_every_project_option_of_check_has_a_configuration_key() -> None:
    check = main.commands["check"]
    names = {p.name for p in check.params if isinstance(p, (click.Option, click.Argument))} - COMMAND_LINE_ONLY
    keys = {KEY_OF_OPTION.get(str(name), str(name).replace("_", "-")) for name in names}
    assert sorted(keys - set(FIELD_OF)) == []


def test_the_exit_code_table_has_every_code() -> None:
    table = section("Exit codes")
    assert [code for code in "0123" if f"\n| {code} |" not in table] == []


TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", DOCS, re.DOTALL)


@pytest.mark.parametrize("block", TOML_BLOCKS, ids=[f"example {i + 1}" for i in range(len(TOML_BLOCKS))])
def test_the_configuration_examples_are_valid(tmp_path: Path, block: str) -> None:
    name = "pyproject.toml" if "[tool.kratomref]" in block else "kratomref.toml"
    (tmp_path / name).write_text(block, encoding="utf-8")
    config = load_config(tmp_path)
    assert config is not None and config.values
    _options, provenance = build_options({}, config, {})
    assert all(source in ("default", config.label) for source in provenance.values())
