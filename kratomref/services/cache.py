"""A persistent cache of look-ups (SQLite in the user cache dir), shared by every service.

Safe when two processes run at once: SQLite's WAL journal and a busy timeout serialise writers,
and every write is one short transaction, so an interrupted run leaves a consistent file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
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
        self.hits = 0
        self.misses = 0

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
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
            self._conn = conn
        return self._conn

    def get(self, namespace: str, key: str) -> Any | None:
        """The stored value, or None when absent, expired or the cache is off."""
        if not self.enabled:
            return None
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT value, expires FROM entries WHERE namespace=? AND key=?", (namespace, key))
                .fetchone()
            )
        if row is None or row[1] < self.clock():
            self.misses += 1
            return None
        self.hits += 1
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
        with self._lock:
            self._connect().execute(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
                (namespace, key, text, now, now + ttl),
            )

    def put_many(self, namespace: str, items: dict[str, Any], ttl: float) -> None:
        if not self.enabled or ttl <= 0 or not items:
            return
        now = self.clock()
        rows = [(namespace, k, json.dumps(v, separators=(",", ":")), now, now + ttl) for k, v in items.items()]
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def info(self) -> dict[str, Any]:
        """Where the cache is and what it holds, per namespace."""
        result: dict[str, Any] = {"path": str(self.path), "exists": self.path.exists(), "namespaces": {}}
        if not self.path.exists():
            return result
        now = self.clock()
        with self._lock:
            rows = (
                self._connect()
                .execute("SELECT namespace, COUNT(*), SUM(expires < ?) FROM entries GROUP BY namespace", (now,))
                .fetchall()
            )
        result["namespaces"] = {ns: {"entries": n, "expired": int(e or 0)} for ns, n, e in rows}
        result["bytes"] = self.path.stat().st_size
        return result

    def clear(self, namespace: str | None = None) -> int:
        """Remove every entry (or one namespace's); returns how many were removed."""
        if not self.path.exists():
            return 0
        with self._lock:
            conn = self._connect()
            if namespace is None:
                cur = conn.execute("DELETE FROM entries")
            else:
                cur = conn.execute("DELETE FROM entries WHERE namespace=?", (namespace,))
            conn.execute("VACUUM")
            return cur.rowcount

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
