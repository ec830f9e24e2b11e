"""The shared look-up cache: time to live, opting out, and two processes writing at once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from kratomref.services.cache import Cache


def test_a_fresh_entry_is_returned_and_an_expired_one_is_not(tmp_path: Path) -> None:
    now = [1000.0]
    cache = Cache(tmp_path, clock=lambda: now[0])
    cache.put("crossref-doi", "10.1/x", {"title": "A"}, ttl=60)
    assert cache.get("crossref-doi", "10.1/x") == {"title": "A"}
    now[0] += 61
    assert cache.get("crossref-doi", "10.1/x") is None


def test_namespaces_keep_keys_apart(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put("links", "k", 1, ttl=60)
    assert cache.get("crossref-doi", "k") is None


def test_a_disabled_cache_neither_reads_nor_writes(tmp_path: Path) -> None:
    Cache(tmp_path).put("links", "k", 1, ttl=60)
    off = Cache(tmp_path, enabled=False)
    assert off.get("links", "k") is None
    off.put("links", "other", 2, ttl=60)
    assert Cache(tmp_path).get("links", "other") is None


def test_zero_ttl_is_never_stored(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put("links", "error", {"status": "unverified"}, ttl=0)
    assert cache.get("links", "error") is None


def _writer(directory: str, start: int) -> None:
    cache = Cache(directory)
    for i in range(start, start + 200):
        cache.put_many("links", {f"u{i}": i}, ttl=60)
    cache.close()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), s)) for s in (0, 200)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = Cache(tmp_path)
    assert len(cache.get_many("links", [f"u{i}" for i in range(400)])) == 400
    assert cache.info()["namespaces"]["links"]["entries"] == 400


def test_a_corrupt_cache_file_turns_the_cache_off_with_one_warning(tmp_path: Path) -> None:
    import pytest

    from kratomref.services.cache import CacheWarning

    (tmp_path / "cache.sqlite3").write_bytes(b"garbage\n")
    cache = Cache(tmp_path)
    with pytest.warns(CacheWarning, match="not a kratomref cache") as caught:
        assert cache.get("links", "k") is None
        cache.put("links", "k", 1, ttl=60)
        cache.put_many("links", {"a": 1}, ttl=60)
    assert len(caught) == 1 and cache.problem is not None and not cache.enabled


def test_a_cache_directory_that_is_a_file_turns_the_cache_off(tmp_path: Path) -> None:
    import pytest

    from kratomref.services.cache import CacheWarning

    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.warns(CacheWarning, match="it is a file"):
        assert Cache(tmp_path / "file").get("links", "k") is None


def test_info_of_a_corrupt_cache_raises_and_clear_removes_it(tmp_path: Path) -> None:
    import pytest

    from kratomref.services.cache import CacheError

    (tmp_path / "cache.sqlite3").write_bytes(b"garbage\n")
    with pytest.raises(CacheError, match="not a kratomref cache"):
        Cache(tmp_path).info()
    assert Cache(tmp_path).clear() == 0
    assert not (tmp_path / "cache.sqlite3").exists()
    fresh = Cache(tmp_path)
    fresh.put("links", "k", 1, ttl=60)
    assert fresh.get("links", "k") == 1



def test_reading_a_cache_of_this_schema_writes_nothing_to_it(tmp_path: Path) -> None:
    """A run that only reads (an offline check answered from the cache) leaves the file as it was: the schema is
    not written again at every start, so there is no disk sync before the first answer."""
    writer = Cache(tmp_path)
    writer.put("links", "k", 1, ttl=60)
    writer.close()
    file, journal = tmp_path / "cache.sqlite3", tmp_path / "cache.sqlite3-wal"
    before = (file.read_bytes(), file.stat().st_mtime_ns)
    reader = Cache(tmp_path)
    assert reader.get("links", "k") == 1
    assert not journal.exists() or journal.stat().st_size == 0  # nothing written while the run goes on
    reader.close()
    assert (file.read_bytes(), file.stat().st_mtime_ns) == before
