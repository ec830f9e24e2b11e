"""`kratomref export` shows the text of its inputs and never obeys it: in a CI log (GITHUB_ACTIONS=true) or on a
terminal, an ESC sequence in a title is printed as `\\x1b` and a workflow command at a line's start is inert;
the data formats and files stay exact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kratomref.cli import main

ESC_TITLE = "Kratom \x1b]0;owned\x07 use \x1b[2J in \u202eMalaysia"
COMMAND_TITLE = "::add-mask::hunter2 and ##[stop-commands]token"


def library(tmp_path: Path) -> str:
    items: list[dict[str, Any]] = [
        {"id": "gaul2020", "type": "article-journal", "title": ESC_TITLE, "author": [{"family": "Gaul", "given": "A"}],
         "issued": {"date-parts": [[2020]]}},
        # no author: APA starts the entry, and so the line, with its title
        {"id": "page2021", "type": "webpage", "title": COMMAND_TITLE, "issued": {"date-parts": [[2021]]}},
    ]
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return str(path)


def run(args: list[str], github: bool) -> Result:
    runner = CliRunner(env={"GITHUB_ACTIONS": "true" if github else None})
    return runner.invoke(main, ["export", "--offline", *args], catch_exceptions=False)


@pytest.mark.parametrize("to", ["text", "markdown", "html", "latex"])
def test_a_ci_log_shows_the_escape_sequences_and_runs_no_command(tmp_path: Path, to: str) -> None:
    result = run(["--to", to, library(tmp_path)], github=True)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "\\x1b" in result.output and "owned\\x07" in result.output and "\\u202e" in result.output
    # the runner reads `::name::` after leading white space only (Markdown's "*::" is no command)
    assert not any(line.lstrip().startswith("::") for line in result.output.splitlines()), result.output
    assert "##[" not in result.output
    assert "add-mask" in result.output, "the title is still shown"


def test_text_redirected_outside_ci_is_exact(tmp_path: Path) -> None:
    result = run([library(tmp_path)], github=False)
    assert result.exit_code == 0, result.output
    assert "\x1b]0;owned\x07" in result.output
    assert "\x1b[2J" in result.output, "a pipe gets the escape sequences click would strip from colour output"
    assert any(line.startswith("::add-mask::") for line in result.output.splitlines())


@pytest.mark.parametrize("to", ["bibtex", "csl-json", "ris"])
def test_data_formats_stay_exact_in_ci(tmp_path: Path, to: str) -> None:
    result = run(["--to", to, library(tmp_path)], github=True)
    assert result.exit_code == 0, result.output
    assert "\\x1b" not in result.output
    if to == "csl-json":
        titles = {i["id"]: i["title"] for i in json.loads(result.output)}
        assert titles == {"gaul2020": ESC_TITLE, "page2021": COMMAND_TITLE}
    else:
        assert "\x1b]0;owned\x07" in result.output


def test_a_file_stays_exact_in_ci(tmp_path: Path) -> None:
    out = tmp_path / "bibliography.txt"
    result = run(["-o", str(out), library(tmp_path)], github=True)
    assert result.exit_code == 0, result.output
    assert "\x1b]0;owned\x07" in out.read_text("utf-8")


def test_notes_and_input_problems_quote_the_input_visibly(tmp_path: Path) -> None:
    # a file name with an ESC sequence in a parse error, and a key with one in the "renders empty" note
    broken = tmp_path / "refs\x1b[31m.bib"
    broken.write_text("@article{good, title={A}, year={2020}}\n@article{bad, title={B\n", encoding="utf-8")
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps([{"id": "key\x1b[31mred", "type": "article-journal"},
                                 {"id": "ok", "type": "article-journal", "title": "T",
                                  "issued": {"date-parts": [[2020]]}}]), encoding="utf-8")
    for args, shown in (([str(broken)], "refs\\x1b[31m.bib:2: KR001"),
                        (["--style", "vancouver", str(empty)], "renders empty: key\\x1b[31mred")):
        result = CliRunner().invoke(main, ["export", "--offline", *args], catch_exceptions=False)
        assert shown in result.output, result.output
        assert "\x1b" not in result.output
