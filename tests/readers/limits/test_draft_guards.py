"""A draft's text is bounded like a bibliography's (issue 17): over --max-draft-mib it is a KR002 problem
naming the limit and how to raise it, not read; only the user can raise the limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kratomref.cli import main

PARAGRAPH = "Kratom eased pain in adults (Smith, 2020; Doe, 2021). " * 20 + "\n\n"
LISTING = "    total = total + dose  # the daily dose, in mg\n"
PARAGRAPHS = 10
CITATIONS = PARAGRAPHS * 40 + 1  # the paragraphs' and the closing sentence's: the draft was read to its end


def _draft(path: Path, mib: float) -> Path:
    """A draft of mib MiB of text: paragraphs that cite, an appendix of code listings that fills it to its size,
    and a sentence that cites after it. The size is what the limit counts; code blocks are masked before the
    rules run, so a check of it costs a fraction of a draft of prose as long."""
    head = "# Draft\n\n" + PARAGRAPH * PARAGRAPHS + "## Appendix: the analysis code\n\n"
    tail = "\nAs the code shows (Smith, 2020).\n"
    listings = LISTING * ((int(mib * 2**20) - len(head) - len(tail)) // len(LISTING) + 1)
    path.write_text(head + listings + tail, encoding="utf-8")
    return path


def _check(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["check", "--offline", "--no-cache", "--format", "json", *args])
    assert result.exit_code in (0, 1, 3), result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report


def _refusals(report: dict[str, object]) -> list[str]:
    return [f["message"] for f in report["findings"] if f["code"] == "KR002"]  # type: ignore[attr-defined,index]


@pytest.mark.parametrize("name", ["big.md", "big.txt", "big.tex", "big.html"])
def test_a_draft_over_the_limit_is_refused_with_the_limit_named(tmp_path: Path, name: str) -> None:
    draft = _draft(tmp_path / name, 1.2)
    [message] = _refusals(_check("--max-draft-mib", "1", str(draft)))
    assert "MiB of text (the limit is 1 MiB)" in message and "not read" in message


def test_a_draft_under_the_limit_is_read(tmp_path: Path) -> None:
    report = _check("--max-draft-mib", "1", str(_draft(tmp_path / "ok.md", 0.9)))
    assert _refusals(report) == []
    assert report["summary"]["citations"] == CITATIONS  # type: ignore[index]


def test_the_default_limit_reads_a_long_thesis(tmp_path: Path) -> None:
    report = _check(str(_draft(tmp_path / "thesis.md", 2.0)))
    assert _refusals(report) == []
    assert report["summary"]["citations"] == CITATIONS  # type: ignore[index]


def test_a_latex_input_over_the_limit_is_not_followed(tmp_path: Path) -> None:
    _draft(tmp_path / "chapter.tex", 1.2)
    main_tex = tmp_path / "main.tex"
    main_tex.write_text("\\documentclass{article}\\begin{document}\\input{chapter}\\end{document}\n", encoding="utf-8")
    [message] = _refusals(_check("--max-draft-mib", "1", str(main_tex)))
    assert "chapter" in message and "too large" in message


def test_a_repository_config_cannot_raise_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "kratomref.toml").write_text("max-draft-mib = 100\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _draft(tmp_path / "big.md", 1.2)
    from kratomref import config

    config.user_config_file().parent.mkdir(parents=True)
    config.user_config_file().write_text("max-draft-mib = 1\n", encoding="utf-8")  # the user's own limit
    result = CliRunner().invoke(main, ["check", "--offline", "--no-cache", "--format", "json", "big.md"])
    assert "max-draft-mib" in result.stderr
    [message] = _refusals(json.loads(result.stdout))
    assert "the limit is 1 MiB" in message
