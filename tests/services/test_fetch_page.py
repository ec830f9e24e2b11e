"""`kratomref check https://…`: the page is fetched under the link checker's policy (public addresses only
unless --allow-private, bounded size and time, the cache) and checked as a saved page; a page that cannot be
fetched is a clear error with exit 2. Every server here is a real one on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import local_server
import pytest
from click.testing import CliRunner

from kratomref import readers
from kratomref.check import cache_for, page_settings
from kratomref.cli import main
from kratomref.model import Document
from kratomref.options import Options
from kratomref.readers import html
from kratomref.services import pages_fetch
from kratomref.web import read_address as read_page_at

PAGE = (Path(__file__).parents[1] / "fixtures" / "web" / "wordpress-post.html").read_bytes()
Route = Callable[[BaseHTTPRequestHandler], None]


class Site:
    """A real HTTP server on 127.0.0.1 whose paths answer as the test says; it records each request."""

    def __init__(self, routes: dict[str, Route]) -> None:
        site = self
        self.routes = routes
        self.requests: list[tuple[str, str]] = []  # (path, User-Agent)

        class Handler(local_server.Handler):
            def do_GET(self) -> None:
                site.requests.append((self.path, self.headers.get("User-Agent", "")))
                route = site.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                else:
                    route(self)

        self.server = local_server.Server(("127.0.0.1", 0), Handler)
        self.thread = local_server.serve(self.server)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        local_server.stop(self.server)


def send(body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        local_server.send_body(handler, body, content_type, status)
    return route


def redirect(to: str) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        local_server.send_body(handler, b"", content_type=None, status=301, headers={"Location": to})
    return route


def drip(handler: BaseHTTPRequestHandler) -> None:
    """A page that never ends: a byte every 0.2 s."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    try:
        for _ in range(200):
            handler.wfile.write(b"<p>x</p>")
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site({
        "/article": send(PAGE),
        "/moved": redirect("/blog/article"),
        "/blog/article": send(PAGE.replace(b'href="https://www.fda.gov/news-events/kratom"', b'href="../kratom"')),
        "/data.json": send(b'{"a": 1}', "application/json"),
        "/gone": send(b"gone", status=410),
        "/big": send(b"<p>" + b"x" * (64 * 1024) + b"</p>"),
        "/drip": drip,
    })
    yield served
    served.close()


def options(tmp_path: Path, **changes: Any) -> Options:
    settings: dict[str, Any] = {"allow_private": True, "timeout": 1.0, "cache_dir": str(tmp_path / "cache")}
    settings.update(changes)
    return Options(**settings)


def read_address(url: str, options: Options) -> Document:
    """The page at url read as a run with `options` reads it: their page settings, and their cache."""
    cache = cache_for(options)
    try:
        return read_page_at(url, page_settings(options), cache)
    finally:
        cache.close()


def test_a_page_is_fetched_and_read_as_a_saved_page(site: Site, tmp_path: Path) -> None:
    url = site.url("/article")
    document = read_address(url, options(tmp_path))
    assert document.path == url and document.format == "html"
    assert [r.key for r in document.references] == ["ref-1", "ref-2"]
    assert {c.resolved_key for c in document.citations} == {"ref-1", "ref-2"}
    # the link checker's User-Agent, robots-friendly: it names kratomref and where to read about it
    assert "kratomref" in site.requests[0][1] and "+http" in site.requests[0][1]


def test_a_page_read_from_an_address_is_located_by_heading_and_paragraph(site: Site, tmp_path: Path) -> None:
    document = read_address(site.url("/article"), options(tmp_path))
    placeholder = next(line for line in document.body if "[CITATION NEEDED]" in line.text)
    assert html.where(document, placeholder.line) == "§ Is kratom safe?, paragraph 2"


def test_redirects_are_followed_and_relative_links_resolved_against_the_final_address(site: Site,
                                                                                      tmp_path: Path) -> None:
    document = read_address(site.url("/moved"), options(tmp_path))
    links = {url for _, url in document.body_links}
    assert site.url("/kratom") in links


def test_a_private_address_is_refused_without_allow_private(site: Site, tmp_path: Path) -> None:
    with pytest.raises(readers.InputError, match="private address refused"):
        read_address(site.url("/article"), options(tmp_path, allow_private=False))
    assert site.requests == []  # refused before any request


def test_a_copy_cached_with_allow_private_is_not_read_without_it(site: Site, tmp_path: Path) -> None:
    read_address(site.url("/article"), options(tmp_path))
    with pytest.raises(readers.InputError, match="private address refused"):
        read_address(site.url("/article"), options(tmp_path, allow_private=False))


@pytest.mark.parametrize(("path", "reason"), [
    ("/gone", "HTTP 410"),
    ("/missing", "HTTP 404"),
    ("/data.json", "application/json, not a web page"),
])
def test_a_page_that_cannot_be_fetched_is_a_clear_error(site: Site, tmp_path: Path, path: str, reason: str) -> None:
    with pytest.raises(readers.InputError, match=reason):
        read_address(site.url(path), options(tmp_path))


def test_size_and_time_are_bounded(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages_fetch, "MAX_PAGE_BYTES", 16 * 1024)
    with pytest.raises(readers.InputError, match="larger than"):
        read_address(site.url("/big"), options(tmp_path))
    started = time.monotonic()
    with pytest.raises(readers.InputError, match="took longer"):
        read_address(site.url("/drip"), options(tmp_path, timeout=0.5))
    assert time.monotonic() - started < 5  # three times --timeout, and one more read at most


def test_the_cache_serves_an_offline_run_and_an_offline_run_without_it_is_an_error(site: Site,
                                                                                   tmp_path: Path) -> None:
    url = site.url("/article")
    read_address(url, options(tmp_path))
    served = len(site.requests)
    offline = read_address(url, options(tmp_path, offline=True))
    assert len(offline.references) == 2 and len(site.requests) == served
    with pytest.raises(readers.InputError, match="offline, and the page is not in the cache"):
        read_address(site.url("/other"), options(tmp_path, offline=True))


def test_the_command_line_exits_2_on_a_page_it_cannot_fetch_and_checks_one_it_can(site: Site, tmp_path: Path) -> None:
    runner = CliRunner()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    failed = runner.invoke(main, ["check", "--allow-private", *cache, site.url("/gone")])
    assert failed.exit_code == 2
    assert "could not be fetched: HTTP 410" in failed.output
    refused = runner.invoke(main, ["check", "--no-cache", site.url("/article")])
    assert refused.exit_code == 2 and "private address refused" in refused.output
    read_address(site.url("/article"), options(tmp_path))  # cached: the run below asks no other service
    checked = runner.invoke(main, ["check", "--allow-private", "--offline", *cache, "--format", "json",
                                   site.url("/article")])
    assert checked.exit_code == 1, checked.output
    assert '"KR101"' in checked.output


def test_every_report_locates_a_finding_on_a_fetched_page_by_heading_and_paragraph(site: Site, tmp_path: Path) -> None:
    read_address(site.url("/article"), options(tmp_path))  # cached: the runs below read it offline
    common = ["check", "--allow-private", "--offline", "--cache-dir", str(tmp_path / "cache"), site.url("/article")]
    text = CliRunner().invoke(main, [*common, "--format", "text"]).output
    assert f"{site.url('/article')} (§ Is kratom safe?, paragraph 2): KR101" in text
    data = json.loads(CliRunner().invoke(main, [*common, "--format", "json"]).stdout)
    [placeholder] = [f for f in data["findings"] if f["code"] == "KR101"]
    assert placeholder["section"] == "§ Is kratom safe?, paragraph 2"
    assert isinstance(placeholder["line"], int), "the line of the fetched source stays beside it"


def test_a_saved_page_keeps_its_line_numbers(tmp_path: Path) -> None:
    saved = tmp_path / "article.html"
    saved.write_bytes(PAGE)
    data = json.loads(CliRunner().invoke(main, ["check", "--offline", "--no-cache", "--format", "json",
                                                str(saved)]).stdout)
    assert all("section" not in f for f in data["findings"])
