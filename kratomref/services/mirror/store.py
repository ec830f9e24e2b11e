"""The embedded mirror: Crossref-shaped works in one SQLite file, found by DOI or by an FTS5/BM25 search."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import sqlite3
import threading
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kratomref.doi import normalise_doi

SCHEMA_VERSION = 2  # 2: slim records (fields.slim) packed with ZDICT, row ids in load order
# A record from a source of higher priority replaces one from a lower (Crossref is the registry itself;
# OpenAlex copies it and adds works Crossref lacks); never the other way round.
SOURCE_PRIORITY = {"crossref": 2, "openalex": 1}
SEARCH_ROWS = 5
TIED = 4  # a search fetches this many times the rows it returns, to order works of equal scores by length
# The search first keeps the query's rarest indexed words: the candidates are the works holding any of them, so
# a search costs about as much as these words' posting lists, not as much as "the", "study" or a year.
SEARCH_DOC_BUDGET = 5_000  # add no word that would bring their documents past this many
MIN_SEARCH_TERMS = 3
MAX_SEARCH_TERMS = 10
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "de", "der", "des", "die", "du", "et", "for", "from", "in",
    "into", "is", "la", "le", "les", "of", "on", "or", "the", "to", "und", "von", "with", "al", "eds", "ed",
    "vol", "pp", "no", "doi", "http", "https", "www", "org", "com",
})
_TOKEN = re.compile(r"\w+")
_NON_DIGIT = re.compile(r"\D+")
_YEAR = re.compile(r"1[5-9]\d\d|20\d\d")
COUNTS_KEPT = 200_000  # terms whose document counts are kept between searches
SQL_VARIABLES = 500  # values per IN (...) list, well under SQLite's limit

# A record is deflated JSON with this preset dictionary: the keys and common values of a slim work, so a
# record of a few hundred bytes compresses as well as a long one (a third smaller than without). Changing it
# makes the stored records unreadable: it bumps SCHEMA_VERSION.
ZDICT = (
    b'"updated-by":[{"DOI":"10.","type":"correction","label":"Correction","source":"publisher","updated":'
    b'{"date-parts":[[20"editor":[{"given":"","family":"'
    b'"ISBN":["978-"subject":["article-number":"'
    b'"publisher":"Elsevier BV","Springer Science and Business Media LLC","Wiley","Informa UK Limited",'
    b'"Public Library of Science (PLoS)","IEEE","American Chemical Society (ACS)","Oxford University Press (OUP)",'
    b'"short-container-title":["J. ","container-title":["Journal of the ","Proceedings of the "'
    b'"volume":"","issue":"","page":"","ISSN":["'
    b'"author":[{"given":"","family":""},{"given":"","family":""},{"given":"'
    b'"published-print":{"date-parts":[[20"published-online":{"date-parts":[[20"published":{"date-parts":[[20'
    b'"created":{"date-parts":[[20"issued":{"date-parts":[[20'
    b'{"DOI":"10.","type":"journal-article","source":"Crossref","title":["'
)
ZLEVEL = 6

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS works(
    id INTEGER PRIMARY KEY,  -- in the order of loading: the search index's rowid (small steps pack its lists)
    key INTEGER NOT NULL,  -- 64 bits of the normalised DOI's hash: the look-up key
    source INTEGER NOT NULL,  -- SOURCE_PRIORITY of the record's source
    indexed INTEGER NOT NULL,  -- the source's own time stamp of the record as YYYYMMDDhhmmss (see _stamp)
    record BLOB NOT NULL  -- the slim work (fields.slim), Crossref's "message" shape, as JSON packed with ZDICT
);
CREATE UNIQUE INDEX IF NOT EXISTS works_key ON works(key);
CREATE VIRTUAL TABLE IF NOT EXISTS works_fts USING fts5(
    title, authors, container, year, content='', tokenize='unicode61 remove_diacritics 2', detail='full',
    columnsize=0
);
CREATE VIRTUAL TABLE IF NOT EXISTS works_vocab USING fts5vocab(works_fts, row);
CREATE TABLE IF NOT EXISTS parts(
    key TEXT PRIMARY KEY,  -- file name and size
    done INTEGER NOT NULL,  -- records read and committed, malformed ones included
    finished INTEGER NOT NULL,
    loaded INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    malformed INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL
);
"""


class MirrorError(Exception):
    """The mirror cannot be opened or read: the message says which file and why."""


@dataclass
class Upserted:
    """What one batch did to the store."""

    loaded: int = 0  # new works and works replaced by a newer record
    skipped: int = 0  # already there, as new or newer, or from a source of higher priority


def doi_key(doi: str) -> int:
    """The 64-bit signed key of a normalised DOI."""
    return int.from_bytes(hashlib.blake2b(doi.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def _text(values: Any) -> str:
    if isinstance(values, str):
        return values
    if isinstance(values, list):
        return " ".join(v for v in values if isinstance(v, str))
    return ""


def work_year(record: Mapping[str, Any]) -> str:
    for name in ("issued", "published-print", "published-online", "published", "created"):
        parts = record.get(name)
        if isinstance(parts, dict):
            dates = parts.get("date-parts")
            if isinstance(dates, list) and dates and isinstance(dates[0], list) and dates[0]:
                year = dates[0][0]
                if isinstance(year, int) or (isinstance(year, str) and year.isdigit()):
                    return str(year)
    return ""


def index_fields(record: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """The searched text of a work: title (and subtitle), authors' family names, container, year."""
    title = " ".join(p for p in (_text(record.get("title")), _text(record.get("subtitle"))) if p)
    names: list[str] = []
    for author in record.get("author") or []:
        if isinstance(author, dict):
            name = author.get("family") or author.get("name")
            if isinstance(name, str):
                names.append(name)
    container = _text(record.get("container-title"))
    short = _text(record.get("short-container-title"))
    if short and short != container:  # only the words the full name lacks ("J Orthop Res"): a smaller index
        known = set(container.lower().split())
        extra = " ".join(w for w in short.split() if w.lower() not in known)
        container = f"{container} {extra}" if container and extra else container or extra
    return title, " ".join(names), container, work_year(record)


def query_terms(text: str) -> list[str]:
    """The words of a search as the index holds them: folded like unicode61 (lower case, no diacritics),
    without stop words, one-letter words and numbers other than years (volumes and pages are not indexed)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    terms: list[str] = []
    for token in _TOKEN.findall(folded):
        token = token.replace("_", "")
        if len(token) < 2 or token in STOPWORDS:
            continue
        if token.isdigit() and not _YEAR.fullmatch(token):
            continue
        terms.append(token)
    return list(dict.fromkeys(terms))


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
SOURCE_NAMES = {priority: name for name, priority in SOURCE_PRIORITY.items()}


def _pack(record: Mapping[str, Any]) -> bytes:
    packer = zlib.compressobj(ZLEVEL, zlib.DEFLATED, -15, zdict=ZDICT)  # raw deflate: no header nor checksum
    return packer.compress(_ENCODE(record).encode("utf-8")) + packer.flush()


def _unpack(blob: bytes) -> dict[str, Any]:
    unpacker = zlib.decompressobj(-15, zdict=ZDICT)
    value: dict[str, Any] = json.loads(unpacker.decompress(blob) + unpacker.flush())
    return value


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class MirrorStore:
    """One SQLite mirror file. Reads are safe from any thread (one connection behind a lock); one process
    loads at a time (SQLite's write lock; a second loader waits, then goes on where the first stopped)."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise MirrorError(f"{self.path}: no mirror there (`kratomref mirror load` makes one)")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            if create:  # only takes on a new file: optimize() gives back the pages a merge frees
                self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA cache_size=-65536")  # 64 MiB
            version = self._meta_value("schema_version") if self._has_meta() else None
            if version is None:
                if not create:
                    raise MirrorError(f"{self.path}: not a kratomref mirror")
                self._db.executescript(SCHEMA)
                self._db.executemany(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)",
                    [("schema_version", str(SCHEMA_VERSION)), ("created", _now()), ("works", "0")],
                )
            elif version != str(SCHEMA_VERSION):
                raise MirrorError(
                    f"{self.path}: mirror schema {version}, this kratomref reads {SCHEMA_VERSION}: delete the file "
                    "and load the data files again (`kratomref mirror load`)"
                )
        except sqlite3.DatabaseError as exc:
            raise MirrorError(f"{self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._counts: dict[str, int] = {}  # term -> works holding it, while the store is unchanged

    def _has_meta(self) -> bool:
        row = self._db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        return row is not None

    def _meta_value(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> MirrorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading --------------------------------------------------------------------------------------

    def get_many(self, dois: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Normalised DOI -> its work, for the DOIs the mirror holds."""
        keys = {doi_key(doi): doi for doi in dois}
        found: dict[str, dict[str, Any]] = {}
        ids = list(keys)
        with self._lock:
            for start in range(0, len(ids), SQL_VARIABLES):
                chunk = ids[start:start + SQL_VARIABLES]
                sql = f"SELECT key, record FROM works WHERE key IN ({','.join('?' * len(chunk))})"
                for key, blob in self._db.execute(sql, chunk):
                    doi, work = keys[key], _unpack(blob)
                    if _same_doi(work, doi):  # not another DOI with the same 64-bit key
                        found[doi] = work
        return found

    def search(self, query: str, container: str | None = None, rows: int = SEARCH_ROWS) -> list[dict[str, Any]]:
        """The works that best match a bibliographic query (BM25 over title, authors, container, year), best
        first; `container` narrows the search to works whose container holds its words."""
        terms = query_terms(query)
        container_terms = query_terms(container) if container else []
        if not terms and not container_terms:
            return []
        with self._lock:
            counts = self._doc_counts(terms + container_terms)
            chosen = _rarest(terms, counts)
            if not chosen:
                return []
            expression = " OR ".join(f'"{t}"' for t in chosen)
            if container_terms:
                narrowing = " AND ".join(f'container:"{t}"' for t in container_terms if counts.get(t))
                if not narrowing:
                    return []
                expression = f"({expression}) AND {narrowing}"
            sql = (
                "SELECT hits.score, works.record FROM "
                "(SELECT rowid AS id, bm25(works_fts, 4.0, 3.0, 1.0, 1.0) AS score FROM works_fts "
                "WHERE works_fts MATCH ? ORDER BY score LIMIT ?) AS hits "
                "JOIN works ON works.id = hits.id ORDER BY hits.score"
            )
            found = [(score, _unpack(blob)) for score, blob in self._db.execute(sql, (expression, rows * TIED))]
        # The index keeps no lengths (columnsize=0: a search reads no row besides its hits), so BM25 cannot
        # prefer the shorter of two works holding the same words; among equal scores, the shorter comes first.
        found.sort(key=lambda hit: (round(hit[0], 9), _length(hit[1])))
        return [work for _, work in found[:rows]]

    def _doc_counts(self, terms: Sequence[str]) -> dict[str, int]:
        """How many works hold each term (0: none). fts5vocab counts them by reading the term's whole list, so
        the counts are kept (the common words, journals and years recur from one search to the next) until
        the store changes."""
        counts: dict[str, int] = {}
        known = self._counts
        for term in terms:  # one indexed look-up each: fts5vocab takes `term = ?` as a seek, not `IN (...)`
            count = known.get(term)
            if count is None:
                row = self._db.execute("SELECT doc FROM works_vocab WHERE term = ?", (term,)).fetchone()
                count = 0 if row is None else int(row[0])
                if len(known) >= COUNTS_KEPT:
                    known.clear()
                known[term] = count
            if count:
                counts[term] = count
        return counts

    def info(self) -> dict[str, Any]:
        """What the mirror holds and how old it is."""
        with self._lock:
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
            sources = {}
            for name in SOURCE_PRIORITY:
                count = int(meta.get(f"works_{name}", "0"))
                if count:
                    sources[name] = count
            parts = self._db.execute("SELECT count(*), coalesce(sum(finished), 0) FROM parts").fetchone()
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return {
            "path": str(self.path),
            "backend": "sqlite",
            "schema": int(meta.get("schema_version", "0")),
            "works": int(meta.get("works", "0")),
            "sources": sources,
            "created": meta.get("created"),
            "loaded": meta.get("loaded"),
            "updated": meta.get("updated"),
            "newest_indexed": meta.get("newest_indexed"),
            "parts": int(parts[0]),
            "parts_finished": int(parts[1]),
            "bytes": size,
        }

    def meta(self, key: str) -> str | None:
        with self._lock:
            return self._meta_value(key)

    # --- writing --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: what a batch did and where its part stands are committed together."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def set_meta(self, values: Mapping[str, str]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(values.items()))

    def part(self, key: str) -> tuple[int, bool]:
        """(records done, finished) of a data file part; (0, False) for one never started."""
        with self._lock:
            row = self._db.execute("SELECT done, finished FROM parts WHERE key=?", (key,)).fetchone()
        return (0, False) if row is None else (int(row[0]), bool(row[1]))

    def set_part(self, key: str, done: int, finished: bool, counts: Mapping[str, int]) -> None:
        """Within a transaction: where a part stands, and what it added."""
        self._db.execute(
            "INSERT INTO parts(key, done, finished, loaded, skipped, malformed, at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET done=excluded.done, finished=excluded.finished, "
            "loaded=loaded+excluded.loaded, skipped=skipped+excluded.skipped, "
            "malformed=malformed+excluded.malformed, at=excluded.at",
            (key, done, int(finished), counts.get("loaded", 0), counts.get("skipped", 0),
             counts.get("malformed", 0), _now()),
        )

    def upsert(self, works: Iterable[tuple[str, str, str, Mapping[str, Any]]]) -> Upserted:
        """Within a transaction: (doi, source, indexed, record) into the store. A work already there is
        replaced only by a record of a source of higher priority, or of the same source and a later `indexed`
        time stamp (or the same one and other content): loading the same data twice changes nothing."""
        batch: dict[int, tuple[str, str, str, Mapping[str, Any]]] = {}
        result = Upserted()
        self._counts.clear()
        for work in works:
            key = doi_key(work[0])
            if key in batch and not _newer(work[1], work[2], batch[key][1], batch[key][2]):
                result.skipped += 1
                continue
            if key in batch:
                result.skipped += 1  # the earlier copy in this batch is the one dropped
            batch[key] = work
        existing: dict[int, tuple[int, int, int, bytes]] = {}  # key -> row id, source, stamp, blob
        keys = list(batch)
        for start in range(0, len(keys), SQL_VARIABLES):
            chunk = keys[start:start + SQL_VARIABLES]
            sql = f"SELECT key, id, source, indexed, record FROM works WHERE key IN ({','.join('?' * len(chunk))})"
            for key, row_id, source, indexed, blob in self._db.execute(sql, chunk):
                existing[key] = (row_id, source, indexed, blob)
        next_id = int(self._db.execute("SELECT coalesce(max(id), 0) + 1 FROM works").fetchone()[0])
        rows: list[tuple[Any, ...]] = []
        fts_deletes: list[tuple[Any, ...]] = []
        fts_inserts: list[tuple[Any, ...]] = []
        added: dict[str, int] = {}
        newest = ""
        for key, (doi, source, indexed, record) in batch.items():
            blob = _pack(record)
            old = existing.get(key)
            if old is not None:
                row_id, old_code, old_stamp, old_blob = old
                old_record = _unpack(old_blob)
                if not _same_doi(old_record, doi):  # two DOIs with one 64-bit key: the first keeps it
                    result.skipped += 1
                    continue
                old_source = SOURCE_NAMES.get(old_code, "")
                stamp = _stamp(indexed)
                replace = _newer(source, stamp, old_source, old_stamp) or (
                    source == old_source and stamp == old_stamp and blob != old_blob
                )
                if not replace:
                    result.skipped += 1
                    continue
                fts_deletes.append(("delete", row_id, *index_fields(old_record)))
                added[old_source] = added.get(old_source, 0) - 1
            else:
                row_id, next_id = next_id, next_id + 1
                added["works"] = added.get("works", 0) + 1
            added[source] = added.get(source, 0) + 1
            rows.append((row_id, key, SOURCE_PRIORITY.get(source, 0), _stamp(indexed), blob))
            fts_inserts.append((row_id, *index_fields(record)))
            if source == "crossref" and indexed > newest:
                newest = indexed
            result.loaded += 1
        if fts_deletes:
            self._db.executemany(
                "INSERT INTO works_fts(works_fts, rowid, title, authors, container, year) VALUES (?, ?, ?, ?, ?, ?)",
                fts_deletes,
            )
        self._db.executemany("INSERT OR REPLACE INTO works(id, key, source, indexed, record) VALUES (?, ?, ?, ?, ?)",
                             rows)
        self._db.executemany("INSERT INTO works_fts(rowid, title, authors, container, year) VALUES (?, ?, ?, ?, ?)",
                             fts_inserts)
        self._count(added, newest)
        return result

    def _count(self, added: Mapping[str, int], newest: str) -> None:
        for name, n in added.items():
            key = name if name == "works" else f"works_{name}"
            self._db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT)",
                (key, str(n), n),
            )
        if newest and newest > (self._meta_value("newest_indexed") or ""):
            self.set_meta({"newest_indexed": newest})

    def optimize(self) -> None:
        """Merge the search index's segments (after a large load: faster searches, a smaller file)."""
        with self._lock:
            self._db.execute("INSERT INTO works_fts(works_fts) VALUES ('optimize')")
            self._db.execute("PRAGMA incremental_vacuum").fetchall()  # each row is a page given back
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _length(work: Mapping[str, Any]) -> int:
    return sum(len(text.split()) for text in index_fields(work))


def _same_doi(work: Mapping[str, Any], doi: str) -> bool:
    """Whether a stored work (its DOI as its source wrote it) is that of a normalised DOI."""
    written = str(work.get("DOI") or "")
    return written.lower() == doi or normalise_doi(written) == doi


def _stamp(indexed: str) -> int:
    """A source's time stamp ("2025-03-01T12:00:00Z", OpenAlex's "2025-03-01T12:00:00.123") as the integer
    20250301120000: the same order in a few bytes."""
    digits = _NON_DIGIT.sub("", indexed)[:14]
    return int(digits.ljust(14, "0")) if digits else 0


def _newer(source: str, indexed: str | int, old_source: str, old_indexed: str | int) -> bool:
    priority, old_priority = SOURCE_PRIORITY.get(source, 0), SOURCE_PRIORITY.get(old_source, 0)
    if priority != old_priority:
        return priority > old_priority
    return indexed > old_indexed  # type: ignore[operator]  # both strings, or both stamps


def _rarest(terms: Sequence[str], counts: Mapping[str, int]) -> list[str]:
    """The query's indexed words, rarest first, as long as their documents stay within SEARCH_DOC_BUDGET
    (but at least MIN_SEARCH_TERMS of them, at most MAX_SEARCH_TERMS)."""
    present = sorted((t for t in terms if counts.get(t)), key=lambda t: counts[t])
    chosen: list[str] = []
    total = 0
    for term in present:
        if len(chosen) >= MAX_SEARCH_TERMS or (
            len(chosen) >= MIN_SEARCH_TERMS and total + counts[term] > SEARCH_DOC_BUDGET
        ):
            break
        chosen.append(term)
        total += counts[term]
    return chosen
