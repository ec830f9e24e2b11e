"""Configuration: the user's own config file, the repository's `kratomref.toml` or `[tool.kratomref]` in
`pyproject.toml`, the environment and the command line, merged into Options with a record of where each
value came from, and with what a repository may set kept apart from what only the user may set.

Trust levels: the command line, the environment, the user's own config file (in the platform's user config
directory) and a file named with `--config` are the user's. A configuration file found in the checked
repository is written by whoever wrote the repository (a pull request, in CI): it sets the project's policy
(rules, severities, paths inside the repository), but a setting that loosens safety or chooses where answers
come from (`allow-private`, the cache, TTLs, service URLs, long timeouts) can only be tightened by it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from kratomref import lazy
from kratomref import options as _options
from kratomref.model import Severity
from kratomref.options import Options
from kratomref.settings import SETTING, SETTINGS, _duration, _short, same_service
from kratomref.settings import backtracking_risk as backtracking_risk  # where it was, for its callers

CONFIG_NAME = "kratomref.toml"
PYPROJECT_NAME = "pyproject.toml"
TABLE = "[tool.kratomref]"

# Environment variables, for values a CI secret or a shared runner sets rather than the repository.
ENVIRONMENT = {setting.env: setting.name for setting in SETTINGS if setting.env is not None}

DEFAULT = "default"
COMMAND_LINE = "command line"

# Options that name files: relative values in a config file are relative to that file's directory.
_PATH_FIELDS = frozenset(setting.name for setting in SETTINGS if setting.path)
# Files a repository's configuration names: they must lie inside the repository (the config file's directory).
_REPOSITORY_FILES = tuple(setting.name for setting in SETTINGS if setting.inside)
# Where answers come from: the user's choice only.
_SERVICE_URLS = tuple(setting.name for setting in SETTINGS if setting.repository is same_service)

# The longest a cached answer may stay fresh, from any source (seconds).
TTL_BOUNDS: dict[str, float] = {
    setting.name: getattr(_options, setting.bound) for setting in SETTINGS if setting.bound is not None
}
# How far a repository's configuration may raise a limit above the user's value (or the default).
REPOSITORY_CEILINGS: dict[str, float] = {
    setting.name: setting.ceiling for setting in SETTINGS if setting.ceiling is not None
}


class ConfigError(Exception):
    """A configuration file that cannot be read, or a key or value in it that is wrong."""


class ConfigWarning(UserWarning):
    """A value of a repository's configuration that was ignored (the message names the key and the file)."""


@dataclass(frozen=True)
class ConfigFile:
    """A configuration file read: its kratomref settings, how messages name it, and how far it is trusted."""

    path: Path
    values: Mapping[str, Any]  # the kratomref table, keys as written (kebab-case)
    label: str  # "kratomref.toml" or "pyproject.toml:[tool.kratomref]", for --show-config
    # The user's own file (user config, --config): may set anything. A file found in the checked repository
    # is not: it may only tighten the safety settings, and name files inside its own directory.
    trusted: bool = False


# --- generated from the declarations (kratomref/settings.py) ------------------------------------------

PARSERS: dict[str, Callable[[Any], Any]] = {setting.name: setting.parse for setting in SETTINGS}


def key_of(field_name: str) -> str:
    """The config-file key of an Options field: kebab-case; severity overrides are the `severity` table."""
    setting = SETTING.get(field_name)
    return setting.key if setting is not None else field_name.replace("_", "-")


FIELD_OF = {key_of(name): name for name in PARSERS}


# --- discovery --------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from None


def _parse_toml(path: Path, raw: bytes) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # here: most runs read no TOML at all (see _from_file)
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))  # what tomllib.load does with a file
        return data
    except ValueError as exc:  # TOMLDecodeError, bytes that are not UTF-8, an integer too long to convert
        raise ConfigError(f"{path}: not valid TOML: {_short(str(exc), 300)}") from None


def _display(path: Path, start_dir: Path) -> str:
    try:
        return os.path.relpath(path, start_dir)
    except ValueError:  # another drive on Windows
        return str(path)


def _from_file(path: Path, start_dir: Path) -> ConfigFile | None:
    raw = _read_bytes(path)
    if path.name == PYPROJECT_NAME and b"kratomref" not in raw:
        return None  # no [tool.kratomref] table can be written without its name: the project's file, not ours
    data = _parse_toml(path, raw)
    if path.name == PYPROJECT_NAME:
        table = data.get("tool", {}).get("kratomref")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {TABLE} must be a table")
        return ConfigFile(path, table, f"{_display(path, start_dir)}:{TABLE}")
    return ConfigFile(path, data, _display(path, start_dir))


def _is_devnull(path: Path) -> bool:
    if str(path) == os.devnull:
        return True
    try:
        return os.path.samefile(path, os.devnull)
    except OSError:
        return False


def load_config(start_dir: Path, explicit_file: Path | None = None) -> ConfigFile | None:
    """The explicit file (the user's choice, so trusted; `--config /dev/null` is an empty one), or the nearest
    kratomref.toml or pyproject.toml with [tool.kratomref] from start_dir upward (kratomref.toml wins in the
    same directory; not trusted: it belongs to the checked repository). None when there is none."""
    start_dir = start_dir.resolve()
    if explicit_file is not None:
        if _is_devnull(explicit_file):
            return ConfigFile(Path(os.devnull), {}, str(explicit_file), trusted=True)
        if not explicit_file.exists():
            raise ConfigError(f"{explicit_file}: configuration file not found")
        if not explicit_file.is_file():
            kind = "is a directory" if explicit_file.is_dir() else "exists but is not a regular file"
            raise ConfigError(f"{explicit_file}: {kind}; the configuration is a kratomref.toml or pyproject.toml")
        found = _from_file(explicit_file.resolve(), start_dir)
        if found is None:
            return ConfigFile(explicit_file.resolve(), {}, str(explicit_file), trusted=True)
        return dataclasses.replace(found, trusted=True)
    for directory in (start_dir, *start_dir.parents):
        for name in (CONFIG_NAME, PYPROJECT_NAME):
            candidate = directory / name
            if candidate.is_file():
                found = _from_file(candidate, start_dir)
                if found is not None:
                    return found
    return None


def user_config_file() -> Path:
    """The user's own configuration file, e.g. ~/.config/kratomref/kratomref.toml (platformdirs)."""
    return platformdirs.user_config_path("kratomref", appauthor=False) / CONFIG_NAME


def load_user_config(path: Path | None = None) -> ConfigFile | None:
    """The user's own configuration (trusted, like the command line), or None when there is none."""
    path = path if path is not None else user_config_file()
    if not path.is_file():
        return None
    return ConfigFile(path, _parse_toml(path, _read_bytes(path)), f"user config {path}", trusted=True)


def checked_tree(config: ConfigFile | None, start_dir: Path) -> tuple[Path, ...]:
    """The directories a pull request can write to: the repository configuration's directory and the root of
    the version-controlled tree the run starts in (the nearest directory with .git, .hg, .svn, .jj)."""
    roots: list[Path] = []
    if config is not None and not config.trusted:
        roots.append(config.path.parent.resolve())
    start = start_dir.resolve()
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in (".git", ".hg", ".svn", ".jj")):
            roots.append(directory)
            break
    return tuple(roots)


def _inside(path: Path, roots: Sequence[Path]) -> Path | None:
    """The root that holds path (after resolving '..' and symbolic links), else None."""
    resolved = path.resolve()
    for root in roots:
        if resolved == root or resolved.is_relative_to(root):
            return root
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


_URL_SCHEME = lazy.regex(r"[A-Za-z][A-Za-z0-9+.-]*://")


def _relative_to(base: Path, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """A path of the config file, as a path the run (started in the working directory) can open."""

    def one(path: str) -> str:
        if os.path.isabs(path) or _URL_SCHEME.match(path):  # a URL (a team's PostgreSQL mirror) is no path
            return path
        joined = base / path
        try:
            return os.path.relpath(joined)
        except ValueError:
            return str(joined)

    return tuple(one(p) for p in value) if isinstance(value, tuple) else one(value)


def _check_bounds(name: str, value: Any, where: str) -> None:
    bound = TTL_BOUNDS.get(name)
    if bound is not None and value > bound:
        raise ConfigError(f"{where}: bad value for {key_of(name)!r}: at most {_duration(bound)}, got {value!r}")


def _loosens(name: str, value: Any, trusted: Any) -> str | None:
    """Why a repository's value would loosen the user's (or the default) setting, else None: above its
    ceiling, or refused by its declaration's rule (settings.py)."""
    setting = SETTING[name]
    if setting.ceiling is not None:
        ceiling = max(trusted, setting.ceiling)
        if value > ceiling:
            return f"above {ceiling:g}, the most a repository configuration may set"
    return None if setting.repository is None else setting.repository(setting, value, trusted)


def _outside_files(config: ConfigFile, name: str) -> list[str]:
    """The files a repository's config names under `name` that lie outside its directory (symbolic links
    and '..' resolved)."""
    raw = config.values.get(key_of(name))
    named = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple)) else []
    root = config.path.parent.resolve()
    return [item for item in named if isinstance(item, str) and _inside(root / item, (root,)) is None]


def build_options(
    cli_values: Mapping[str, Any],
    config: ConfigFile | None,
    env: Mapping[str, str],
    *,
    user_config: ConfigFile | None = None,
    warn: Callable[[str], None] | None = None,
    tree: Sequence[Path] | None = None,
) -> tuple[Options, dict[str, str]]:
    """Options and where each came from. Command line > environment > configuration file > the user's own
    config > default. A repository's configuration file (config with trusted=False) only tightens: a value
    that would loosen safety is ignored, with one warning naming the key and the file (through `warn`, else a
    ConfigWarning), and the files it names must lie in its directory. `tree` is the checked tree, where the
    cache may not live (default: see checked_tree)."""
    if warn is None:

        def warn(message: str) -> None:
            warnings.warn(message, ConfigWarning, stacklevel=3)

    values: dict[str, Any] = {}
    provenance = {f.name: DEFAULT for f in dataclasses.fields(Options)}

    for trusted_file in (user_config, config if config is not None and config.trusted else None):
        if trusted_file is None:
            continue
        for name, value in _file_values(trusted_file).items():
            _check_bounds(name, value, str(trusted_file.path))
            values[name] = value
            provenance[name] = trusted_file.label

    refused: dict[str, str] = {}
    if config is not None and not config.trusted:
        trusted_values = dataclasses.replace(Options(), **values)
        for name, value in _file_values(config).items():
            reason = _loosens(name, value, getattr(trusted_values, name))
            if reason is not None:
                shown = f"{key_of(name)} = {_toml_value(config.values[key_of(name)])}"
                warn(f"{config.label}: ignoring {shown}: {reason}")
                provenance[name] = f"{provenance[name]} ({config.label} sets {shown}: ignored)"
                continue
            values[name] = value
            provenance[name] = config.label
        for name in _REPOSITORY_FILES:
            outside = _outside_files(config, name)
            if outside:
                refused[name] = (
                    f"{config.path}: {key_of(name)!r} names {', '.join(map(repr, outside))}, outside the "
                    f"repository {config.path.parent} (after resolving '..' and symbolic links); a repository's "
                    "configuration may only name files inside it, so nothing was read (give a file outside it "
                    "on the command line)"
                )

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
        _check_bounds(name, values[name], "command line")
        provenance[name] = COMMAND_LINE

    for name, message in refused.items():
        if config is not None and provenance[name] == config.label:  # not overridden by the user
            raise ConfigError(message)

    roots = tuple(tree) if tree is not None else checked_tree(config, Path.cwd())
    _keep_the_cache_out_of_the_tree(values, provenance, roots, warn)
    values["tree"] = tuple(str(root) for root in roots)
    return Options(**values), provenance


def _keep_the_cache_out_of_the_tree(
    values: dict[str, Any], provenance: dict[str, str], roots: Sequence[Path], warn: Callable[[str], None]
) -> None:
    """A cache inside the checked tree could hold answers a pull request committed: refused, unless
    --cache-dir on the command line asks for it (then a warning)."""
    directory = values.get("cache_dir")
    if not directory or values.get("use_cache") is False:
        return
    from kratomref.services.cache import user_cache_dir

    fallback = str(user_cache_dir())
    root = _inside(Path(directory), roots)
    if root is None or Path(directory).resolve() == Path(fallback).resolve():  # the user's own cache dir
        return
    source = provenance["cache_dir"]
    if source == COMMAND_LINE:
        warn(
            f"the cache directory {directory} is inside the checked tree {root}: answers committed there "
            "would be believed (allowed because --cache-dir was given on the command line)"
        )
        return
    warn(
        f"{source}: ignoring cache-dir {directory}: it is inside the checked tree {root}, where a pull "
        f"request could commit answers; using {fallback} (--cache-dir on the command line overrides)"
    )
    values["cache_dir"] = fallback
    provenance["cache_dir"] = f"{DEFAULT} ({source} sets {directory}: inside the checked tree, ignored)"


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
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    # control characters and bidi overrides as TOML escapes: a value a repository wrote is shown on a terminal
    return '"' + _UNSAFE.sub(_toml_escape, text) + '"'


def _toml_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04X}" if code < 0x10000 else f"\\U{code:08X}"


# C0 and C1 controls, bidi controls, line separators and invisible format characters (as reports.sanitize)
_UNSAFE = lazy.regex(  # --show-config's
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
    "\u180e\u200b\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


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
