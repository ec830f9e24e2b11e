"""The `kratomref mirror` commands: load, info and update a local metadata mirror (thin over services.mirror)."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

MIRROR_HELP = ("The mirror file (default: mirror.sqlite3 in your data directory), or a shared PostgreSQL "
               "server's postgresql://user@host/database URL; env KRATOMREF_MIRROR.")


def _path(mirror: str | None) -> Path:
    from kratomref.services.mirror import default_path

    return Path(mirror).expanduser() if mirror else default_path()


def _open(mirror: str | None, create: bool = False) -> Any:
    from kratomref.services.mirror import is_server
    from kratomref.services.mirror.store import MirrorError, MirrorStore

    try:
        if mirror and is_server(mirror):
            from kratomref.services.mirror.postgres import PostgresMirror

            return PostgresMirror(mirror, create=create)
        return MirrorStore(_path(mirror), create=create)
    except MirrorError as exc:  # a server's message names it without its password
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def _refused() -> Iterator[None]:
    """A mirror that refuses a read or write (a server's user who may only read, a server gone) ends the
    command with its message, not a traceback; what was committed stays."""
    from kratomref.services.mirror.store import MirrorError

    try:
        yield
    except MirrorError as exc:
        raise click.ClickException(f"{exc} (what was committed before stays in the mirror)") from None


def _summary(report: Any) -> str:
    return f"loaded {report.loaded}, skipped {report.skipped}, malformed {report.malformed}"


def _problems(report: Any) -> None:
    for problem in report.problems:
        click.echo(f"malformed: {problem}", err=True)
    listed = len(report.problems)
    if report.malformed > listed:
        click.echo(f"... and {report.malformed - listed} more malformed records", err=True)


@click.group()
def mirror() -> None:
    """A local copy of Crossref's and OpenAlex's metadata that checks ask before the live API."""


@mirror.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mirror", "mirror_path", envvar="KRATOMREF_MIRROR", metavar="PATH|URL", help=MIRROR_HELP)
@click.option("--optimize/--no-optimize", default=True, show_default=True,
              help="Optimize the search index at the end (a file's: merged; a server's: its words counted and "
                   "VACUUMed): faster searches; takes a while on a large mirror.")
def mirror_load(paths: tuple[Path, ...], mirror_path: str | None, optimize: bool) -> None:
    """Load Crossref public-data-file parts (*.json.gz holding {"items": [...]}) and OpenAlex works snapshot
    parts (gzipped JSON lines). Interrupted, it goes on where it stopped; a part already loaded is not read
    again; a record already there is replaced only by a newer one. A malformed record is reported and skipped."""
    from kratomref.services.mirror.loader import load

    store = _open(mirror_path, create=True)
    total = sum(p.stat().st_size for p in paths)
    done: dict[Path, int] = {}
    with click.progressbar(length=total, label="loading", file=sys.stderr, show_pos=False,
                           show_percent=True, show_eta=True) as bar:
        def progress(path: Path, offset: int) -> None:
            step = offset - done.get(path, 0)
            done[path] = offset
            if step > 0:
                bar.update(step)

        try:
            with _refused():
                report = load(store, list(paths), progress)
        except KeyboardInterrupt:
            click.echo("\ninterrupted: what was committed stays; the same command goes on from there", err=True)
            raise SystemExit(130) from None
    if optimize and report.loaded:
        click.echo("optimizing the search index...", err=True)
        with _refused():
            store.optimize()
    _problems(report)
    already = f"; {report.parts_already} parts were loaded before" if report.parts_already else ""
    click.echo(f"{store.path}: {_summary(report)} ({report.parts} parts read{already})")
    store.close()


@mirror.command("info")
@click.option("--mirror", "mirror_path", envvar="KRATOMREF_MIRROR", metavar="PATH|URL", help=MIRROR_HELP)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
def mirror_info(mirror_path: str | None, as_json: bool) -> None:
    """What the mirror holds and how old it is."""
    import json

    with _open(mirror_path) as store, _refused():
        info = store.info()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"{'server' if info.get('backend') == 'postgresql' else 'path'}: {info['path']}")
    sources = ", ".join(f"{n} {name}" for name, n in info["sources"].items())
    click.echo(f"works: {info['works']}" + (f" ({sources})" if sources else ""))
    click.echo(f"size: {info['bytes'] / 2**20:.1f} MiB")
    click.echo(f"parts loaded: {info['parts_finished']} of {info['parts']} started")
    for label, key in (("created", "created"), ("last load", "loaded"), ("last update", "updated"),
                       ("newest record indexed", "newest_indexed")):
        when = info.get(key)
        click.echo(f"{label}: {when or 'never'}" + (f" ({_age(when)})" if when else ""))


def _age(when: str) -> str:
    try:
        then = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return "unknown age"
    if then.tzinfo is None:
        then = then.replace(tzinfo=dt.timezone.utc)
    days = (dt.datetime.now(dt.timezone.utc) - then).total_seconds() / 86400
    return f"{days:.0f} days ago" if days >= 1 else "today"


@mirror.command("update")
@click.option("--mirror", "mirror_path", envvar="KRATOMREF_MIRROR", metavar="PATH|URL", help=MIRROR_HELP)
@click.option("--from-date", metavar="YYYY-MM-DD",
              help="Fetch the works Crossref indexed since this day (default: the newest record's day).")
@click.option("--crossref-url", envvar="KRATOMREF_CROSSREF_URL", default="https://api.crossref.org",
              show_default=True, metavar="URL", help="Crossref REST API base URL.")
@click.option("--mailto", envvar="KRATOMREF_MAILTO", metavar="EMAIL", help="Contact address (polite pool).")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds per page.")
@click.option("--optimize/--no-optimize", default=False, show_default=True,
              help="Optimize the search index at the end, as `mirror load` does (a server's: its words counted "
                   "again, so that the words of new works choose search candidates too).")
def mirror_update(mirror_path: str | None, from_date: str | None, crossref_url: str, mailto: str | None,
                  timeout: float, optimize: bool) -> None:
    """Fetch what Crossref indexed since the mirror's newest record (filter from-index-date, cursor paging):
    new works, and the corrections and retractions of those already there."""
    from kratomref.services.mirror.update import UpdateError, update

    if from_date is not None:
        try:
            dt.date.fromisoformat(from_date)
        except ValueError as exc:
            raise click.BadParameter("expected YYYY-MM-DD", param_hint="--from-date") from exc
    with _open(mirror_path) as store, _refused():
        try:
            report = update(store, crossref_url, from_date, mailto=mailto, timeout=timeout,
                            progress=lambda n: click.echo(f"\r{n} records fetched", nl=False, err=True))
        except UpdateError as exc:
            raise click.ClickException(f"{exc} (what was fetched before stays in the mirror)") from exc
        click.echo("", err=True)
        if optimize and report.loaded:
            click.echo("optimizing the search index...", err=True)
            store.optimize()
        _problems(report)
        click.echo(f"{store.path}: {_summary(report)}")
