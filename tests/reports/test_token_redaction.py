"""Credentials of a known shape are redacted wherever a report shows them, not only in a URL's userinfo or
query: a token in a URL's path, a webhook's secret path, an Authorization header pasted into a note."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from linear_time import assert_linear

from kratomref.cli import main
from kratomref.reports import sanitize

FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5" * 4  # the shape of a classic personal access token (36 characters)
PATH_URL = f"https://127.0.0.1/raw/{GITHUB_TOKEN}/data.csv"


def _report(tmp_path: Path, fmt: str) -> str:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@online{k,\n  title = {Export with Authorization: Bearer s3cr3t-value-0123456789},\n"
        "  author = {Smith, Anna},\n  year = {2024},\n"
        f"  url = {{{PATH_URL}}},\n}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", "--offline", "--no-cache", "-f", fmt, str(bib)])
    assert result.exit_code == 1, result.output  # KR102: a loopback link is a placeholder
    return result.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_token_in_a_url_path_or_a_title_reaches_no_format(tmp_path: Path, fmt: str) -> None:
    out = _report(tmp_path, fmt)
    assert GITHUB_TOKEN not in out and "s3cr3t" not in out
    assert "https://127.0.0.1/raw/REDACTED/data.csv" in out, "the rest of the address stays readable"


def test_json_keeps_the_address_but_the_token(tmp_path: Path) -> None:
    ref = json.loads(_report(tmp_path, "json"))["references"][0]
    assert ref["url"] == "https://127.0.0.1/raw/REDACTED/data.csv"
    assert ref["title"] == "Export with Authorization: Bearer REDACTED"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("https://hooks.slack.com/services/T01ABC/B02DEF/xyzSecret", "https://hooks.slack.com/services/"
                     "REDACTED", id="a Slack webhook"),
        pytest.param("https://discord.com/api/webhooks/1234567/tok_EN-x", "https://discord.com/api/webhooks/1234567/"
                     "REDACTED", id="a Discord webhook"),
        pytest.param("https://api.telegram.org/bot123456:AAE-x_y/getMe", "https://api.telegram.org/botREDACTED/getMe",
                     id="a Telegram bot token"),
        pytest.param("key AKIAIOSFODNN7EXAMPLE leaked", "key REDACTED leaked", id="an AWS access key id"),
        pytest.param("glpat-" + "x" * 20, "REDACTED", id="a GitLab token"),
        pytest.param("xoxb-1234-5678-abcdefghij", "REDACTED", id="a Slack bot token"),
        pytest.param("github_pat_" + "1A_b" * 20, "REDACTED", id="a fine-grained GitHub token"),
        pytest.param("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_x", "REDACTED", id="a JSON Web Token"),
        pytest.param("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic REDACTED",
                     id="a Basic header"),
        pytest.param("Authorization: token 0123456789abcdef", "Authorization: token REDACTED", id="a token header"),
    ],
)
def test_known_shapes_are_redacted(text: str, expected: str) -> None:
    assert sanitize.redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("https://github.com/o/r/commit/0123456789abcdef0123456789abcdef01234567", id="a commit hash"),
        pytest.param("Bearer Token Usage: RFC 6750", id="bearer in a title"),
        pytest.param("A basic 16S-rRNA workflow for token-based models", id="basic and token in prose"),
        pytest.param("https://doi.org/10.1000/ghp_notatoken", id="a short ghp_ word"),
        pytest.param("the AKIA gene family", id="a short AKIA word"),
        pytest.param("Fish-sk-" + "a" * 40, id="sk- inside a word"),
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert sanitize.redact(text) == text


@pytest.mark.parametrize(
    "unit",
    ["eyJ-", "eyJa.eyJb.", "-sk-" + "a" * 31 + "!", "Bearer " + "a" * 20 + " ", "authorization: ",
     "ghp_" + "a" * 29 + "."],
)
def test_redaction_stays_linear_on_hostile_lines(unit: str) -> None:
    assert_linear(lambda n: unit * n, sanitize.redact, 5_000, what=f"redacting {unit!r} repeated")
