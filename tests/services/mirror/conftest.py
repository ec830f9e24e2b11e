"""A real PostgreSQL server for the mirror tests, started once per test session on 127.0.0.1 (or skipped)."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "kratomref"
PASSWORD = "s3cret-Pa55word"  # test_mirror_backends.py checks that no message shows it
# KRATOMREF_TEST_POSTGRESQL: a server to use instead (postgresql://superuser:password@host:port/postgres),
# e.g. a CI service container; otherwise the binaries on PATH or in Debian's /usr/lib/postgresql/<ver>/bin.
EXTERNAL = "KRATOMREF_TEST_POSTGRESQL"


@dataclass
class PostgresServer:
    """A server the tests may create databases on: `database()` gives the URL of a fresh empty one."""

    host: str
    port: int
    user: str
    password: str
    _count: itertools.count[int]

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{self.user}:{secret}@{self.host}:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def database(self) -> str:
        name = f"kr_test_{os.getpid()}_{next(self._count)}"
        self.admin(f"CREATE DATABASE {name}")
        return self.url(name)


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.skip(f"the PostgreSQL server did not start: {log.read_text(errors='replace')[-800:]}")
        try:
            with psycopg.connect(f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres", connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                pytest.skip(f"the PostgreSQL server did not answer in 60 s: {log.read_text(errors='replace')[-800:]}")
            time.sleep(0.2)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test session's own: initdb into a temporary directory, then `postgres` on
    127.0.0.1 and a free port, password authentication; run as `nobody` when the tests run as root (the server
    refuses root). Skips, saying why, without psycopg or without PostgreSQL's binaries."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'kratomref[postgres]')")
    external = os.environ.get(EXTERNAL)
    if external:
        from urllib.parse import urlsplit

        parts = urlsplit(external)
        yield PostgresServer(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres",
                             parts.password or "", itertools.count())
        return
    binaries = _binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL binaries (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin: "
                    "apt-get install postgresql, or set KRATOMREF_TEST_POSTGRESQL to a server")
    as_root = os.geteuid() == 0
    owner = pwd.getpwnam("nobody") if as_root else None
    top = Path(tempfile.mkdtemp(prefix="kratomref-pg-"))
    data, log, secret = top / "data", top / "server.log", top / "pw"
    secret.write_text(PASSWORD + "\n")
    if owner is not None:
        os.chown(top, owner.pw_uid, owner.pw_gid)
        os.chown(secret, owner.pw_uid, owner.pw_gid)
    user = {"user": owner.pw_uid, "group": owner.pw_gid} if owner is not None else {}
    init = subprocess.run(
        [str(binaries / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(secret), "--auth", "scram-sha-256",
         "-E", "UTF8", "--locale", "C", "--no-sync"],
        capture_output=True, text=True, cwd=top, **user,  # type: ignore[call-overload]
    )
    if init.returncode != 0:
        shutil.rmtree(top, ignore_errors=True)
        pytest.skip(f"initdb failed: {(init.stderr or init.stdout)[-800:]}")
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
             "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=40", "-c", "shared_buffers=32MB"],
            stdout=out, stderr=subprocess.STDOUT, cwd=top, **user,  # type: ignore[call-overload]
        )
    try:
        _ready(port, process, log)
        yield PostgresServer("127.0.0.1", port, USER, PASSWORD, itertools.count())
    finally:
        process.send_signal(signal.SIGINT)  # a "fast" shutdown: open connections are closed
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh empty database, dropped after the test (its connections too)."""
    url = postgres_server.database()
    try:
        yield url
    finally:
        from kratomref.services import mirror

        mirror._open.cache_clear()
        with contextlib.suppress(Exception):
            postgres_server.admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
