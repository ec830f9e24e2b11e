"""Streams Crossref public-data-file parts and OpenAlex works snapshot parts into a mirror, resumably."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import io
import itertools
import json
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kratomref.doi import normalise_doi
from kratomref.services.crossref import well_formed_work
from kratomref.services.mirror.fields import slim
from kratomref.services.mirror.store import MirrorStore

BATCH = 2000  # records per transaction: bounded memory, and an interrupt loses at most this many
CHUNK = 1 << 20  # characters read at a time
MAX_RECORD = 64 << 20  # a record that does not end within this many characters ends the part as malformed
MAX_REPORTED = 20  # malformed records named one by one; the rest are only counted

# OpenAlex work types -> Crossref's
OPENALEX_TYPES = {
    "article": "journal-article", "book-chapter": "book-chapter", "book": "book", "dataset": "dataset",
    "dissertation": "dissertation", "preprint": "posted-content", "report": "report", "review": "journal-article",
    "letter": "journal-article", "editorial": "journal-article", "erratum": "journal-article",
    "paratext": "other", "standard": "standard", "reference-entry": "reference-entry", "peer-review": "peer-review",
    "proceedings-article": "proceedings-article", "retraction": "journal-article",
}

Progress = Callable[[int], None]  # bytes of the current part read so far (compressed)


@dataclass
class LoadReport:
    """What a load did: records loaded, skipped (already there, or an older copy) and malformed."""

    loaded: int = 0
    skipped: int = 0
    malformed: int = 0
    parts: int = 0  # parts read to their end in this run
    parts_already: int = 0  # parts a previous run had finished: not read again
    problems: list[str] = field(default_factory=list)  # the first malformed records, and parts that broke off

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(text)


class _Malformed:
    def __init__(self, why: str, fatal: bool = False) -> None:
        self.why = why
        self.fatal = fatal  # the rest of the part cannot be read


def part_key(path: Path) -> str:
    """A part's identity across runs: its name and size (a part rewritten with other content is another)."""
    return f"{path.name}:{path.stat().st_size}"


def _items_of_array(head: str, text: IO[str]) -> Iterator[Any]:
    """The elements of the "items" array of one JSON object ({"items": [...]}), one at a time (`head`: the
    characters already read)."""
    decoder = json.JSONDecoder()
    buf = head + text.read(CHUNK)
    eof = not buf
    start = re.compile(r'"items"\s*:\s*\[')
    m = start.search(buf)
    while m is None and not eof and len(buf) < MAX_RECORD:
        more = text.read(CHUNK)
        eof = not more
        buf += more
        m = start.search(buf)
    if m is None:
        yield _Malformed('no "items" array', fatal=True)
        return
    pos = m.end()
    while True:
        if len(buf) - pos < CHUNK and not eof:
            more = text.read(CHUNK)
            eof = not more
            buf, pos = buf[pos:] + more, 0
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(buf):
            if eof:
                yield _Malformed("the file ends inside the items array", fatal=True)
                return
            continue
        if buf[pos] == "]":
            return
        try:
            item, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if eof or len(buf) - pos > MAX_RECORD:
                yield _Malformed(f"not JSON ({exc.msg})", fatal=True)
                return
            more = text.read(max(CHUNK, len(buf) - pos))
            eof = not more
            buf, pos = buf[pos:] + more, 0
            continue
        yield item
        pos = end


def _json_lines(head: str, text: IO[str]) -> Iterator[Any]:
    for line in itertools.chain(io.StringIO(head + text.readline()), text):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            yield _Malformed(f"not JSON ({exc.msg})")


def read_part(text: IO[str]) -> Iterator[Any]:
    """The records of a part, whichever its form: a Crossref public-data-file part ({"items": [...]}) or JSON
    lines (OpenAlex snapshot parts, Crossref's works as lines)."""
    head = text.read(4096)
    if re.match(r'\s*\{\s*"items"\s*:', head):
        return _items_of_array(head, text)
    return _json_lines(head, text)


def _date_parts(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]]
    return {"date-parts": [parts]} if parts else None


def openalex_work(work: Mapping[str, Any]) -> dict[str, Any] | None:
    """An OpenAlex work -> the Crossref work shape the rules read, or None without a DOI."""
    ids = work.get("ids") if isinstance(work.get("ids"), dict) else {}
    assert isinstance(ids, dict)
    doi = normalise_doi(str(work.get("doi") or ids.get("doi") or ""))
    if not doi:
        return None
    item: dict[str, Any] = {"DOI": doi, "source": "openalex"}
    title = work.get("title") or work.get("display_name")
    if isinstance(title, str) and title.strip():
        item["title"] = [title.strip()]
    authors = []
    for authorship in work.get("authorships") or []:
        if not isinstance(authorship, dict):
            continue
        author = authorship.get("author") if isinstance(authorship.get("author"), dict) else {}
        assert isinstance(author, dict)
        name = author.get("display_name") or authorship.get("raw_author_name")
        if isinstance(name, str) and name.strip():
            from kratomref.services.authorities.base import family_name

            family = family_name(name)
            given = name.replace(family, "").strip(" ,") if family != name else ""
            entry = {"family": family, "sequence": "first" if authorship.get("author_position") == "first"
                     else "additional"}
            if given:
                entry["given"] = given
            authors.append(entry)
    if authors:
        item["author"] = authors
    location = work.get("primary_location") if isinstance(work.get("primary_location"), dict) else {}
    assert isinstance(location, dict)
    source = location.get("source") if isinstance(location.get("source"), dict) else {}
    assert isinstance(source, dict)
    if isinstance(source.get("display_name"), str):
        item["container-title"] = [source["display_name"]]
    if isinstance(source.get("host_organization_name"), str):
        item["publisher"] = source["host_organization_name"]
    issued = _date_parts(work.get("publication_date")) or _date_parts(str(work.get("publication_year") or ""))
    if issued:
        item["issued"] = issued
    biblio = work.get("biblio") if isinstance(work.get("biblio"), dict) else {}
    assert isinstance(biblio, dict)
    for name in ("volume", "issue"):
        if isinstance(biblio.get(name), str) and biblio[name]:
            item[name] = biblio[name]
    first, last = biblio.get("first_page"), biblio.get("last_page")
    if isinstance(first, str) and first:
        item["page"] = f"{first}-{last}" if isinstance(last, str) and last and last != first else first
    kind = work.get("type_crossref") or OPENALEX_TYPES.get(str(work.get("type")), "other")
    item["type"] = str(kind)
    if work.get("is_retracted") is True:
        item["updated-by"] = [{"type": "retraction", "source": "openalex"}]
    return item


def as_work(raw: Any) -> tuple[str, str, str, dict[str, Any]] | str:
    """(doi, source, indexed, work) of a record of either source, or why it is malformed."""
    if not isinstance(raw, dict):
        return "not a JSON object"
    if "DOI" in raw:
        source, item = "crossref", raw  # slim() below keeps only what a check reads (never `reference`)
        indexed = raw.get("indexed")
        stamp = indexed.get("date-time") if isinstance(indexed, dict) else None
    elif "doi" in raw or "authorships" in raw:
        mapped = openalex_work(raw)
        if mapped is None:
            return "an OpenAlex work without a DOI"
        source, item, stamp = "openalex", mapped, raw.get("updated_date")
    else:
        return "neither a Crossref nor an OpenAlex work"
    if not well_formed_work(item):
        return f"{source} record {str(item.get('DOI'))[:80]!r} lacks a DOI or title, or has fields of the wrong type"
    doi = normalise_doi(str(item["DOI"]))
    assert doi is not None
    return doi, source, str(stamp or ""), slim(item)


class _Counting(io.RawIOBase):
    """A binary file that reports how far it has been read."""

    def __init__(self, raw: IO[bytes], progress: Progress | None) -> None:
        self.raw, self.progress, self.offset = raw, progress, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.offset += len(data)
        if self.progress is not None:
            self.progress(self.offset)
        return len(data)


class _Broken:
    """The part's stream cannot be read on (a truncated or corrupt gzip file)."""

    def __init__(self, why: str) -> None:
        self.why = why


Entry = tuple[int, "tuple[str, str, str, dict[str, Any]] | _Malformed | _Broken"]


def entries(path: Path, done: int, progress: Progress | None = None) -> Iterator[Entry]:
    """(position, work) of each record of a part after the first `done`; a malformed record's work is a
    _Malformed, and a stream that breaks off ends with a _Broken after the last record read."""
    position = 0
    with path.open("rb") as raw:
        binary = io.BufferedReader(_Counting(raw, progress), CHUNK)
        stream: Any = gzip.GzipFile(fileobj=binary) if path.name.endswith(".gz") else binary
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace")
        try:
            for record in read_part(text):
                position += 1
                if position <= done:
                    continue  # committed by an earlier run
                if isinstance(record, _Malformed):
                    yield position, record
                    if record.fatal:
                        return
                    continue
                work = as_work(record)
                yield position, (_Malformed(work) if isinstance(work, str) else work)
        except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt gzip stream
            yield position, _Broken(f"unreadable after record {position} ({exc})")


def load_part(store: MirrorStore, path: Path, report: LoadReport, progress: Progress | None = None) -> None:
    """One part into the store, in transactions of BATCH records, each also recording how far the part has
    been read: an interrupted load goes on from the last committed batch; a finished part is not read again."""
    key = part_key(path)
    done, finished = store.part(key)
    if finished:
        report.parts_already += 1
        return
    counts = {"loaded": 0, "skipped": 0, "malformed": 0}
    batch: list[tuple[str, str, str, dict[str, Any]]] = []
    position = done
    broke_off: str | None = None

    def commit(final: bool) -> None:
        with store.transaction():
            result = store.upsert(batch)
            counts["loaded"] += result.loaded
            counts["skipped"] += result.skipped
            store.set_part(key, position, final, counts)
        report.loaded += counts["loaded"]
        report.skipped += counts["skipped"]
        report.malformed += counts["malformed"]
        for name in counts:
            counts[name] = 0
        batch.clear()

    for position, work in entries(path, done, progress):
        if isinstance(work, _Broken):
            report.problem(f"{path.name}: {work.why}")
            counts["malformed"] += 1
            commit(False)  # what was read stands; a later load of the repaired part goes on after it
            return
        if isinstance(work, _Malformed):
            counts["malformed"] += 1
            report.problem(f"{path.name}: record {position}: {work.why}")
            if work.fatal:
                broke_off = work.why
                break
            continue
        batch.append(work)
        if len(batch) >= BATCH:
            commit(False)
    commit(True)
    if broke_off is None:
        report.parts += 1


def load(store: MirrorStore, paths: list[Path], progress: Callable[[Path, int], None] | None = None) -> LoadReport:
    """Every part into the store (see load_part), then the load time recorded."""
    report = LoadReport()
    for path in paths:
        load_part(store, path, report, functools.partial(progress, path) if progress else None)
    with store.transaction():
        store.set_meta({"loaded": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    return report
