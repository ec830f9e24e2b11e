"""Configuration: discovery, precedence (command line > env > file > default), errors, --show-config."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kratomref.config import FIELD_OF, ConfigError, build_options, describe, load_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib
from kratomref.model import Severity
from kratomref.options import Options


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("cli", "env", "expected", "source"),
    [
        pytest.param({}, {}, "file@example.org", "kratomref.toml", id="the file beats the default"),
        pytest.param({}, {"KRATOMREF_MAILTO": "env@example.org"}, "env@example.org", "env KRATOMREF_MAILTO",
                     id="the environment beats the file"),
        pytest.param({"mailto": "cli@example.org"}, {"KRATOMREF_MAILTO": "env@example.org"}, "cli@example.org",
                     "command line", id="the command line beats the environment"),
        pytest.param({"mailto": None}, {}, "file@example.org", "kratomref.toml",
                     id="an option the user did not give does not override"),
        pytest.param({}, {"KRATOMREF_MAILTO": ""}, "file@example.org", "kratomref.toml",
                     id="an empty environment variable is not a value"),
    ],
)
def test_precedence(tmp_path: Path, cli: dict[str, Any], env: dict[str, str], expected: str, source: str) -> None:
    write(tmp_path / "kratomref.toml", 'mailto = "file@example.org"\n')
    options, provenance = build_options(cli, load_config(tmp_path), env)
    assert options.mailto == expected
    assert provenance["mailto"] == source


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    options, provenance = build_options({}, None, {})
    assert options == Options(today=options.today)
    assert set(provenance.values()) == {"default"}


def test_every_environment_variable_is_honoured(tmp_path: Path) -> None:
    cache = str(tmp_path / "c")  # outside any checked tree
    env = {"KRATOMREF_CROSSREF_URL": "http://127.0.0.1:9/", "KRATOMREF_MAILTO": "a@b.c", "KRATOMREF_CACHE_DIR": cache}
    options, _ = build_options({}, None, env)
    assert (options.crossref_url, options.mailto, options.cache_dir) == ("http://127.0.0.1:9/", "a@b.c", cache)


def test_discovery_walks_up_from_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "pyproject.toml", '[tool.kratomref]\nmax-age-web = 3\npaths = ["refs.bib"]\n')
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "x"\n')  # no [tool.kratomref]: keep looking
    deep = tmp_path / "sub" / "deeper"
    deep.mkdir()
    monkeypatch.chdir(deep)
    config = load_config(deep)
    assert config is not None and config.path == (tmp_path / "pyproject.toml").resolve()
    options, provenance = build_options({}, config, {})
    assert options.max_age_web == 3
    assert provenance["max_age_web"].endswith("pyproject.toml:[tool.kratomref]")
    assert options.paths == ("../../refs.bib",), "paths in a config file are relative to that file"


def test_kratomref_toml_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.kratomref]\nmax-age-web = 3\n")
    write(tmp_path / "kratomref.toml", "max-age-web = 4\n")
    options, _ = build_options({}, load_config(tmp_path), {})
    assert options.max_age_web == 4


def test_a_pyproject_without_the_table_is_not_a_configuration(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    found = load_config(tmp_path)
    assert found is None or found.path.parent not in (tmp_path, tmp_path.resolve())


def test_an_explicit_file_is_read_instead_of_searching(tmp_path: Path) -> None:
    write(tmp_path / "kratomref.toml", "max-age-web = 4\n")
    other = write(tmp_path / "ci" / "strict.toml", 'fail-on = "info"\n')
    options, _ = build_options({}, load_config(tmp_path, other), {})
    assert options.fail_on is Severity.INFO and options.max_age_web == Options().max_age_web
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path, tmp_path / "missing.toml")


def test_values_of_every_kind_are_parsed(tmp_path: Path) -> None:
    # given with --config: the user's own file, which may also loosen (allow-private)
    config = write(
        tmp_path / "kratomref.toml",
        """
select = ["KR0", "unreadable-input"]
ignore = ["KR001"]
fail-on = "never"
severity = { KR002 = "warning", parse-error = "info" }
timeout = 3
max-concurrency = 4
exclude = ["^https://example\\\\.org/"]
accept = [403, 999]
allow-private = true
offline = true
ttl-links = 60
""",
    )
    options, _ = build_options({}, load_config(tmp_path, config), {})
    assert options.select == ("KR0", "unreadable-input") and options.ignore == ("KR001",)
    assert options.fail_on is None
    assert options.severity_overrides == (("KR002", Severity.WARNING), ("parse-error", Severity.INFO))
    assert (options.timeout, options.max_concurrency, options.accept) == (3.0, 4, (403, 999))
    assert options.allow_private and options.offline and options.ttl_links == 60.0
    assert options.exclude == ("^https://example\\.org/",)


def test_an_unknown_key_is_an_error_naming_the_key_and_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "kratomref.toml", "mail-to = 'a@b.c'\n")
    with pytest.raises(ConfigError) as caught:
        build_options({}, load_config(tmp_path), {})
    assert "'mail-to'" in str(caught.value) and str(path.resolve()) in str(caught.value)


def test_a_snake_case_key_gets_a_hint(tmp_path: Path) -> None:
    write(tmp_path / "kratomref.toml", "max_age_web = 3\n")
    with pytest.raises(ConfigError, match="did you mean 'max-age-web'"):
        build_options({}, load_config(tmp_path), {})


@pytest.mark.parametrize(
    ("line", "key"),
    [
        pytest.param('timeout = "fast"', "timeout", id="a word where a number belongs"),
        pytest.param("timeout = 0", "timeout", id="a zero timeout"),
        pytest.param("max-concurrency = 1.5", "max-concurrency", id="a fraction where a count belongs"),
        pytest.param('select = ["KR999"]', "select", id="a rule that does not exist"),
        pytest.param('severity = { KR001 = "loud" }', "severity", id="a severity that does not exist"),
        pytest.param('fail-on = "sometimes"', "fail-on", id="a fail-on level that does not exist"),
        pytest.param('exclude = ["("]', "exclude", id="a broken regular expression"),
        pytest.param("accept = [42]", "accept", id="a number that is no HTTP status"),
        pytest.param('offline = "yes"', "offline", id="a string where true or false belongs"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_key(tmp_path: Path, line: str, key: str) -> None:
    write(tmp_path / "kratomref.toml", line + "\n")
    with pytest.raises(ConfigError, match=f"bad value for '{key}'") as caught:
        build_options({}, load_config(tmp_path), {})
    assert "kratomref.toml" in str(caught.value)


def test_broken_toml_is_an_error_naming_the_file(tmp_path: Path) -> None:
    write(tmp_path / "kratomref.toml", "timeout = \n")
    with pytest.raises(ConfigError, match=r"kratomref\.toml: not valid TOML"):
        load_config(tmp_path)
    write(tmp_path / "sub" / "pyproject.toml", "[tool.kratomref]\ntimeout = \n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml: not valid TOML"):
        load_config(tmp_path / "sub")


def test_a_broken_pyproject_that_never_names_kratomref_is_not_ours_to_refuse(tmp_path: Path) -> None:
    """A project's pyproject.toml without a [tool.kratomref] table is not read (nor TOML loaded to read it):
    a mistake in another tool's section does not stop the check, and the configuration above it is found."""
    write(tmp_path / "kratomref.toml", "timeout = 7\n")
    write(tmp_path / "sub" / "pyproject.toml", '[tool.ruff\nline-length = "x"\n')
    found = load_config(tmp_path / "sub")
    assert found is not None and found.path == (tmp_path / "kratomref.toml").resolve()
    assert found.values == {"timeout": 7}


def test_command_line_strings_are_parsed_like_file_values() -> None:
    options, provenance = build_options({"fail_on": "never", "select": ("KR0",)}, None, {})
    assert options.fail_on is None and provenance["fail_on"] == "command line"
    with pytest.raises(ConfigError, match="--select"):
        build_options({"select": ("KR999",)}, None, {})


def test_describe_shows_each_value_and_where_it_came_from(tmp_path: Path) -> None:
    write(tmp_path / "kratomref.toml", 'max-age-web = 3\nseverity = { KR001 = "warning" }\n')
    options, provenance = build_options({"timeout": 2.5}, load_config(tmp_path), {"KRATOMREF_MAILTO": "a@b.c"})
    lines = describe(options, provenance).splitlines()
    assert "max-age-web = 3  # kratomref.toml" in lines
    assert 'severity = { KR001 = "warning" }  # kratomref.toml' in lines
    assert "timeout = 2.5  # command line" in lines
    assert 'mailto = "a@b.c"  # env KRATOMREF_MAILTO' in lines
    assert 'fail-on = "error"  # default' in lines


def test_show_config_and_a_bad_config_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kratomref.cli import main

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "kratomref.toml", "max-age-web = 3\n")
    result = CliRunner().invoke(
        main, ["check", "--show-config", "--fail-on", "warning"], env={"KRATOMREF_MAILTO": "a@b.c"}
    )
    assert result.exit_code == 0, result.output
    assert "max-age-web = 3  # kratomref.toml" in result.output
    assert 'fail-on = "warning"  # command line' in result.output
    assert 'mailto = "a@b.c"  # env KRATOMREF_MAILTO' in result.output

    write(tmp_path / "kratomref.toml", "max-age-webb = 3\n")
    result = CliRunner().invoke(main, ["check", "--show-config"])
    assert result.exit_code == 2
    assert "max-age-webb" in result.output and "kratomref.toml" in result.output


@pytest.mark.parametrize(("text", "age", "uncited"), [
    ("", None, False), ("max-age-scholarly = 10\nuncited-bib = true\n", 10, True),
    ("max-age-scholarly = false\n", None, False),
], ids=["off by default", "set", "false is not set"])
def test_the_scholarly_age_policy_and_uncited_bib_are_opt_in(tmp_path: Path, text: str, age: int | None,
                                                             uncited: bool) -> None:
    write(tmp_path / "kratomref.toml", text)
    options, _ = build_options({}, load_config(tmp_path), {})
    assert (options.max_age_scholarly, options.uncited_bib) == (age, uncited)


def test_show_config_output_is_a_configuration_that_gives_the_same_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = 'max-age-web = 3\nmax-age-scholarly = 12\nuncited-bib = true\n' \
             'exclude = ["^https://a\\\\.org/"]\n[severity]\nKR304 = "error"\n'
    write(tmp_path / "kratomref.toml", config)
    options, provenance = build_options({"fail_on": "never"}, load_config(tmp_path), {})
    shown = describe(options, provenance)
    assert set(tomllib.loads(shown)) <= set(FIELD_OF)
    again, _ = build_options({}, load_config(tmp_path, write(tmp_path / "shown.toml", shown)), {})
    assert again == options


@pytest.mark.parametrize("key", ["crossref-url", "doi-url", "archive-url"])
@pytest.mark.parametrize("value", ["ftp://x", "api.crossref.org", "file:///etc"], ids=["ftp", "no scheme", "file"])
def test_a_service_url_that_is_not_http_is_an_error_naming_the_key_and_the_file(
    tmp_path: Path, key: str, value: str
) -> None:
    write(tmp_path / "kratomref.toml", f'{key} = "{value}"\n')
    with pytest.raises(ConfigError, match=f"bad value for '{key}'.*http") as caught:
        build_options({}, load_config(tmp_path), {})
    assert "kratomref.toml" in str(caught.value)


def test_a_service_url_that_is_not_http_on_the_command_line_or_in_the_environment_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kratomref.cli import main

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "refs.bib", "@misc{a, title = {A}}\n")
    result = CliRunner().invoke(main, ["check", "--offline", "--crossref-url", "ftp://x", "refs.bib"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "--crossref-url" in result.stderr and "http" in result.stderr
    result = CliRunner().invoke(main, ["check", "--offline", "refs.bib"], env={"KRATOMREF_CROSSREF_URL": "ftp://x"})
    assert result.exit_code == 2 and "KRATOMREF_CROSSREF_URL" in result.stderr


def test_http_and_https_service_urls_are_accepted(tmp_path: Path) -> None:  # from the user's own file
    config = write(tmp_path / "mine.toml", 'crossref-url = "http://8.8.8.8:8080"\ndoi-url = "https://doi.org"\n')
    options, _ = build_options({}, load_config(tmp_path, config), {})
    assert options.crossref_url == "http://8.8.8.8:8080" and options.doi_url == "https://doi.org"


def test_a_config_path_that_exists_but_is_not_a_file_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from kratomref.cli import main

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes to point --config at")
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.toml")  # reading it would block: it must be refused unread
    result = CliRunner().invoke(main, ["check", "--offline", "--config", "pipe.toml"])
    assert result.exit_code == 2
    assert "not a regular file" in result.stderr and "not found" not in result.stderr
    missing = CliRunner().invoke(main, ["check", "--offline", "--config", "missing.toml"])
    assert missing.exit_code == 2 and "configuration file not found" in missing.stderr


# --- service URLs: the user's choice (command line, environment, own config), never the repository's --------

REPOSITORY_SERVICE_URLS = {
    "a loopback crossref-url": ('crossref-url = "http://127.0.0.1:8100/internal-admin"\n', "crossref-url"),
    "localhost as doi-url": ('doi-url = "http://localhost:8080/"\n', "doi-url"),
    "a cloud metadata archive-url": ('archive-url = "http://169.254.169.254/latest/"\n', "archive-url"),
    "an IPv6 loopback crossref-url": ('crossref-url = "http://[::1]:9/"\n', "crossref-url"),
    "a public mirror": ('crossref-url = "https://8.8.8.8/"\n', "crossref-url"),
    "allow-private in the same file does not vouch for it": (
        'allow-private = true\ncrossref-url = "http://10.0.0.5/"\n', "crossref-url"),
}


@pytest.mark.parametrize(("text", "key"), REPOSITORY_SERVICE_URLS.values(), ids=REPOSITORY_SERVICE_URLS.keys())
def test_a_repository_config_cannot_choose_a_service(tmp_path: Path, text: str, key: str) -> None:
    write(tmp_path / "kratomref.toml", text)
    warned: list[str] = []
    for cli in ({}, {"allow_private": True}):  # not even with --allow-private: the URL is the user's to choose
        warned.clear()
        options, provenance = build_options(cli, load_config(tmp_path), {}, warn=warned.append)
        name = FIELD_OF[key]
        assert getattr(options, name) == getattr(Options(), name)
        assert "ignored" in provenance[name] and "kratomref.toml" in provenance[name]
        assert any(message.startswith(f"kratomref.toml: ignoring {key} = ") for message in warned), warned
    # the same file given with --config is the user's own: its URL is used
    options, _ = build_options({}, load_config(tmp_path, tmp_path / "kratomref.toml"), {})
    assert getattr(options, FIELD_OF[key]) != getattr(Options(), FIELD_OF[key])


def test_service_urls_on_the_command_line_or_in_the_environment_are_accepted(tmp_path: Path) -> None:
    write(tmp_path / "kratomref.toml", 'crossref-url = "https://8.8.8.8/"\n')
    options, _ = build_options({"doi_url": "http://127.0.0.1:9/"}, load_config(tmp_path), {}, warn=lambda _: None)
    assert (options.crossref_url, options.doi_url) == (Options().crossref_url, "http://127.0.0.1:9/")
    options, _ = build_options({}, None, {"KRATOMREF_CROSSREF_URL": "http://127.0.0.1:9/"})
    assert options.crossref_url == "http://127.0.0.1:9/"


def test_the_cli_ignores_a_service_url_from_the_repository_config_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kratomref.cli import main

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "kratomref.toml", 'crossref-url = "http://127.0.0.1:8100/internal-admin"\n')
    result = CliRunner().invoke(main, ["check", "--show-config"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "crossref-url" in line]
    assert len(warnings) == 1 and "kratomref.toml" in warnings[0] and "ignoring" in warnings[0]
    assert 'crossref-url = "https://api.crossref.org"  # default (kratomref.toml sets' in result.stdout


# --- one declaration per setting (kratomref/settings.py): config keys, parsers, environment, flags -------------


def test_every_setting_has_exactly_one_declaration() -> None:
    import dataclasses

    from kratomref.settings import SETTINGS

    names = [setting.name for setting in SETTINGS]
    assert sorted(names) == sorted(f.name for f in dataclasses.fields(Options) if f.name != "tree")
    assert len(set(names)) == len(names)
    keys = [setting.key for setting in SETTINGS]
    assert len(set(keys)) == len(keys)
    variables = [setting.env for setting in SETTINGS if setting.env is not None]
    assert len(set(variables)) == len(variables)


def test_the_configuration_tables_are_generated_from_the_declarations() -> None:
    from kratomref import config
    from kratomref.settings import SETTINGS

    assert {setting.key: setting.name for setting in SETTINGS} == config.FIELD_OF
    assert all(config.PARSERS[setting.name] is setting.parse for setting in SETTINGS)
    assert {setting.env: setting.name for setting in SETTINGS if setting.env} == config.ENVIRONMENT
    assert {setting.name for setting in SETTINGS if setting.path} == config._PATH_FIELDS
    for setting in SETTINGS:  # a help text that names an environment variable names the setting's own
        assert set(re.findall(r"KRATOMREF_\w+", setting.help or "")) <= {setting.env}, setting.name


# The parameters of `check` that are not settings: how the report is written, and which configuration is read.
NOT_SETTINGS = {"fmt", "outputs", "write_baseline", "color", "show_config", "config_file", "isolated", "no_authority"}


@pytest.mark.parametrize("command", ["check", "export", "fix"])
def test_every_declared_flag_is_on_the_command_line_once_as_declared(command: str) -> None:
    import click

    from kratomref.cli import main
    from kratomref.settings import SETTINGS

    params = main.commands[command].params
    flagged = [setting for setting in SETTINGS if setting.flag is not None]
    for setting in flagged:
        assert setting.flag is not None
        found = [param for param in params if param.name == setting.param]
        if setting.flag.check_only and command != "check":
            assert found == [], setting.name
            continue
        assert len(found) == 1, setting.name
        param = found[0]
        declared = [decl for part in setting.flag.decls for decl in part.split("/")]
        assert param.opts + param.secondary_opts == declared, setting.name
        assert (param.help if isinstance(param, click.Option) else None) == setting.help, setting.name
    if command == "check":
        assert {param.name for param in params} - {setting.param for setting in flagged} == NOT_SETTINGS


# A value each kind of flag takes (--show-config only shows it: nothing is read or fetched).
SAMPLE = {"URL": "http://127.0.0.1:9/", "EMAIL": "me@example.org", "REGEX": "^https://x\\.invalid/",
          "PATH": "none", "YYYY-MM-DD": "2020-01-02", "CODES": "KR101"}


def _sample(name: str) -> list[str]:
    """The command-line words that give the setting `name` a value through its declared flag."""
    from kratomref.settings import SETTING

    flag = SETTING[name].flag
    assert flag is not None
    if flag.argument:
        return ["refs.bib"]
    spelling = flag.decls[-1].split("/")[0]
    if flag.switch:
        return [spelling]
    if flag.choices:
        return [spelling, flag.choices[0]]
    if flag.type in (int, float):
        return [spelling, "3"]
    if name == "accept":
        return [spelling, "403"]
    return [spelling, SAMPLE.get(flag.metavar or "", "somewhere")]


def test_every_declared_flag_and_variable_sets_its_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kratomref.cli import main
    from kratomref.settings import AUTHORITIES, SETTINGS

    monkeypatch.chdir(tmp_path)
    flagged = [setting for setting in SETTINGS if setting.flag is not None]
    words = [word for setting in flagged for word in _sample(setting.name)]
    words += [word for authority in AUTHORITIES for word in ("--no-authority", authority)]
    result = CliRunner().invoke(main, ["check", "--isolated", "--show-config", *words])
    assert result.exit_code == 0, result.output
    sources = {line.split(" = ")[0]: line.rsplit("  # ", 1)[1] for line in result.stdout.splitlines()}
    given = [setting.key for setting in flagged] + [f"use-{authority}" for authority in AUTHORITIES]
    assert {key: sources[key] for key in given} == dict.fromkeys(given, "command line")

    variables = {setting.env: _sample(setting.name)[-1] for setting in SETTINGS if setting.env is not None}
    result = CliRunner().invoke(main, ["check", "--isolated", "--show-config"], env=variables)
    assert result.exit_code == 0, result.output
    sources = {line.split(" = ")[0]: line.rsplit("  # ", 1)[1] for line in result.stdout.splitlines()}
    expected = {setting.key: f"env {setting.env}" for setting in SETTINGS if setting.env is not None}
    assert {key: sources[key] for key in expected} == expected


def test_a_mirror_url_in_a_config_file_is_kept_as_written(tmp_path: Path) -> None:
    """A team's PostgreSQL mirror named in the user's file is a URL, not a path beside the file."""
    config = write(tmp_path / "mine.toml", 'mirror = "postgresql://reader@db.example.org/kratomref"\n')
    options, _ = build_options({}, load_config(tmp_path, config), {})
    assert options.mirror == "postgresql://reader@db.example.org/kratomref"
    config = write(tmp_path / "mine.toml", 'mirror = "mirrors/team.sqlite3"\n')
    options, _ = build_options({}, load_config(tmp_path, config), {})
    assert options.mirror is not None and Path(options.mirror).resolve() == tmp_path / "mirrors" / "team.sqlite3"
