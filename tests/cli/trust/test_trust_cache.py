"""The cache is the user's: a cache a pull request committed, a cache someone else wrote, an entry that lives
too long, was answered by another service, or is corrupt, never verifies a reference."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from trust_kit import User, run, warnings_of, write

from kratomref.check import cache_for
from kratomref.options import DAY, Options
from kratomref.services.cache import MAX_ENTRY_TTL, Cache
from kratomref.services.crossref import DOI_NAMESPACE, service_key

DOI = "10.5555/invented.2024.001"  # no agency registered it: a fabricated reference
BIB = f"""@article{{invented2024,
  author = {{Lindqvist, Maren}},
  title = {{An invented study of kratom}},
  journal = {{Journal of Things}},
  year = {{2024}},
  doi = {{{DOI}}},
}}
"""
RECORD = {"DOI": DOI, "title": ["An invented study of kratom"], "author": [{"family": "Lindqvist", "given": "Maren"}],
          "container-title": ["Journal of Things"], "issued": {"date-parts": [[2024]]}, "type": "journal-article"}


def plant(directory: Path, options: Options, *, ttl: float = 30 * DAY) -> None:
    """A Crossref record for the invented DOI, written as kratomref writes one, for the services `options`
    name (once without a service too: what a run records until check.py builds its cache for the options)."""
    key = f"{service_key(options.crossref_url, options.doi_url)}:{DOI}"
    value = {"status": "found", "record": RECORD, "agency": "Crossref"}
    for services in ({}, cache_for(options).services):
        store = Cache(directory, services=services)
        store.put(DOI_NAMESPACE, key, value, ttl)
        store.close()
    if ttl > MAX_ENTRY_TTL:  # what a hand-made cache can hold: an entry fresh for ever
        with sqlite3.connect(directory / "cache.sqlite3") as db:
            db.execute("UPDATE entries SET expires = stored + ?", (ttl,))
        db.close()


def verdict(result: Any) -> str:
    [reference] = json.loads(result.stdout)["references"]
    return str(reference["verdict"])


# --- the committed cache of issue 17 -------------------------------------------------------------------------


@pytest.fixture
def hostile(repo: Path) -> Path:
    """The pull request: a config that points the cache into the repository and keeps answers for ever, and a
    committed cache holding a Crossref record for the invented DOI."""
    write(repo / "kratomref.toml", 'cache-dir = ".kr-cache"\nttl-found = 1e12\n')
    write(repo / "refs.bib", BIB)
    plant(repo / ".kr-cache", Options())
    return repo


def test_a_committed_cache_does_not_verify_an_invented_doi_offline(hostile: Path) -> None:
    result = run("check", "--offline", "--format", "json", "refs.bib")
    assert verdict(result) == "unverified" and result.exit_code == 3, result.output
    ignored = " ".join(warnings_of(result))
    assert "ignoring cache-dir" in ignored and "ignoring ttl-found" in ignored and "kratomref.toml" in ignored
    # the planted record is well formed: the user pointing --cache-dir at it would believe it
    trusted = run("check", "--offline", "--format", "json", "--cache-dir", ".kr-cache", "refs.bib")
    assert verdict(trusted) == "verified", trusted.output
    assert any("inside the checked tree" in w for w in warnings_of(trusted))


def test_a_committed_cache_does_not_verify_an_invented_doi_online(hostile: Path, crossref: Any) -> None:
    plant(hostile / ".kr-cache", Options(crossref_url=crossref.url, doi_url=crossref.url))
    result = run("check", "--format", "json", "--doi-url", crossref.url, "refs.bib",
                 env={"KRATOMREF_CROSSREF_URL": crossref.url})
    assert crossref.count() > 0, "the answer came from the committed cache, not from Crossref"
    assert verdict(result) == "problem" and result.exit_code == 1, result.output
    assert "KR202" in result.stdout


def test_an_entry_that_never_expires_is_not_believed_even_from_the_users_cache(repo: Path) -> None:
    write(repo / "refs.bib", BIB)
    mine = repo.parent / "my-cache"
    plant(mine, Options(), ttl=1e12)
    result = run("check", "--offline", "--format", "json", "--cache-dir", str(mine), "refs.bib")
    assert verdict(result) == "unverified", "an entry fresh for longer than 90 days was believed"


# --- whose cache it is ---------------------------------------------------------------------------------------


def give_away(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make path belong to another user: chown it when root, else let this process be someone else."""
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    else:
        uid = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: uid + 1)


@pytest.mark.skipif(sys.platform == "win32", reason="no POSIX owners: the check is skipped on Windows")
@pytest.mark.parametrize("what", ["directory", "file"])
def test_a_cache_another_user_owns_is_not_trusted(
    repo: Path, user: User, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    write(repo / "refs.bib", BIB)
    plant(user.cache_dir, Options())
    assert verdict(run("check", "--offline", "--format", "json", "refs.bib")) == "verified"  # the user's own
    give_away(user.cache_dir if what == "directory" else user.cache_dir / "cache.sqlite3", monkeypatch)
    result = run("check", "--offline", "--format", "json", "refs.bib")
    assert verdict(result) == "unverified"
    assert "belongs to another user" in result.stderr and "not using the cache" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="no POSIX modes on Windows")
def test_a_cache_others_can_write_is_not_trusted(repo: Path, user: User) -> None:
    write(repo / "refs.bib", BIB)
    plant(user.cache_dir, Options())
    user.cache_dir.chmod(user.cache_dir.stat().st_mode | stat.S_IWOTH)
    result = run("check", "--offline", "--format", "json", "refs.bib")
    assert verdict(result) == "unverified"
    assert "writable by other users" in result.stderr
    assert "not trusted" in run("cache", "info", "--cache-dir", str(user.cache_dir)).stdout


def _share_with_a_group(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make path writable by a group that is not the user's own: chgrp to nogroup when root, else let this
    process's own group be another one."""
    path.chmod(path.stat().st_mode | stat.S_IWGRP)
    if os.geteuid() == 0:
        os.chown(path, -1, 65534)
    else:
        gid = os.getegid()
        monkeypatch.setattr(os, "getegid", lambda: gid + 1)


@pytest.mark.skipif(sys.platform == "win32", reason="no POSIX modes on Windows")
def test_a_cache_a_shared_group_can_write_is_not_trusted(
    repo: Path, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / "refs.bib", BIB)
    plant(user.cache_dir, Options())
    _share_with_a_group(user.cache_dir / "cache.sqlite3", monkeypatch)
    result = run("check", "--offline", "--format", "json", "refs.bib")
    assert verdict(result) == "unverified"
    assert "writable by the group" in result.stderr and "not using the cache" in result.stderr


def _private_group() -> bool:
    import grp
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid())
    return group.gr_name == me and set(group.gr_mem) <= {me}


@pytest.mark.skipif(sys.platform == "win32" or not _private_group(),
                    reason="needs a user-private primary group (the user's own, no other member)")
def test_a_cache_only_the_users_private_group_can_write_is_trusted(repo: Path, user: User) -> None:
    write(repo / "refs.bib", BIB)
    plant(user.cache_dir, Options())
    database = user.cache_dir / "cache.sqlite3"
    database.chmod(database.stat().st_mode | stat.S_IWGRP)
    assert verdict(run("check", "--offline", "--format", "json", "refs.bib")) == "verified"


@pytest.mark.skipif(sys.platform == "win32", reason="no POSIX modes on Windows")
def test_cache_files_made_under_a_group_writable_umask_are_the_users_alone(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        store = Cache(tmp_path / "new")
        store.put("links", "https://example.org/", {"status": "ok"}, 60)
        store.close()
    finally:
        os.umask(old)
    for path in (tmp_path / "new").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o022 == 0, path.name
    reopened = Cache(tmp_path / "new")
    assert reopened.get("links", "https://example.org/") == {"status": "ok"}, "and the next run trusts it"


def test_a_new_cache_directory_is_private_to_the_user(tmp_path: Path) -> None:
    store = Cache(tmp_path / "new")
    store.put("links", "https://example.org/", {"status": "ok"}, 60)
    store.close()
    if sys.platform != "win32":
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) & 0o077 == 0


# --- entries: service, lifetime, corruption ----------------------------------------------------------------


def test_an_entry_is_used_only_for_the_service_that_answered(tmp_path: Path) -> None:
    mirror = Options(crossref_url="http://127.0.0.1:9/mirror")
    store = cache_for(mirror, clock=lambda: 1000.0)
    store.put(DOI_NAMESPACE, "10.1/x", {"status": "found"}, 60)
    assert store.get(DOI_NAMESPACE, "10.1/x") == {"status": "found"}
    public = cache_for(Options(), clock=lambda: 1000.0)
    assert public.get(DOI_NAMESPACE, "10.1/x") is None, "an answer of another service was reused"
    for cache in (store, public):
        cache.close()


def test_a_ttl_is_bounded_whatever_the_caller_asks(tmp_path: Path) -> None:
    now = [1000.0]
    store = Cache(tmp_path, clock=lambda: now[0])
    store.put("crossref-doi", "k", {"status": "found"}, 1e12)
    now[0] += MAX_ENTRY_TTL - 1
    assert store.get("crossref-doi", "k") is not None
    now[0] += 2
    assert store.get("crossref-doi", "k") is None
    store.close()


CORRUPT = {
    "value that is not JSON": ("{not json", 1000.0, 2000.0),
    "expiry that is text": ('{"status": "found"}', 1000.0, "later"),
    "stored in the future": ('{"status": "found"}', 1e9, 1e9 + 60),
    "value that is a blob": (b"\x00\x01", 1000.0, 2000.0),
    "an entry that never expires": ('{"status": "found"}', 1000.0, float("inf")),
}


@pytest.mark.parametrize("row", CORRUPT.values(), ids=CORRUPT.keys())
def test_a_corrupt_entry_is_a_miss(tmp_path: Path, row: tuple[Any, Any, Any]) -> None:
    store = Cache(tmp_path, clock=lambda: 1500.0)
    store.put("crossref-doi", "other", {"status": "found"}, 60)  # creates the file
    with sqlite3.connect(tmp_path / "cache.sqlite3") as db:
        db.execute("INSERT INTO entries VALUES ('crossref-doi', '', 'k', ?, ?, ?)", row)
    db.close()
    assert store.get("crossref-doi", "k") is None
    assert store.get("crossref-doi", "other") == {"status": "found"}, "one bad entry turned the cache off"
    store.close()


def test_a_run_over_a_corrupt_entry_does_not_crash(repo: Path, user: User) -> None:
    write(repo / "refs.bib", BIB)
    plant(user.cache_dir, Options())
    with sqlite3.connect(user.cache_dir / "cache.sqlite3") as db:
        db.execute("UPDATE entries SET value = '{\"status\": '")
    db.close()
    result = run("check", "--offline", "--format", "json", "refs.bib")
    assert result.exit_code == 3 and verdict(result) == "unverified", result.output


def test_a_cache_of_the_first_schema_is_emptied_not_believed(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "cache.sqlite3") as db:  # version 1: entries say nothing of the service
        db.execute("CREATE TABLE entries (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
                   " stored REAL NOT NULL, expires REAL NOT NULL, PRIMARY KEY (namespace, key))")
        db.execute("INSERT INTO entries VALUES ('crossref-doi', 'k', '{\"status\": \"found\"}', ?, ?)",
                   (time.time(), time.time() + 60))
        db.execute("PRAGMA user_version=1")
    db.close()
    store = Cache(tmp_path)
    assert store.get("crossref-doi", "k") is None
    store.put("crossref-doi", "k", {"status": "found"}, 60)
    assert store.get("crossref-doi", "k") == {"status": "found"}
    store.close()
