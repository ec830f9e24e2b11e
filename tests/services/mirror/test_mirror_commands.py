"""`kratomref mirror load/info/update`: the commands a user runs, against a local Crossref with cursor paging."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import local_server
import pytest
from click.testing import CliRunner
from mirror_data import RECORDS, crossref_part, works

from kratomref.cli import main
from kratomref.services.mirror.store import MirrorStore

DOI = "10.1038/srep16696"


class IndexedCrossref(local_server.Server):
    """/works?filter=from-index-date:D&cursor=C&rows=N over its works, in `indexed` order, as Crossref pages."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.items = items
        self.asked: list[dict[str, list[str]]] = []
        self.failures = 0  # the next requests answered 503, as an overloaded Crossref does


class _Handler(local_server.Handler):
    server: IndexedCrossref

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.server.asked.append(query)
        if self.server.failures:
            self.server.failures -= 1
            local_server.send_body(self, b"", content_type=None, status=503)
            return
        since = query["filter"][0].removeprefix("from-index-date:")
        rows, cursor = int(query["rows"][0]), query["cursor"][0]
        wanted = sorted((i for i in self.server.items if i["indexed"]["date-time"][:10] >= since),
                        key=lambda i: i["indexed"]["date-time"])
        start = 0 if cursor == "*" else int(cursor)
        page = wanted[start:start + rows]
        body = json.dumps({"status": "ok", "message-type": "work-list", "message": {
            "items": page, "next-cursor": str(start + rows), "total-results": len(wanted)}}).encode()
        local_server.send_body(self, body, "application/json")


@pytest.fixture
def server() -> Iterator[IndexedCrossref]:
    fake = IndexedCrossref([])
    local_server.serve(fake)
    try:
        yield fake
    finally:
        local_server.stop(fake)


def test_load_then_info(tmp_path: Path) -> None:
    part = crossref_part(tmp_path / "0.json.gz", [*works(), "junk"])
    path = tmp_path / "m.sqlite3"
    result = CliRunner().invoke(main, ["mirror", "load", "--mirror", str(path), str(part)])
    assert result.exit_code == 0, result.output
    assert f"loaded {len(RECORDS)}, skipped 0, malformed 1" in result.output
    again = CliRunner().invoke(main, ["mirror", "load", "--mirror", str(path), str(part)])
    assert "loaded 0" in again.output and "1 parts were loaded before" in again.output
    info = CliRunner().invoke(main, ["mirror", "info", "--mirror", str(path)])
    assert info.exit_code == 0
    assert f"works: {len(RECORDS)} ({len(RECORDS)} crossref)" in info.output
    assert "newest record indexed: 2026-06-15" in info.output


def test_info_on_no_mirror_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["mirror", "info", "--mirror", str(tmp_path / "none.sqlite3")])
    assert result.exit_code == 2  # a user error, as everywhere in kratomref
    assert "no mirror there" in result.output


def test_update_brings_retractions_and_new_works_page_by_page(tmp_path: Path, server: IndexedCrossref) -> None:
    path = tmp_path / "m.sqlite3"
    with MirrorStore(path, create=True) as store:
        from kratomref.services.mirror.loader import load

        load(store, [crossref_part(tmp_path / "0.json.gz", works())])
    retracted = copy.deepcopy(RECORDS[DOI])
    retracted["indexed"] = {"date-time": "2026-07-01T10:00:00Z"}
    retracted["updated-by"] = [{"DOI": "10.1038/srep99999", "type": "retraction", "label": "Retraction"}]
    new = [copy.deepcopy(RECORDS[DOI]) for _ in range(3)]
    for n, item in enumerate(new):
        item.update(DOI=f"10.1038/new.{n}", indexed={"date-time": f"2026-07-0{n + 2}T00:00:00Z"})
    server.items = [*works(), retracted, *new]
    url = f"http://127.0.0.1:{server.server_address[1]}"
    runner = CliRunner()
    result = runner.invoke(main, ["mirror", "update", "--mirror", str(path), "--crossref-url", url])
    assert result.exit_code == 0, result.output
    # From the newest record's day (2026-06-15): the two records of that day are seen again and skipped.
    assert server.asked[0]["filter"] == ["from-index-date:2026-06-15"]
    assert "loaded 4, skipped 1" in result.output
    with MirrorStore(path) as store:
        assert store.get_many([DOI])[DOI]["updated-by"][0]["type"] == "retraction"
        assert len(store.get_many([f"10.1038/new.{n}" for n in range(3)])) == 3
        assert store.info()["updated"]


def test_update_pages_with_the_cursor(tmp_path: Path, server: IndexedCrossref) -> None:
    from kratomref.services.mirror.update import update

    server.items = works()
    with MirrorStore(tmp_path / "m.sqlite3", create=True) as store:
        report = update(store, f"http://127.0.0.1:{server.server_address[1]}", "2000-01-01",
                        rows=2)
        assert report.loaded == len(RECORDS)
        assert [q["cursor"][0] for q in server.asked] == ["*", "2", "4", "6"]
        assert store.info()["works"] == len(RECORDS)


def test_update_waits_out_an_overloaded_crossref_and_goes_on(
    tmp_path: Path, server: IndexedCrossref, fake_clock: Any
) -> None:
    """Two 503s, then the page: the update backs off (1 s, then 2 s, on the services' clock) and loads it."""
    from kratomref.services.mirror.update import update

    server.items = works()
    server.failures = 2
    before = fake_clock.monotonic() - time.monotonic()
    with MirrorStore(tmp_path / "m.sqlite3", create=True) as store:
        report = update(store, f"http://127.0.0.1:{server.server_address[1]}", "2000-01-01")
        assert report.loaded == len(RECORDS)
    assert len(server.asked) == 3
    assert fake_clock.monotonic() - time.monotonic() - before == pytest.approx(3.0, abs=0.01)
