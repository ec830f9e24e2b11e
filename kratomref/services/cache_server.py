"""The look-up cache on a PostgreSQL server a team shares (the mirror's, say): one worker's answers spare the rest."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kratomref.services.cache import MAX_ENTRY_TTL, Cache, CacheError
from kratomref.services.pgurl import display, scrub

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 10  # seconds
STATEMENT_TIMEOUT_MS = 30_000  # a look-up or a write that takes longer turns the cache off for the run
# Beside the mirror's tables, in the same schema; the primary key is the SQLite cache's.
SCHEMA = """
CREATE SCHEMA IF NOT EXISTS kratomref;
CREATE TABLE IF NOT EXISTS kratomref.lookups(
    namespace TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    stored DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (namespace, service, key)
);
"""


class ServerCache(Cache):
    """The Cache of a run, its entries kept in the table kratomref.lookups of a PostgreSQL database: the same
    keys, lifetimes (no entry fresher than MAX_ENTRY_TTL), service scoping and misses for what cannot be
    believed. Every worker pointed at the database reads what the others stored.

    Trust is the server's: whoever may write the table can make a reference pass, so only the team's checkers
    should have write access (a pull request's configuration cannot choose this cache). A server that cannot be
    reached, or fails, turns the cache off for the run with one CacheWarning, as a broken file does; the
    password never shows in it."""

    def __init__(
        self,
        url: str,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
        services: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(enabled=enabled, clock=clock, services=services)
        self.url = url.strip()
        self.where = display(self.url)
        self._db: psycopg.Connection[Any] | None = None
        self._errors: tuple[type[BaseException], ...] = (CacheError,)

    def _server(self) -> psycopg.Connection[Any]:
        """The open connection (made, and the table created, on first use); raises CacheError."""
        if self._db is not None:
            return self._db
        try:
            import psycopg
        except ImportError as exc:
            raise CacheError(f"{self.where}: a cache on a PostgreSQL server needs psycopg "
                             "(pip install 'kratomref[postgres]')") from exc
        self._errors = (CacheError, psycopg.Error)
        try:
            db = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                 application_name="kratomref-cache",
                                 options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")
        except psycopg.Error as exc:
            raise self._error(exc) from None
        try:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(hashtext('kratomref.lookups'))")
                for statement in filter(str.strip, SCHEMA.split(";")):
                    db.execute(statement)
        except psycopg.Error as exc:
            db.close()
            raise self._error(exc) from None
        self._db = db
        return db

    def _error(self, exc: BaseException, doing: str = "use") -> CacheError:
        """A driver's or server's error as a CacheError naming the server without its password."""
        if isinstance(exc, CacheError):
            return exc
        return CacheError(f"cannot {doing} the cache {self.where}: {scrub(str(exc), self.url)}")

    def _fail(self, exc: BaseException) -> None:
        self._turn_off(self._error(exc))

    def get(self, namespace: str, key: str, *, service: str | None = None) -> Any | None:
        return self.get_many(namespace, [key], service=service).get(key)

    def get_many(self, namespace: str, keys: list[str], *, service: str | None = None) -> dict[str, Any]:
        """The fresh values of `keys`, in one round trip (absent, stale, another service's or unreadable
        entries left out); {} when the cache is off."""
        if not self.enabled or not keys:
            return {}
        try:
            with self._lock:
                rows = self._server().execute(
                    "SELECT key, value, stored, expires FROM kratomref.lookups"
                    " WHERE namespace = %s AND service = %s AND key = ANY(%s)",
                    (namespace, self._service(namespace, service), list(keys)),
                ).fetchall()
        except self._errors as exc:
            self._fail(exc)
            return {}
        found: dict[str, Any] = {}
        for key, *row in rows:
            value = self._fresh_value(tuple(row))
            if value is not None:
                found[key] = value
        return found

    def put_many(self, namespace: str, items: dict[str, Any], ttl: float, *, service: str | None = None) -> None:
        if not self.enabled or not ttl > 0 or not items:
            return
        now = self.clock()
        expires = now + min(ttl, MAX_ENTRY_TTL)
        answered_by = self._service(namespace, service)
        rows = [(namespace, answered_by, k, json.dumps(v, separators=(",", ":")), now, expires)
                for k, v in items.items()]
        try:
            with self._lock:
                db = self._server()
                with db.transaction(), db.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO kratomref.lookups (namespace, service, key, value, stored, expires)"
                        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (namespace, service, key) DO UPDATE"
                        " SET value = EXCLUDED.value, stored = EXCLUDED.stored, expires = EXCLUDED.expires",
                        rows,
                    )
        except self._errors as exc:
            self._fail(exc)

    def info(self) -> dict[str, Any]:
        """Where the cache is and what it holds, per namespace. Raises CacheError when the server cannot be
        used."""
        now = self.clock()
        try:
            with self._lock:
                db = self._server()
                rows = db.execute(
                    "SELECT namespace, COUNT(*), SUM(CASE WHEN expires < %s THEN 1 ELSE 0 END)"
                    " FROM kratomref.lookups GROUP BY namespace", (now,)
                ).fetchall()
                size = db.execute("SELECT pg_total_relation_size('kratomref.lookups')").fetchone()
        except self._errors as exc:
            raise self._error(exc, "read") from None
        return {"path": self.where, "exists": True, "bytes": int(size[0]) if size else 0,
                "namespaces": {ns: {"entries": n, "expired": int(e or 0)} for ns, n, e in rows}}

    def clear(self, namespace: str | None = None) -> int:
        """Remove every entry (or one namespace's) for every worker; returns how many were removed. Raises
        CacheError when the server cannot be used."""
        try:
            with self._lock:
                db = self._server()
                if namespace is None:
                    cursor = db.execute("DELETE FROM kratomref.lookups")
                else:
                    cursor = db.execute("DELETE FROM kratomref.lookups WHERE namespace = %s", (namespace,))
                return cursor.rowcount
        except self._errors as exc:
            raise self._error(exc, "clear") from None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
