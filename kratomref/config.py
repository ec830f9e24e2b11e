"""Configuration: `kratomref.toml` or `[tool.kratomref]` in `pyproject.toml`, the environment and the
command line, merged into Options with a record of where each value came from."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import socket
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kratomref.model import Severity
from kratomref.options import Options

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

CONFIG_NAME = "kratomref.toml"
PYPROJECT_NAME = "pyproject.toml"
TABLE = "[tool.kratomref]"

# Environment variables, for values a CI secret or a shared runner sets rather than the repository.
ENVIRONMENT = {
    "KRATOMREF_CROSSREF_URL": "crossref_url",
    "KRATOMREF_MAILTO": "mailto",
    "KRATOMREF_CACHE_DIR": "cache_dir",
}

DEFAULT = "default"
COMMAND_LINE = "command line"

# Options that name files: relative values in a config file are relative to that file's directory.
_PATH_FIELDS = frozenset({"paths", "cache_dir", "baseline"})


class ConfigError(Exception):
    """A configuration file that cannot be read, or a key or value in it that is wrong."""


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    values: Mapping[str, Any]  # the kratomref table, keys as written (kebab-case)
    label: str  # "kratomref.toml" or "pyproject.toml:[tool.kratomref]", for --show-config


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
        if value < minimum:
            raise ValueError(f"expected a number of at least {minimum:g}, got {value!r}")
        return float(value)

    return parse


def _integer(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if value < minimum:
            raise ValueError(f"expected a whole number of at least {minimum}, got {value!r}")
        return value

    return parse


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


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(value)


def _rule_selectors(value: Any) -> tuple[str, ...]:
    selectors = tuple(part.strip() for item in _strings(value) for part in item.split(",") if part.strip())
    for selector in selectors:
        _check_selector(selector)
    return selectors


def _check_selector(selector: str) -> None:
    from kratomref.rules import RULES

    if not any(rule.matches(selector) for rule in RULES):
        raise ValueError(f"unknown rule {selector!r} (see `kratomref rules`)")


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
    if value is None or isinstance(value, Severity):
        return value
    text = _string(value)
    if text.strip().lower() == "never":
        return None
    return Severity.parse(text)


def _severity_overrides(value: Any) -> tuple[tuple[str, Severity], ...]:
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


PARSERS: dict[str, Callable[[Any], Any]] = {
    "paths": _strings,
    "input_format": _input_format,
    "select": _rule_selectors,
    "ignore": _rule_selectors,
    "severity_overrides": _severity_overrides,
    "fail_on": _fail_on,
    "allow_unverified": _bool,
    "baseline": _optional_string,
    "offline": _bool,
    "crossref_url": _http_url,
    "doi_url": _http_url,
    "archive_url": _http_url,
    "archive": _bool,
    "mailto": _optional_string,
    "timeout": _number(0.1),
    "max_concurrency": _integer(1),
    "max_per_host": _integer(1),
    "host_interval": _number(0),
    "max_retries": _integer(0),
    "user_agent": _optional_string,
    "exclude": _regexes,
    "accept": _status_codes,
    "allow_private": _bool,
    "use_cache": _bool,
    "cache_dir": _optional_string,
    "ttl_found": _number(0),
    "ttl_not_found": _number(0),
    "ttl_links": _number(0),
    "max_age_scholarly": _optional_integer(0),
    "max_age_web": _integer(0),
    "uncited_bib": _bool,
    "today": _date,
    "quiet": _bool,
}


def key_of(field_name: str) -> str:
    """The config-file key of an Options field: kebab-case; severity overrides are the `severity` table."""
    return "severity" if field_name == "severity_overrides" else field_name.replace("_", "-")


FIELD_OF = {key_of(name): name for name in PARSERS}


# --- discovery --------------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _display(path: Path, start_dir: Path) -> str:
    try:
        return os.path.relpath(path, start_dir)
    except ValueError:  # another drive on Windows
        return str(path)


def _from_file(path: Path, start_dir: Path) -> ConfigFile | None:
    data = _read_toml(path)
    if path.name == PYPROJECT_NAME:
        table = data.get("tool", {}).get("kratomref")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {TABLE} must be a table")
        return ConfigFile(path, table, f"{_display(path, start_dir)}:{TABLE}")
    return ConfigFile(path, data, _display(path, start_dir))


def load_config(start_dir: Path, explicit_file: Path | None = None) -> ConfigFile | None:
    """The explicit file, or the nearest kratomref.toml or pyproject.toml with [tool.kratomref] from
    start_dir upward (kratomref.toml wins in the same directory). None when there is none."""
    start_dir = start_dir.resolve()
    if explicit_file is not None:
        if not explicit_file.exists():
            raise ConfigError(f"{explicit_file}: configuration file not found")
        if not explicit_file.is_file():
            kind = "is a directory" if explicit_file.is_dir() else "exists but is not a regular file"
            raise ConfigError(f"{explicit_file}: {kind}; the configuration is a kratomref.toml or pyproject.toml")
        found = _from_file(explicit_file.resolve(), start_dir)
        return found if found is not None else ConfigFile(explicit_file.resolve(), {}, str(explicit_file))
    for directory in (start_dir, *start_dir.parents):
        for name in (CONFIG_NAME, PYPROJECT_NAME):
            candidate = directory / name
            if candidate.is_file():
                found = _from_file(candidate, start_dir)
                if found is not None:
                    return found
    return None


# --- merging ------------------------------------------------------------------------------------------


def _file_values(config: ConfigFile) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in config.values.items():
        field_name = FIELD_OF.get(key)
        if field_name is None:
            hint = ""
            if key in PARSERS:  # snake_case spelling of a real key
                hint = f" (did you mean {key_of(key)!r}?)"
            elif key == "tool":
                hint = " (kratomref.toml takes its keys at the top level, without [tool.kratomref])"
            raise ConfigError(f"{config.path}: unknown key {key!r}{hint}")
        try:
            value = PARSERS[field_name](raw)
        except ValueError as exc:
            raise ConfigError(f"{config.path}: bad value for {key!r}: {exc}") from None
        if field_name in _PATH_FIELDS and value is not None:
            value = _relative_to(config.path.parent, value)
        values[field_name] = value
    return values


def _relative_to(base: Path, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """A path of the config file, as a path the run (started in the working directory) can open."""

    def one(path: str) -> str:
        if os.path.isabs(path):
            return path
        joined = base / path
        try:
            return os.path.relpath(joined)
        except ValueError:
            return str(joined)

    return tuple(one(p) for p in value) if isinstance(value, tuple) else one(value)


def build_options(
    cli_values: Mapping[str, Any], config: ConfigFile | None, env: Mapping[str, str]
) -> tuple[Options, dict[str, str]]:
    """Options and where each came from. Command line > environment > config file > default."""
    values: dict[str, Any] = {}
    provenance = {f.name: DEFAULT for f in dataclasses.fields(Options)}

    if config is not None:
        for name, value in _file_values(config).items():
            values[name] = value
            provenance[name] = config.label

    for variable, name in ENVIRONMENT.items():
        if env.get(variable):
            try:
                values[name] = PARSERS[name](env[variable])
            except ValueError as exc:
                raise ConfigError(f"environment: bad value for {variable}: {exc}") from None
            provenance[name] = f"env {variable}"

    for name, raw in cli_values.items():
        if raw is None:
            continue
        if name not in provenance:
            raise ConfigError(f"command line: unknown option {name!r}")
        parser = PARSERS.get(name)
        try:
            values[name] = parser(raw) if parser is not None else raw
        except ValueError as exc:
            raise ConfigError(f"command line: bad value for --{key_of(name)}: {exc}") from None
        provenance[name] = COMMAND_LINE

    if config is not None:
        _refuse_private_service_urls(config, values, provenance)
    return Options(**values), provenance


# Service base URLs: a repository's config file (which a pull request can change) must not turn the checker
# against the machine that runs it, e.g. a GET to an admin endpoint on loopback from a CI runner.
_SERVICE_URLS = ("crossref_url", "doi_url", "archive_url")


def _private_address(host: str) -> str | None:
    """The loopback/private/link-local address a host is or resolves to, else None (a DNS failure too:
    the run reports the service unreachable later)."""
    from kratomref.services.netpolicy import is_public, literal_address

    if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):
        return host
    literal = literal_address(host)
    if literal is not None:
        return None if is_public(literal) else literal
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    private = [str(info[4][0]) for info in infos if not is_public(str(info[4][0]))]
    return private[0] if private else None


def _refuse_private_service_urls(config: ConfigFile, values: Mapping[str, Any], provenance: Mapping[str, str]) -> None:
    # Only --allow-private on the command line counts: the same file cannot vouch for itself.
    allowed = provenance.get("allow_private") == COMMAND_LINE and bool(values.get("allow_private"))
    for name in _SERVICE_URLS:
        if provenance.get(name) != config.label or allowed:
            continue
        host = urllib.parse.urlsplit(values[name]).hostname or ""
        address = _private_address(host)
        if address is not None:
            shown = host if address == host else f"{host} ({address})"
            raise ConfigError(
                f"{config.path}: {key_of(name)!r} points at a private address {shown}; refused unless "
                "--allow-private is given on the command line"
            )


def _toml_value(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Severity):
        return f'"{value.label}"'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def describe(options: Options, provenance: Mapping[str, str]) -> str:
    """The effective configuration as TOML keys, each with where it came from (for --show-config)."""
    lines = []
    for f in dataclasses.fields(Options):
        if f.name not in PARSERS:  # not a setting
            continue
        value = getattr(options, f.name)
        source = provenance.get(f.name, DEFAULT)
        key = key_of(f.name)
        if f.name == "severity_overrides":
            table = ", ".join(f"{sel} = {_toml_value(level)}" for sel, level in value)
            rendered = "{ " + table + " }" if table else "{}"
        elif f.name == "fail_on" and value is None:
            rendered = '"never"'
        elif value is None:
            lines.append(f"# {key} is not set  # {source}")
            continue
        else:
            rendered = _toml_value(value)
        lines.append(f"{key} = {rendered}  # {source}")
    return "\n".join(lines) + "\n"
