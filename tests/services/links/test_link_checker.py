"""The link checker against a farm of real local servers: every class of answer gets its status, politely
(per-host limit), with the cache, the archive and the address policy doing what a user expects."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import local_server
import pytest
from link_farm import HTML, Farm, html
from servers import HttpServer, RawServer, Reply, Request, closed_port, reset_immediately

from kratomref.check import link_settings
from kratomref.model import LinkResult, LinkStatus, Location
from kratomref.options import Options
from kratomref.rules.links import judge_link
from kratomref.services.cache import Cache
from kratomref.services.links import LinkChecker

TIMEOUT = 0.5


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under .invalid fail at once without asking any DNS server (conftest clears the proxies)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def options(tmp_path: Path, **changes: Any) -> Options:
    settings: dict[str, Any] = {
        "timeout": TIMEOUT, "max_retries": 2, "allow_private": True, "archive": False,
        "host_interval": 0.0, "cache_dir": str(tmp_path / "cache"),
    }
    settings.update(changes)
    return Options(**settings)


def check(urls: list[str], tmp_path: Path, **changes: Any) -> dict[str, LinkResult]:
    opts = options(tmp_path, **changes)
    cache = Cache(opts.cache_dir, enabled=opts.use_cache)
    try:
        return LinkChecker(link_settings(opts), cache).check(urls, years={u: 2019 for u in urls})
    finally:
        cache.close()


CASES = {
    "a working page is ok and its title is read": ("/ok", LinkStatus.OK, None),
    "a 301 then 308 chain to another host is ok, permanent, and ends there": ("/moved", LinkStatus.OK, None),
    "a temporary redirect is ok and not permanent": ("/temporary", LinkStatus.OK, None),
    "a 404 is broken": ("/missing", LinkStatus.BROKEN, "404"),
    "a 410 is broken": ("/gone", LinkStatus.BROKEN, "410"),
    "a 500 that recovers on retry is ok": ("/flaky", LinkStatus.OK, None),
    "a 503 that persists after retries is broken": ("/down", LinkStatus.BROKEN, "503"),
    "a 429 with a short Retry-After is waited for": ("/busy", LinkStatus.OK, None),
    "a 429 asking for an hour is blocked, not broken": ("/busy-for-an-hour", LinkStatus.BLOCKED, "429"),
    "a 403 challenge page is blocked, not broken": ("/challenge", LinkStatus.BLOCKED, "challenge"),
    "a PDF whose server refuses HEAD is checked with GET": ("/report.pdf", LinkStatus.OK, None),
    "a 200 page that says not found is a soft 404": ("/soft", LinkStatus.OK, "not found"),
    "a redirect loop is unreachable": ("/loop", LinkStatus.UNREACHABLE, "loop"),
    "a server slower than the timeout is unreachable": ("/slow", LinkStatus.UNREACHABLE, "timed out"),
    "a large page is read only as far as its title": ("/big", LinkStatus.OK, None),
}


@pytest.fixture(scope="module")
def farm_results(farm: Farm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, LinkResult]:
    """Every case in one run, as a user's bibliography would be checked."""
    tmp = tmp_path_factory.mktemp("farm")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            mp.delenv(name, raising=False)
        return check([farm.url(path) for path, _, _ in CASES.values()], tmp, use_cache=False)


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_each_class_of_answer(name: str, farm: Farm, farm_results: dict[str, LinkResult]) -> None:
    path, status, words = CASES[name]
    result = farm_results[farm.url(path)]
    assert result.status is status, result
    if words:
        text = f"{result.reason} {result.title}".lower()
        assert words in text, result


def test_details_of_redirects_titles_and_soft_404s(farm: Farm, farm_results: dict[str, LinkResult]) -> None:
    moved = farm_results[farm.url("/moved")]
    assert moved.permanent_redirect and [h.status for h in moved.chain] == [301, 308, 200]
    assert moved.final_url == farm.other.url + "/reports/kratom"
    temporary = farm_results[farm.url("/temporary")]
    assert not temporary.permanent_redirect and temporary.final_url == farm.url("/ok")
    assert farm_results[farm.url("/ok")].title == "Kratom: a specific statement"
    assert farm_results[farm.url("/soft")].soft_404
    assert not farm_results[farm.url("/ok")].soft_404
    assert farm_results[farm.url("/big")].title == "A big page"
    assert farm.counts["GET /report.pdf"] >= 1 and farm.counts["HEAD /report.pdf"] >= 1


def test_a_connection_reset_is_unreachable(tmp_path: Path) -> None:
    with RawServer(reset_immediately) as server:
        url = server.url + "/paper"
        result = check([url], tmp_path, max_retries=0)[url]
    assert result.status is LinkStatus.UNREACHABLE and "reset" in (result.reason or ""), result


def test_an_unresolvable_name_is_unreachable_and_says_dns(tmp_path: Path) -> None:
    url = "https://kratom-study.invalid/report"
    result = check([url], tmp_path, allow_private=False)[url]
    assert result.status is LinkStatus.UNREACHABLE and "DNS" in (result.reason or ""), result


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://ftp.example.org/pub/kratom.txt", "ftp"),
        ("mailto:editor@example.org", "mailto"),
        ("www.fda.gov", "not a url"),
    ],
    ids=["an ftp link is not fetched", "a mailto link is not fetched", "a URL without a scheme is not a URL"],
)
def test_only_http_and_https_are_fetched(url: str, words: str, tmp_path: Path) -> None:
    result = check([url], tmp_path)[url]
    assert result.status is LinkStatus.UNSUPPORTED and words in (result.reason or "").lower(), result


def test_no_more_than_the_per_host_limit_is_in_flight(farm: Farm, tmp_path: Path) -> None:
    urls = [farm.url(f"/paced/{i}") for i in range(12)]
    started = time.monotonic()
    results = check(urls, tmp_path, use_cache=False, max_per_host=2, max_concurrency=8)
    elapsed = time.monotonic() - started
    assert all(r.status is LinkStatus.OK for r in results.values())
    assert farm.max_in_flight == 2
    assert elapsed >= 12 / 2 * 0.15 * 0.9  # six rounds of two


def test_results_are_cached_but_could_not_check_is_not(farm: Farm, tmp_path: Path) -> None:
    urls = [farm.url("/missing"), farm.url("/busy-for-an-hour")]
    check(urls, tmp_path)
    before = dict(farm.counts)
    again = check(urls, tmp_path)
    assert again[urls[0]].from_cache and again[urls[0]].status is LinkStatus.BROKEN
    assert not again[urls[1]].from_cache, "a blocked answer is asked again next time"
    assert farm.counts["GET /missing"] == before["GET /missing"]
    offline = check(urls, tmp_path, offline=True)
    assert offline[urls[0]].status is LinkStatus.BROKEN
    assert offline[urls[1]].status is LinkStatus.UNVERIFIED and "offline" in (offline[urls[1]].reason or "")


def test_accept_and_exclude(farm: Farm, tmp_path: Path) -> None:
    missing, ok = farm.url("/missing"), farm.url("/ok")
    accepted = check([missing], tmp_path, accept=(404,), use_cache=False)[missing]
    assert accepted.status is LinkStatus.OK
    before = farm.counts["GET /ok"]
    excluded = check([ok], tmp_path, exclude=(r"/ok$",), use_cache=False)[ok]
    assert excluded.status is LinkStatus.UNVERIFIED and "exclude" in (excluded.reason or "")
    assert farm.counts["GET /ok"] == before, "an excluded URL is not fetched"


def test_a_broken_link_gets_the_closest_archived_copy(farm: Farm, tmp_path: Path) -> None:
    def wayback(request: Request) -> Reply:
        snapshot = f"https://web.archive.org/web/{request.query['timestamp'][0]}0101000000/{request.query['url'][0]}"
        body = {"archived_snapshots": {"closest": {"available": True, "url": snapshot, "status": "200"}}}
        return Reply(200, json.dumps(body), {"Content-Type": "application/json"})

    with HttpServer(wayback) as archive:
        url = farm.url("/gone")
        result = check([url], tmp_path, archive=True, archive_url=archive.url)[url]
        assert archive.requests and archive.requests[0].path == "/wayback/available"
    assert result.status is LinkStatus.BROKEN
    assert result.archived == f"https://web.archive.org/web/20190101000000/{url}"


# --- safety -----------------------------------------------------------------------------------------


def test_a_name_resolving_to_loopback_is_refused_without_allow_private(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with HttpServer(lambda r: Reply(200, html("Intranet"), HTML)) as server:
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            return real("127.0.0.1" if host == "intranet.example.org" else host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        url = f"http://intranet.example.org:{server.port}/wiki"
        refused = check([url], tmp_path, allow_private=False)[url]
        assert refused.status is LinkStatus.UNVERIFIED and "private" in (refused.reason or ""), refused
        assert server.requests == []
        allowed = check([url], tmp_path, allow_private=True)[url]
        assert allowed.status is LinkStatus.OK and server.requests


def test_a_redirect_from_a_public_name_to_the_metadata_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The public site is reached through the environment's proxy (which resolves its name); its redirect
    to 169.254.169.254 is refused before anything is asked for it."""

    def proxy(request: Request) -> Reply:
        if "169.254.169.254" in request.target:
            return Reply(200, "AKIA-secret", {"Content-Type": "text/plain"})
        return Reply(301, "", {"Location": "http://169.254.169.254/latest/meta-data/"})

    with HttpServer(proxy) as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        monkeypatch.setenv("http_proxy", server.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        url = "http://www.public-site.example.com/kratom"
        result = check([url], tmp_path, allow_private=False)[url]
    assert [r.target for r in server.requests] == [url]
    assert result.status is LinkStatus.UNVERIFIED and "169.254.169.254" in (result.reason or ""), result


# --- regressions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "soft"),
    [("/form-404", False), ("/error-404", True), ("/soft", True)],
    ids=[
        "a document titled 'Form 404 instructions' is not a soft 404",
        "a 200 page titled 'Error 404' is a soft 404",
        "a 200 page titled 'Page not found' is a soft 404",
    ],
)
def test_a_soft_404_needs_a_not_found_context(path: str, soft: bool, farm: Farm, tmp_path: Path) -> None:
    url = farm.url(path)
    result = check([url], tmp_path, use_cache=False)[url]
    assert result.status is LinkStatus.OK
    assert result.soft_404 is soft, result


def test_transient_failures_are_checked_again_next_run(farm: Farm, tmp_path: Path) -> None:
    """A timeout, a refused connection or a 5xx may be gone in a minute: the next run asks again."""
    refused = f"http://127.0.0.1:{closed_port()}/report"
    urls = [farm.url("/down"), farm.url("/slow"), refused, farm.url("/missing")]
    first = check(urls, tmp_path, max_retries=0)
    assert [first[u].status for u in urls] == [LinkStatus.BROKEN, LinkStatus.UNREACHABLE, LinkStatus.UNREACHABLE,
                                               LinkStatus.BROKEN]
    before = dict(farm.counts)
    again = check(urls, tmp_path, max_retries=0)
    assert [again[u].from_cache for u in urls] == [False, False, False, True]
    assert farm.counts["GET /down"] == before["GET /down"] + 1
    assert farm.counts["GET /slow"] == before["GET /slow"] + 1
    assert farm.counts["GET /missing"] == before["GET /missing"], "a 404 is remembered for the links TTL"


def test_no_snapshot_in_the_archive_is_remembered_but_an_archive_error_is_not(farm: Farm, tmp_path: Path) -> None:
    def wayback(request: Request) -> Reply:
        if request.query["url"][0].endswith("/missing"):
            return Reply(500, "archive trouble")
        return Reply(200, json.dumps({"archived_snapshots": {}}), {"Content-Type": "application/json"})

    gone, missing = farm.url("/gone"), farm.url("/missing")
    with HttpServer(wayback) as archive:
        for _ in range(2):
            results = check([gone, missing], tmp_path, archive=True, archive_url=archive.url)
            assert results[gone].status is LinkStatus.BROKEN and results[gone].archived is None
        asked = [r.query["url"][0] for r in archive.requests]
    assert asked.count(gone) == 1, "'no snapshot' is cached with the links TTL"
    assert asked.count(missing) == 2, "an archive that failed is asked again"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


class _PlainAndTls(local_server.Server):
    """One port that speaks plain HTTP and, when the client starts a TLS handshake, HTTPS: so that the
    https:// form of an http://127.0.0.1:PORT link answers, as it does on a real site."""

    tls: ssl.SSLContext
    seen: list[tuple[str, str]]

    def finish_request(self, request: Any, client_address: Any) -> None:
        if request.recv(1, socket.MSG_PEEK) == b"\x16":
            request = self.tls.wrap_socket(request, server_side=True)
        self.RequestHandlerClass(request, client_address, self)


class _RefusesHead(local_server.Handler):
    protocol_version = "HTTP/1.0"
    server: _PlainAndTls

    def _scheme(self) -> str:
        return "https" if isinstance(self.connection, ssl.SSLSocket) else "http"

    def do_HEAD(self) -> None:
        self.server.seen.append((self._scheme(), "HEAD"))
        local_server.send_body(self, b"", content_type=None, status=405)

    def do_GET(self) -> None:
        self.server.seen.append((self._scheme(), "GET"))
        local_server.send_body(self, html("A specific statement").encode())


def test_https_is_suggested_when_the_https_site_refuses_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = _PlainAndTls(("127.0.0.1", 0), _RefusesHead)
    server.tls, server.seen = tls, []
    local_server.serve(server)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/statement"
        result = check([url], tmp_path, use_cache=False)[url]
    finally:
        local_server.stop(server)
    assert result.status is LinkStatus.OK, result
    assert ("https", "GET") in server.seen, server.seen
    assert result.https_works is True, "a site that refuses HEAD over https is asked with GET"
    finding = next(judge_link(url, result, Location("links.bib", 1, "statement")))
    assert finding.rule.code == "KR305" and finding.suggestion == "use https://" + url[len("http://"):]


SLOW_PAGE = 0.6  # seconds a /slow/ page takes to answer


class _RecordingHandler(local_server.Handler):
    """Answers every page (a redirect for /old/..., SLOW_PAGE seconds late under /slow/...), and notes which client
    connection asked and when."""

    protocol_version = "HTTP/1.1"
    server: _RecordingServer

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.connections.add(self.client_address)
            self.server.arrivals.append(time.monotonic())
        if self.path.startswith("/old/"):
            local_server.send_body(self, b"", content_type=None, status=301,
                                   headers={"Location": "/new/" + self.path.rsplit("/", 1)[-1]})
            return
        if self.path.startswith("/slow/"):
            time.sleep(SLOW_PAGE)
        local_server.send_body(self, html(f"Page {self.path}").encode())


class _RecordingServer(local_server.Server):
    request_queue_size = 256

    def finish_request(self, request: Any, client_address: Any) -> None:
        if request.recv(1, socket.MSG_PEEK) == b"\x16":
            return  # a TLS hello (the checker's https:// probe) on this plain-HTTP port: hang up, as servers do
        super().finish_request(request, client_address)

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.connections: set[Any] = set()
        self.arrivals: list[float] = []
        self.lock = threading.Lock()


def test_links_to_one_host_share_a_few_kept_alive_connections(tmp_path: Path) -> None:
    """Like a browser, the checker keeps connections open and reuses them (on the web each new one costs a
    round trip, and a TLS handshake): 30 links on a host, redirects included, over at most as many
    connections as it may have requests in flight there."""
    servers = [_RecordingServer() for _ in range(2)]
    for server in servers:
        local_server.serve(server)
    try:
        urls = [f"http://127.0.0.1:{s.server_address[1]}/{'old' if i % 3 == 0 else 'page'}/{i}"
                for i in range(30) for s in servers]
        results = check(urls, tmp_path, use_cache=False, max_per_host=2, max_concurrency=8)
        assert all(r.status is LinkStatus.OK for r in results.values()), results
        for server in servers:
            assert 1 <= len(server.connections) <= 2, len(server.connections)
    finally:
        for server in servers:
            local_server.stop(server)


@pytest.mark.real_clock  # the order of arrivals at two real servers, one slow
def test_a_slow_host_does_not_hold_up_the_links_of_other_hosts(tmp_path: Path) -> None:
    """With one request at a time per host, the workers serve the fast host while the slow one answers,
    instead of all queueing at the slow host's gate: every fast page is asked before the slow host's
    second page (which can only start once its first, SLOW_PAGE long, is done). Six slow pages are more than the
    four workers, so a checker whose workers queue at the slow host's gate leaves fast pages waiting; 0.6 s is
    long enough for eight fast pages in turn on a busy machine (at 0.3 s the last one came 10 ms late once)."""
    slow, fast = _RecordingServer(), _RecordingServer()
    for server in (slow, fast):
        local_server.serve(server)
    try:
        urls: list[str] = []
        for i in range(8):  # interleaved, as links in a document often are
            if i < 6:
                urls.append(f"http://127.0.0.1:{slow.server_address[1]}/slow/{i}")
            urls.append(f"http://127.0.0.1:{fast.server_address[1]}/fast/{i}")
        results = check(urls, tmp_path, use_cache=False, max_per_host=1, max_concurrency=4, timeout=5.0)
        assert all(r.status is LinkStatus.OK for r in results.values()), results
        assert len(fast.arrivals) == 8 and len(slow.arrivals) >= 6
        assert max(fast.arrivals) < sorted(slow.arrivals)[1], "a fast page waited behind the slow host"
    finally:
        for server in (slow, fast):
            local_server.stop(server)


class _SlowCache(Cache):
    """A cache on a slow disk: every look-up takes 0.1 s, and says when it was made."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.lookups: list[float] = []

    def get(self, namespace: str, key: str, *, service: str | None = None) -> Any | None:
        self.lookups.append(time.monotonic())
        time.sleep(0.1)
        return super().get(namespace, key, service=service)


def test_the_first_links_are_fetched_while_the_rest_are_looked_up_in_the_cache(tmp_path: Path) -> None:
    """The first link not in the cache is fetched at once, not after every link has been looked up: a slow
    cache (or a long list) does not hold up the requests."""
    server = _RecordingServer()
    local_server.serve(server)
    try:
        urls = [f"http://127.0.0.1:{server.server_address[1]}/page/{i}" for i in range(6)]
        opts = options(tmp_path, max_per_host=2, max_concurrency=4)
        cache = _SlowCache(tmp_path / "cache")
        try:
            results = LinkChecker(link_settings(opts), cache).check(urls)
        finally:
            cache.close()
        assert all(r.status is LinkStatus.OK for r in results.values()), results
        assert list(results) == urls
        assert len(server.arrivals) == len(urls) and len(cache.lookups) == len(urls)
        assert min(server.arrivals) < max(cache.lookups), "the first page was asked before the last look-up"
    finally:
        local_server.stop(server)
