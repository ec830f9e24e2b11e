"""PostgreSQL mirror benchmark: load rate, store size, DOI look-ups and searches per second, matching quality.

    python bench/mirror_pg_bench.py speed --records 100000 [--lookups 10000] [--searches 1000] [--url URL [--reuse]]
    python bench/mirror_pg_bench.py quality ../shared/data/references-doi-matching.json.gz [--sample 2000] [--url URL]

The records are mirror_bench.py's (its `generate`: the public data file's shape, from the real Crossref works in
the `shared` directory next to the repository), loaded with the loader as `kratomref mirror load --mirror URL`
does, then `optimize` (the words' document counts); the look-ups and searches are mirror_bench.py's too (100
DOIs per call; citations of random loaded records, a hit when the record is the first candidate). quality is
mirror_bench.py's quality set-up with the candidates from the PostgreSQL mirror.

--url: a database to use (postgresql://user:password@host:port/database; the mirror's schema `kratomref` in it
is dropped first). Without it, a throwaway server is started in a temporary directory (initdb and postgres
from PATH or /usr/lib/postgresql/<ver>/bin, on 127.0.0.1; as `nobody` when run as root), with PostgreSQL's
default settings (fsync on, shared_buffers 128 MB). Run by hand; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import mirror_bench  # noqa: E402  (the same records and quality set-up as the embedded store's benchmark)
from mirror_bench import generate  # noqa: E402

USER, PASSWORD = "kratomref", "bench"


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """A PostgreSQL server of this run's own; yields the URL of its `postgres` database."""
    found = shutil.which("initdb")
    binaries = Path(found).resolve().parent if found else None
    if binaries is None:
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not versions:
            sys.exit("no PostgreSQL binaries (apt-get install postgresql), or give --url")
        binaries = Path(versions[-1]).parent
    owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    user: dict[str, Any] = {"user": owner.pw_uid, "group": owner.pw_gid} if owner else {}
    top = Path(tempfile.mkdtemp(prefix="kratomref-pg-bench-"))
    (top / "pw").write_text(PASSWORD + "\n")
    if owner:
        os.chown(top, owner.pw_uid, owner.pw_gid)
        os.chown(top / "pw", owner.pw_uid, owner.pw_gid)
    subprocess.run([str(binaries / "initdb"), "-D", str(top / "data"), "-U", USER, "--pwfile", str(top / "pw"),
                    "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C"],
                   check=True, capture_output=True, cwd=top, **user)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (top / "log").open("wb") as log:
        server = subprocess.Popen([str(binaries / "postgres"), "-D", str(top / "data"), "-p", str(port),
                                   "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
                                  stdout=log, stderr=subprocess.STDOUT, cwd=top, **user)
    url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres"
    try:
        import psycopg

        for _ in range(300):
            try:
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
        shutil.rmtree(top, ignore_errors=True)


def fresh(url: str) -> None:
    import psycopg

    from kratomref.services.mirror.postgres import NAMESPACE

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {NAMESPACE} CASCADE")


def speed(url: str, records: int, lookups: int, searches: int, reuse: bool = False) -> None:
    from kratomref.services.mirror.loader import load
    from kratomref.services.mirror.postgres import PostgresMirror

    if reuse:  # a mirror this benchmark loaded before, with --url: only the look-ups and searches
        store = PostgresMirror(url)
        print(f"reusing {store.info()['works']:,} records")
    else:
        fresh(url)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            started = time.perf_counter()
            parts = generate(records, work)
            print(f"generated {records:,} records in {len(parts)} parts: {time.perf_counter() - started:.1f} s",
                  flush=True)
            store = PostgresMirror(url, create=True)
            started = time.perf_counter()
            report = load(store, parts)
            loaded = time.perf_counter() - started
        started = time.perf_counter()
        store.optimize()
        counted = time.perf_counter() - started
        info = store.info()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"load: {report.loaded:,} loaded in {loaded:.1f} s = {report.loaded / loaded:,.0f} records/s; "
              f"word counts and VACUUM {counted:.1f} s; total {report.loaded / (loaded + counted):,.0f} records/s")
        print(f"store: {info['bytes'] / 2**20:.0f} MiB = {info['bytes'] / 2**20 / records * 1e6:,.0f} MiB per "
              f"million records (tables and indexes); peak RSS of the loading process {peak:.0f} MiB", flush=True)
    mirror_bench.measure_reads(store, records, lookups, searches)
    store.close()


def quality(url: str, path: str, sample: int, seed: int = 1) -> None:
    """mirror_bench.py's matching quality, the candidates from a PostgreSQL mirror at `url` (emptied first)."""
    from kratomref.services.mirror.postgres import PostgresMirror

    fresh(url)
    mirror_bench.quality(path, sample, seed, store=lambda tmp: (PostgresMirror(url, create=True), url),
                         label="the PostgreSQL mirror")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--records", type=int, default=100_000)
    s.add_argument("--lookups", type=int, default=10_000)
    s.add_argument("--searches", type=int, default=1_000)
    s.add_argument("--url")
    s.add_argument("--reuse", action="store_true", help="with --url: the mirror a previous run loaded (same --records)")
    q = sub.add_parser("quality")
    q.add_argument("data")
    q.add_argument("--sample", type=int, default=2000)
    q.add_argument("--url")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(throwaway_server())
        if args.command == "speed":
            speed(url, args.records, args.lookups, args.searches, args.reuse and bool(args.url))
        else:
            quality(url, args.data, args.sample)


if __name__ == "__main__":
    main()
