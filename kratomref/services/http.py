"""The API services' HTTP layer (Crossref, doi.org, the authorities, the archive): clients, one bounded GET, retries.

One place for what every API request needs: a client that honours the environment's proxies and CA bundle
(the variables the link checker reads), sends kratomref's User-Agent and keeps each request to a total
deadline; one GET that reads the whole answer within that deadline and a size cap; Retry-After parsing; and
the retry policy (429 with a short Retry-After, 5xx and broken connections, a doubled backoff, every wait on
the services' injectable clock). Importing this module is cheap: httpx2 and httpcore2 load with the first
client made, so an offline run never loads them.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kratomref import __version__
from kratomref.services import PROJECT_URL
from kratomref.services.clock import Clock

if TYPE_CHECKING:
    import ssl

    import httpx2

# A batch of 100 full Crossref records is about 1-2 MB; ten times that is no answer we asked for.
MAX_ANSWER_BYTES = 10 * 2**20
# A Retry-After longer than this is not worth waiting for in an interactive run: the look-up stays unverified.
MAX_RETRY_AFTER = 30.0
SERVER_ERROR_BACKOFF = 0.5  # seconds before retrying a 5xx or a broken connection, doubled each time


class AnswerTooLarge(Exception):
    """The body grew past the cap before it ended."""


# --- what every service sends -----------------------------------------------------------------------------


def user_agent(mailto: str | None, extra: str | None = None) -> str:
    """What the APIs see: always kratomref and its version, with the contact address when there is one
    (Crossref's etiquette, issue 3), then the user's --user-agent string, if any."""
    contact = f"+{PROJECT_URL}" + (f"; mailto:{mailto}" if mailto else "")
    agent = f"kratomref/{__version__} ({contact})"
    return f"{agent} {extra}" if extra else agent


def ca_bundle() -> str | None:
    """The CA bundle the environment names, read as the link checker reads it: REQUESTS_CA_BUNDLE, then
    CURL_CA_BUNDLE, then SSL_CERT_FILE when it is a file; None for the system's default."""
    ca_file = os.environ.get("SSL_CERT_FILE")
    return (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        or (ca_file if ca_file and os.path.isfile(ca_file) else None)
    )


@functools.cache
def _verifying_context(bundle: str) -> ssl.SSLContext:
    # One context per bundle (a file or a directory): parsing a bundle costs tens of milliseconds.
    import ssl

    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


def make_client(
    *,
    user_agent: str | None = None,
    timeout: float | None = None,
    max_connections: int | None = None,
    trust_env: bool = True,
    headers: Mapping[str, str] | None = None,
) -> httpx2.Client:
    """A pooled client for an API: the environment's proxies (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, minus
    NO_PROXY) and CA bundle when `trust_env`, redirects not followed, and every connection kept to
    bounded_get's deadline (keep_deadlines)."""
    import ssl

    import httpx2

    sent = dict(headers or {})
    if user_agent:
        sent["User-Agent"] = user_agent
    bundle = ca_bundle() if trust_env else None
    verify: ssl.SSLContext | bool = True
    if bundle:
        try:
            verify = _verifying_context(bundle)
        except (OSError, ssl.SSLError):
            verify = True  # a bundle that cannot be read: the system's (as a run must not stop for it)
    options: dict[str, Any] = {}
    if timeout is not None:
        options["timeout"] = timeout
    if max_connections is not None:
        options["limits"] = httpx2.Limits(max_connections=max_connections)
    client = httpx2.Client(
        headers=sent,
        trust_env=trust_env,
        verify=verify,
        follow_redirects=False,
        **options,
    )
    return keep_deadlines(client)


# --- a total deadline per request -----------------------------------------------------------------------
# httpx's timeouts bound each socket operation, not the request: a server that sends its status line, its
# headers or its body one byte every half second keeps a plain get() going for as long as it likes (issue
# 17). Every socket operation of a client passed through keep_deadlines() is given, at most, the time left
# before the deadline of the request its thread is making (set by bounded_get), so the request as a whole
# ends at the deadline, whichever part of the answer trickles: connect, status line, headers or body.
_scope = threading.local()  # .at: time.monotonic() deadline of this thread's request, or absent


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout`, shortened to what is left of this thread's deadline; raises `error` when none is left."""
    at: float | None = getattr(_scope, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request took longer than its deadline")
    return left if timeout is None else min(timeout, left)


@functools.cache
def _deadline_backend() -> type[Any]:
    """The network backend wrapper of keep_deadlines (defined on first use: it subclasses httpcore2's)."""
    import httpcore2

    class _DeadlineStream(httpcore2.NetworkStream):
        def __init__(self, stream: httpcore2.NetworkStream) -> None:
            self._stream = stream

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._stream.read(max_bytes, _left(timeout, httpcore2.ReadTimeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._stream.write(buffer, _left(timeout, httpcore2.WriteTimeout))

        def close(self) -> None:
            self._stream.close()

        def start_tls(
            self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
        ) -> httpcore2.NetworkStream:
            tls = self._stream.start_tls(ssl_context, server_hostname, _left(timeout, httpcore2.ConnectTimeout))
            return _DeadlineStream(tls)

        def get_extra_info(self, info: str) -> Any:
            return self._stream.get_extra_info(info)


    class _DeadlineBackend(httpcore2.NetworkBackend):
        def __init__(self, backend: httpcore2.NetworkBackend) -> None:
            self._backend = backend

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore2.NetworkStream:
            stream = self._backend.connect_tcp(
                host, port, _left(timeout, httpcore2.ConnectTimeout), local_address, socket_options
            )
            return _DeadlineStream(stream)

        def connect_unix_socket(
            self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
        ) -> httpcore2.NetworkStream:
            stream = self._backend.connect_unix_socket(path, _left(timeout, httpcore2.ConnectTimeout), socket_options)
            return _DeadlineStream(stream)

        def sleep(self, seconds: float) -> None:
            self._backend.sleep(seconds)

    return _DeadlineBackend


def keep_deadlines(client: httpx2.Client) -> httpx2.Client:
    """Make every connection of `client` (its own transport and the proxies it mounted from the
    environment) keep to bounded_get's deadline. Raises RuntimeError when httpx2's internals have changed
    so that this cannot be done: better to fail loudly than to lose the bound silently."""
    import httpcore2

    wrapper = _deadline_backend()
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        if transport is None:
            continue
        pool: Any = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if not isinstance(backend, httpcore2.NetworkBackend):
            raise RuntimeError("httpx2 changed: cannot bound the time of a request")
        if not isinstance(backend, wrapper):
            pool._network_backend = wrapper(backend)
    return client


@contextmanager
def deadline_scope(deadline: float | None) -> Iterator[None]:
    """Within the block, this thread's requests through a keep_deadlines() client end by `deadline`."""
    previous = getattr(_scope, "at", None)
    _scope.at = deadline if previous is None or deadline is None else min(previous, deadline)
    try:
        yield
    finally:
        _scope.at = previous


def bounded_get(
    client: httpx2.Client, url: str, deadline: float | None, max_bytes: int = MAX_ANSWER_BYTES, **kwargs: Any
) -> httpx2.Response:
    """GET `url` and read its whole answer (status line, headers, body) before `deadline`
    (time.monotonic()) and within `max_bytes`.

    The deadline holds for a client made by keep_deadlines(); with another client only the body is
    checked against it, between reads. Raises httpx2.ReadTimeout (or ConnectTimeout) past the deadline
    and AnswerTooLarge past the cap; the response returned is fully read, like client.get()'s.
    """
    import httpx2

    with deadline_scope(deadline), client.stream("GET", url, **kwargs) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise AnswerTooLarge(f"answer over {max_bytes} bytes")
            chunks.append(chunk)
            if deadline is not None and time.monotonic() > deadline:
                raise httpx2.ReadTimeout("the answer took longer than the timeout", request=response.request)
        # What Response.read() would have stored: the body is read, so .json() and .text work after the
        # stream is closed.
        response._content = b"".join(chunks)
    return response


# --- Retry-After and the retry policy -------------------------------------------------------------------


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds (whole or decimal) or an HTTP date; None
    when there is none or it says nothing readable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    import email.utils  # an HTTP date: rare (Crossref sends seconds)

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """When a GET is asked again: on 429 with a Retry-After up to max_retry_after (a longer one is given up
    at once), on 5xx and on broken connections (a refused or unresolvable connection only when
    retry_unreachable), after a backoff doubled each time. A timeout is never retried: a server that let
    the whole timeout pass would make each retry cost as much again. Nor is an answer over the size cap."""

    max_retries: int = 2
    backoff: float = SERVER_ERROR_BACKOFF
    max_retry_after: float = MAX_RETRY_AFTER
    retry_unreachable: bool = True


@dataclass(frozen=True)
class Exchange:
    """One GET after its retries: the response (any status but 429 and 5xx), or why there was none.

    `failed` says the service did not answer after its retries (timeouts, broken connections, 5xx, 429s):
    what a circuit breaker counts; a refusal at once (a long Retry-After, an answer too large) is not."""

    response: httpx2.Response | None = None
    error: str | None = None
    status: int | None = None  # 429 when a Retry-After too long to wait for gave the request up
    failed: bool = False


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _failure(label: str, exc: Exception, timeout: float) -> tuple[str, str]:
    """(kind, reason) of an exception: kind is "timeout", "too large", "unreachable" (no connection at all),
    "refused" (a request that cannot be sent: a malformed URL) or "broken" (a connection that failed part-way)."""
    import httpx2

    chain = _cause_chain(exc)
    if any(isinstance(e, httpx2.TimeoutException) for e in chain):
        return "timeout", f"{label} timed out after {timeout:g} s"
    if any(isinstance(e, AnswerTooLarge) for e in chain):
        return "too large", f"{label} sent an answer over {MAX_ANSWER_BYTES // 2**20} MB"
    kinds = [type(e).__name__ for e in chain if isinstance(e, httpx2.HTTPError)]
    reason = f"{label} unreachable ({kinds[0] if kinds else type(exc).__name__})"
    if isinstance(exc, httpx2.ConnectError):
        return "unreachable", reason
    if isinstance(exc, (httpx2.InvalidURL, httpx2.UnsupportedProtocol, ValueError)):
        return "refused", reason
    return "broken", reason


def get_with_retries(
    client: httpx2.Client,
    url: str,
    *,
    label: str,
    timeout: float,
    policy: RetryPolicy,
    clock: Clock,
    params: Mapping[str, str] | None = None,
    slot: Callable[[], AbstractContextManager[float]] | None = None,
    on_send: Callable[[int], None] | None = None,
    on_answer: Callable[[httpx2.Response], None] | None = None,
    on_429: Callable[[float | None, float], None] | None = None,
) -> Exchange:
    """GET `url` (bounded by `timeout` as a whole and by MAX_ANSWER_BYTES), retried as `policy` says; every
    wait is on `clock`. Never raises for a network failure: the reason, worded with `label` ("Crossref"),
    comes back in the Exchange.

    slot: entered around each attempt (pacing, a concurrency cap), yields the start on `clock`;
    on_send(attempt): each attempt as it is sent (0 first); on_answer(response): each answer, for the
    limits its headers announce; on_429(retry_after, started): how a 429 is waited out (default: sleep the
    Retry-After, or the backoff, before the next attempt).
    """
    import httpx2

    backoff = policy.backoff
    reason = "no answer"
    attempts = policy.max_retries + 1
    for attempt in range(attempts):
        last = attempt == attempts - 1
        with slot() if slot is not None else _now(clock) as started:
            if on_send is not None:
                on_send(attempt)
            try:
                response: httpx2.Response | None = bounded_get(
                    client, url, time.monotonic() + timeout, MAX_ANSWER_BYTES,
                    params=dict(params or {}), timeout=timeout,
                )
                error: Exception | None = None
            except (httpx2.HTTPError, httpx2.InvalidURL, httpx2.StreamError, AnswerTooLarge, OSError,
                    ValueError) as exc:
                response, error = None, exc
        if response is None:
            assert error is not None
            kind, reason = _failure(label, error, timeout)
            if kind == "timeout":
                return Exchange(error=reason, failed=True)
            if kind == "too large":
                return Exchange(error=reason)
            if kind == "refused":
                return Exchange(error=reason, failed=True)
            if kind == "unreachable" and not policy.retry_unreachable:
                return Exchange(error=reason, failed=True)
            if not last:
                clock.sleep(backoff)
                backoff *= 2
            continue
        if on_answer is not None:
            on_answer(response)
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            hint = f", Retry-After {retry_after:g} s" if retry_after is not None else ""
            reason = f"rate-limited by {label} (HTTP 429{hint})"
            if retry_after is not None and retry_after > policy.max_retry_after:
                return Exchange(error=reason, status=429)
            if on_429 is not None:
                on_429(retry_after, started)
            elif not last:
                clock.sleep(retry_after if retry_after is not None else backoff)
                backoff *= 2
            continue
        if status >= 500:
            reason = f"{label} answered HTTP {status}"
            if not last:
                clock.sleep(backoff)
                backoff *= 2
            continue
        return Exchange(response=response, status=status)
    return Exchange(error=reason, failed=True)


@contextmanager
def _now(clock: Clock) -> Iterator[float]:
    yield clock.monotonic()
