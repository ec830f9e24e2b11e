"""A persistent cache of look-ups (SQLite in the user cache dir), shared by every service.

Safe when two processes run at once: SQLite's WAL journal and a busy timeout serialise writers,
and every write is one short transaction, so an interrupted run leaves a consistent file.

A cache that cannot be used (its directory is a file, the file is not a database, the disk is read-only)
never stops a check: the cache turns itself off and says why once, as a CacheWarning.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs

SCHEMA_VERSION = 1


def default_cache_dir() -> Path:
    env = os.environ.get("KRATOMREF_CACHE_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir("kratomref", appauthor=False))


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
    ) -> None:
        self.enabled = enabled
        self.clock = clock
        self.path = Path(directory) if directory else default_cache_dir()
        self.path = self.path / "cache.sqlite3"
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.problem: str | None = None  # why the cache was turned off during this run

    def _connect(self) -> sqlite3.Connection:
        """The open connection; raises CacheError when the directory or the file cannot be used."""
        if self._conn is None:
            conn: sqlite3.Connection | None = None
            if self.path.parent.exists() and not self.path.parent.is_dir():
                raise CacheError(f"cannot use the cache directory {self.path.parent}: it is a file")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA busy_timeout=30000")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS entries ("
                    " namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
                    " stored REAL NOT NULL, expires REAL NOT NULL, PRIMARY KEY (namespace, key))"
                )
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            except (OSError, sqlite3.Error) as exc:
                if conn is not None:
                    conn.close()
                raise CacheError(f"cannot use the cache {self.path}: {_reason(exc)}") from exc
            self._conn = conn
        return self._conn

    def _turn_off(self, exc: BaseException) -> None:
        """Go on without the cache, and say so once."""
        self.enabled = False
        if self.problem is None:
            message = exc if isinstance(exc, CacheError) else f"cannot use the cache {self.path}: {_reason(exc)}"
            self.problem = f"{message}; going on without the cache"
            warnings.warn(self.problem, CacheWarning, stacklevel=3)

    def get(self, namespace: str, key: str) -> Any | None:
        """The stored value, or None when absent, expired or the cache is off."""
        if not self.enabled:
            return None
        try:
            with self._lock:
                row = (
                    self._connect()
                    .execute("SELECT value, expires FROM entries WHERE namespace=? AND key=?", (namespace, key))
                    .fetchone()
                )
        except (CacheError, sqlite3.Error) as exc:
            self._turn_off(exc)
            return None
        if row is None or row[1] < self.clock():
            return None
        return json.loads(row[0])

    def get_many(self, namespace: str, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key in keys:
            value = self.get(namespace, key)
            if value is not None:
                found[key] = value
        return found

    def put(self, namespace: str, key: str, value: Any, ttl: float) -> None:
        if not self.enabled or ttl <= 0:
            return
        now = self.clock()
        text = json.dumps(value, separators=(",", ":"))
        try:
            with self._lock:
                self._connect().execute(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
                    (namespace, key, text, now, now + ttl),
                )
        except (CacheError, sqlite3.Error) as exc:
            self._turn_off(exc)

    def put_many(self, namespace: str, items: dict[str, Any], ttl: float) -> None:
        if not self.enabled or ttl <= 0 or not items:
            return
        now = self.clock()
        rows = [(namespace, k, json.dumps(v, separators=(",", ":")), now, now + ttl) for k, v in items.items()]
        try:
            with self._lock:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)", rows)
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
