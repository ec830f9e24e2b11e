"""The shared mirror for teams: the embedded store's works, look-ups and searches in one PostgreSQL database."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import threading
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kratomref.services.mirror.store import (
    SEARCH_ROWS,
    SOURCE_PRIORITY,
    MirrorError,
    Upserted,
    doi_key,
    index_fields,
    query_terms,
)
from kratomref.services.pgurl import display
from kratomref.services.pgurl import scrub as _scrub

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 1
NAMESPACE = "kratomref"  # one schema of its own: the mirror can share a database with other applications
# The candidates are the works holding two of the query's rarest words (as in the embedded store, by the
# document counts `optimize` takes from the index with ts_stat after a load); all the query's words then rank
# them. The budget bounds the posting lists the index reads.
SEARCH_DOC_BUDGET = 20_000
MIN_SEARCH_TERMS = 3
MAX_SEARCH_TERMS = 6  # the index evaluates the pairs of them: 15 at most
MAX_RANKED_TERMS = 32
RERANKED = 20  # the best candidates by ts_rank_cd, re-ranked with pg_trgm's word_similarity of their title
# ts_rank_cd's weights, in PostgreSQL's order {D, C, B, A}: title A, authors B, container and year C.
TITLE_HELD = 0.9  # word_similarity of a title the query holds (as written, give or take a character or two)
RANK_WEIGHTS = "'{0.0, 0.25, 0.75, 1.0}'::float4[]"
WRITER_LOCK = 0x6B72_6D69  # pg_advisory_xact_lock key: one loader writes at a time, as SQLite's write lock
CONNECT_TIMEOUT = 10  # seconds

SCHEMA = f"""
CREATE SCHEMA IF NOT EXISTS {NAMESPACE};
CREATE TABLE IF NOT EXISTS {NAMESPACE}.meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {NAMESPACE}.works(
    id BIGINT PRIMARY KEY,  -- 64 bits of the DOI's hash, as in the embedded store
    doi TEXT NOT NULL,
    source TEXT NOT NULL,
    indexed TEXT NOT NULL,
    title TEXT NOT NULL,  -- the title's searched words, for pg_trgm's word_similarity
    search TSVECTOR NOT NULL,  -- title A, authors B, container and year C
    record BYTEA NOT NULL  -- the work, Crossref's "message" shape, as zlib-compressed JSON
);
CREATE INDEX IF NOT EXISTS works_search ON {NAMESPACE}.works USING GIN (search);
CREATE TABLE IF NOT EXISTS {NAMESPACE}.words(word TEXT PRIMARY KEY, docs BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS {NAMESPACE}.parts(
    key TEXT PRIMARY KEY,
    done BIGINT NOT NULL,
    finished BOOLEAN NOT NULL,
    loaded BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    malformed BIGINT NOT NULL DEFAULT 0,
    at TEXT NOT NULL
);
"""


def _pack(record: Mapping[str, Any]) -> bytes:
    return zlib.compress(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def _unpack(blob: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(zlib.decompress(blob))
    return value


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def search_vector(record: Mapping[str, Any]) -> tuple[str, str]:
    """(title words, tsvector literal) of a work. The words are those the embedded store's search reads
    (`query_terms`: folded, no stop words, no numbers but years), so that both backends find the same works and
    the text search configuration of the server does not matter."""
    title, authors, container, year = index_fields(record)
    positions: dict[str, list[str]] = {}
    position = 0
    title_words = query_terms(title)
    for words, weight in ((title_words, "A"), (query_terms(authors), "B"), (query_terms(f"{container} {year}"), "C")):
        for word in words:
            if len(word.encode("utf-8")) > 200:
                continue
            position = min(position + 1, 16383)
            positions.setdefault(word, []).append(f"{position}{weight}")
    literal = " ".join(f"{_lexeme(w)}:{','.join(p)}" for w, p in positions.items())
    return " ".join(title_words), literal


def _words(record: Mapping[str, Any]) -> set[str]:
    """The distinct words of a work's search vector."""
    title, authors, container, year = index_fields(record)
    return {*query_terms(title), *query_terms(authors), *query_terms(f"{container} {year}")}


def _newer(source: str, indexed: str, old_source: str, old_indexed: str) -> bool:
    priority, old_priority = SOURCE_PRIORITY.get(source, 0), SOURCE_PRIORITY.get(old_source, 0)
    if priority != old_priority:
        return priority > old_priority
    return indexed > old_indexed


def _rarest(terms: Sequence[str], counts: Mapping[str, int], counted: bool) -> list[str]:
    """The query's words, rarest first, until their documents reach the budget. Once the words are counted, a
    word without a count is in no work and is left out; before, every word counts as rare but a year, which
    many works share."""
    if counted:
        terms = [t for t in terms if counts.get(t)]

    def docs(term: str) -> int:
        return counts.get(term, SEARCH_DOC_BUDGET if term.isdigit() else 1)

    chosen: list[str] = []
    total = 0
    for term in sorted(terms, key=docs):
        if len(chosen) >= MAX_SEARCH_TERMS:
            break
        if len(chosen) >= MIN_SEARCH_TERMS and total + docs(term) > SEARCH_DOC_BUDGET:
            break  # the terms that follow are as common or more
        chosen.append(term)
        total += docs(term)
    return chosen


class PostgresMirror:
    """A mirror in a PostgreSQL database (schema `kratomref`), with the public methods of MirrorStore and the
    same semantics. Reads are safe from any thread (one connection behind a lock); writers take an advisory
    lock per transaction, so loaders on several machines take turns as SQLite's do. A read that fails (the
    server went away) warns once and answers nothing, so a check goes on live or unverified."""

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url.strip()
        self.path = display(self.url)  # what messages show
        try:
            import psycopg
        except ImportError as exc:
            raise MirrorError(
                f"{self.path}: a PostgreSQL mirror needs psycopg (pip install 'kratomref[postgres]')"
            ) from exc
        self._errors: tuple[type[Exception], ...] = (psycopg.Error,)
        self._lock = threading.RLock()
        self._warned = False
        self._counted = False  # whether `optimize` has counted the words (then a word without a count is in no work)
        try:
            self._db: psycopg.Connection[Any] = psycopg.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="kratomref"
            )
        except psycopg.Error as exc:
            raise MirrorError(f"{self.path}: cannot connect ({_scrub(str(exc), self.url)})") from None
        try:
            self._prepare(create)
        except psycopg.Error as exc:
            self._db.close()
            raise MirrorError(f"{self.path}: {_scrub(str(exc), self.url)}") from None
        except MirrorError:
            self._db.close()
            raise

    def _prepare(self, create: bool) -> None:
        version = self._meta_value("schema_version") if self._has_meta() else None
        if version is None:
            if not create:
                raise MirrorError(f"{self.path}: no mirror there (`kratomref mirror load --mirror URL` makes one)")
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
                try:
                    self._db.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                except self._errors as exc:
                    raise MirrorError(
                        f"{self.path}: the mirror needs the pg_trgm extension, which this user cannot create "
                        f"(a superuser runs CREATE EXTENSION pg_trgm in the database): {_scrub(str(exc), self.url)}"
                    ) from None
                self._db.execute(SCHEMA)
                self._db.execute(
                    f"INSERT INTO {NAMESPACE}.meta(key, value) VALUES (%s, %s), (%s, %s), (%s, %s) "
                    "ON CONFLICT (key) DO NOTHING",
                    ("schema_version", str(SCHEMA_VERSION), "created", _now(), "works", "0"),
                )
        elif version != str(SCHEMA_VERSION):
            raise MirrorError(f"{self.path}: mirror schema {version}, this kratomref reads {SCHEMA_VERSION}")

    def _has_meta(self) -> bool:
        row = self._db.execute("SELECT to_regclass(%s)", (f"{NAMESPACE}.meta",)).fetchone()
        return row is not None and row[0] is not None

    def _meta_value(self, key: str) -> str | None:
        row = self._db.execute(f"SELECT value FROM {NAMESPACE}.meta WHERE key = %s", (key,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> PostgresMirror:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unreadable(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            from kratomref.services.mirror import MirrorWarning

            warnings.warn(f"the mirror is not used: {self.path}: {_scrub(str(exc), self.url)}", MirrorWarning,
                          stacklevel=3)

    # --- reading --------------------------------------------------------------------------------------

    def get_many(self, dois: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Normalised DOI -> its work, for the DOIs the mirror holds."""
        keys = {doi_key(doi): doi for doi in dois}
        found: dict[str, dict[str, Any]] = {}
        if not keys:
            return found
        with self._lock:
            try:
                rows = self._db.execute(
                    f"SELECT id, doi, record FROM {NAMESPACE}.works WHERE id = ANY(%s::bigint[])", (list(keys),)
                ).fetchall()
            except self._errors as exc:
                self._unreadable(exc)
                return found
        for key, doi, blob in rows:
            if keys.get(key) == doi:
                found[doi] = _unpack(blob)
        return found

    def search(self, query: str, container: str | None = None, rows: int = SEARCH_ROWS) -> list[dict[str, Any]]:
        """The works that best match a bibliographic query, best first: the full-text index (ts_rank_cd over
        title, authors, container and year) finds the candidates, pg_trgm's word_similarity of each title to
        the query orders them; `container` narrows the search to works whose container holds its words."""
        terms = query_terms(query)
        container_terms = query_terms(container) if container else []
        if not terms:
            return []
        with self._lock:
            try:
                counts = {str(word): int(docs) for word, docs in self._db.execute(
                    f"SELECT word, docs FROM {NAMESPACE}.words WHERE word = ANY(%s::text[])",
                    (terms + container_terms,))}
                if not self._counted:
                    self._counted = self._meta_value("words_counted") is not None
                chosen = [_lexeme(t) for t in _rarest(terms, counts, self._counted)]
                if not chosen:
                    return []
                narrowing = ""
                if container_terms:
                    # As the embedded store: the container's words the mirror holds (all of them while the
                    # counts are not taken yet) must all be in the work's container.
                    held = [t for t in container_terms if t in counts] if counts else container_terms
                    if not held:
                        return []
                    narrowing = " & " + " & ".join(f"{_lexeme(t)}:C" for t in held)
                # First the works holding two of the rare words at least: few, so the index answers without
                # ranking thousands. Unless the best of them has a title the query holds (pg_trgm's
                # word_similarity), the works holding one of them follow, up to `rows`.
                found = []
                if len(chosen) >= MIN_SEARCH_TERMS:
                    pairs = " | ".join(f"{a} & {b}" for a, b in itertools.combinations(chosen, 2))
                    found = self._ranked(f"({pairs}){narrowing}", terms, rows)
                if len(found) < rows and (not found or found[0][1] < TITLE_HELD):
                    for row in self._ranked(f"({' | '.join(chosen)}){narrowing}", terms, rows):
                        if row not in found and len(found) < rows:
                            found.append(row)
            except self._errors as exc:
                self._unreadable(exc)
                return []
        return [_unpack(blob) for blob, _ in found]

    def _ranked(self, candidates: str, terms: Sequence[str], rows: int) -> list[tuple[Any, ...]]:
        """(record, word_similarity of its title to the query) of the works matching a tsquery, ranked by
        ts_rank_cd over all the query's words, the best RERANKED of them then with the similarity added."""
        ranking = " | ".join(_lexeme(t) for t in terms[:MAX_RANKED_TERMS])
        return self._db.execute(
            f"SELECT record, held FROM ("
            f"  SELECT record, rank, word_similarity(title, %s) AS held FROM ("
            f"    SELECT record, title, ts_rank_cd({RANK_WEIGHTS}, search, CAST(%s AS tsquery), 32) AS rank"
            f"    FROM {NAMESPACE}.works WHERE search @@ CAST(%s AS tsquery)"
            f"    ORDER BY rank DESC LIMIT %s) AS hits) AS scored "
            f"ORDER BY held + rank DESC LIMIT %s",
            (" ".join(terms), ranking, candidates, max(RERANKED, rows), rows),
        ).fetchall()

    def info(self) -> dict[str, Any]:
        """What the mirror holds and how old it is."""
        with self._lock, self._failing():
            meta = dict(self._db.execute(f"SELECT key, value FROM {NAMESPACE}.meta").fetchall())
            row = self._db.execute(
                f"SELECT count(*), count(*) FILTER (WHERE finished) FROM {NAMESPACE}.parts").fetchone()
            size = self._db.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                (NAMESPACE,),
            ).fetchone()
        assert row is not None and size is not None
        sources = {name: int(meta[f"works_{name}"]) for name in SOURCE_PRIORITY if int(meta.get(f"works_{name}", 0))}
        return {
            "path": self.path,
            "backend": "postgresql",
            "schema": int(meta.get("schema_version", "0")),
            "works": int(meta.get("works", "0")),
            "sources": sources,
            "created": meta.get("created"),
            "loaded": meta.get("loaded"),
            "updated": meta.get("updated"),
            "newest_indexed": meta.get("newest_indexed"),
            "parts": int(row[0]),
            "parts_finished": int(row[1]),
            "bytes": int(size[0]),
        }

    def meta(self, key: str) -> str | None:
        with self._lock, self._failing():
            return self._meta_value(key)

    # --- writing --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: what a batch did and where its part stands are committed together. Writers
        take turns (an advisory lock held to the commit). A write the server refuses (a user who may only
        read, a server gone) rolls back and raises MirrorError."""
        with self._lock, self._failing(), self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
            yield

    @contextlib.contextmanager
    def _failing(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            raise MirrorError(f"{self.path}: {_scrub(str(exc), self.url)}") from None

    def set_meta(self, values: Mapping[str, str]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {NAMESPACE}.meta(key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                list(values.items()),
            )

    def part(self, key: str) -> tuple[int, bool]:
        """(records done, finished) of a data file part; (0, False) for one never started."""
        with self._lock, self._failing():
            row = self._db.execute(
                f"SELECT done, finished FROM {NAMESPACE}.parts WHERE key = %s", (key,)).fetchone()
        return (0, False) if row is None else (int(row[0]), bool(row[1]))

    def set_part(self, key: str, done: int, finished: bool, counts: Mapping[str, int]) -> None:
        """Within a transaction: where a part stands, and what it added."""
        self._db.execute(
            f"INSERT INTO {NAMESPACE}.parts AS p(key, done, finished, loaded, skipped, malformed, at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET done = excluded.done, finished = excluded.finished, "
            "loaded = p.loaded + excluded.loaded, skipped = p.skipped + excluded.skipped, "
            "malformed = p.malformed + excluded.malformed, at = excluded.at",
            (key, done, finished, counts.get("loaded", 0), counts.get("skipped", 0), counts.get("malformed", 0),
             _now()),
        )

    def upsert(self, works: Iterable[tuple[str, str, str, Mapping[str, Any]]]) -> Upserted:
        """Within a transaction: (doi, source, indexed, record) into the store, by MirrorStore.upsert's rules:
        a work already there is replaced only by a record of a source of higher priority, or of the same
        source and a later `indexed` time stamp (or the same one and other content)."""
        batch: dict[int, tuple[str, str, str, Mapping[str, Any]]] = {}
        result = Upserted()
        for work in works:
            key = doi_key(work[0])
            if key in batch and not _newer(work[1], work[2], batch[key][1], batch[key][2]):
                result.skipped += 1
                continue
            if key in batch:
                result.skipped += 1
            batch[key] = work
        if not batch:
            return result
        existing = {
            key: (doi, source, indexed, bytes(blob))
            for key, doi, source, indexed, blob in self._db.execute(
                f"SELECT id, doi, source, indexed, record FROM {NAMESPACE}.works WHERE id = ANY(%s::bigint[])",
                (list(batch),),
            )
        }
        columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
        # Once `optimize` has counted the words, each batch keeps the counts: a work loaded or updated since
        # is found by its words as any other.
        counting = self._meta_value("words_counted") is not None
        word_counts: dict[str, int] = {}
        added: dict[str, int] = {}
        newest = ""
        for key, (doi, source, indexed, record) in batch.items():
            indexed = indexed.replace("\x00", "")  # PostgreSQL's text holds no NUL
            blob = _pack(record)
            old = existing.get(key)
            if old is not None:
                old_doi, old_source, old_indexed, old_blob = old
                if old_doi != doi:  # two DOIs with one 64-bit key: the first keeps it
                    result.skipped += 1
                    continue
                replace = _newer(source, indexed, old_source, old_indexed) or (
                    source == old_source and indexed == old_indexed and blob != old_blob
                )
                if not replace:
                    result.skipped += 1
                    continue
                added[old_source] = added.get(old_source, 0) - 1
                if counting:
                    for word in _words(_unpack(old_blob)):
                        word_counts[word] = word_counts.get(word, 0) - 1
            else:
                added["works"] = added.get("works", 0) + 1
            added[source] = added.get(source, 0) + 1
            title, vector = search_vector(record)
            if counting:
                for word in _words(record):
                    word_counts[word] = word_counts.get(word, 0) + 1
            for column, value in zip(columns, (key, doi, source, indexed, title, vector, blob), strict=True):
                column.append(value)
            if source == "crossref" and indexed > newest:
                newest = indexed
            result.loaded += 1
        if columns[0]:
            self._db.execute(
                f"INSERT INTO {NAMESPACE}.works(id, doi, source, indexed, title, search, record) "
                "SELECT id, doi, source, indexed, title, CAST(search AS tsvector), record FROM "
                "unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bytea[]) "
                "AS w(id, doi, source, indexed, title, search, record) "
                "ON CONFLICT (id) DO UPDATE SET doi = excluded.doi, source = excluded.source, "
                "indexed = excluded.indexed, title = excluded.title, search = excluded.search, "
                "record = excluded.record",
                columns,
            )
        changed = sorted((w, n) for w, n in word_counts.items() if n)  # in one order: no deadlock
        if changed:
            self._db.execute(
                f"INSERT INTO {NAMESPACE}.words AS w(word, docs) SELECT * FROM unnest(%s::text[], %s::bigint[]) "
                "ON CONFLICT (word) DO UPDATE SET docs = w.docs + excluded.docs",
                ([w for w, _ in changed], [n for _, n in changed]),
            )
        self._count(added, newest)
        return result

    def _count(self, added: Mapping[str, int], newest: str) -> None:
        for name, n in sorted(added.items()):
            if n:
                self._db.execute(
                    f"INSERT INTO {NAMESPACE}.meta AS m(key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = (CAST(m.value AS BIGINT) + %s)::text",
                    (name if name == "works" else f"works_{name}", str(n), n),
                )
        if newest and newest > (self._meta_value("newest_indexed") or ""):
            self.set_meta({"newest_indexed": newest})

    def optimize(self) -> None:
        """After a load: the words' document counts the search chooses its words by (from the index itself);
        VACUUM moves the full-text index's pending entries into the index proper (until then every search scans
        them) and takes the planner's statistics."""
        with self._lock, self._failing(), self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
            self._db.execute(f"DELETE FROM {NAMESPACE}.words")
            self._db.execute(
                f"INSERT INTO {NAMESPACE}.words(word, docs) "
                f"SELECT word, ndoc FROM ts_stat('SELECT search FROM {NAMESPACE}.works')"
            )
            self.set_meta({"words_counted": _now()})
        with self._lock, self._failing():
            self._db.execute(f"VACUUM (ANALYZE) {NAMESPACE}.works")
            self._db.execute(f"ANALYZE {NAMESPACE}.words")
