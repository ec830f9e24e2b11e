"""A persistent cache of look-ups (SQLite in the user cache dir), shared by every service.

Safe when two processes run at once: SQLite's WAL journal and a busy timeout serialise writers,
and every write is one short transaction, so an interrupted run leaves a consistent file.

A cache that cannot be used (its directory is a file, the file is not a database, the disk is read-only)
never stops a check: the cache turns itself off and says why once, as a CacheWarning. The same holds for a
cache the current user did not write: a directory or file owned by someone else, or writable by others, is
not trusted (an answer in it could make a fabricated reference pass).

Every entry records the service (its base URL) that answered and is used only for that service; no entry
stays fresh longer than MAX_ENTRY_TTL, whatever TTL it was written with; an entry that cannot be read
(corrupt JSON, a value of the wrong type, a date in the future) is a miss.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import stat
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import platformdirs

from kratomref.options import MAX_TTL_FOUND

# 2: entries record the service that answered (version 1 entries are dropped: they do not say).
SCHEMA_VERSION = 2
MAX_ENTRY_TTL = MAX_TTL_FOUND  # no entry is fresh longer than this, whatever TTL it was stored with
CLOCK_SKEW = 300.0  # seconds an entry's storing time may lie in the future (another machine's clock)


def user_cache_dir() -> Path:
    """The platform's cache directory for kratomref (e.g. ~/.cache/kratomref)."""
    return Path(platformdirs.user_cache_dir("kratomref", appauthor=False))


def default_cache_dir() -> Path:
    env = os.environ.get("KRATOMREF_CACHE_DIR")
    if env:
        return Path(env)
    return user_cache_dir()


def untrusted(path: Path) -> str | None:
    """Why a cache directory or file that exists is not to be trusted, else None: owned by another user, or
    writable by others (anyone could have written its answers), or a symbolic link another user made (in a
    shared directory such as /tmp, it can point the cache at a directory of yours that holds answers a pull
    request committed), or writable by a group with other members. Not checked on Windows (no POSIX owner)."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:
        return None
    try:
        link = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"cannot inspect {path}: {exc.strerror or exc}"
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (geteuid(), 0):
        return f"{path} is a symbolic link made by another user (uid {link.st_uid})"
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # nothing there yet (or a file where a directory goes:
        return None  # opening reports that)
    except OSError as exc:
        return f"cannot inspect {path}: {exc.strerror or exc}"
    if info.st_uid != geteuid():
        return f"{path} belongs to another user (uid {info.st_uid})"
    if info.st_mode & stat.S_IWOTH:
        return f"{path} is writable by other users"
    if info.st_mode & stat.S_IWGRP:
        return _shared_group(path, info.st_gid)
    return None


def _shared_group(path: Path, gid: int) -> str | None:
    """Why a group-writable cache is not trusted: its group holds users other than the current one. A
    user-private group (the user's own primary group, no other member, as `umask 002` systems make them) is
    the user alone, as OpenSSH's StrictModes also accepts."""
    import grp
    import pwd

    try:
        me = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(gid)
    except KeyError:
        return f"{path} is writable by group {gid}, which has no name here"
    others = sorted(set(group.gr_mem) - {me})
    if gid == os.getegid() and not others and group.gr_name == me:
        return None
    members = f" (members: {', '.join(others)})" if others else ""
    return f"{path} is writable by the group {group.gr_name}{members}"


def _owner_only(path: Path) -> None:
    """Take the group's and others' write bits off a cache file this run created (sqlite creates its files
    under the umask), so that the next run's trust check holds."""
    try:
        info = path.stat()
        if info.st_uid == os.geteuid() and info.st_mode & 0o022:
            path.chmod(stat.S_IMODE(info.st_mode) & ~0o022)
    except OSError:
        pass


class CacheError(Exception):
    """The cache file cannot be opened or read (`cache info` and `cache clear` report it)."""


class CacheWarning(UserWarning):
    """A run goes on without the cache: the message says which file and why."""


def _not_a_database(exc: BaseException | None) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc)


def _reason(exc: BaseException) -> str:
    if _not_a_database(exc):
        return "the file is not a kratomref cache"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


class Cache:
    """Key/value store with a time to live per entry. Values are JSON-serialisable."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
        services: Mapping[str, str] | None = None,
    ) -> None:
        self.enabled = enabled
        self.clock = clock
        self.path = Path(directory) if directory else default_cache_dir()
        self.path = self.path / "cache.sqlite3"
        self.where = str(self.path)  # how messages name the cache
        # namespace -> the base URL(s) of the service answering for it; recorded with each entry, and an
        # entry another service answered is a miss
        self.services = dict(services or {})
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._trusted = False  # ownership checked (once, before the first look-up of a run)
        self.problem: str | None = None  # why the cache was turned off during this run

    def _check_trust(self) -> None:
        """Raise CacheError when the directory or the file was not written by the current user alone."""
        if self._trusted:
            return
        for path in (self.path.parent, self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            reason = untrusted(path)
            if reason is not None:
                raise CacheError(f"not using the cache {self.path}: {reason}, so its answers cannot be trusted")
        self._trusted = True

    def _connect(self, *, verify: bool = False) -> sqlite3.Connection:
        """The open connection; raises CacheError when the directory or the file cannot be used (or, with
        verify, is not the current user's own)."""
        if verify:
            self._check_trust()
        if self._conn is None:
            conn: sqlite3.Connection | None = None
            if self.path.parent.exists() and not self.path.parent.is_dir():
                raise CacheError(f"cannot use the cache directory {self.path.parent}: it is a file")
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                files = (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
                new = [path for path in files if not path.exists()]
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA busy_timeout=30000")
                _migrate(conn)
                for created in new:  # only what this run made: an existing file's bits are evidence
                    _owner_only(created)
            except (OSError, sqlite3.Error) as exc:
                if conn is not None:
                    conn.close()
                raise CacheError(f"cannot use the cache {self.path}: {_reason(exc)}") from exc
            self._conn = conn
        return self._conn

    def _service(self, namespace: str, service: str | None) -> str:
        return self.services.get(namespace, "") if service is None else service

    def _turn_off(self, exc: BaseException) -> None:
        """Go on without the cache, and say so once."""
        self.enabled = False
        if self.problem is None:
            message = exc if isinstance(exc, CacheError) else f"cannot use the cache {self.where}: {_reason(exc)}"
            self.problem = f"{message}; going on without the cache"
            warnings.warn(self.problem, CacheWarning, stacklevel=3)

    def get(self, namespace: str, key: str, *, service: str | None = None) -> Any | None:
        """The stored value, or None when absent, expired, stored by another service, unreadable, or the
        cache is off. `service` defaults to the namespace's service (see `services`)."""
        if not self.enabled:
            return None
        try:
            with self._lock:
                row = (
                    self._connect(verify=True)
                    .execute(
                        "SELECT value, stored, expires FROM entries WHERE namespace=? AND service=? AND key=?",
                        (namespace, self._service(namespace, service), key),
                    )
                    .fetchone()
                )
        except (CacheError, sqlite3.Error) as exc:
            self._turn_off(exc)
            return None
        return None if row is None else self._fresh_value(row)

    def _fresh_value(self, row: tuple[Any, ...]) -> Any | None:
        """The value of a row, or None when it is stale or cannot be believed: a corrupt entry is a miss."""
        text, stored, expires = row
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (stored, expires)):
            return None
        now = self.clock()
        if expires < now or stored > now + CLOCK_SKEW or expires - stored > MAX_ENTRY_TTL:
            return None
        if not isinstance(text, str):
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return None

    def get_many(self, namespace: str, keys: list[str], *, service: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key in keys:
            value = self.get(namespace, key, service=service)
            if value is not None:
                found[key] = value
        return found

    def put(self, namespace: str, key: str, value: Any, ttl: float, *, service: str | None = None) -> None:
        self.put_many(namespace, {key: value}, ttl, service=service)

    def put_many(self, namespace: str, items: dict[str, Any], ttl: float, *, service: str | None = None) -> None:
        if not self.enabled or not ttl > 0 or not items:
            return
        now = self.clock()
        expires = now + min(ttl, MAX_ENTRY_TTL)
        answered_by = self._service(namespace, service)
        rows = [
            (namespace, answered_by, k, json.dumps(v, separators=(",", ":")), now, expires) for k, v in items.items()
        ]
        try:
            with self._lock:
                conn = self._connect(verify=True)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(
                        "INSERT OR REPLACE INTO entries (namespace, service, key, value, stored, expires)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except (CacheError, sqlite3.Error) as exc:
            self._turn_off(exc)

    def info(self) -> dict[str, Any]:
        """Where the cache is and what it holds, per namespace. Raises CacheError for a file that is not
        a cache or cannot be read."""
        result: dict[str, Any] = {"path": str(self.path), "exists": self.path.exists(), "namespaces": {}}
        if not self.path.exists():
            return result
        result["untrusted"] = next(
            (r for r in (untrusted(self.path.parent), untrusted(self.path)) if r is not None), None
        )
        now = self.clock()
        try:
            with self._lock:
                rows = (
                    self._connect()
                    .execute("SELECT namespace, COUNT(*), SUM(expires < ?) FROM entries GROUP BY namespace", (now,))
                    .fetchall()
                )
        except sqlite3.Error as exc:
            raise CacheError(f"cannot read the cache {self.path}: {_reason(exc)}") from exc
        result["namespaces"] = {ns: {"entries": n, "expired": int(e or 0)} for ns, n, e in rows}
        result["bytes"] = self.path.stat().st_size
        return result

    def clear(self, namespace: str | None = None) -> int:
        """Remove every entry (or one namespace's); returns how many were removed.

        A file that is not a cache at all (corrupt, or something else written over it) is deleted, so that
        the next run starts a fresh one; it held no entries, so 0 is returned. Raises CacheError when the
        file cannot be opened or deleted.
        """
        if not self.path.exists():
            return 0
        try:
            with self._lock:
                conn = self._connect()
                if namespace is None:
                    cur = conn.execute("DELETE FROM entries")
                else:
                    cur = conn.execute("DELETE FROM entries WHERE namespace=?", (namespace,))
                conn.execute("VACUUM")
                return cur.rowcount
        except (CacheError, sqlite3.Error) as exc:
            cause = exc.__cause__ if isinstance(exc, CacheError) else exc
            if not _not_a_database(cause):
                if isinstance(exc, CacheError):
                    raise
                raise CacheError(f"cannot clear the cache {self.path}: {_reason(exc)}") from exc
        self.close()
        try:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            raise CacheError(f"cannot remove the unreadable cache {self.path}: {_reason(exc)}") from exc
        return 0

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _migrate(conn: sqlite3.Connection) -> None:
    """Create the table, or replace one of an older schema (its entries do not say which service answered). A
    cache already of this schema is left as it is: nothing written, so no disk sync at the start of every run."""
    conn.execute("BEGIN IMMEDIATE")  # the write lock: a file this user may not write fails here, as it always has
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"the cache was written by a newer kratomref (schema {version})")
        if version == SCHEMA_VERSION and _has_entries_table(conn):
            conn.execute("ROLLBACK")  # nothing to change
            return
        if version < SCHEMA_VERSION:
            conn.execute("DROP TABLE IF EXISTS entries")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS entries ("
            " namespace TEXT NOT NULL, service TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
            " stored REAL NOT NULL, expires REAL NOT NULL, PRIMARY KEY (namespace, service, key))"
        )
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _has_entries_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entries'").fetchone() is not None
