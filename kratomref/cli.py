"""The `kratomref` command: options in, one library call, a report out and an exit code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kratomref import __version__
from kratomref.settings import AUTHORITIES, SETTING, SETTINGS

if TYPE_CHECKING:
    from kratomref.services.cache import Cache

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2
FORMATS = ("text", "json", "sarif", "junit", "github", "markdown", "html")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """--select A,B --select C -> (A, B, C)."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _count(n: int, one: str, many: str) -> str:
    """"1 fix", "2 fixes": a number with the word that agrees with it."""
    return f"{n} {one if n == 1 else many}"


def _option(name: str) -> Callable[[F], F]:
    """The click option (or argument) of a setting, built from its one declaration in settings.py."""
    setting = SETTING[name]
    flag = setting.flag
    if flag is None:  # pragma: no cover - a mistake in this file, caught by tests/cli/test_ci_config.py
        raise LookupError(f"{name} has no command-line option")
    kind: Any = None
    if flag.choices:
        kind = click.Choice(list(flag.choices))
    elif flag.type in ("path", "file"):
        kind = click.Path(dir_okay=flag.type == "path")
    elif flag.type is not None:
        kind = flag.type
    if flag.argument:
        return click.argument(setting.param, nargs=-1, type=kind)
    keywords: dict[str, Any] = {"help": setting.help}
    if flag.switch:
        keywords["default"] = None  # not given: the configuration's value (or the default) stands
        if "/" not in flag.decls[0]:
            keywords["is_flag"] = True
    for keyword, value in (("type", kind), ("metavar", flag.metavar), ("multiple", flag.multiple)):
        if value:
            keywords[keyword] = value
    return click.option(*flag.decls, setting.param, **keywords)


def _options(*names: str) -> list[Callable[[F], F]]:
    return [_option(name) for name in names]


def network_options(func: F) -> F:
    """Input, network and cache options shared by check, export and fix, in the order `--help` lists them
    (each setting's flag, type and help are declared in settings.py)."""
    decorators = [
        *_options("paths", "input_format", "offline", "crossref_url", "doi_url", "archive_url", "mailto"),
        click.option(
            "--no-authority",
            "no_authority",
            multiple=True,
            type=click.Choice(list(AUTHORITIES)),
            help="Do not ask this authority (repeatable); Crossref and doi.org are always asked.",
        ),
        *_options("cache_dir", "cache_server", "use_cache", "mirror", "timeout", "max_concurrency", "max_per_host",
                  "user_agent", "exclude", "accept", "allow_private", "max_entries", "max_bibliography_mib",
                  "max_draft_mib", "follow_symlinks", "archive"),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False),
            help="Read this kratomref.toml or pyproject.toml (trusted, like the command line) instead of "
            "searching upward; --config /dev/null reads no repository file.",
        ),
        click.option(
            "--isolated",
            is_flag=True,
            default=None,
            help="Ignore every configuration file: the repository's and your own.",
        ),
        _option("today"),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _cli_values(params: dict[str, Any]) -> dict[str, Any]:
    """The options the user actually gave, named like Options fields (each read as its declaration says: the
    configuration's parsers check them in config.build_options)."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        flag = setting.flag
        given = None if flag is None else params.get(setting.param)
        if flag is None or given is None:
            continue
        if flag.turns_off:
            if given:
                values[setting.name] = False
        elif flag.multiple or flag.argument:
            if given:
                values[setting.name] = tuple(given)
        else:
            values[setting.name] = given
    # the few shapes of their own: one option for six switches, codes given as "403,999", a date
    for name in params.get("no_authority") or ():
        values[f"use_{name}"] = False
    if "accept" in values:
        try:
            values["accept"] = tuple(int(code) for code in _split(values["accept"]))
        except ValueError as exc:
            raise click.BadParameter("status codes are numbers, e.g. 403,999", param_hint="--accept") from exc
    if "today" in values:
        try:
            values["today"] = dt.date.fromisoformat(values["today"])
        except ValueError as exc:
            raise click.BadParameter("give a date as YYYY-MM-DD", param_hint="--today") from exc
    return values


def build_options(params: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """Options from the command line, the environment, the configuration file and the user's own config, in
    that order; what a repository's file may not set is ignored with a warning on stderr."""
    from kratomref.config import ConfigError, build_options, load_config, load_user_config

    if params.get("isolated") and params.get("config_file"):
        raise click.UsageError("--isolated ignores every configuration file: give it or --config, not both")
    try:
        if params.get("isolated"):
            user_config = config = None
        else:
            explicit = Path(params["config_file"]) if params.get("config_file") else None
            user_config = load_user_config()
            config = load_config(Path.cwd(), explicit)
        return build_options(_cli_values(params), config, os.environ, user_config=user_config, warn=_warn)
    except ConfigError as exc:
        raise click.ClickException(_clean(str(exc))) from exc


def _clean(text: str, *, multiline: bool = False) -> str:
    """Text from an input as a message may show it: control and bidi characters visible, URL secrets redacted."""
    from kratomref.reports.sanitize import clean

    return clean(text, multiline=multiline)


def _warn(message: str) -> None:
    click.echo(f"kratomref: warning: {message}", err=True)


@contextmanager
def _input_errors() -> Iterator[None]:
    """An input that cannot be opened is a usage error (exit 2), never a traceback."""
    from kratomref.readers import InputError

    try:
        yield
    except InputError as exc:
        raise click.ClickException(_clean(str(exc))) from exc


@contextmanager
def _cache_notices() -> Iterator[None]:
    """A cache that cannot be used never stops a run: say so in one line on stderr and go on without it."""
    import warnings

    from kratomref.services.cache import CacheWarning

    shown: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", CacheWarning)
        previous = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if not issubclass(category, CacheWarning):
                previous(message, category, *args, **kwargs)
            elif str(message) not in shown:
                shown.add(str(message))
                click.echo(f"kratomref: {_clean(str(message))}", err=True)

        warnings.showwarning = show
        yield


_STAGE_LABELS = {"datacite": "resolving DataCite DOIs", "crossref": "resolving DOIs", "search": "searching Crossref",
                 "authorities": "asking OpenAlex, arXiv, PubMed, DBLP, Open Library", "links": "checking links"}


class _Progress:
    """Remembers how far a run got (for an interrupted run) and, on a terminal, shows a rich progress bar
    on stderr: one line per stage (resolving DOIs, searching Crossref, checking links)."""

    def __init__(self, show: bool, cached: bool = True) -> None:
        self.cached = cached  # whether look-ups made so far outlive the run
        self.done: list[str] = []
        self.current: tuple[str, int] | None = None
        self.bar: Any = None
        self._tasks: dict[str, Any] = {}
        if show:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,  # the report follows on stdout; a finished bar would only be noise
            )

    def __call__(self, stage: str, done: int, total: int) -> None:
        label = _STAGE_LABELS.get(stage, stage)
        if self.bar is not None:
            if stage not in self._tasks:
                self.bar.start()
                self._tasks[stage] = self.bar.add_task(label, total=total or None)
            self.bar.update(self._tasks[stage], completed=done)
        if done == 0:
            self.current = (label, total)
        elif done >= total:
            self.done.append(f"{label} ({total})")
            self.current = None

    def close(self) -> None:
        if self._tasks:  # a bar never started has nothing to stop (rich would still print a newline)
            self.bar.stop()

    def interrupted_message(self) -> str:
        parts = ["interrupted"]
        if self.current is not None:
            parts.append(f"while {self.current[0]} ({self.current[1]})")
        if self.done:
            parts.append("after " + ", ".join(self.done))
        kept = "; look-ups already made are kept in the cache" if self.cached else ""
        return " ".join(parts) + kept + "."


@contextmanager
def _interruptible(progress: _Progress) -> Iterator[None]:
    """SIGINT and SIGTERM stop the run at once: say how far it got, exit 130 or 143, no traceback.

    The handlers exit from inside the signal handler rather than unwinding: unwinding would wait for worker
    threads blocked on a slow server (a thread pool's shutdown joins its workers) for up to --timeout.
    The cache stays consistent because every write is one short SQLite transaction.
    """
    import signal

    def on_signal(signum: int, frame: Any) -> None:
        _stop_now(progress, 128 + signum)

    handled = (signal.SIGINT, signal.SIGTERM) if _main_thread() else ()
    previous = {sig: signal.signal(sig, on_signal) for sig in handled}
    try:
        yield
    except KeyboardInterrupt:  # outside the main thread, where no handler could be installed
        _stop_now(progress, 130)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _running(options: Any) -> Iterator[_Progress]:
    """The library call of a command: its progress (a bar on a terminal), input errors as exit 2, cache
    notices on stderr, and a clean stop on SIGINT or SIGTERM."""
    progress = _Progress(show=not options.quiet and sys.stderr.isatty(), cached=options.use_cache)
    with _input_errors(), _cache_notices(), _interruptible(progress):
        try:
            yield progress
        finally:
            progress.close()


def _stop_now(progress: _Progress, code: int) -> None:
    """Exit at once: sys.exit would wait for worker threads blocked on a slow server for up to --timeout."""
    progress.close()
    click.echo(progress.interrupted_message(), err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class KratomrefGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        # click exits 2 for usage errors, 1 for ClickException: make every user error exit 2.
        click.ClickException.exit_code = EXIT_USAGE
        _no_collection_at_exit()
        return super().main(*args, **kwargs)


def _no_collection_at_exit() -> None:
    """At interpreter exit, freeze what is left instead of collecting it: the collections the interpreter
    makes while it tears down took 50-100 ms after a run of 2,000 links (everything imported and every
    result still held), when the report is already out. Registered once per process; nothing is collected
    later than that, and files and connections are closed by the code that opened them, not by the
    collector."""
    import atexit
    import gc

    if not getattr(_no_collection_at_exit, "registered", False):
        atexit.register(gc.freeze)
        _no_collection_at_exit.registered = True  # type: ignore[attr-defined]


@click.group(cls=KratomrefGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kratomref")
def main() -> None:
    """Check the references of a piece of writing before it is published."""


def _formats_and_outputs(fmt: str | None, outputs: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """(format, file or None for stdout): --format F to stdout or to the one plain --output FILE, plus a
    file for each --output FORMAT=FILE. Without --format: github under GitHub Actions, else text."""
    plain: list[str] = []
    pairs: list[tuple[str, str | None]] = []
    for value in outputs:
        name, sep, path = value.partition("=")
        if sep and name in FORMATS:
            if not path:
                raise click.BadParameter(f"{value!r} names no file after {name}=", param_hint="--output")
            pairs.append((name, path))
        elif sep and name.isalpha():
            raise click.BadParameter(
                f"unknown format {name!r} in {value!r} (formats: {', '.join(FORMATS)}); "
                f"write ./{value} for a file whose name contains '='",
                param_hint="--output",
            )
        else:
            plain.append(value)
    if len(plain) > 1:
        raise click.UsageError("give one --output FILE, and FORMAT=FILE for the others")
    if fmt is None:
        # annotations only make sense in the job log, not in a file the user named
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" and not plain else "text"
    return [(fmt, plain[0] if plain else None), *pairs]


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
@_option("fail_on")
@_option("select")
@_option("ignore")
@_option("baseline")
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Record the current findings as a baseline.")
@_option("allow_unverified")
@_option("quiet")
@click.option(
    "--color/--no-color", default=None, help="Colour the text report (default: when a terminal; honours NO_COLOR)."
)
@click.option("--show-config", is_flag=True, help="Print the effective configuration and where each value came from.")
def check(**params: Any) -> None:
    """Check the references in PATHS (default: references.bib)."""
    import functools

    from kratomref.check import check as run_check
    from kratomref.check import exit_code
    from kratomref.reports import preload, writers

    options, provenance = build_options(params)
    if params["show_config"]:
        from kratomref.config import describe
        from kratomref.reports.sanitize import inert_commands

        click.echo(inert_commands(_clean(describe(options, provenance), multiline=True)), nl=False)
        return
    targets = _formats_and_outputs(params["fmt"], params["outputs"])
    if params["write_baseline"]:
        # a baseline records every current finding, including those an older baseline already holds
        options = dataclasses.replace(options, baseline=None)
    with _running(options) as progress:
        formats = [fmt for fmt, _ in targets]
        report = run_check(options, progress=progress, warm_up=functools.partial(preload, formats))

    registry = writers()
    for fmt, path in targets:
        keep_ansi: bool | None = None  # None: click strips ANSI codes when stdout is not a terminal
        write = registry[fmt]
        if fmt == "text":
            color = params["color"]
            if color is None:
                color = path is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
            from kratomref.reports.text import write as write_text

            write = functools.partial(write_text, color=bool(color), quiet=options.quiet)
            keep_ansi = True if color else None  # --color asked for them, also into a pipe
        # streamed, a chunk of lines at a time: a report of 100,000 entries is never held whole
        if path is None:
            from kratomref.reports.stream import LineBuffer

            stdout = LineBuffer(functools.partial(click.echo, nl=False, color=keep_ansi))
            write(report, stdout)
            stdout.flush()
        else:
            with _writing(path), _report_file(path) as handle:
                write(report, handle)

    if params["write_baseline"]:
        from kratomref.baseline import write_baseline

        with _writing(params["write_baseline"]):
            write_baseline(params["write_baseline"], report.findings)
        click.echo(
            f"wrote {_count(len(report.findings), 'finding', 'findings')} to {params['write_baseline']}; "
            f"runs with --baseline {params['write_baseline']} fail only on new ones",
            err=True,
        )
        sys.exit(0)  # recording the findings was the job; the next run gates
    sys.exit(exit_code(report, options))


@contextmanager
def _writing(path: str) -> Iterator[None]:
    """A report or baseline file that cannot be written is exit 2 with the reason, not a traceback."""
    try:
        yield
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc


@contextmanager
def _report_file(path: str) -> Iterator[Any]:
    """The file a report streams into: a temporary file beside it, renamed over it once the report is whole,
    so that a run stopped while writing never leaves half a SARIF or JSON file for the next step of a CI job.
    A device, a pipe or a symbolic link (`-o /dev/stdout`) is written directly; an existing file keeps its mode."""
    import stat
    import tempfile

    target = Path(path)
    try:
        info = target.lstat()
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        with open(path, "w", encoding="utf-8") as handle:
            yield handle
        return
    if info is not None:
        mode = stat.S_IMODE(info.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _write_file(path: str, text: str) -> None:
    """A whole text (an export) to path, as a report is written: complete or not at all."""
    with _writing(path), _report_file(path) as handle:
        handle.write(text)


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
def rules_command(fmt: str) -> None:
    """List every rule: code, name, default severity and summary."""
    import json

    from kratomref import catalogue

    rules = catalogue.load()
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in rules], indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo("| code | name | severity | what |\n|---|---|---|---|")
        for r in rules:
            click.echo(f"| {r.code} | {r.name} | {r.severity} | {r.summary} |")
    else:
        for r in rules:
            click.echo(f"{r.code}  {r.name:<22} {r.severity:<8} {r.summary}")


@main.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Explain a rule (by code or name): what it does, why it matters, how to fix it."""
    from kratomref import catalogue

    found = catalogue.find(rule)
    if found is None:
        raise click.ClickException(f"no rule {rule!r}; `kratomref rules` lists them")
    click.echo(f"{found.code} {found.name} ({found.severity})\n\n{found.summary}\n")
    click.echo(found.explanation)


def _add_mirror_commands() -> None:
    from kratomref.commands_mirror import mirror

    main.add_command(mirror)


_add_mirror_commands()


@main.group()
def cache() -> None:
    """Inspect or clear the cache of Crossref and link look-ups."""


_CACHE_SERVER_HELP = "A team's cache on a PostgreSQL server, postgresql://… (env KRATOMREF_CACHE_SERVER)."


def _cache_store(cache_dir: str | None, cache_server: str | None) -> Cache:
    """The cache the `cache` commands work on: the team's server when one is named, else the directory's file."""
    from kratomref.services.cache import Cache

    if cache_server:
        from kratomref.services.cache_server import ServerCache

        return ServerCache(cache_server)
    return Cache(cache_dir)


@cache.command("info")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache directory (env KRATOMREF_CACHE_DIR).")
@click.option("--cache-server", envvar="KRATOMREF_CACHE_SERVER", metavar="URL", help=_CACHE_SERVER_HELP)
def cache_info(cache_dir: str | None, cache_server: str | None) -> None:
    """Where the cache is and what it holds."""
    from kratomref.services.cache import CacheError

    try:
        info = _cache_store(cache_dir, cache_server).info()
    except CacheError as exc:
        hint = "" if cache_server else "; `kratomref cache clear` starts a new one"
        raise click.ClickException(f"{exc}{hint}") from exc
    click.echo(f"path: {info['path']}")
    if not info["exists"]:
        click.echo("empty (no cache file yet)")
        return
    if info.get("untrusted"):
        click.echo(f"not trusted: {info['untrusted']}; checks do not use it")
    click.echo(f"size: {info.get('bytes', 0)} bytes")
    for ns, counts in sorted(info["namespaces"].items()):
        click.echo(f"{ns}: {_count(counts['entries'], 'entry', 'entries')} ({counts['expired']} expired)")


@cache.command("clear")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache directory (env KRATOMREF_CACHE_DIR).")
@click.option("--cache-server", envvar="KRATOMREF_CACHE_SERVER", metavar="URL", help=_CACHE_SERVER_HELP)
def cache_clear(cache_dir: str | None, cache_server: str | None) -> None:
    """Remove every cached look-up (a file that is not a kratomref cache is deleted, to start a new one; on a
    team's server, every worker's entries)."""
    from kratomref.services.cache import CacheError

    store = _cache_store(cache_dir, cache_server)
    unreadable = not cache_server and store.path.exists()
    try:
        removed = store.clear()
    except CacheError as exc:
        raise click.ClickException(_clean(str(exc))) from exc
    if unreadable and not store.path.exists():
        click.echo(f"removed {store.path}: it was not a kratomref cache; the next run starts a new one")
    else:
        click.echo(f"removed {_count(removed, 'entry', 'entries')}")


@main.command("export")
@network_options
@click.option("--style", default="apa", show_default=True, metavar="STYLE",
              help="CSL style id, alias (apa, mla, chicago, vancouver, harvard, ieee) or path to a .csl file.")
@click.option("--list-styles", "list_styles", is_flag=False, flag_value="", default=None, metavar="[FILTER]",
              help="List the installed styles (whose id or title contains FILTER) and exit.")
@click.option("--to", "to", type=click.Choice(["text", "html", "markdown", "latex", "docx", "csl-json", "ris",
                                               "bibtex"]),
              default="text", show_default=True,
              help="Output format (text, html, markdown, latex and docx render with pandoc's citeproc; docx needs -o).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--enrich", is_flag=True, help="Fill missing fields from the verified Crossref records.")
@click.option("--prefer-crossref", is_flag=True, help="With --enrich: Crossref's values replace yours.")
@click.option("--mark-problems", is_flag=True, help="Mark unverified entries and entries with problems.")
@click.option("--verified-only", is_flag=True, help="Export only the verified entries.")
def export_command(**params: Any) -> None:
    """Export the references in PATHS as a formatted bibliography (text, HTML, Markdown, LaTeX, Word),
    CSL-JSON, RIS or BibTeX."""
    from kratomref import export as exporting

    if params["list_styles"] is not None:
        for style_id, title in exporting.list_styles(params["list_styles"]):
            click.echo(f"{style_id:<50} {title}")
        return
    if params["prefer_crossref"] and not params["enrich"]:
        raise click.UsageError("--prefer-crossref only makes sense with --enrich")
    if params["to"] in exporting.BINARY and not params["output"]:
        raise click.UsageError(f"--to {params['to']} writes a binary file: give it one with -o FILE "
                               f"(for example -o bibliography.{params['to']})")
    options, _ = build_options(params)
    export_options = exporting.ExportOptions(
        style=params["style"], to=params["to"], enrich=params["enrich"], prefer_crossref=params["prefer_crossref"],
        mark_problems=params["mark_problems"], verified_only=params["verified_only"],
    )
    try:
        with _running(options):
            result = exporting.export(options, export_options)
    except (exporting.StyleError, exporting.RenderError) as exc:
        raise click.ClickException(_clean(str(exc))) from exc
    from kratomref.reports.sanitize import clean, inert_commands

    # notes and input problems quote the inputs (keys, messages): shown, never obeyed
    for note in result.notes:
        click.echo(clean(note), err=True)
    for problem in result.input_problems:
        click.echo(clean(problem), err=True)
    if isinstance(result.text, bytes):
        with _writing(params["output"]):
            Path(params["output"]).write_bytes(result.text)
    elif params["output"]:
        _write_file(params["output"], result.text)
    elif params["to"] in ("text", "markdown", "html", "latex") and (
        sys.stdout.isatty() or os.environ.get("GITHUB_ACTIONS") == "true"
    ):
        # a bibliography a person or a CI log reads: an input's control characters shown, workflow commands
        # inert; redirected to a file, and as bibtex, csl-json or ris, it stays exact
        click.echo(inert_commands(clean(result.text, multiline=True)), nl=False)
    else:
        click.echo(result.text, nl=False, color=True)  # exact: click would strip escape sequences on a pipe
    if result.input_problems:
        # what could be read is exported, but an export with a part missing must not look successful
        click.echo(
            f"export incomplete: {_count(len(result.input_problems), 'input problem', 'input problems')} "
            "(see above; `kratomref check` reports them too)",
            err=True,
        )
        sys.exit(1)


@main.command("fix")
@network_options
@click.option("--write", is_flag=True, help="Apply the fixes (default: print them as a diff).")
@click.option("--enrich", is_flag=True, help="Also add fields a verified entry lacks, from its Crossref record.")
@click.option("--no-backup", is_flag=True, help="With --write: do not keep FILE.bak.")
def fix_command(**params: Any) -> None:
    """Fix what can be fixed mechanically in the BibTeX files in PATHS (a dry run unless --write)."""
    from kratomref import fix as fixing

    options, _ = build_options(params)
    try:
        with _running(options):
            run = fixing.fix(options, enrich=params["enrich"])
    except fixing.FixError as exc:
        raise click.ClickException(_clean(str(exc))) from exc
    for message in run.not_fixed:
        click.echo(_clean(message), err=True)
    if params["write"]:
        # refuse before writing anything, so a run over several files never stops half-way through them
        for plan in run.plans:
            if plan.changed:
                try:
                    fixing.ensure_writable(plan)
                except fixing.FixError as exc:
                    raise click.ClickException(_clean(str(exc))) from exc
    for plan in run.plans:
        for skipped in plan.skipped:
            click.echo(_clean(f"{plan.path}: {skipped.key}: not fixing {skipped.field} ({skipped.source}): "
                              f"{skipped.reason}"), err=True)
        if not plan.changed:
            continue
        if not params["write"]:
            diff = plan.diff()
            if sys.stdout.isatty() or os.environ.get("GITHUB_ACTIONS") == "true":
                # the diff quotes the file's lines: shown, never obeyed, where a person or a CI log reads it;
                # redirected to a file it stays exact, so that it still applies
                from kratomref.reports.sanitize import inert_commands

                diff = inert_commands(_clean(diff, multiline=True))
            click.echo(diff, nl=False)
            continue
        try:
            backup = fixing.apply(plan, backup=not params["no_backup"])
        except fixing.FixError as exc:
            raise click.ClickException(_clean(str(exc))) from exc
        kept = f" (backup: {backup})" if backup else ""
        click.echo(f"{_clean(str(plan.path))}: applied {_count(len(plan.fixes), 'fix', 'fixes')}{kept}", err=True)
    total = sum(len(p.fixes) for p in run.plans)
    if total == 0:
        click.echo("nothing to fix", err=True)
    elif not params["write"]:
        click.echo(f"{_count(total, 'fix', 'fixes')}; run with --write to apply {'it' if total == 1 else 'them'}",
                   err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
