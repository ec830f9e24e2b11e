"""Links that misbehave: every URL gets the right category in bounded time and memory, and a document
cannot turn the checker against the machine it runs on (private addresses, metadata endpoints,
credentials)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers import (
    HttpServer,
    RawServer,
    Reply,
    Request,
    endless_body,
    garbage_instead_of_http,
    gzip_bomb,
    gzip_bomb_body,
    invalid_status_line,
    never_answer,
    reset_immediately,
    reset_mid_body,
)

pytest.importorskip("kratomref.services.links", reason="the link checker (issue 4) has not landed yet")

from kratomref.check import link_settings
from kratomref.model import LinkResult, LinkStatus
from kratomref.options import Options
from kratomref.services.cache import Cache

TIMEOUT = 0.5  # seconds; short so that a hang shows as a failure, not as a slow suite
WALL_BOUND = 10.0  # seconds per URL: a bound that catches a hang, not a benchmark
MEMORY_BOUND = 256 * 2**20  # peak RSS of a process that checked one hostile URL
BOMB_INFLATED = 4 * 2**30  # 4 GiB of zeros from about 4 MB on the wire
PAGE = "<html><head><title>A specific page</title></head><body><h1>A specific page</h1></body></html>"


def link_options(**changes: Any) -> Options:
    settings: dict[str, Any] = {
        "timeout": TIMEOUT,
        "max_retries": 1,
        "allow_private": True,
        "archive": False,
        "use_cache": False,
        "host_interval": 0.0,
    }
    settings.update(changes)
    return Options(**settings)


def check_one(url: str, tmp_path: Path, **changes: Any) -> LinkResult:
    from kratomref.services.links import LinkChecker

    options = link_options(cache_dir=str(tmp_path / "cache"), **changes)
    cache = Cache(options.cache_dir, enabled=options.use_cache)
    try:
        return LinkChecker(link_settings(options), cache).check([url])[url]
    finally:
        cache.close()


def page(request: Request) -> Reply:
    return Reply(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})


def redirects(request: Request) -> Reply:
    """/loop/a <-> /loop/b; /chain/N -> /chain/N-1 -> ... -> /chain/0 -> the page; odd Locations."""
    path = request.path
    if path == "/loop/a":
        return Reply(302, "", {"Location": "/loop/b"})
    if path == "/loop/b":
        return Reply(302, "", {"Location": "/loop/a"})
    if path == "/self":
        return Reply(301, "", {"Location": "/self"})
    if path.startswith("/chain/"):
        n = int(path.rsplit("/", 1)[1])
        return Reply(301, "", {"Location": f"/chain/{n - 1}" if n > 0 else "/page"})
    if path == "/bad-location":
        return Reply(301, "", {"Location": "http://[::1:bad/"})
    if path == "/no-location":
        return Reply(301, "")
    if path == "/to-file":
        return Reply(302, "", {"Location": "file:///etc/passwd"})
    if path == "/to-gopher":
        return Reply(302, "", {"Location": "gopher://127.0.0.1:70/"})
    return page(request)


@pytest.fixture(scope="module")
def redirect_server() -> Iterator[HttpServer]:
    with HttpServer(redirects) as server:
        yield server


@dataclass(frozen=True)
class Case:
    path: str
    expected: frozenset[LinkStatus]
    reason: tuple[str, ...] = ()  # one of these words appears in the reason


REDIRECT_CASES = {
    "a redirect loop is unreachable and says loop": Case(
        "/loop/a", frozenset({LinkStatus.UNREACHABLE}), ("loop",)
    ),
    "a page that redirects to itself is a loop": Case("/self", frozenset({LinkStatus.UNREACHABLE}), ("loop",)),
    "a chain of 50 redirects is too many": Case(
        "/chain/50", frozenset({LinkStatus.UNREACHABLE}), ("redirect",)
    ),
    "a chain of 5 redirects to a working page is fine": Case("/chain/4", frozenset({LinkStatus.OK})),
    "a Location header that is not a URL is not ok": Case(
        "/bad-location", frozenset({LinkStatus.BROKEN, LinkStatus.UNREACHABLE, LinkStatus.UNSUPPORTED})
    ),
    "a redirect without a Location header is not ok": Case(
        "/no-location", frozenset({LinkStatus.BROKEN, LinkStatus.UNREACHABLE, LinkStatus.UNSUPPORTED})
    ),
    "a redirect to a local file is never followed": Case(
        "/to-file", frozenset({LinkStatus.UNSUPPORTED, LinkStatus.UNREACHABLE, LinkStatus.BROKEN})
    ),
    "a redirect to another scheme is never followed": Case(
        "/to-gopher", frozenset({LinkStatus.UNSUPPORTED, LinkStatus.UNREACHABLE, LinkStatus.BROKEN})
    ),
}


@pytest.mark.parametrize("name", list(REDIRECT_CASES), ids=list(REDIRECT_CASES))
def test_redirects_that_go_wrong(name: str, redirect_server: HttpServer, tmp_path: Path) -> None:
    case = REDIRECT_CASES[name]
    url = redirect_server.url + case.path
    started = time.monotonic()
    result = check_one(url, tmp_path)
    assert time.monotonic() - started < WALL_BOUND
    assert result.status in case.expected, result
    if case.reason:
        assert result.reason and any(word in result.reason.lower() for word in case.reason), result.reason
    if result.status is LinkStatus.OK:
        assert result.final_url is not None and result.final_url.endswith("/page")
        assert len(result.chain) == 6  # five redirects and the page
    else:
        assert "root:" not in (result.title or "")


RAW_CASES: dict[str, tuple[Callable[..., None], frozenset[LinkStatus], tuple[str, ...]]] = {
    "a connection reset before any answer is unreachable": (
        reset_immediately, frozenset({LinkStatus.UNREACHABLE}), ()
    ),
    "a server that never answers times out": (
        never_answer, frozenset({LinkStatus.UNREACHABLE}), ("timeout", "timed out")
    ),
    "an invalid status line is unreachable": (invalid_status_line, frozenset({LinkStatus.UNREACHABLE}), ()),
    "an SSH banner instead of HTTP is unreachable": (
        garbage_instead_of_http, frozenset({LinkStatus.UNREACHABLE}), ()
    ),
    # The server did answer 200 before the connection dropped: either reading is defensible, but it is
    # never "broken" and never a crash.
    "a connection reset in the middle of the body is not broken": (
        reset_mid_body, frozenset({LinkStatus.OK, LinkStatus.UNREACHABLE}), ()
    ),
}


@pytest.mark.parametrize("name", list(RAW_CASES), ids=list(RAW_CASES))
def test_servers_that_break_http(name: str, tmp_path: Path) -> None:
    behaviour, expected, words = RAW_CASES[name]
    with RawServer(behaviour) as server:
        url = server.url + "/article"
        started = time.monotonic()
        result = check_one(url, tmp_path)
        elapsed = time.monotonic() - started
    assert elapsed < WALL_BOUND, f"{elapsed:.1f} s"
    assert result.status in expected, result
    if words:
        assert result.reason and any(w in result.reason.lower() for w in words), result.reason


def header_flood(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """`200 OK`, then one more header line every 0.2 s, for ever: each read is quick, the answer never ends."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    n = 0
    while not closing.wait(0.2):
        n += 1
        conn.sendall(f"X-Filler-{n}: {'x' * 20}\r\n".encode())


def dripping_body(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """A 200 page that arrives one byte every 0.05 s and never reaches the end of its title."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><head><title>")
    while not closing.wait(0.05):
        conn.sendall(b"x")


def test_a_header_flood_times_out_at_the_total_deadline(tmp_path: Path) -> None:
    with RawServer(header_flood) as server:
        url = server.url + "/article"
        started = time.monotonic()
        result = check_one(url, tmp_path, timeout=1.0)
        elapsed = time.monotonic() - started
        requests_made = len(server.heads)
    assert result.status is LinkStatus.UNREACHABLE, result
    assert result.reason == "timed out after 1 s", result.reason
    assert elapsed < 2.5, f"--timeout 1 took {elapsed:.1f} s"
    assert requests_made == 1, "a timeout is not retried"


def test_a_body_that_drips_is_cut_at_the_total_deadline(tmp_path: Path) -> None:
    with RawServer(dripping_body) as server:
        url = server.url + "/article"
        started = time.monotonic()
        result = check_one(url, tmp_path, timeout=1.0)
        elapsed = time.monotonic() - started
    assert result.status is LinkStatus.OK, result  # the server did answer 200
    assert elapsed < 2.5, f"--timeout 1 took {elapsed:.1f} s"


# --- bounded memory: checked in a child process that watches its own size ---------------------------

_CHILD = r"""
import json, os, resource, sys, threading, time

LIMIT = int(sys.argv[2])

def watchdog():
    page = os.sysconf("SC_PAGE_SIZE")
    while True:
        with open("/proc/self/statm") as statm:
            if int(statm.read().split()[1]) * page > LIMIT:
                os.write(2, b"memory bound exceeded\n")
                os._exit(99)
        time.sleep(0.01)

threading.Thread(target=watchdog, daemon=True).start()
from kratomref.options import Options
from kratomref.services.cache import Cache
from kratomref.services.links import LinkChecker
from kratomref.check import link_settings

url = sys.argv[1]
options = Options(timeout=float(sys.argv[3]), max_retries=1, allow_private=True, archive=False, use_cache=False)
started = time.monotonic()
result = LinkChecker(link_settings(options), Cache(enabled=False)).check([url])[url]
print(json.dumps({
    "status": result.status.value, "http_status": result.http_status, "reason": result.reason,
    "title": result.title, "seconds": time.monotonic() - started,
    # this process's own peak: ru_maxrss keeps the forking test worker's across exec
    "peak_rss": next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) * 1024,
}))
"""


def check_in_child(url: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(MEMORY_BOUND), str(TIMEOUT)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_an_endless_body_is_read_only_as_far_as_needed() -> None:
    with RawServer(endless_body) as server:
        result = check_in_child(server.url + "/stream")
    assert result["status"] == LinkStatus.OK.value, result
    assert result["seconds"] < WALL_BOUND
    assert result["peak_rss"] < MEMORY_BOUND


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb_body(BOMB_INFLATED)


def test_a_gzip_bomb_is_not_inflated_into_memory(bomb: bytes) -> None:
    assert len(bomb) < 8 * 2**20  # a few MB on the wire
    with RawServer(gzip_bomb(bomb)) as server:
        result = check_in_child(server.url + "/bomb.html")
    assert result["status"] == LinkStatus.OK.value, result
    assert result["seconds"] < WALL_BOUND
    assert result["peak_rss"] < MEMORY_BOUND


# --- private addresses: refused by default, before any byte is sent ----------------------------------


@pytest.fixture
def page_server() -> Iterator[HttpServer]:
    with HttpServer(page) as server:
        yield server


def _resolve_name_to(monkeypatch: pytest.MonkeyPatch, name: str, address: str) -> None:
    """Make `name` (and only it) resolve to `address`, as a hostile or split-horizon DNS would."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if host == name:
            host = address
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


PRIVATE_FORMS = {
    "loopback address": "http://127.0.0.1:{port}/page",
    "localhost by name": "http://localhost:{port}/page",
    "loopback as a decimal number": "http://2130706433:{port}/page",
    "loopback shortened to 127.1": "http://127.1:{port}/page",
    "the unspecified address 0.0.0.0": "http://0.0.0.0:{port}/page",
    "loopback as an IPv4-mapped IPv6 address": "http://[::ffff:127.0.0.1]:{port}/page",
    "a public-looking name that resolves to 127.0.0.1": "http://intranet.example.org:{port}/page",
}


@pytest.mark.parametrize("form", list(PRIVATE_FORMS), ids=list(PRIVATE_FORMS))
def test_a_private_address_is_refused_by_default(
    form: str, page_server: HttpServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _resolve_name_to(monkeypatch, "intranet.example.org", "127.0.0.1")
    url = PRIVATE_FORMS[form].format(port=page_server.port)
    result = check_one(url, tmp_path, allow_private=False)
    assert result.status is LinkStatus.UNVERIFIED, result
    assert result.reason, "a refused URL says why"
    assert page_server.requests == [], "a refused URL must not be fetched"


@pytest.mark.parametrize(
    "form", ["loopback address", "a public-looking name that resolves to 127.0.0.1"], ids=lambda f: f
)
def test_allow_private_lets_a_private_address_be_checked(
    form: str, page_server: HttpServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _resolve_name_to(monkeypatch, "intranet.example.org", "127.0.0.1")
    url = PRIVATE_FORMS[form].format(port=page_server.port)
    result = check_one(url, tmp_path, allow_private=True)
    assert result.status is LinkStatus.OK, result
    assert page_server.requests


def test_the_cloud_metadata_address_is_refused_without_a_request(tmp_path: Path) -> None:
    started = time.monotonic()
    result = check_one("http://169.254.169.254/latest/meta-data/", tmp_path, allow_private=False)
    assert result.status is LinkStatus.UNVERIFIED, result
    # Refused by policy, not by trying: a connection attempt to an unrouted address would take the timeout.
    assert time.monotonic() - started < TIMEOUT


METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def forward_proxy(request: Request) -> Reply:
    """A forward proxy in front of the internet: the public site redirects to the metadata endpoint."""
    if "169.254.169.254" in request.target:
        return Reply(200, "AKIAIOSFODNN7EXAMPLE", {"Content-Type": "text/plain"})
    return Reply(302, "", {"Location": METADATA})


def test_a_redirect_from_a_public_site_to_the_metadata_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Through a proxy the first hop is not resolved locally (the proxy resolves it), so only the
    redirect's literal link-local address can stop the checker: it must, before asking the proxy."""
    with HttpServer(forward_proxy) as proxy:
        for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        result = check_one("http://public-site.example.com/paper", tmp_path, allow_private=False)
    assert proxy.requests, "the public first hop is checked through the proxy"
    assert not any("169.254.169.254" in r.target for r in proxy.requests), "the metadata address was fetched"
    assert result.status is not LinkStatus.OK, result
    assert result.status in (LinkStatus.UNVERIFIED, LinkStatus.UNREACHABLE), result


# --- nothing of the machine's is sent: credentials, cookies -----------------------------------------


def cookie_jar(request: Request) -> Reply:
    if request.path == "/login":
        return Reply(302, "", {"Location": "/page", "Set-Cookie": "session=s3cr3t; Path=/"})
    return page(request)


def test_no_netrc_credentials_or_cookies_are_sent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with HttpServer(cookie_jar) as server:
        netrc = tmp_path / ".netrc"
        netrc.write_text("machine 127.0.0.1 login alice password hunter2\n", encoding="utf-8")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        monkeypatch.setenv("HOME", str(tmp_path))
        result = check_one(server.url + "/login", tmp_path)
    assert result.status is LinkStatus.OK, result
    assert server.requests
    for request in server.requests:
        names = {name.lower() for name in request.headers}
        assert "authorization" not in names, f"credentials from .netrc were sent to {request.target}"
        assert "cookie" not in names, f"a cookie was sent back to {request.target}"


# --- what a user sees: one run over a bibliography whose links misbehave -----------------------------


def test_a_run_over_misbehaving_links_judges_each_and_stays_bounded(
    redirect_server: HttpServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kratomref.check import check, exit_code

    with RawServer(never_answer) as silent, RawServer(invalid_status_line) as garbled:
        links = {
            "working": redirect_server.url + "/page",
            "looping": redirect_server.url + "/loop/a",
            "silent": silent.url + "/report.pdf",
            "garbled": garbled.url + "/statement",
        }
        bib = tmp_path / "links.bib"
        bib.write_text(
            "\n".join(
                f"@online{{{key},\n  author = {{{{World Health Organization}}}},\n"
                f"  title = {{Statement {key}}},\n  year = {{2024}},\n  url = {{{url}}}\n}}\n"
                for key, url in links.items()
            ),
            encoding="utf-8",
        )
        options = link_options(paths=(str(bib),), cache_dir=str(tmp_path / "cache"), use_cache=True)
        started = time.monotonic()
        report = check(options)
        elapsed = time.monotonic() - started

    assert elapsed < WALL_BOUND * len(links)
    by_key = {r.reference.key: r for r in report.results}
    found = {(f.location.key, f.rule.code) for f in report.findings}
    assert ("looping", "KR302") in found, found
    assert ("silent", "KR302") in found, found
    assert ("garbled", "KR302") in found, found
    assert not {code for key, code in found if key == "working"} & {"KR301", "KR302"}
    assert by_key["looping"].verdict.value == "problem"
    assert exit_code(report, options) == 1  # link-unreachable is an error
