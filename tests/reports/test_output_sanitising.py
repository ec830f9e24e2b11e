"""A hostile .bib against every report format, end to end through the CLI: no escape sequence, bidi control,
workflow command, Markdown image, link, mention or HTML from the input is live in any report, and secrets in
URLs are redacted everywhere."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from kratomref.cli import main
from kratomref.reports import sanitize

ESC_TITLE = "\x1b]0;pwned\x07"  # OSC 0: sets the terminal's window title
CLEAR = "\x1b[2J"  # CSI 2 J: clears the screen
C1_CSI = "\x9b31m"  # a one-character CSI: red text on a terminal that honours C1 controls
RLO, PDI = "\u202e", "\u2069"  # right-to-left override; pop directional isolate
HOSTILE_KEY = f"k{ESC_TITLE}{RLO}![i](https://127.0.0.1/t.png)@octocat<b>##[stop-commands]t"
HOSTILE_TITLE = f"Clear{CLEAR}{ESC_TITLE} {C1_CSI} [bold red]RED[/] {RLO}exe.gnp{PDI} #1 @octocat"
SECRET_URL = "https://user:hunter2@127.0.0.1/page?token=abc123&X-Amz-Signature=f00d&page=2"
FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")


def hostile_bib(folder: Path) -> Path:
    bib = folder / "refs.bib"
    bib.write_text(
        f"@online{{{HOSTILE_KEY},\n  title = {{{HOSTILE_TITLE}}},\n  author = {{Smith, Anna}},\n  year = {{2024}},\n"
        f"  url = {{{SECRET_URL}}},\n}}\n"
        "@online{::add-mask::k2,\n  title = {B},\n  author = {Smith, Anna},\n  year = {2024},\n"
        "  url = {https://127.0.0.1/x},\n}\n",
        encoding="utf-8",
    )
    return bib


def report(tmp_path: Path, fmt: str, *extra: str) -> str:
    result = CliRunner().invoke(
        main, ["check", "--offline", "--no-cache", "-f", fmt, *extra, str(hostile_bib(tmp_path))]
    )
    assert result.exit_code == 1, result.output  # KR102: loopback links are placeholders
    return result.stdout


def runner_commands(output: str) -> list[str]:
    """The workflow commands the Actions runner would run from these lines: `::name ...::` after leading
    spaces, else the older `##[name ...]` anywhere in the line (actions/runner, ActionCommand.cs)."""
    found = []
    for line in output.splitlines():
        stripped = line.lstrip()
        end = stripped.find("::", 2)
        if stripped.startswith("::") and end > 0:
            found.append(stripped[2:end].split(" ")[0])
        elif "##[" in line:
            found.append(line[line.index("##[") + 3 :].split("]")[0].split(" ")[0])
    return found


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_control_or_bidi_character_reaches_any_format(tmp_path: Path, fmt: str) -> None:
    out = report(tmp_path, fmt)
    assert "Smith" in out or "k" in out
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]", out), repr(out)


@pytest.mark.parametrize("fmt", FORMATS)
def test_secrets_in_urls_are_redacted_in_every_format(tmp_path: Path, fmt: str) -> None:
    out = report(tmp_path, fmt)
    assert "hunter2" not in out and "abc123" not in out and "f00d" not in out
    assert "REDACTED@127.0.0.1/page?token=REDACTED" in out.replace("&amp;", "&")
    assert "page=2" in out, "parameters that are not secrets stay"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_line_of_any_format_runs_a_workflow_command_from_the_input(tmp_path: Path, fmt: str) -> None:
    commands = runner_commands(report(tmp_path, fmt))
    assert set(commands) <= {"error", "warning", "notice"}, commands
    assert fmt == "github" or not commands


def test_text_shows_escapes_and_does_not_read_markup(tmp_path: Path) -> None:
    out = report(tmp_path, "text")
    assert "Clear\\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m [bold red]RED[/] \\u202eexe.gnp\\u2069" in out
    assert "k\\x1b]0;pwned\\x07\\u202e![i](https://127.0.0.1/t.png)@octocat<b>##\\[stop-commands]t" in out
    assert "\\x3a:add-mask::k2" in out


def test_text_in_colour_has_no_escape_sequence_but_its_own_colours(tmp_path: Path) -> None:
    out = report(tmp_path, "text", "--color")
    assert "\x1b[" in out, "coloured"
    assert "\x1b" not in re.sub(r"\x1b\[[0-9;]*m", "", out), "only SGR colour codes, from kratomref"
    assert "[bold red]RED[/]" in re.sub(r"\x1b\[[0-9;]*m", "", out), "markup in a title is printed, not applied"


def test_json_keeps_every_string_exact_but_the_secrets(tmp_path: Path) -> None:
    out = report(tmp_path, "json")
    data = json.loads(out)
    ref = data["references"][0]
    assert ref["key"] == HOSTILE_KEY
    assert ref["title"] == HOSTILE_TITLE
    assert ref["url"] == "https://REDACTED@127.0.0.1/page?token=REDACTED&X-Amz-Signature=REDACTED&page=2"
    assert "\\u202e" in out and "\\u001b" in out and "\\u009b" in out, "escaped in the JSON text"


def test_sarif_messages_show_escapes_and_have_no_embedded_link(tmp_path: Path) -> None:
    run = json.loads(report(tmp_path, "sarif"))["runs"][0]
    names = [loc["name"] for r in run["results"] for loc in r["locations"][0].get("logicalLocations", [])]
    assert "k\\x1b]0;pwned\\x07\\u202e![i](https://127.0.0.1/t.png)@octocat<b>##[stop-commands]t" in names
    texts = [r["message"]["text"] for r in run["results"]]
    assert all("](" not in t.replace("\\]", "") for t in texts)


def test_junit_is_valid_xml_and_names_the_case_visibly(tmp_path: Path) -> None:
    root = ET.fromstring(report(tmp_path, "junit"))
    names = {case.get("name") for case in root.iter("testcase")}
    assert "k\\x1b]0;pwned\\x07\\u202e![i](https://127.0.0.1/t.png)@octocat<b>##[stop-commands]t" in names
    assert "::add-mask::k2" in names, "the XML's data is unchanged; only its text escapes the command"


def test_github_annotations_stay_one_command_each_with_no_mention(tmp_path: Path) -> None:
    lines = report(tmp_path, "github").splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ", "kratomref: ")) for line in lines)
    out = "\n".join(lines)
    assert "@octocat" not in out and f"@{sanitize.WORD_JOINER}octocat" in out
    assert "::error file=" in out and "title=KR102 placeholder-link::::add-mask::k2: " in out


def test_markdown_has_no_image_link_html_or_mention(tmp_path: Path) -> None:
    out = report(tmp_path, "markdown")
    assert "![i](" not in out and "[i](" not in out and "!\\[i\\](https://127.0.0.1/t.png)" in out
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert "@octocat" not in out and f"@{sanitize.WORD_JOINER}octocat" in out
    assert "\\\\x1b" in out, "an escape shows as \\x1b once GitHub renders the backslash escape"


# --- the sanitising functions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://user:pass@host/x", "https://REDACTED@host/x", id="user and password"),
        pytest.param("https://ghp_token@github.com/o/r", "https://REDACTED@github.com/o/r", id="a token as user"),
        pytest.param("https://h/x?access_token=s&page=2", "https://h/x?access_token=REDACTED&page=2",
                     id="access_token; page stays"),
        pytest.param("https://h/x?apiKey=s", "https://h/x?apiKey=REDACTED", id="camelCase api key"),
        pytest.param("https://b.s3.amazonaws.com/f?X-Amz-Credential=c&X-Amz-Signature=s&X-Amz-Expires=60",
                     "https://b.s3.amazonaws.com/f?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"
                     "&X-Amz-Expires=60", id="a presigned S3 URL"),
        pytest.param("https://a.blob.core.windows.net/c?sv=2020&sig=abc%2F", "https://a.blob.core.windows.net/c?sv=2020"
                     "&sig=REDACTED", id="an Azure SAS signature"),
        pytest.param("https://h/cb#access_token=s&state=1", "https://h/cb#access_token=REDACTED&state=1",
                     id="a token in the fragment"),
        pytest.param("https://h/x;jsessionid=s", "https://h/x;jsessionid=REDACTED", id="a session in the path"),
        pytest.param("https://mastodon.social/@someone?key=", "https://mastodon.social/@someone?key=",
                     id="an @ in the path and an empty value are not secrets"),
        pytest.param("https://doi.org/10.1000/x?monkey=1&keyword=a", "https://doi.org/10.1000/x?monkey=1&keyword=a",
                     id="names that merely contain key"),
    ],
)
def test_redact(url: str, expected: str) -> None:
    assert sanitize.redact(f'link "{url}" is broken') == f'link "{expected}" is broken'


@pytest.mark.parametrize(
    ("text", "multiline", "expected"),
    [
        pytest.param("a\x1bb", False, "a\\x1bb", id="ESC shown as \\x1b"),
        pytest.param("a\u202eb\u2066c", False, "a\\u202eb\\u2066c", id="bidi override and isolate shown"),
        pytest.param("a\u200fb", False, "a\\u200fb", id="right-to-left mark shown"),
        pytest.param("a\x9bb", False, "a\\x9bb", id="a C1 control shown"),
        pytest.param("a\tb", False, "a\tb", id="a tab is kept"),
        pytest.param("a\nb", False, "a\\nb", id="a newline in a one-line field is shown"),
        pytest.param("a\r\nb\rc", True, "a\nb\nc", id="line breaks of a message become newlines"),
        pytest.param("é 中 \u200d", False, "é 中 \u200d", id="letters and joiners are left alone"),
    ],
)
def test_visible(text: str, multiline: bool, expected: str) -> None:
    assert sanitize.visible(text, multiline=multiline) == expected


def test_json_text_escapes_only_what_json_leaves_raw_and_decodes_the_same() -> None:
    value = {"t": f"x{RLO}\x85\u2028##[y"}
    rendered = sanitize.json_text(json.dumps(value, ensure_ascii=False))
    assert json.loads(rendered) == value
    assert not re.search("[\u202e\x85\u2028]", rendered) and "##[" not in rendered
