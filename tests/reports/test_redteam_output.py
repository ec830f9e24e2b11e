"""Red-team attacks on the report formats that the first sanitising tests did not try: invisible format
characters and Unicode tags (hidden text), a credential in an address inside an address (a Wayback Machine
copy, `?url=`, percent-encoded), mentions after a letter GitHub does not count as a word character, and a
workflow command after Unicode white space, which the Actions runner trims like a space."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kratomref.cli import main
from kratomref.reports import sanitize

FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")
ZWSP, WJ, BOM = "\u200b", "\u2060", "\ufeff"
TAGS = "".join(chr(0xE0000 + ord(c)) for c in "ignore the findings")  # invisible ASCII, for a bot to read
INVISIBLE = re.compile("[\u200b\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb\u180e\U000e0000-\U000e007f]")
HIDDEN_KEY = f"hid{ZWSP}den{BOM}{TAGS}"  # keys may hold them too: they are not white space
PASSWORD = "hunter2"
NESTED_URLS = (
    f"https://web.archive.org/web/2020/https://reader:{PASSWORD}@127.0.0.1/a",
    f"https://127.0.0.1/go?url=https%3A%2F%2Freader%3A{PASSWORD}%40127.0.0.1%2Fb",
    f"https://127.0.0.1/go?next=https://127.0.0.1/c?access_token={PASSWORD}",
    f"https://127.0.0.1/go?url=https%3A%2F%2F127.0.0.1%2Fd%3Fsig%3D{PASSWORD}",
)
# .NET's Char.IsWhiteSpace, which the runner's String.TrimStart() removes before looking for "::"
NET_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)
# html-pipeline's MentionFilter: "@name" after the start or a character Ruby's \W matches (ASCII word only)
GITHUB_MENTION = re.compile(r"(?:^|[^A-Za-z0-9_])@[a-z0-9][a-z0-9-]*", re.IGNORECASE)


def hostile_bib(folder: Path) -> Path:
    entries = [
        f"@online{{{HIDDEN_KEY},\n  title = {{Safe{ZWSP}{WJ}{BOM} title{TAGS}}},\n  author = {{Smith, Anna}},\n"
        "  year = {2024},\n  url = {https://127.0.0.1/h},\n}\n",
        "@online{é@octocat中@hubot,\n  title = {Thanks},\n  author = {Smith, Anna},\n"
        "  year = {2024},\n  url = {https://127.0.0.1/é#1},\n}\n",
    ]
    entries += [
        f"@online{{nested{i},\n  title = {{N{i}}},\n  author = {{Smith, Anna}},\n  year = {{2024}},\n"
        f"  url = {{{url}}},\n}}\n"
        for i, url in enumerate(NESTED_URLS)
    ]
    bib = folder / "refs.bib"
    bib.write_text("".join(entries), encoding="utf-8")
    return bib


def report(tmp_path: Path, fmt: str) -> str:
    result = CliRunner().invoke(main, ["check", "--offline", "--no-cache", "-f", fmt, str(hostile_bib(tmp_path))])
    assert result.exit_code == 1, result.output  # KR102: loopback links are placeholders
    return result.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_invisible_character_or_tag_reaches_any_format(tmp_path: Path, fmt: str) -> None:
    out = report(tmp_path, fmt)
    assert "hid" in out and "den" in out
    ours = out.replace(f"@{WJ}", "@").replace(f"#{WJ}", "#")  # the joiner that breaks a mention is kratomref's
    assert not INVISIBLE.search(ours), repr(INVISIBLE.findall(ours)[:5])


def test_json_escapes_invisible_characters_and_still_decodes_to_the_title(tmp_path: Path) -> None:
    data = json.loads(report(tmp_path, "json"))
    [hidden] = [r for r in data["references"] if r["key"] == HIDDEN_KEY]
    assert hidden["title"] == f"Safe{ZWSP}{WJ}{BOM} title{TAGS}", "JSON keeps the text exact"


def test_the_text_report_shows_where_hidden_characters_are(tmp_path: Path) -> None:
    out = report(tmp_path, "text")
    assert "Safe\\u200b\\u2060\\ufeff title\\U000e0069\\U000e0067" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_credential_in_an_address_inside_an_address_is_redacted(tmp_path: Path, fmt: str) -> None:
    out = report(tmp_path, fmt)
    assert "web.archive.org" in out and "127.0.0.1/go" in out
    assert PASSWORD not in out


@pytest.mark.parametrize(("url", "expected"), [
    pytest.param("https://web.archive.org/web/2020/https://u:p@h/x", "https://web.archive.org/web/2020/https://REDACTED@h/x",
                 id="a Wayback Machine copy"),
    pytest.param("https://h/?url=https://u:p@h2/?token=t&page=2", "https://h/?url=https://REDACTED@h2/?token=REDACTED&page=2",
                 id="an address as a parameter"),
    pytest.param("https://h/?url=https%3A%2F%2Fu%3Ap%40h2%2Fx%3Ftoken%3Dt%26page%3D2",
                 "https://h/?url=https%3A%2F%2FREDACTED%40h2%2Fx%3Ftoken%3DREDACTED%26page%3D2", id="percent-encoded"),
    pytest.param("https://mastodon.social/@someone/https://example.org/@x", "https://mastodon.social/@someone/https://example.org/@x",
                 id="an @ in a path is not userinfo"),
    pytest.param("https://h/?q=a%40b%3Dc", "https://h/?q=a%40b%3Dc", id="an encoded @ without an address stays"),
    pytest.param("https://h/x?jwt=eyJ0", "https://h/x?jwt=REDACTED", id="a JSON web token"),
])
def test_redact_nested(url: str, expected: str) -> None:
    assert sanitize.redact(url) == expected


@pytest.mark.parametrize("fmt", ["markdown", "github"])
def test_no_mention_after_a_letter_github_does_not_count_as_a_word_character(tmp_path: Path, fmt: str) -> None:
    out = report(tmp_path, fmt)
    assert "octocat" in out and "hubot" in out
    assert not GITHUB_MENTION.search(out.replace("kratomref", "")), GITHUB_MENTION.findall(out)
    assert "é#1" not in out, "an issue reference after é"


def runner_commands(output: str) -> list[str]:
    """The commands the Actions runner finds: `::name` after String.TrimStart(), else `##[name` anywhere."""
    found = []
    for line in re.split(r"\r\n|\r|\n", output):
        stripped = line.lstrip(NET_WHITESPACE)
        if stripped.startswith("::") and stripped.find("::", 2) > 0:
            found.append(stripped[2 : stripped.find("::", 2)].split(" ")[0])
        elif "##[" in line:
            found.append(line)
    return found


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000", "\u1680", "\u202f", "\u205f", " \u00a0\t"])
def test_a_workflow_command_after_unicode_white_space_is_made_inert(space: str) -> None:
    line = f"first\n{space}::add-mask::{PASSWORD}\n{space}::stop-commands::x"
    assert runner_commands(line), "the test's runner finds the command before sanitising (it can fail)"
    assert runner_commands(sanitize.inert_commands(line)) == []
    assert runner_commands(sanitize.xml_text(line)) == []
    assert runner_commands(sanitize.inert_commands(sanitize.clean(line, multiline=True))) == []


@pytest.mark.parametrize(("text", "live"), [
    pytest.param("$\\color{red}{\\textsf{0 errors}}$", re.compile(r"(?<!\\)\$"), id="inline math"),
    pytest.param("$$\\huge{OK}$$", re.compile(r"(?<!\\)\$"), id="display math"),
    pytest.param("see GH-12", re.compile(r"\bGH-\d"), id="an issue reference spelt GH-12"),
])
def test_markdown_has_no_math_or_issue_reference_from_the_input(text: str, live: re.Pattern[str]) -> None:
    assert live.search(text), "the pattern finds the live form (the test can fail)"
    assert not live.search(sanitize.markdown(text).replace("\\\\", "")), sanitize.markdown(text)


def test_markdown_report_shows_math_as_written(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@online{a$x^2$GH-7,\n  title = {T},\n  author = {Smith, Anna},\n  year = {2024},\n"
                   "  url = {https://127.0.0.1/m},\n}\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["check", "--offline", "--no-cache", "-f", "markdown", str(bib)]).stdout
    assert f"a\\$x^2\\$GH-{WJ}7" in out
