"""The `kratomref` command: options in, one library call, a report out and an exit code."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from kratomref import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2
FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """--select A,B --select C -> (A, B, C)."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def network_options(func: F) -> F:
    """Input, network and cache options shared by check, export and fix."""
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option(
            "--input-format",
            type=click.Choice(["bibtex", "text", "markdown", "csljson", "ris", "latex", "pandoc", "docx"]),
            help="Read every input as this format instead of detecting it.",
        ),
        click.option(
            "--offline",
            is_flag=True,
            default=None,
            help="Make no network request: answer from the cache, leave the rest unverified.",
        ),
        click.option("--crossref-url", metavar="URL", help="Crossref REST API base URL (env KRATOMREF_CROSSREF_URL)."),
        click.option("--doi-url", metavar="URL", help="doi.org base URL for the handle API."),
        click.option("--archive-url", metavar="URL", help="Wayback Machine base URL."),
        click.option(
            "--mailto",
            metavar="EMAIL",
            help="Contact address: puts Crossref requests in the polite pool (env KRATOMREF_MAILTO).",
        ),
        click.option("--cache-dir", type=click.Path(), help="Cache directory (env KRATOMREF_CACHE_DIR)."),
        click.option("--no-cache", "no_cache", is_flag=True, default=None, help="Neither read nor write the cache."),
        click.option("--timeout", type=float, help="Seconds to wait for a server (connect and read)."),
        click.option("--max-concurrency", type=int, help="Link requests in flight at once (default 32)."),
        click.option("--max-per-host", type=int, help="Link requests in flight against one host (default 2)."),
        click.option("--user-agent", help="User-Agent for link checks."),
        click.option(
            "--exclude", multiple=True, metavar="REGEX", help="Do not fetch URLs matching REGEX (repeatable)."
        ),
        click.option(
            "--accept", multiple=True, metavar="CODES", help="Extra HTTP status codes taken as OK, e.g. 403,999."
        ),
        click.option(
            "--allow-private",
            is_flag=True,
            default=None,
            help="Fetch loopback, private and link-local addresses (refused by default).",
        ),
        click.option(
            "--no-archive",
            "no_archive",
            is_flag=True,
            default=None,
            help="Do not look up Wayback Machine copies of broken links.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False),
            help="Read this kratomref.toml or pyproject.toml instead of searching upward.",
        ),
        click.option("--today", metavar="YYYY-MM-DD", help="The date the age policy counts from (default: today)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _cli_values(params: dict[str, Any]) -> dict[str, Any]:
    """The options the user actually gave, named like Options fields."""
    values: dict[str, Any] = {}
    if params.get("paths"):
        values["paths"] = tuple(params["paths"])
    simple = (
        "input_format",
        "offline",
        "crossref_url",
        "doi_url",
        "archive_url",
        "mailto",
        "cache_dir",
        "timeout",
        "max_concurrency",
        "max_per_host",
        "user_agent",
        "allow_private",
        "fail_on",
        "baseline",
        "quiet",
        "allow_unverified",
        "today",
    )
    for name in simple:
        if params.get(name) is not None:
            values[name] = params[name]
    if params.get("no_cache"):
        values["use_cache"] = False
    if params.get("no_archive"):
        values["archive"] = False
    for name in ("exclude", "select", "ignore"):
        if params.get(name):
            values[name] = _split(params[name]) if name != "exclude" else tuple(params[name])
    if params.get("accept"):
        try:
            values["accept"] = tuple(int(code) for code in _split(params["accept"]))
        except ValueError as exc:
            raise click.BadParameter("status codes are numbers, e.g. 403,999", param_hint="--accept") from exc
    if "today" in values:
        try:
            values["today"] = dt.date.fromisoformat(values["today"])
        except ValueError as exc:
            raise click.BadParameter("give a date as YYYY-MM-DD", param_hint="--today") from exc
    return values


def build_options(params: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """Options from the command line, the environment and the configuration file, in that order."""
    from kratomref.config import ConfigError, build_options, load_config

    try:
        explicit = Path(params["config_file"]) if params.get("config_file") else None
        config = load_config(Path.cwd(), explicit)
        return build_options(_cli_values(params), config, os.environ)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _input_errors() -> Iterator[None]:
    """An input that cannot be opened is a usage error (exit 2), never a traceback."""
    from kratomref.readers import InputError

    try:
        yield
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc


_STAGE_LABELS = {"crossref": "resolving DOIs", "search": "searching Crossref", "links": "checking links"}


class _Progress:
    """Remembers how far a run got (for an interrupted run) and, on a terminal, shows it on stderr."""

    def __init__(self, show: bool) -> None:
        self.done: list[str] = []
        self.current: tuple[str, int] | None = None
        self.console: Any = None
        if show:
            from rich.console import Console

            self.console = Console(stderr=True)

    def __call__(self, stage: str, done: int, total: int) -> None:
        label = _STAGE_LABELS.get(stage, stage)
        if done == 0:
            self.current = (label, total)
            if self.console is not None:
                self.console.print(f"[dim]{label}: {total}...[/]")
        elif done >= total:
            self.done.append(f"{label} ({total})")
            self.current = None

    def interrupted_message(self) -> str:
        parts = ["interrupted"]
        if self.current is not None:
            parts.append(f"while {self.current[0]} ({self.current[1]})")
        if self.done:
            parts.append("after " + ", ".join(self.done))
        return " ".join(parts) + "; look-ups already made are kept in the cache."


@contextmanager
def _interruptible(progress: _Progress) -> Iterator[None]:
    """SIGINT and SIGTERM stop the run cleanly: say how far it got, exit 130 or 143, no traceback.

    The cache stays consistent because every write is one short SQLite transaction.
    """
    import signal

    def on_term(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
    try:
        yield
    except KeyboardInterrupt:
        _stop_now(progress, 130)
    except _Terminated:
        _stop_now(progress, 143)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_now(progress: _Progress, code: int) -> None:
    """Exit at once: sys.exit would wait for worker threads blocked on a slow server for up to --timeout."""
    click.echo(progress.interrupted_message(), err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class _Terminated(BaseException):
    """Raised by the SIGTERM handler so that the run unwinds like an interrupt."""


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class KratomrefGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        # click exits 2 for usage errors, 1 for ClickException: make every user error exit 2.
        click.ClickException.exit_code = EXIT_USAGE
        return super().main(*args, **kwargs)


@click.group(cls=KratomrefGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kratomref")
def main() -> None:
    """Check the references of a piece of writing before it is published."""


def _formats_and_outputs(fmt: str | None, outputs: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """--format F with --output FILE, plus any number of --output FORMAT=FILE."""
    plain: list[str] = []
    pairs: list[tuple[str, str | None]] = []
    for value in outputs:
        name, sep, path = value.partition("=")
        if sep and name in FORMATS:
            pairs.append((name, path))
        else:
            plain.append(value)
    if len(plain) > 1:
        raise click.UsageError("give one --output FILE, and FORMAT=FILE for the others")
    if fmt is None:
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" and not pairs and not plain else "text"
    if plain or not pairs:
        pairs.insert(0, (fmt, plain[0] if plain else None))
    return pairs


@main.command()
@network_options
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Report format (default text; github under GitHub Actions).",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="FILE|FORMAT=FILE",
    help="Write the report to FILE; FORMAT=FILE writes another format too (repeatable).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    help="Exit 1 when a finding is at or above this severity (default error).",
)
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules (codes, names or prefixes).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Never these rules.")
@click.option("--baseline", type=click.Path(dir_okay=False), help="Report only findings not in this baseline.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Record the current findings as a baseline.")
@click.option(
    "--allow-unverified",
    is_flag=True,
    default=None,
    help="Exit 0 rather than 3 when some references could not be checked.",
)
@click.option("-q", "--quiet", is_flag=True, default=None, help="Print only the findings and the summary.")
@click.option(
    "--color/--no-color", default=None, help="Colour the text report (default: when a terminal; honours NO_COLOR)."
)
@click.option("--show-config", is_flag=True, help="Print the effective configuration and where each value came from.")
def check(**params: Any) -> None:
    """Check the references in PATHS (default: references.bib)."""
    from kratomref.check import check as run_check
    from kratomref.check import exit_code
    from kratomref.reports import renderers

    options, provenance = build_options(params)
    if params["show_config"]:
        from kratomref.config import describe

        click.echo(describe(options, provenance))
        return
    targets = _formats_and_outputs(params["fmt"], params["outputs"])
    progress = _Progress(show=not options.quiet and sys.stderr.isatty())
    with _input_errors(), _interruptible(progress):
        report = run_check(options, progress=progress)

    if params["write_baseline"]:
        from kratomref.baseline import write_baseline

        write_baseline(params["write_baseline"], report.findings)
        click.echo(f"wrote {len(report.findings)} findings to {params['write_baseline']}", err=True)

    registry = renderers()
    for fmt, path in targets:
        if fmt == "text":
            color = params["color"]
            if color is None:
                color = path is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
            from kratomref.reports.text import render as render_text

            out = render_text(report, color=bool(color))
        else:
            out = registry[fmt](report)
        if path is None:
            click.echo(out, nl=False)
        else:
            Path(path).write_text(out, encoding="utf-8")
    sys.exit(exit_code(report, options))


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
def rules_command(fmt: str) -> None:
    """List every rule: code, name, default severity and summary."""
    import json

    from kratomref.rules import RULES

    if fmt == "json":
        data = [{"code": r.code, "name": r.name, "severity": r.severity.label, "summary": r.summary} for r in RULES]
        click.echo(json.dumps(data, indent=2))
    elif fmt == "markdown":
        click.echo("| code | name | severity | what |\n|---|---|---|---|")
        for r in RULES:
            click.echo(f"| {r.code} | {r.name} | {r.severity.label} | {r.summary} |")
    else:
        for r in RULES:
            click.echo(f"{r.code}  {r.name:<22} {r.severity.label:<8} {r.summary}")


@main.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Explain a rule (by code or name): what it does, why it matters, how to fix it."""
    from kratomref.rules import find_rule

    found = find_rule(rule)
    if found is None:
        raise click.ClickException(f"no rule {rule!r}; `kratomref rules` lists them")
    click.echo(f"{found.code} {found.name} ({found.severity.label})\n\n{found.summary}\n")
    click.echo(found.explanation)


@main.group()
def cache() -> None:
    """Inspect or clear the cache of Crossref and link look-ups."""


@cache.command("info")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache directory (env KRATOMREF_CACHE_DIR).")
def cache_info(cache_dir: str | None) -> None:
    """Where the cache is and what it holds."""
    from kratomref.services.cache import Cache

    info = Cache(cache_dir).info()
    click.echo(f"path: {info['path']}")
    if not info["exists"]:
        click.echo("empty (no cache file yet)")
        return
    click.echo(f"size: {info.get('bytes', 0)} bytes")
    for ns, counts in sorted(info["namespaces"].items()):
        click.echo(f"{ns}: {counts['entries']} entries ({counts['expired']} expired)")


@cache.command("clear")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache directory (env KRATOMREF_CACHE_DIR).")
def cache_clear(cache_dir: str | None) -> None:
    """Remove every cached look-up."""
    from kratomref.services.cache import Cache

    removed = Cache(cache_dir).clear()
    click.echo(f"removed {removed} entries")


if __name__ == "__main__":  # pragma: no cover
    main()
