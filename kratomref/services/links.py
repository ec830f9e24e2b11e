"""Live link checks: every URL fetched once, politely (a worker pool, a per-host limit and gap), redirects
followed by hand, bodies read only as far as the title, results cached.

What could not be checked (offline, refused by policy, a rate limit, a bot wall, our own network) comes
back as an UNVERIFIED or BLOCKED result with its reason, never as "broken" and never as an exception.
"""

from __future__ import annotations

import contextlib
import email.utils
import heapq
import html
import http.cookiejar
import itertools
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context

from kratomref import __version__
from kratomref.model import Hop, LinkResult, LinkStatus
from kratomref.options import Options
from kratomref.services import PROJECT_URL
from kratomref.services.archive import ArchiveAnswer, lookup_snapshot
from kratomref.services.cache import Cache
from kratomref.services.netpolicy import PRIVATE_REFUSED, AddressRefused, GuardedConnectionMixin, check_literal
from kratomref.services.stats import Counters
from kratomref.urls import normalise_url

LINKS_NAMESPACE = "links"
ARCHIVE_NAMESPACE = "wayback"
MAX_REDIRECTS = 10  # browsers give up after 20; a citation that needs more than 10 is not worth citing
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
PERMANENT_CODES = frozenset({301, 308})
# Answers that mean "the site will not let a robot check this", not "the page is gone": 401/407 need
# credentials, 403 is the usual bot wall, 429 a rate limit, 999 LinkedIn's robot refusal.
BLOCKED_CODES = frozenset({401, 403, 407, 429, 999})
BODY_PREFIX = 64 * 1024  # decoded bytes of a page read at most: the title and first headings are in it
MAX_WIRE_BYTES = 512 * 1024  # compressed bytes read at most for that prefix
READ_CHUNK = 16 * 1024
MAX_RETRY_AFTER = 30.0  # seconds: a longer Retry-After is not waited for; the link stays unverified
RETRY_BACKOFF = 0.25  # seconds before the first retry of a connection error or 5xx, doubled each time
HOST_POOLS = 64  # keep-alive connection pools kept per worker thread (one per host)
# Paths that name a file rather than a page: HEAD tells whether they exist without downloading them.
FILE_SUFFIXES = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".gz", ".tgz", ".tar", ".epub",
    ".mp3", ".mp4", ".avi", ".mov", ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".csv", ".xml", ".json",
)
DEFAULT_USER_AGENT = f"kratomref/{__version__} (reference checker; +{PROJECT_URL})"

# A 200 page whose title or main heading says the document is not there ("soft 404"). "404" on its own is
# a form number, a statute's section or a page of a book: it counts only with an error's words around it,
# or as the whole title ("404", "Error 404", "404 - Page").
_SOFT_404 = re.compile(
    r"\b(?:page not found|not found|page (?:can ?not|could not|couldn't) be found|no longer (?:available|exists)"
    r"|(?:does not|doesn't) exist|page unavailable|content unavailable|seite nicht gefunden"
    r"|p[aá]gina no encontrada|page introuvable|pagina non trovata)\b"
    r"|\b404\b.*\b(?:error|page|fehler|erreur)\b|\b(?:error|page|fehler|erreur)\b.*\b404\b"
    r"|^\W*(?:http\W*)?404\W*$",
    re.IGNORECASE,
)
MAX_SOFT_404_TITLE = 120  # characters: a long title that mentions "not found" is an article, not an error page
# Pages that challenge the visitor before showing the site (Cloudflare, Akamai, DDoS-Guard, Imperva...).
_CHALLENGE_TITLE = re.compile(
    r"just a moment|attention required|checking your browser|are you a (?:robot|human)|access denied"
    r"|captcha|ddos-guard|verify you are human|pardon our interruption|request rejected|bot verification",
    re.IGNORECASE,
)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(rb"<h1[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


# --- what one fetch learnt --------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP answer (after retries), or why there was none."""

    status: int | None = None
    location: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None
    heading: str | None = None
    # set when there was no usable answer
    failure: LinkStatus | None = None
    reason: str | None = None
    attempts: int = 1


@dataclass
class LinkStats(Counters):
    """What a checker did, for --verbose and the benchmark."""

    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    archive_lookups: int = 0
    max_in_flight_per_host: int = 0


class HostGate:
    """At most `per_host` requests in flight against one host, starts at least `interval` apart, and
    no start before a time the host asked for (Retry-After)."""

    def __init__(self, per_host: int, interval: float) -> None:
        self.per_host = max(1, per_host)
        self.interval = max(0.0, interval)
        self._cond = threading.Condition()
        self._in_flight: dict[str, int] = {}
        self._next_start: dict[str, float] = {}
        self.max_in_flight = 0

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._cond:
            while True:
                now = time.monotonic()
                busy = self._in_flight.get(host, 0) >= self.per_host
                wait = self._next_start.get(host, 0.0) - now
                if not busy and wait <= 0:
                    break
                self._cond.wait(None if busy else wait)
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight[host])
            self._next_start[host] = now + self.interval
        try:
            yield
        finally:
            with self._cond:
                self._in_flight[host] -= 1
                if not self._in_flight[host]:
                    del self._in_flight[host]
                self._cond.notify_all()

    def hold_off(self, host: str, seconds: float) -> None:
        with self._cond:
            self._next_start[host] = max(self._next_start.get(host, 0.0), time.monotonic() + seconds)
            self._cond.notify_all()


class _NoCookies(http.cookiejar.CookiePolicy):
    """Accept no cookie and send none: nothing a site sets is carried to another request or host."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


class _NoCredentials(requests.auth.AuthBase):
    """Set as the session's auth so that requests never reads ~/.netrc (trust_env would)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


# --- a total time limit per request -----------------------------------------------------------------


class DeadlineExceeded(TimeoutError):
    """A request's total time (connect, headers and body together) ran out. A socket timeout only bounds
    one read: a server that sends a header line, or a byte of body, just inside it would never time out."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class _Deadline:
    """One request's deadline. When it passes, the socket the request uses is shut down, which ends any
    read waiting on it at once."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.fired = False
        self.done = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.done:
                return
            self._sock = sock
            if self.fired:
                _shut_down(sock)

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.fired = True
            if self._sock is not None:
                _shut_down(self._sock)

    def cancel(self) -> None:
        with self._lock:
            self.done = True
            self._sock = None


def _shut_down(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSLSocket (whose own shutdown would unwrap it under the
    # reading thread's feet); an already closed socket has nothing left to cut.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread for every deadline of the process: a heap ordered by time."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> _Deadline:
        deadline = _Deadline(time.monotonic() + seconds)
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kratomref-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is deadline:
                self._cond.notify()
        return deadline

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].done):
                    heapq.heappop(self._heap)[2].fire()
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()  # .deadline: the deadline of the request this thread is making, if any


class _DeadlineConnectionMixin:
    """Hands the connection's socket to the current request's deadline before waiting for the answer."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline: _Deadline | None = getattr(_CURRENT, "deadline", None)
        if deadline is not None and self.sock is not None:
            deadline.watch(self.sock)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _TimedHTTPConnection(_DeadlineConnectionMixin, HTTPConnection):
    pass


class _TimedHTTPSConnection(_DeadlineConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnection(_DeadlineConnectionMixin, GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_DeadlineConnectionMixin, GuardedConnectionMixin, HTTPSConnection):
    pass


class _TimedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TimedHTTPConnection


class _TimedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TimedHTTPSConnection


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_POOLS: dict[bool, dict[str, type[HTTPConnectionPool]]] = {
    False: {"http": _TimedHTTPPool, "https": _TimedHTTPSPool},
    True: {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool},
}


_CONTEXTS: dict[str, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def _verifying_context(bundle: str) -> ssl.SSLContext:
    """One certificate-verifying TLS context per CA bundle (a file or a directory), shared by every
    connection that uses it."""
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(bundle)
        if context is None:
            context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
            if os.path.isdir(bundle):
                context.load_verify_locations(capath=bundle)
            else:
                context.load_verify_locations(cafile=bundle)
            _CONTEXTS[bundle] = context
        return context


class LinkAdapter(HTTPAdapter):
    """A requests adapter whose connections keep to the request's deadline; `guarded` ones also connect
    only to public addresses. Through a proxy the proxy resolves names (and may itself be on a private
    network): those connections keep to the deadline only."""

    def __init__(self, *, guarded: bool, **kwargs: Any) -> None:
        self.guarded = guarded
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS[self.guarded]

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if verify is not False and cert is None and host_params.get("scheme") == "https":
            # urllib3 would parse the whole CA bundle again for every new TLS connection (about 30 ms of
            # CPU each, under the GIL): one verifying context per bundle serves every connection instead.
            bundle = verify if isinstance(verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            pool_kwargs["ssl_context"] = _verifying_context(bundle)
        return dict(host_params), dict(pool_kwargs)

    def cert_verify(self, conn: Any, url: str, verify: bool | str, cert: Any) -> None:
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
        if getattr(conn, "conn_kw", {}).get("ssl_context") in _CONTEXTS.values():
            conn.ca_certs = conn.ca_cert_dir = None  # already in the shared context

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, urllib3.ProxyManager):
            manager.pool_classes_by_scheme = _POOLS[False]
        return manager


# --- helpers: pure ----------------------------------------------------------------------------------


def host_key(url: str) -> str:
    """What the per-host limit counts: host and port (two ports are two servers)."""
    parts = urllib.parse.urlsplit(url)
    return (parts.netloc.rpartition("@")[2] or parts.netloc).lower()


def looks_like_file(url: str) -> bool:
    path = urllib.parse.urlsplit(url).path.lower()
    return path.endswith(FILE_SUFFIXES)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _clean(fragment: bytes, charset: str) -> str | None:
    text = html.unescape(_TAGS.sub(" ", fragment.decode(charset, errors="replace")))
    text = " ".join(text.split())
    return text[:300] or None


def page_text(body: bytes, content_type: str) -> tuple[str | None, str | None]:
    """The <title> and first <h1> of an HTML prefix, decoded."""
    charset = "utf-8"
    declared = re.search(r"charset=([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    meta = _META_CHARSET.search(body[:4096])
    for candidate in (declared.group(1) if declared else None, meta.group(1).decode("ascii") if meta else None):
        if candidate:
            try:
                "".encode(candidate)
            except LookupError:
                continue
            charset = candidate
            break
    title = _TITLE.search(body)
    heading = _H1.search(body)
    return (_clean(title.group(1), charset) if title else None, _clean(heading.group(1), charset) if heading else None)


def is_soft_404(title: str | None, heading: str | None) -> bool:
    return any(t and len(t) <= MAX_SOFT_404_TITLE and _SOFT_404.search(t) for t in (title, heading))


def is_challenge(status: int | None, headers: Mapping[str, str], title: str | None) -> bool:
    """A bot wall: Cloudflare's cf-mitigated header, or a challenge page's title."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("cf-mitigated", "").lower() == "challenge":
        return True
    if title and _CHALLENGE_TITLE.search(title):
        return True
    return status in (403, 503) and "cloudflare" in lowered.get("server", "").lower() and "cf-ray" in lowered


class _Inflater:
    """gzip/deflate decoding with a bound on output per call (a gzip bomb never inflates past it)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._d: Any = zlib.decompressobj(self._wbits) if encoding else None
        self._raw_deflate_tried = False

    def feed(self, data: bytes, limit: int) -> bytes:
        if self._d is None:
            return data[:limit]
        out = b""
        while data and len(out) < limit:
            try:
                out += self._d.decompress(data, limit - len(out))
            except zlib.error:
                if self.encoding == "deflate" and not self._raw_deflate_tried and not out:
                    self._raw_deflate_tried = True  # some servers send raw deflate without the zlib header
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                break
            if self._d.eof and self._d.unused_data:  # another gzip member follows (RFC 1952, 2.2)
                data = self._d.unused_data
                self._d = zlib.decompressobj(self._wbits)
            else:
                break
        return out


def _cause_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__, *[a for a in current.args if isinstance(a, BaseException)]):
            if nxt is not None:
                stack.append(nxt)
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)


def describe_failure(exc: BaseException, timeout: float) -> tuple[LinkStatus, str, bool]:
    """(status, reason in words, worth a retry) for an exception raised while fetching."""
    chain = list(_cause_chain(exc))
    if any(isinstance(e, DeadlineExceeded) for e in chain):
        return LinkStatus.UNREACHABLE, f"timed out after {timeout:g} s", False
    for e in chain:
        if isinstance(e, AddressRefused):
            return LinkStatus.UNVERIFIED, f"{PRIVATE_REFUSED}: {e.address}", False
    if isinstance(exc, requests.exceptions.ProxyError) or any(
        isinstance(e, urllib3.exceptions.ProxyError) for e in chain
    ):
        return LinkStatus.UNVERIFIED, "the proxy failed: not checked", True
    for e in chain:
        if isinstance(e, socket.gaierror):
            if e.errno in (socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", -11)):
                return LinkStatus.UNVERIFIED, "DNS is not answering here (temporary failure): not checked", True
            return LinkStatus.UNREACHABLE, "DNS failure: the host name does not resolve", False
        if isinstance(e, urllib3.exceptions.NameResolutionError):
            return LinkStatus.UNREACHABLE, "DNS failure: the host name does not resolve", False
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return LinkStatus.UNREACHABLE, f"timed out after {timeout:g} s: no connection", True
    if isinstance(exc, requests.exceptions.Timeout) or any(isinstance(e, TimeoutError) for e in chain):
        return LinkStatus.UNREACHABLE, f"timed out after {timeout:g} s", False
    if isinstance(exc, requests.exceptions.SSLError):
        detail = str(exc).split("SSLError(", 1)[-1][:120]
        return LinkStatus.UNREACHABLE, f"TLS failure: {detail}", False
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                        requests.exceptions.MissingSchema, urllib3.exceptions.LocationParseError)):
        return LinkStatus.UNSUPPORTED, f"not a URL that can be fetched: {exc}", False
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return LinkStatus.UNREACHABLE, "connection refused", True
        if isinstance(e, ConnectionResetError):
            return LinkStatus.UNREACHABLE, "connection reset by the server", True
        if isinstance(e, OSError) and e.errno in (101, 113):  # ENETUNREACH, EHOSTUNREACH
            if e.errno == 101:
                return LinkStatus.UNVERIFIED, "no network route from here: not checked", True
            return LinkStatus.UNREACHABLE, "host unreachable", True
    for e in chain:
        name = type(e).__name__
        if name in ("BadStatusLine", "LineTooLong", "UnknownProtocol", "InvalidHeader"):
            return LinkStatus.UNREACHABLE, "the server's answer is not valid HTTP", True
        if name == "RemoteDisconnected":
            return LinkStatus.UNREACHABLE, "the server closed the connection without answering", True
    if isinstance(exc, requests.exceptions.ConnectionError):
        return LinkStatus.UNREACHABLE, "connection failed", True
    return LinkStatus.UNVERIFIED, f"could not check: {type(exc).__name__}", False


def to_cache(result: LinkResult) -> dict[str, Any]:
    data = asdict(result)
    data["status"] = result.status.value
    data.pop("from_cache", None)
    data.pop("archived", None)  # archive look-ups have their own entries
    return data


def from_cache(data: Mapping[str, Any]) -> LinkResult | None:
    try:
        return LinkResult(
            url=str(data["url"]),
            status=LinkStatus(data["status"]),
            http_status=data.get("http_status"),
            final_url=data.get("final_url"),
            chain=tuple(Hop(str(h["url"]), int(h["status"])) for h in data.get("chain") or ()),
            permanent_redirect=bool(data.get("permanent_redirect")),
            title=data.get("title"),
            soft_404=bool(data.get("soft_404")),
            https_works=data.get("https_works"),
            reason=data.get("reason"),
            from_cache=True,
        )
    except (KeyError, ValueError, TypeError):
        return None


def worth_caching(result: LinkResult) -> bool:
    """Answers that will still hold tomorrow. Could-not-check results (blocked, unverified) are never
    cached, nor failures that may be gone in a minute (a timeout, a refused or reset connection, a DNS or
    TLS failure, a 5xx): the next run asks again, as lychee does."""
    if result.status in (LinkStatus.OK, LinkStatus.UNSUPPORTED):
        return True
    if result.status is LinkStatus.BROKEN:
        return (result.http_status or 0) < 500
    if result.status is LinkStatus.UNREACHABLE:
        # With a status, the server's own answers made it unreachable (a redirect loop, too many
        # redirects, an invalid status code): that is what it will answer tomorrow too.
        return result.http_status is not None
    return False


# --- the checker ------------------------------------------------------------------------------------


class LinkChecker:
    """Checks URLs concurrently; `check` returns one LinkResult per URL, keyed by the URL as given."""

    def __init__(self, options: Options, cache: Cache) -> None:
        self.options = options
        self.cache = cache
        self.timeout = max(0.05, options.timeout)
        self.gate = HostGate(options.max_per_host, options.host_interval)
        self.stats = LinkStats()
        self.user_agent = options.user_agent or DEFAULT_USER_AGENT
        self._exclude = [self._compile(p) for p in options.exclude]
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._no_https: set[str] = set()  # hosts whose https:// form did not answer at all

    @staticmethod
    def _compile(pattern: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern)
        except re.error:
            return re.compile(re.escape(pattern))  # not a regular expression: taken literally

    # -- sessions --

    def _session(self, guarded: bool) -> requests.Session:
        """This thread's keep-alive session; `guarded` ones only connect to public addresses."""
        attr = "guarded" if guarded else "plain"
        session: requests.Session | None = getattr(self._local, attr, None)
        if session is None:
            session = requests.Session()
            session.trust_env = True  # proxy and CA bundle variables, as curl and pip honour them
            session.auth = _NoCredentials()
            session.cookies.set_policy(_NoCookies())
            session.headers.clear()
            session.headers.update({
                "User-Agent": self.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
                "Accept-Language": "en;q=0.9, *;q=0.5",
            })
            ca_file = os.environ.get("SSL_CERT_FILE")
            if ca_file and os.path.isfile(ca_file):
                session.verify = ca_file  # REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE still take precedence
            adapter = LinkAdapter(guarded=guarded, pool_connections=HOST_POOLS, pool_maxsize=1, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            setattr(self._local, attr, session)
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    # -- public --

    def check(self, urls: list[str], years: Mapping[str, str | int] | None = None) -> dict[str, LinkResult]:
        years = years or {}
        results: dict[str, LinkResult] = {}
        todo: OrderedDict[str, list[str]] = OrderedDict()  # URL to fetch -> URLs as given
        year_of: dict[str, str | None] = {}
        archive_todo: dict[str, LinkResult] = {}  # cached broken links whose archived copy is not cached
        seen: set[str] = set()
        for url in urls:
            if url in seen:
                continue
            seen.add(url)
            early = self.precheck(url)
            if early is not None:
                results[url] = early
                continue
            target = normalise_url(url)
            hit = self._cached(target, years.get(url))
            if hit is not None:
                cached, archive_known = hit
                self.stats.add(cache_hits=1)
                results[url] = cached
                if not archive_known and self._wants_archive(cached):
                    archive_todo[url] = cached
                    year_of.setdefault(target, str(years[url]) if years.get(url) else None)
                continue
            if self.options.offline:
                results[url] = LinkResult(target, LinkStatus.UNVERIFIED, reason="offline, and not in the cache")
                continue
            todo.setdefault(target, []).append(url)
            year = years.get(url)
            year_of.setdefault(target, str(year) if year else None)
        if todo or archive_todo:
            fetched, archived = self._run(_by_host_round_robin(list(todo)), year_of, archive_todo)
            for target, result in fetched.items():
                for url in todo[target]:
                    results[url] = result
            results.update(archived)
        return {url: results[url] for url in dict.fromkeys(urls)}

    def precheck(self, url: str) -> LinkResult | None:
        """A result without any request: not http(s), malformed, excluded or a refused literal address."""
        text = url.strip()
        scheme, sep, _ = text.partition("://")
        if not sep:
            match = _SCHEME.match(text)
            if match and not text[match.end():].startswith("//") and "." not in match.group(0):
                name = match.group(0)[:-1].lower()
                reason = f"{name}: links are not checked (only http and https)"
                return LinkResult(text, LinkStatus.UNSUPPORTED, reason=reason)
            return LinkResult(text, LinkStatus.UNSUPPORTED, reason="not a URL: no scheme (write https://...)")
        if scheme.lower() not in ("http", "https"):
            return LinkResult(text, LinkStatus.UNSUPPORTED,
                              reason=f"{scheme.lower()}:// links are not checked (only http and https)")
        target = normalise_url(text)
        try:
            parts = urllib.parse.urlsplit(target)
            host = parts.hostname
            _ = parts.port
        except ValueError as exc:
            return LinkResult(target, LinkStatus.UNSUPPORTED, reason=f"not a URL: {exc}")
        if not host:
            return LinkResult(target, LinkStatus.UNSUPPORTED, reason="not a URL: no host name")
        for pattern in self._exclude:
            if pattern.search(text) or pattern.search(target):
                return LinkResult(target, LinkStatus.UNVERIFIED, reason=f"excluded by --exclude {pattern.pattern!r}")
        try:
            check_literal(host, allow_private=self.options.allow_private)
        except AddressRefused as exc:
            return LinkResult(target, LinkStatus.UNVERIFIED, reason=f"{PRIVATE_REFUSED}: {exc.address}")
        return None

    # -- cache --

    def _cache_key(self, target: str) -> str:
        # A result fetched with --allow-private is not one a run without it may reuse.
        return f"{target}|private" if self.options.allow_private else target

    def _cached(self, target: str, year: str | int | None) -> tuple[LinkResult, bool] | None:
        """The cached result as this run judges it (--accept applies now, not when it was stored), and
        whether the archive's answer for it is cached too."""
        if not self.options.use_cache:
            return None
        data = self.cache.get(LINKS_NAMESPACE, self._cache_key(target))
        result = from_cache(data) if isinstance(data, dict) else None
        if result is None:
            return None
        result = self._accepted(result)
        archive_known = False
        if result.status in (LinkStatus.BROKEN, LinkStatus.UNREACHABLE) and self.options.archive:
            answer = self._cached_snapshot(target, year)
            archive_known = answer.answered
            result = replace(result, archived=answer.snapshot)
        return result, archive_known

    def _archive_key(self, target: str, year: str | int | None) -> str:
        return f"{target}|{year or ''}"

    def _cached_snapshot(self, target: str, year: str | int | None) -> ArchiveAnswer:
        if not self.options.use_cache:
            return ArchiveAnswer(answered=False)
        data = self.cache.get(ARCHIVE_NAMESPACE, self._archive_key(target, year))
        if isinstance(data, str):  # a snapshot, as earlier versions stored it
            return ArchiveAnswer(answered=True, snapshot=data)
        if isinstance(data, dict) and "snapshot" in data:
            snapshot = data["snapshot"]
            return ArchiveAnswer(answered=True, snapshot=snapshot if isinstance(snapshot, str) else None)
        return ArchiveAnswer(answered=False)

    def _wants_archive(self, result: LinkResult) -> bool:
        return (
            self.options.archive and not self.options.offline and result.archived is None
            and result.status in (LinkStatus.BROKEN, LinkStatus.UNREACHABLE)
        )

    def _accepted(self, result: LinkResult) -> LinkResult:
        if result.http_status in self.options.accept and result.status is not LinkStatus.OK:
            return replace(result, status=LinkStatus.OK, reason=f"HTTP {result.http_status} accepted (--accept)")
        return result

    # -- running --

    def _run(
        self, targets: list[str], years: Mapping[str, str | None], archive_todo: Mapping[str, LinkResult]
    ) -> tuple[dict[str, LinkResult], dict[str, LinkResult]]:
        results: dict[str, LinkResult] = {}
        archived: dict[str, LinkResult] = {}
        workers = max(1, min(self.options.max_concurrency, len(targets) + len(archive_todo)))
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kratomref-link")
        try:
            futures = {target: executor.submit(self._check_safely, target, years.get(target)) for target in targets}
            lookups = {
                url: executor.submit(self._archived, cached.url, years.get(cached.url))
                for url, cached in archive_todo.items()
            }
            for target, future in futures.items():
                results[target] = future.result()
            for url, lookup in lookups.items():
                archived[url] = replace(archive_todo[url], archived=lookup.result())
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            self.close()
            raise
        executor.shutdown(wait=True)
        self.close()
        self.stats.max_in_flight_per_host = max(self.stats.max_in_flight_per_host, self.gate.max_in_flight)
        return results, archived

    def _check_safely(self, target: str, year: str | None) -> LinkResult:
        try:
            result = self._check_one(target, year)
        except Exception as exc:  # a bug or an exotic failure must not cost the rest of the run
            return LinkResult(target, LinkStatus.UNVERIFIED, reason=f"could not check: {type(exc).__name__}: {exc}")
        return result

    def _check_one(self, target: str, year: str | None) -> LinkResult:
        found = self._follow(target)
        if (
            self._accepted(found).status is LinkStatus.OK
            and target.lower().startswith("http://")
            and (found.final_url or target).lower().startswith("http://")
        ):
            found = replace(found, https_works=self._https_works(target))
        # The answer as the site gave it is cached; --accept is applied on the way out (and again on
        # every read of the cache), so a run without it never reuses what only --accept let through.
        if worth_caching(found) and self.options.use_cache:
            self.cache.put(LINKS_NAMESPACE, self._cache_key(target), to_cache(found), self.options.ttl_links)
        result = self._accepted(found)
        if result.status in (LinkStatus.BROKEN, LinkStatus.UNREACHABLE) and self.options.archive:
            result = replace(result, archived=self._archived(target, year))
        return result

    def _follow(self, url: str) -> LinkResult:
        """Fetch `url` and follow its redirects by hand, checking every hop against the policy."""
        chain: list[Hop] = []
        seen = {_without_fragment(url)}
        current = url
        method = "HEAD" if looks_like_file(url) else "GET"
        for hop in range(MAX_REDIRECTS + 1):
            answer = self._fetch(current, method)
            if answer.failure is not None:
                return LinkResult(url, answer.failure, http_status=answer.status, final_url=current,
                                  chain=tuple(chain), reason=answer.reason)
            assert answer.status is not None
            chain.append(Hop(current, answer.status))
            if answer.status not in REDIRECT_CODES:
                return self._final(url, current, chain, answer)
            if not answer.location:
                return LinkResult(url, LinkStatus.BROKEN, answer.status, current, tuple(chain),
                                  reason=f"HTTP {answer.status} redirect without a Location header")
            try:
                nxt = urllib.parse.urljoin(current, answer.location.strip())
                parts = urllib.parse.urlsplit(nxt)
                _ = parts.port
            except ValueError:
                return LinkResult(url, LinkStatus.BROKEN, answer.status, current, tuple(chain),
                                  reason=f"HTTP {answer.status} redirect to an invalid Location: "
                                  f"{answer.location[:100]!r}")
            if parts.scheme.lower() not in ("http", "https"):
                return LinkResult(url, LinkStatus.UNSUPPORTED, answer.status, current, tuple(chain),
                                  reason=f"redirects to a {parts.scheme or 'relative'}: address, which is not followed")
            if not parts.hostname:
                return LinkResult(url, LinkStatus.BROKEN, answer.status, current, tuple(chain),
                                  reason="redirect to a Location without a host")
            try:
                check_literal(parts.hostname, allow_private=self.options.allow_private)
            except AddressRefused as exc:
                return LinkResult(url, LinkStatus.UNVERIFIED, answer.status, current, tuple(chain),
                                  reason=f"redirects to {exc.address}: {PRIVATE_REFUSED}")
            nxt = normalise_url(nxt)
            key = _without_fragment(nxt)
            if key in seen:
                return LinkResult(url, LinkStatus.UNREACHABLE, answer.status, nxt, tuple(chain),
                                  reason=f"redirect loop: {current} -> {nxt}")
            if hop == MAX_REDIRECTS:
                break
            seen.add(key)
            current = nxt
            if answer.status == 303:
                method = "GET"
        return LinkResult(url, LinkStatus.UNREACHABLE, chain[-1].status, current, tuple(chain),
                          reason=f"too many redirects (more than {MAX_REDIRECTS})")

    def _final(self, url: str, final: str, chain: list[Hop], answer: Answer) -> LinkResult:
        code = answer.status
        assert code is not None
        redirects = [h.status for h in chain[:-1]]
        common: dict[str, Any] = {
            "http_status": code, "final_url": final, "chain": tuple(chain), "title": answer.title or answer.heading,
            "permanent_redirect": bool(redirects) and all(s in PERMANENT_CODES for s in redirects),
        }
        challenge = is_challenge(code, answer.headers, answer.title)
        if 200 <= code < 300 or code in (300, 304):
            if challenge:
                return LinkResult(url, LinkStatus.BLOCKED, reason="a bot challenge page", **common)
            soft = is_soft_404(answer.title, answer.heading)
            return LinkResult(url, LinkStatus.OK, soft_404=soft,
                              reason="the page says it was not found" if soft else None, **common)
        if code in BLOCKED_CODES or challenge:
            words = "a bot challenge page" if challenge else {
                401: "needs a login", 407: "needs proxy credentials", 429: "rate limited",
                999: "refuses robots", 403: "forbidden to robots",
            }.get(code, "")
            extra = f"; {answer.reason}" if answer.reason else ""
            return LinkResult(url, LinkStatus.BLOCKED, reason=f"HTTP {code}: {words}{extra}", **common)
        if answer.reason and code == 503:  # asked to come back later than we wait
            return LinkResult(url, LinkStatus.UNVERIFIED, reason=f"HTTP 503: {answer.reason}", **common)
        if 400 <= code < 600:
            persisted = f" (after {answer.attempts - 1} retries)" if code >= 500 and answer.attempts > 1 else ""
            return LinkResult(url, LinkStatus.BROKEN, reason=f"HTTP {code}{persisted}", **common)
        return LinkResult(url, LinkStatus.UNREACHABLE, reason=f"HTTP {code} is not a valid status", **common)

    def _fetch(self, url: str, method: str) -> Answer:
        """One hop, with retries on connection errors and 5xx, Retry-After on 429/503, and GET when a
        HEAD answer says nothing."""
        attempt = 0
        host = host_key(url)
        while True:
            proxied = _proxied(url)
            try:
                with self.gate.slot(host):
                    self.stats.add(requests=1)
                    answer = self._request(url, method, guarded=not self.options.allow_private and not proxied)
            except Exception as exc:
                status, reason, retryable = describe_failure(exc, self.timeout)
                if retryable and attempt < self.options.max_retries:
                    attempt += 1
                    self.stats.add(retries=1)
                    time.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
                    continue
                return Answer(failure=status, reason=reason, attempts=attempt + 1)
            code = answer.status or 0
            if method == "HEAD" and (code >= 400 or not answer.headers.get("content-type")):
                # Servers refuse or mishandle HEAD (405, 501, and 403/404/400 from some CDNs and frameworks),
                # or answer it without saying what they hold: ask with GET (not counted as a retry).
                method = "GET"
                continue
            if code in (429, 503) and not is_challenge(code, answer.headers, answer.title):
                wait = retry_after(answer.headers.get("retry-after"))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    return replace(answer, reason=f"asked to retry after {wait:.0f} s, longer than kratomref waits",
                                   attempts=attempt + 1)
                if attempt < self.options.max_retries:
                    attempt += 1
                    self.stats.add(retries=1)
                    self.gate.hold_off(host, wait if wait is not None else RETRY_BACKOFF * 2 ** (attempt - 1))
                    continue
                if code == 429 or wait is not None:
                    return replace(answer, reason="still refused after waiting as asked", attempts=attempt + 1)
            elif code >= 500 and attempt < self.options.max_retries:
                attempt += 1
                self.stats.add(retries=1)
                time.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
                continue
            return replace(answer, attempts=attempt + 1)

    def _request(self, url: str, method: str, *, guarded: bool) -> Answer:
        """One request within `timeout` seconds in all: connecting, the headers and the body prefix."""
        session = self._session(guarded)
        # The adapter is called directly: Session.send would parse the Location of a redirect it is told
        # not to follow (and raise on a malformed one), and would store cookies.
        prepared = session.prepare_request(requests.Request(method, url))
        settings = session.merge_environment_settings(prepared.url, {}, True, None, None)
        deadline = _WATCHDOG.arm(self.timeout)
        _CURRENT.deadline = deadline
        try:
            try:
                response = session.get_adapter(url).send(
                    prepared, stream=True, timeout=(self.timeout, self.timeout),
                    verify=settings["verify"] if settings["verify"] is not None else True,
                    cert=settings["cert"], proxies=settings["proxies"],
                )
            except Exception as exc:
                if deadline.fired:
                    raise DeadlineExceeded(self.timeout) from exc
                raise
            if deadline.fired:
                # Cut while the headers were still coming: http.client takes the end of the stream for
                # the end of the headers, so what it returns is not the server's whole answer.
                response.close()
                raise DeadlineExceeded(self.timeout)
            return self._answer(response, method, deadline.at)
        finally:
            _CURRENT.deadline = None
            deadline.cancel()

    def _answer(self, response: requests.Response, method: str, deadline: float) -> Answer:
        try:
            headers = {k.lower(): v for k, v in response.headers.items()}
            title = heading = None
            content_type = headers.get("content-type", "")
            wants_body = method == "GET" and response.status_code not in REDIRECT_CODES and (
                not content_type or "html" in content_type.lower() or "xml" in content_type.lower()
            )
            if wants_body:
                body = self._read_prefix(response, headers.get("content-encoding", "").strip().lower(), deadline)
                if body and (not content_type and b"<" not in body[:1024]):
                    body = b""
                title, heading = page_text(body, content_type)
            return Answer(status=response.status_code, location=headers.get("location"), headers=headers,
                          title=title, heading=heading)
        finally:
            response.close()  # unread bodies are dropped with their connection, never drained

    def _read_prefix(self, response: requests.Response, encoding: str, deadline: float) -> bytes:
        """At most BODY_PREFIX decoded bytes, MAX_WIRE_BYTES on the wire, and nothing after the request's
        deadline (a read under way then is cut by the watchdog)."""
        inflater = _Inflater(encoding if encoding in ("gzip", "x-gzip", "deflate") else "")
        if encoding and encoding not in ("gzip", "x-gzip", "deflate", "identity"):
            return b""  # an encoding we did not ask for: no title, but the status still counts
        body = b""
        wire = 0
        try:
            while len(body) < BODY_PREFIX and wire < MAX_WIRE_BYTES and time.monotonic() < deadline:
                chunk = response.raw.read(READ_CHUNK, decode_content=False)
                if not chunk:
                    break
                wire += len(chunk)
                body += inflater.feed(chunk, BODY_PREFIX - len(body))
                lowered = body.lower()
                if b"</h1" in lowered or (b"</title" in lowered and b"<h1" not in lowered and len(body) > 16384):
                    break  # the title and main heading are in
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError):
            pass  # the answer's status stands; the title is whatever arrived before the failure
        return body

    def _https_works(self, url: str) -> bool:
        secure = "https://" + url[len("http://"):]
        host = host_key(secure)
        with self._sessions_lock:
            if host in self._no_https:
                return False
        guarded = not self.options.allow_private and not _proxied(secure)
        try:
            check_literal(urllib.parse.urlsplit(secure).hostname or "", allow_private=self.options.allow_private)
            with self.gate.slot(host):
                self.stats.add(requests=1)
                answer = self._request(secure, "HEAD", guarded=guarded)
        except Exception:
            # No TLS on that host at all (refused, handshake failed): its other links need not be tried.
            with self._sessions_lock:
                self._no_https.add(host)
            return False
        code = answer.status or 0
        if code >= 400:
            # HEAD refused (405, 501, 403 from some CDNs): ask with a bounded GET, as a normal check does.
            try:
                with self.gate.slot(host):
                    self.stats.add(requests=1)
                    answer = self._request(secure, "GET", guarded=guarded)
            except Exception:
                return False
            code = answer.status or 0
        if 200 <= code < 300:
            return True
        return code in REDIRECT_CODES and (answer.location or "").lower().startswith("https://")

    def _archived(self, target: str, year: str | None) -> str | None:
        cached = self._cached_snapshot(target, year)
        if cached.answered:
            return cached.snapshot
        self.stats.add(archive_lookups=1)
        archive_host = host_key(self.options.archive_url)
        with self.gate.slot(archive_host):
            answer = lookup_snapshot(self._session(False), self.options.archive_url, target, year,
                                     timeout=self.timeout)
        # "No copy" is an answer and is remembered like one; an archive that failed is asked again.
        if answer.answered and self.options.use_cache:
            self.cache.put(ARCHIVE_NAMESPACE, self._archive_key(target, year), {"snapshot": answer.snapshot},
                           self.options.ttl_links)
        return answer.snapshot


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _proxied(url: str) -> bool:
    """True when an environment proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, minus NO_PROXY) carries `url`."""
    try:
        proxies = requests.utils.get_environ_proxies(url)
        return bool(requests.utils.select_proxy(url, proxies))
    except (ValueError, OSError):
        return False


def _by_host_round_robin(targets: list[str]) -> list[str]:
    """Interleave hosts so that the worker pool spreads over them instead of queueing on one host's limit."""
    queues: OrderedDict[str, list[str]] = OrderedDict()
    for target in targets:
        queues.setdefault(host_key(target), []).append(target)
    ordered: list[str] = []
    depth = 0
    while len(ordered) < len(targets):
        for queue in queues.values():
            if depth < len(queue):
                ordered.append(queue[depth])
        depth += 1
    return ordered
