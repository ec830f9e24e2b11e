"""Every setting declared once: its config key, parser, environment variable, command-line flag and what a
repository's configuration may set; config.py's tables and cli.py's options are generated from SETTINGS.

Options (options.py) holds each setting's value and default. This module is light on purpose (it imports neither
click nor, until a value is parsed, kratomref.model) and imports nothing that imports options.py: the command line
reads it when it starts.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
import re
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from kratomref.model import Severity

# The authorities asked beyond Crossref (issue 15): each has a base URL and a switch.
AUTHORITIES = ("openalex", "datacite", "arxiv", "pubmed", "dblp", "openlibrary")


# --- value parsers: each takes what TOML (or the CLI) gave and returns the Options value ----------


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _http_url(value: Any) -> str:
    """A service base URL: kratomref speaks HTTP to Crossref, doi.org and the Wayback Machine only."""
    text = _string(value).strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http:// or https:// URL, got {text!r}")
    return text


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _number(minimum: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        # nan and inf (TOML has both) compare false with every bound, so each bound would let them through
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {_short(repr(value))}")
        if number < minimum:
            raise ValueError(f"expected a number of at least {minimum:g}, got {value!r}")
        return number

    return parse


def _integer(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if value < minimum:
            raise ValueError(f"expected a whole number of at least {minimum}, got {value!r}")
        return value

    return parse


def _limit(value: Any) -> int:
    """A size guard's limit (max-entries, max-bibliography-mib): a whole number of at least 1, written as one
    in the environment too ("100000")."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return _integer(1)(value)


def _optional_integer(minimum: int) -> Callable[[Any], int | None]:
    """A whole number, or false for "not set" (TOML has no null)."""
    whole = _integer(minimum)

    def parse(value: Any) -> int | None:
        if value is False:
            return None
        try:
            return whole(value)
        except ValueError as exc:
            raise ValueError(f"{exc} (or false)") from None

    return parse


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(value)


def _path(value: str) -> str:
    if "\x00" in value:  # no file name holds one; opening it would raise, not refuse
        raise ValueError(f"a file name cannot contain a NUL character, got {value!r}")
    return value


def _paths(value: Any) -> tuple[str, ...]:
    return tuple(_path(item) for item in _strings(value))


def _optional_path(value: Any) -> str | None:
    return None if value is None else _path(_string(value))


def _rule_selectors(value: Any) -> tuple[str, ...]:
    selectors = tuple(part.strip() for item in _strings(value) for part in item.split(",") if part.strip())
    for selector in selectors:
        _check_selector(selector)
    return selectors


def _check_selector(selector: str) -> None:
    from kratomref import catalogue  # the rules as data: checking a selector loads no rule family

    if not any(rule.matches(selector) for rule in catalogue.load()):
        raise ValueError(f"unknown rule {selector!r} (see `kratomref rules`)")


# A repetition that may run longer than this is long: `[a-z]{2,3}` is short, `.*` and `a{0,1000}` are long.
_LONG_REPEAT = 16
# The most ways the short repetitions and optional parts of a pattern may split one text (`s?` is 2 ways,
# `[a-z]{2,3}` 2 ways): `a?a?...a?aa...a` takes 2**n steps on n a's.
_MAX_SPLITS = 16


def backtracking_risk(pattern: str) -> str | None:
    """Why a search with this (valid) regular expression can take more than quadratic time on a long URL,
    else None. Python's engine backtracks: `(a+)+$` and `(a|ab)*c` take exponential time, `.*a.*a.*b` the
    fourth power of the URL's length, so a pattern a pull request wrote could hold the runner. Refused: a
    repetition or an alternation inside a repetition, a backreference, more than one long repetition, and
    short repetitions and optional parts that could split a text more than _MAX_SPLITS ways. Conservative
    (`([a-z]+\\.)*` is refused though it is safe): it judges only a repository's patterns."""
    parser: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
    long_repeats = 0
    splits = 1

    def walk(items: Any, in_repeat: bool) -> str | None:
        nonlocal long_repeats, splits
        for op, argument in items:
            name = str(op)
            parts: list[tuple[Any, bool]] = []
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, body = argument
                if high > 1 and in_repeat:
                    return "a repetition inside a repetition"
                if high > _LONG_REPEAT:
                    long_repeats += 1
                    if long_repeats > 1:
                        return "more than one long repetition"
                else:
                    splits *= high - low + 1
                    if splits > _MAX_SPLITS:
                        return "too many optional or repeated parts"
                parts.append((body, in_repeat or high > 1))
            elif name == "BRANCH":
                if in_repeat:
                    return "an alternation inside a repetition"
                parts += [(branch, in_repeat) for branch in argument[1]]
            elif name in ("GROUPREF", "GROUPREF_EXISTS"):
                return "a backreference"
            elif name == "SUBPATTERN":
                parts.append((argument[-1], in_repeat))
            elif name in ("ASSERT", "ASSERT_NOT"):
                parts.append((argument[1], in_repeat))
            elif name == "ATOMIC_GROUP":
                parts.append((argument, in_repeat))
            for body, inside in parts:
                reason = walk(body, inside)
                if reason is not None:
                    return reason
        return None

    return walk(parser.parse(pattern), False)


def _regexes(value: Any) -> tuple[str, ...]:
    patterns = _strings(value)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
    return patterns


def _status_codes(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of HTTP status codes, got {value!r}")
    codes = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 100 <= item <= 999:
            raise ValueError(f"expected HTTP status codes such as 403, got {item!r}")
        codes.append(item)
    return tuple(codes)


def _fail_on(value: Any) -> Severity | None:
    from kratomref.model import Severity

    if value is None or isinstance(value, Severity):
        return value
    text = _string(value)
    if text.strip().lower() == "never":
        return None
    return Severity.parse(text)


def _severity_overrides(value: Any) -> tuple[tuple[str, Severity], ...]:
    from kratomref.model import Severity

    if isinstance(value, (list, tuple)):  # already parsed (from the CLI or a library caller)
        items = list(value)
    elif isinstance(value, Mapping):
        items = list(value.items())
    else:
        raise ValueError(f'expected a table such as {{ KR304 = "warning" }}, got {value!r}')
    overrides = []
    for selector, level in items:
        _check_selector(str(selector))
        overrides.append((str(selector), level if isinstance(level, Severity) else Severity.parse(_string(level))))
    return tuple(overrides)


def _optional_string(value: Any) -> str | None:
    return None if value is None else _string(value)


def _input_format(value: Any) -> str:
    from kratomref.readers import FORMATS

    text = _string(value)
    if text not in FORMATS:
        raise ValueError(f"expected one of {', '.join(FORMATS)}, got {text!r}")
    return text


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(_string(value))
    except ValueError:
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}") from None



def _duration(seconds: float) -> str:
    """"604800 s (7 days)": seconds as written in a config file, with days when that is clearer."""
    return f"{seconds:g} s ({seconds / 86400:g} days)" if seconds >= 86400 else f"{seconds:g} s"


# --- what a repository's configuration may set ----------------------------------------------------------------
# A refusal takes the setting, the repository's value and the trusted one (the user's, or the default) and says
# why the repository's value would loosen it, else None. Its reason may name {key}, {env}, {trusted} and
# {duration} (the trusted value in seconds and days).

Refusal = Callable[["Setting", Any, Any], "str | None"]
ONLY_OFF = "a repository configuration cannot turn {key} back on"


def _reason(reason: str, setting: Setting, trusted: Any) -> str:
    duration = _duration(trusted) if "{duration}" in reason else ""
    return reason.format(key=setting.key, env=setting.env, trusted=trusted, duration=duration)


def only_off(reason: str = ONLY_OFF) -> Refusal:
    """A switch a repository may turn off, never on."""

    def refuse(setting: Setting, value: Any, trusted: Any) -> str | None:
        return _reason(reason, setting, trusted) if value and not trusted else None

    return refuse


def only_on(reason: str) -> Refusal:
    """A switch a repository may turn on, never off."""

    def refuse(setting: Setting, value: Any, trusted: Any) -> str | None:
        return _reason(reason, setting, trusted) if not value and trusted else None

    return refuse


def users_only(reason: str) -> Refusal:
    """Not the repository's to set at all."""

    def refuse(setting: Setting, value: Any, trusted: Any) -> str | None:
        return _reason(reason, setting, trusted)

    return refuse


def not_above(reason: str) -> Refusal:
    """A limit a repository may only lower."""

    def refuse(setting: Setting, value: Any, trusted: Any) -> str | None:
        return _reason(reason, setting, trusted) if value > trusted else None

    return refuse


def not_below(reason: str) -> Refusal:
    """A limit a repository may only raise."""

    def refuse(setting: Setting, value: Any, trusted: Any) -> str | None:
        return _reason(reason, setting, trusted) if value < trusted else None

    return refuse


def same_service(setting: Setting, value: Any, trusted: Any) -> str | None:
    """Where answers come from: the user's choice only."""
    if value.rstrip("/").lower() == trusted.rstrip("/").lower():
        return None
    where = f"--{setting.key}, " if setting.flag is not None else ""
    return (
        f"a repository configuration cannot choose which service answers (use {where}"
        "the environment or your user config)"
    )


def safe_patterns(setting: Setting, value: Any, trusted: Any) -> str | None:
    """Regular expressions that cannot make a search take exponential time."""
    for pattern in value:
        risk = backtracking_risk(pattern)
        if risk is not None:
            return (
                f"{pattern!r} has {risk}, which can make a search take exponential time on a long URL; "
                "simplify it, or give it with --exclude or in your user config"
            )
    return None


# --- the declarations -----------------------------------------------------------------------------------------


class Flag(NamedTuple):
    """A setting's command-line option, as click.option's keywords (cli.py builds it; this module has no click).
    Given, it sets the setting through the setting's parser, like a configuration file's value."""

    decls: tuple[str, ...]  # ("--mailto",), ("-q", "--quiet"), ("--allow-private/--no-allow-private",), ("paths",)
    help: str | None = None  # may name {env}, the setting's environment variable
    metavar: str | None = None
    type: Any = None  # int, float, "path" (a file or a directory) or "file"
    choices: tuple[str, ...] = ()
    multiple: bool = False  # repeatable; not given is ()
    switch: bool = False  # a flag (or --x/--no-x) that is None when not given, so that the configuration's value stands
    turns_off: bool = False  # --no-x: given, the setting is False
    argument: bool = False  # PATHS ...: the command's arguments
    check_only: bool = False  # only `check` takes it; else check, export and fix share it (cli.network_options)


class Setting(NamedTuple):
    """One setting: the Options field `name`, its config key, how a value is read, where else it can be set, and
    what a repository's configuration may set."""

    name: str  # the Options field
    parse: Callable[[Any], Any]  # a config file's, the environment's or the command line's value -> the field's
    config_key: str | None = None  # the config-file key, when it is not the name in kebab-case
    env: str | None = None  # the environment variable, for values a CI secret or a shared runner sets
    flag: Flag | None = None
    path: bool = False  # names files: relative values in a config file are relative to that file's directory
    inside: bool = False  # a repository's configuration may only name files inside the repository
    bound: str | None = None  # the options.py constant that is the most anyone may set (TTLs)
    ceiling: float | None = None  # how far a repository may raise it above the user's value (or the default)
    repository: Refusal | None = None  # what a repository's configuration may not set; None: anything

    @property
    def key(self) -> str:
        """The config-file key: the name in kebab-case unless declared otherwise."""
        return self.config_key or self.name.replace("_", "-")

    @property
    def param(self) -> str:
        """The click parameter's name: the field's, or no_x for --no-x."""
        if self.flag is not None and self.flag.turns_off:
            return self.flag.decls[0].lstrip("-").replace("-", "_")
        return self.name

    @property
    def help(self) -> str | None:
        return None if self.flag is None or self.flag.help is None else self.flag.help.format(env=self.env)


_UNTIL_LOWERED = "above {trusted:g}; a repository configuration can only lower it"
_SIZE_GUARD = _UNTIL_LOWERED + " (raise it with --{key}, the environment or your user config)"
_SHORTER = "longer than {duration}; a repository configuration can only shorten it"
_SERVICE: dict[str, Any] = {"parse": _http_url, "repository": same_service}

# In the order of the configuration reference (docs/reference/configuration.md).
SETTINGS: tuple[Setting, ...] = (
    Setting("paths", _paths, path=True, inside=True, flag=Flag(("paths",), type="path", argument=True)),
    Setting("input_format", _input_format, flag=Flag(
        ("--input-format",), "Read every input as this format instead of detecting it.",
        choices=("bibtex", "text", "markdown", "csljson", "ris", "latex", "pandoc", "docx", "pdf"))),
    Setting("select", _rule_selectors, flag=Flag(
        ("--select",), "Only these rules (codes, names or prefixes).", metavar="CODES", multiple=True,
        check_only=True)),
    Setting("ignore", _rule_selectors, flag=Flag(
        ("--ignore",), "Never these rules.", metavar="CODES", multiple=True, check_only=True)),
    Setting("severity_overrides", _severity_overrides, config_key="severity"),
    Setting("fail_on", _fail_on, flag=Flag(
        ("--fail-on",), "Exit 1 when a finding is at or above this severity (default error).",
        choices=("error", "warning", "info", "never"), check_only=True)),
    Setting("allow_unverified", _bool, flag=Flag(
        ("--allow-unverified",), "Exit 0 rather than 3 when some references could not be checked.", switch=True,
        check_only=True)),
    Setting("baseline", _optional_path, path=True, inside=True, flag=Flag(
        ("--baseline",), "Report only findings not in this baseline.", type="file", check_only=True)),
    Setting("offline", _bool, repository=only_on("a repository configuration cannot turn network access back on"),
            flag=Flag(("--offline",), "Make no network request: answer from the cache, leave the rest unverified.",
                      switch=True)),
    Setting("crossref_url", env="KRATOMREF_CROSSREF_URL", flag=Flag(
        ("--crossref-url",), "Crossref REST API base URL (env {env}).", metavar="URL"), **_SERVICE),
    Setting("doi_url", flag=Flag(("--doi-url",), "doi.org base URL for the handle API.", metavar="URL"), **_SERVICE),
    Setting("archive_url", flag=Flag(("--archive-url",), "Wayback Machine base URL.", metavar="URL"), **_SERVICE),
    Setting("archive", _bool, repository=only_off(), flag=Flag(
        ("--no-archive",), "Do not look up Wayback Machine copies of broken links.", switch=True, turns_off=True)),
    Setting("mailto", _optional_string, env="KRATOMREF_MAILTO", flag=Flag(
        ("--mailto",), "Contact address: puts Crossref and OpenAlex requests in the polite pool and gives NCBI its "
        "contact (env {env}).", metavar="EMAIL")),
    *(Setting(f"{authority}_url", **_SERVICE) for authority in AUTHORITIES),
    # one switch each; the command line's --no-authority NAME (cli.py) turns them off
    *(Setting(f"use_{authority}", _bool, repository=only_off()) for authority in AUTHORITIES),
    Setting("authority_pacing", _number(0),
            repository=not_below("a repository configuration cannot ask the authorities faster than they ask")),
    Setting("timeout", _number(0.1), ceiling=30.0, flag=Flag(
        ("--timeout",), "Seconds to wait for a server (connect and read).", type=float)),
    Setting("max_concurrency", _integer(1), repository=not_above(_UNTIL_LOWERED), flag=Flag(
        ("--max-concurrency",), "Link requests in flight at once (default 32).", type=int)),
    Setting("max_per_host", _integer(1), repository=not_above(_UNTIL_LOWERED), flag=Flag(
        ("--max-per-host",), "Link requests in flight against one host (default 2).", type=int)),
    # a slow server deserves a longer timeout, but not one that lets a pull request hold the runner
    Setting("host_interval", _number(0), ceiling=5.0,
            repository=not_below("below {trusted:g} s; a repository configuration can only raise it")),
    Setting("max_retries", _integer(0), ceiling=5),
    Setting("user_agent", _optional_string, flag=Flag(
        ("--user-agent",), "User-Agent for link checks; appended to kratomref's own for Crossref and doi.org.")),
    Setting("exclude", _regexes, repository=safe_patterns, flag=Flag(
        ("--exclude",), "Do not fetch URLs matching REGEX (repeatable).", metavar="REGEX", multiple=True)),
    Setting("accept", _status_codes, flag=Flag(
        ("--accept",), "Extra HTTP status codes taken as OK, e.g. 403,999.", metavar="CODES", multiple=True)),
    Setting("allow_private", _bool, repository=only_off(
        "a repository configuration cannot allow private addresses (give --{key} on the command line)"), flag=Flag(
        ("--allow-private/--no-allow-private",), "Fetch loopback, private and link-local addresses (refused by "
        "default; --no-allow-private wins over any configuration).", switch=True)),
    Setting("follow_symlinks", _bool, repository=only_off(
        "a repository configuration cannot make kratomref follow symbolic links out of the repository "
        "(give --{key} on the command line)"), flag=Flag(
        ("--follow-symlinks/--no-follow-symlinks",), "Read an input that is a symbolic link out of the checked "
        "repository (refused by default: a pull request could commit one pointing at a secret on the CI runner).",
        switch=True)),
    Setting("use_cache", _bool, repository=only_off(), flag=Flag(
        ("--no-cache",), "Neither read nor write the cache.", switch=True, turns_off=True)),
    Setting("cache_dir", _optional_path, path=True, env="KRATOMREF_CACHE_DIR", repository=users_only(
        "the cache is the user's, not the repository's (use --{key}, {env} or your user config)"), flag=Flag(
        ("--cache-dir",), "Cache directory (env {env}).", type="path")),
    Setting("cache_server", _optional_string, env="KRATOMREF_CACHE_SERVER", repository=users_only(
        "the cache is the user's, not the repository's (use --{key}, {env} or your user config)"), flag=Flag(
        ("--cache-server",), "Keep the look-up cache on a team's PostgreSQL server instead of in the cache "
        "directory (postgresql://user@host/database, the mirror's for instance), so that what one worker looked up "
        "the others do not ask again; env {env}.", metavar="URL")),
    Setting("mirror", _optional_path, path=True, env="KRATOMREF_MIRROR", repository=users_only(
        "the mirror is the user's choice, not the repository's (use --{key}, {env} or your user config)"), flag=Flag(
        ("--mirror",), "Local metadata mirror asked before Crossref: a file (default: mirror.sqlite3 in your data "
        "directory when it exists) or a team's PostgreSQL server (postgresql://user@host/database); 'none': no "
        "mirror; env {env}. See `kratomref mirror`.", metavar="PATH|URL")),
    Setting("ttl_found", _number(0), bound="MAX_TTL_FOUND", repository=not_above(_SHORTER)),
    Setting("ttl_not_found", _number(0), bound="MAX_TTL_NOT_FOUND", repository=not_above(_SHORTER)),
    Setting("ttl_links", _number(0), bound="MAX_TTL_LINKS", repository=not_above(_SHORTER)),
    Setting("max_entries", _limit, env="KRATOMREF_MAX_ENTRIES", repository=not_above(_SIZE_GUARD), flag=Flag(
        ("--max-entries",), "Read bibliographies of up to this many entries (default 50,000; a repository's "
        "config may only lower it; env {env}).", type=int)),
    Setting("max_bibliography_mib", _limit, env="KRATOMREF_MAX_BIBLIOGRAPHY_MIB",
            repository=not_above(_SIZE_GUARD), flag=Flag(
                ("--max-bibliography-mib",), "Read bibliographies of up to this many MiB of text (default 16; "
                "env {env}).", type=int)),
    Setting("max_draft_mib", _limit, env="KRATOMREF_MAX_DRAFT_MIB", repository=not_above(_SIZE_GUARD), flag=Flag(
        ("--max-draft-mib",), "Read drafts (Markdown, text, LaTeX, pandoc, HTML) of up to this many MiB of text "
        "(default 8; env {env}).", type=int)),
    Setting("max_age_scholarly", _optional_integer(0)),
    Setting("max_age_web", _integer(0)),
    Setting("uncited_bib", _bool),
    Setting("today", _date, flag=Flag(
        ("--today",), "The date the age policy counts from (default: today).", metavar="YYYY-MM-DD")),
    Setting("quiet", _bool, flag=Flag(
        ("-q", "--quiet"), "Print only the findings and the summary.", switch=True, check_only=True)),
)

SETTING: Mapping[str, Setting] = {setting.name: setting for setting in SETTINGS}
