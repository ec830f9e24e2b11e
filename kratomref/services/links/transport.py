"""The link checker's HTTP layer: one request in, one Answer out (or its failure in words), within a deadline.

Sessions and adapters shared by the run's workers, connections kept to the deadline and to public addresses,
the environment's proxies and CA bundle read once, one TLS context per bundle. The only part of the link
checker that imports requests, urllib3 and ssl: the checker loads it when it first fetches, so an offline
run never does.
"""

from __future__ import annotations

import contextlib
import heapq
import http.cookiejar
import itertools
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.ssl_ import create_urllib3_context

from kratomref.model import LinkStatus
from kratomref.services.links.answers import PROXY_FAILURE_CODES, REDIRECT_CODES, Answer
from kratomref.services.links.pages import READ_CHUNK, PagePrefix, page_text, wants_body
from kratomref.services.netpolicy import PRIVATE_REFUSED, AddressRefused, GuardedConnectionMixin

HOST_POOLS = 512  # hosts whose keep-alive connections are kept (least recently used dropped first)
DRAIN_LIMIT = 16 * 1024  # bytes of an unread small body read anyway, so that its connection can be reused
_TUNNEL_STATUS = re.compile(r"Tunnel connection failed: (\d{3})")
ACCEPT_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate",
    "Accept-Language": "en;q=0.9, *;q=0.5",
}


class Transport:
    """One run's HTTP layer: adapters shared by every worker (their pools keep up to `per_host` keep-alive
    connections per host), the environment read once, and requests bounded by `timeout` seconds in all."""

    def __init__(self, *, user_agent: str, timeout: float, per_host: int) -> None:
        self.timeout = timeout
        self.per_host = per_host
        self.env = Environment()
        self.headers = {"User-Agent": user_agent, **ACCEPT_HEADERS}
        checked = requests.PreparedRequest()
        checked.prepare_headers(self.headers)  # validated once; each request gets a copy
        self._headers = checked.headers
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._adapters: dict[bool, LinkAdapter] = {}

    def proxy_for(self, url: str) -> str | None:
        """The proxy that carries `url`, if any."""
        return self.env.proxy_for(url)

    def preload_ca_bundle(self) -> None:
        """Parse the CA bundle in the background, rather than in the first TLS connection while the others
        wait for it (once per run, for https links and the https:// probes of http ones)."""
        bundle = self.env.verify if isinstance(self.env.verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH
        threading.Thread(target=_preload_context, args=(bundle,), daemon=True).start()

    def adapter(self, guarded: bool) -> LinkAdapter:
        """The run's adapter; `guarded` ones only connect to public addresses."""
        with self._lock:
            adapter = self._adapters.get(guarded)
            if adapter is None:
                adapter = LinkAdapter(guarded=guarded, pool_connections=HOST_POOLS,
                                      pool_maxsize=self.per_host, max_retries=0)
                self._adapters[guarded] = adapter
            return adapter

    def session(self, guarded: bool) -> requests.Session:
        """A session with the checker's headers (one per thread), for the archive look-ups."""
        attr = "guarded" if guarded else "plain"
        session: requests.Session | None = getattr(self._local, attr, None)
        if session is None:
            session = requests.Session()
            session.trust_env = True  # proxy and CA bundle variables, as curl and pip honour them
            session.auth = _NoCredentials()
            session.cookies.set_policy(_NoCookies())
            session.headers.clear()
            session.headers.update(self.headers)
            if isinstance(self.env.verify, str):
                session.verify = self.env.verify
            adapter = self.adapter(guarded)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            setattr(self._local, attr, session)
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self, *, wait: bool = True) -> None:
        """Close the run's connections (the next request opens new ones); without `wait`, in the background:
        closing a few hundred kept-alive connections takes milliseconds that need not hold up the results."""
        with self._lock:
            self._sessions.clear()  # their adapter is the run's, closed here
            adapters = list(self._adapters.values())
            self._adapters.clear()
        if wait:
            _close_adapters(adapters)
        else:
            threading.Thread(target=_close_adapters, args=(adapters,), name="kratomref-link-close", daemon=True).start()

    def request(self, url: str, method: str, *, guarded: bool) -> Answer:
        """One request, its redirect not followed: the answer, or a failure with its reason, whether it is
        worth a retry and, through a proxy, how the proxy said it could not reach the host. Never raises."""
        try:
            return self._request(url, method, guarded=guarded)
        except Exception as exc:
            status, reason, retryable = describe_failure(exc, self.timeout)
            refusal = proxy_refusal(exc) if self.env.proxy_for(url) is not None else None
            return Answer(failure=status, reason=reason, retryable=retryable, proxy_refusal=refusal)

    def _request(self, url: str, method: str, *, guarded: bool) -> Answer:
        """One request within `timeout` seconds in all: connecting, the headers and the body prefix."""
        # The adapter is called directly, with a request prepared here: Session.send would parse the
        # Location of a redirect it is told not to follow (and raise on a malformed one) and store cookies,
        # and Session.prepare_request and merge_environment_settings read the environment every time. Only
        # the method and the URL are prepared per request: no body, no cookies, no credentials (a URL's
        # user and password are never sent), the headers checked once.
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        prepared.prepare_url(url, None)
        prepared.headers = self._headers.copy()
        deadline = _WATCHDOG.arm(self.timeout)
        _CURRENT.deadline = deadline
        try:
            try:
                proxies = self.env.proxies(url)
                tls = url[:6].lower() == "https:" or (self.env.proxy_for(url) or "")[:6].lower() == "https:"
                response = self.adapter(guarded).send(
                    prepared, stream=True, timeout=(self.timeout, self.timeout),
                    # no CA bundle without TLS: requests would look at the bundle's path on disk every time
                    verify=self.env.verify if tls else True, cert=None, proxies=proxies,
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
            return _answer(response, method, deadline.at)
        finally:
            _CURRENT.deadline = None
            deadline.cancel()


def _close_adapters(adapters: list[LinkAdapter]) -> None:
    for adapter in adapters:
        adapter.close()


def _answer(response: requests.Response, method: str, deadline: float) -> Answer:
    try:
        headers = {k.lower(): v for k, v in response.headers.items()}
        title = heading = None
        content_type = headers.get("content-type", "")
        if method == "GET" and response.status_code not in REDIRECT_CODES and wants_body(content_type):
            body = _read_prefix(response, headers.get("content-encoding", "").strip().lower(), deadline)
            title, heading = page_text(body, content_type)
        return Answer(status=response.status_code, location=headers.get("location"), headers=headers,
                      title=title, heading=heading)
    finally:
        _release(response, deadline)


def _read_prefix(response: requests.Response, encoding: str, deadline: float) -> bytes:
    """The page's prefix (see PagePrefix), and nothing read after the request's deadline (a read under way
    then is cut by the watchdog)."""
    prefix = PagePrefix(encoding)
    try:
        while prefix.wants_more() and time.monotonic() < deadline:
            chunk = response.raw.read(READ_CHUNK, decode_content=False)
            if not chunk or not prefix.feed(chunk):
                break
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError):
        pass  # the answer's status stands; the title is whatever arrived before the failure
    return prefix.body


# --- requests' settings: no cookies, no credentials, connections given back -----------------------------


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
    """Set as the session's auth so that requests never reads ~/.netrc (trust_env would), nor sends the
    user and password a URL carries."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r



def _release(response: requests.Response, deadline: float) -> None:
    """Give the connection back for the next request to the host when the answer has been read to its
    end, or when what is left of it is small (a redirect's or an error page's body): reading it is cheaper
    than a new connection (and a TLS handshake). Longer unread bodies are dropped with their connection."""
    raw = response.raw
    try:
        remaining = getattr(raw, "length_remaining", None)
        if not raw.closed and remaining is not None and remaining <= DRAIN_LIMIT and time.monotonic() < deadline:
            raw.read(remaining + 1, decode_content=False)  # at the end, urllib3 returns the connection
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError):
        pass
    finally:
        response.close()


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


# --- connections: kept to the deadline, to public addresses, one TLS context per CA bundle ---------------


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


def _preload_context(bundle: str) -> None:
    with contextlib.suppress(OSError, ssl.SSLError, ValueError):
        _verifying_context(bundle)


class LinkAdapter(HTTPAdapter):
    """A requests adapter whose connections keep to the request's deadline; `guarded` ones also connect
    only to public addresses. Through a proxy the proxy resolves names (and may itself be on a private
    network): those connections keep to the deadline only."""

    def __init__(self, *, guarded: bool, **kwargs: Any) -> None:
        self.guarded = guarded
        self._proxy_lock = threading.Lock()  # one adapter serves every worker
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

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: bool | str | None, proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> Any:
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        # Without a proxy (most runs), requests' own version only adds a look-up of the proxy for the URL.
        try:
            host_params, pool_kwargs = self.build_connection_pool_key_attributes(
                request, True if verify is None else verify, cert)
        except ValueError as exc:
            raise requests.exceptions.InvalidURL(exc, request=request) from exc
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def request_url(self, request: requests.PreparedRequest, proxies: Mapping[str, str] | None) -> str:
        if not proxies:
            return request.path_url  # what requests sends without a proxy, without looking one up
        return super().request_url(request, proxies)

    def cert_verify(self, conn: Any, url: str, verify: bool | str, cert: Any) -> None:
        if verify is not False and cert is None and url[:6].lower() == "https:" and \
                getattr(conn, "conn_kw", {}).get("ssl_context") in _CONTEXTS.values():
            # The bundle is already in the shared context (loaded from the file, so it exists): requests
            # would look the file up on disk again for every request.
            conn.cert_reqs = "CERT_REQUIRED"
            conn.ca_certs = conn.ca_cert_dir = None
            return
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        """requests' response without reading its cookies into a jar: no cookie is ever kept."""
        response = requests.Response()
        response.status_code = resp.status
        response.headers = requests.structures.CaseInsensitiveDict(resp.headers)
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url or ""
        response.request = req
        response.connection = self
        return response

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        with self._proxy_lock:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if isinstance(manager, urllib3.ProxyManager):
                manager.pool_classes_by_scheme = _POOLS[False]
            return manager


# --- failures in words -------------------------------------------------------------------------------


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


def proxy_refusal(exc: BaseException) -> str | None:
    """How a proxy said it could not reach the host, from a request that failed through it: a 502, 503 or
    504 answer to CONNECT, or a tunnel (or forwarded request) it cut after accepting. None for anything
    else, a proxy that cannot be reached itself included."""
    chain = list(_cause_chain(exc))
    for e in chain:
        match = _TUNNEL_STATUS.search(str(e))
        if match:
            code = int(match.group(1))
            return f"HTTP {code} to CONNECT" if code in PROXY_FAILURE_CODES else None
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return None  # the proxy itself is not there
    for e in chain:
        if isinstance(e, (ConnectionResetError, ssl.SSLEOFError, BrokenPipeError)) or type(e).__name__ in (
            "RemoteDisconnected", "SSLZeroReturnError"
        ):
            return "the connection through the proxy was reset"
    return None


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


# --- the environment, read once ------------------------------------------------------------------------


class Environment:
    """The proxy and CA bundle variables, read once per run: requests reads the whole environment again
    for every request (twice for the proxies), which was a third of the checker's CPU time."""

    def __init__(self) -> None:
        from kratomref.services.http import ca_bundle  # the API services read the same variables, in this order

        self.verify: bool | str = ca_bundle() or True
        self._proxies: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()
        try:
            self.any_proxy = bool(urllib.request.getproxies())  # without any, nothing to look up per URL
        except (ValueError, OSError):
            self.any_proxy = True  # let each URL's look-up say

    def proxies(self, url: str) -> dict[str, str]:
        """The environment's proxies for `url` (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, minus NO_PROXY)."""
        if not self.any_proxy:
            return {}
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower())
        with self._lock:
            known = self._proxies.get(key)
        if known is None:
            try:
                known = dict(requests.utils.get_environ_proxies(url))
            except (ValueError, OSError):
                known = {}
            with self._lock:
                self._proxies[key] = known
        return known

    def proxy_for(self, url: str) -> str | None:
        """The proxy that carries `url`, if any."""
        if not self.any_proxy:
            return None
        try:
            return requests.utils.select_proxy(url, self.proxies(url))
        except ValueError:
            return None
