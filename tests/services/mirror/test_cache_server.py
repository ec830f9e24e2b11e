"""The look-up cache on a team's PostgreSQL server (--cache-server): what one worker looked up, another does not
ask again; entries keep their lifetimes and services; a server that cannot be used never stops a check. A real
server, started by conftest.py, and a real local Crossref."""

from __future__ import annotations

import json
import socket
import sys
import warnings
from pathlib import Path
from typing import Any

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "crossref"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "faults"))
from crossref_server import RECORDS, FakeCrossref
from fake_crossref import bibtex_entry

from kratomref.cli import main
from kratomref.config import build_options, load_config
from kratomref.options import DAY
from kratomref.services.cache import MAX_ENTRY_TTL, CacheWarning
from kratomref.services.cache_server import ServerCache

PASSWORD = "s3cret-Pa55word"  # the password of the session's server (conftest.py); no output may show it
FOUND = sorted(RECORDS)[:3]
LINKS = "links"


def _bibliography(tmp_path: Path) -> Path:
    bib = tmp_path / "refs.bib"
    bib.write_text("".join(bibtex_entry(f"ref{n}", RECORDS[doi]) for n, doi in enumerate(FOUND)), encoding="utf-8")
    return bib


def _check(bib: Path, crossref: FakeCrossref, cache_dir: Path, *extra: str) -> dict[str, object]:
    result = CliRunner().invoke(main, [
        "check", str(bib), "--crossref-url", crossref.url, "--doi-url", crossref.url, "--mailto", "t@example.org",
        "--no-archive", "--cache-dir", str(cache_dir), "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_what_one_worker_looked_up_the_next_reads_from_the_server(
    postgres_server: Any, crossref: FakeCrossref, tmp_path: Path
) -> None:
    """Two CI workers, each with its own empty cache directory, share one server: the second asks Crossref
    nothing and gives the same report; neither writes a cache file of its own."""
    server = postgres_server.database()
    bib = _bibliography(tmp_path)
    first = _check(bib, crossref, tmp_path / "worker-1", "--cache-server", server)
    asked = crossref.count()
    assert asked > 0
    second = _check(bib, crossref, tmp_path / "worker-2", "--cache-server", server)
    assert crossref.count() == asked, "the second worker asked Crossref again"
    assert [r["verdict"] for r in second["references"]] == [r["verdict"] for r in first["references"]]  # type: ignore[index]
    assert {r["verdict"] for r in second["references"]} == {"verified"}  # type: ignore[index]
    assert not (tmp_path / "worker-1" / "cache.sqlite3").exists() and not (tmp_path / "worker-2").exists()
    # without the server, a worker's own empty directory: Crossref is asked again
    _check(bib, crossref, tmp_path / "worker-3")
    assert crossref.count() > asked


def test_entries_keep_their_lifetime_and_their_service(postgres_server: Any) -> None:
    url = postgres_server.database()
    now = [1_000_000.0]
    mirror = ServerCache(url, clock=lambda: now[0], services={LINKS: "http://127.0.0.1:9/a"})
    other = ServerCache(url, clock=lambda: now[0], services={LINKS: "http://127.0.0.1:9/b"})
    try:
        mirror.put_many(LINKS, {"https://example.org/x": {"status": "ok"}, "https://example.org/y": 1}, ttl=60)
        assert mirror.get_many(LINKS, ["https://example.org/x", "https://example.org/y", "absent"]) == {
            "https://example.org/x": {"status": "ok"}, "https://example.org/y": 1}
        assert other.get(LINKS, "https://example.org/x") is None, "an answer of another service was reused"
        now[0] += 61
        assert mirror.get(LINKS, "https://example.org/x") is None, "an expired entry was read"
        mirror.put(LINKS, "forever", "v", ttl=100 * 365 * DAY)  # no entry outlives MAX_ENTRY_TTL
        now[0] += MAX_ENTRY_TTL + 1
        assert mirror.get(LINKS, "forever") is None
    finally:
        mirror.close()
        other.close()


def test_a_server_that_cannot_be_used_turns_the_cache_off_once_without_showing_the_password(
    postgres_server: Any, crossref: FakeCrossref, tmp_path: Path
) -> None:
    closed = postgres_server.url("postgres").replace(f":{postgres_server.port}/", f":{_closed_port()}/")
    wrong = postgres_server.url("postgres", password="not-the-" + PASSWORD)
    for url in (closed, wrong):
        cache = ServerCache(url)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert cache.get(LINKS, "k") is None
            cache.put(LINKS, "k", 1, ttl=60)
            assert cache.get_many(LINKS, ["k"]) == {}
        messages = [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]
        assert len(messages) == 1, messages
        assert "going on without the cache" in messages[0] and PASSWORD not in messages[0]
        assert "127.0.0.1:" in messages[0]
    # the check goes on, live, and says why on stderr
    bib = _bibliography(tmp_path)
    result = CliRunner().invoke(main, [
        "check", str(bib), "--crossref-url", crossref.url, "--doi-url", crossref.url, "--no-archive",
        "--cache-server", wrong, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert {r["verdict"] for r in json.loads(result.stdout)["references"]} == {"verified"}
    assert "going on without the cache" in result.stderr and PASSWORD not in result.output + result.stderr


def test_cache_info_and_clear_work_on_the_server(postgres_server: Any, crossref: FakeCrossref,
                                                 tmp_path: Path) -> None:
    server = postgres_server.database()
    _check(_bibliography(tmp_path), crossref, tmp_path / "c", "--cache-server", server)
    info = CliRunner().invoke(main, ["cache", "info", "--cache-server", server])
    assert info.exit_code == 0, info.output
    assert PASSWORD not in info.output and "crossref-doi: 3 entries (0 expired)" in info.output
    cleared = CliRunner().invoke(main, ["cache", "clear", "--cache-server", server])
    assert cleared.exit_code == 0 and "removed" in cleared.output
    after = CliRunner().invoke(main, ["cache", "info", "--cache-server", server])
    assert "crossref-doi" not in after.output


def test_a_repository_config_cannot_choose_the_cache_server(tmp_path: Path) -> None:
    """A pull request's kratomref.toml could point every reviewer's check at a server that answers
    "verified" for anything: the setting is the user's alone."""
    (tmp_path / "kratomref.toml").write_text('cache-server = "postgresql://x@203.0.113.9/db"\n', encoding="utf-8")
    warned: list[str] = []
    options, provenance = build_options({}, load_config(tmp_path), {}, warn=warned.append)
    assert options.cache_server is None
    assert "ignored" in provenance["cache_server"]
    assert any(message.startswith("kratomref.toml: ignoring cache-server") for message in warned), warned
