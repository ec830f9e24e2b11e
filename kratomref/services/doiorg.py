"""The doi.org handle API: is a DOI registered at all, whatever its registration agency?"""

from __future__ import annotations

import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore2
import httpx2

from kratomref.model import Lookup

# Handle System response codes (https://www.doi.org/the-identifier/resources/factsheets/doi-resolution-documentation):
# 1 = success (the handle exists), 100 = handle not found, 200 = values not found (the handle exists).
HANDLE_FOUND = {1, 200}
HANDLE_NOT_FOUND = 100
# A batch of 100 full Crossref records is about 1-2 MB; ten times that is no answer we asked for.
MAX_ANSWER_BYTES = 10 * 2**20


class AnswerTooLarge(httpx2.RequestError):
    """The body grew past the cap before it ended."""


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


def keep_deadlines(client: httpx2.Client) -> httpx2.Client:
    """Make every connection of `client` (its own transport and the proxies it mounted from the
    environment) keep to bounded_get's deadline. Raises RuntimeError when httpx2's internals have changed
    so that this cannot be done: better to fail loudly than to lose the bound silently."""
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        if transport is None:
            continue
        pool: Any = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if not isinstance(backend, httpcore2.NetworkBackend):
            raise RuntimeError("httpx2 changed: cannot bound the time of a request")
        if not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend)
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
    with deadline_scope(deadline), client.stream("GET", url, **kwargs) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise AnswerTooLarge(f"answer over {max_bytes} bytes", request=response.request)
            chunks.append(chunk)
            if deadline is not None and time.monotonic() > deadline:
                raise httpx2.ReadTimeout("the answer took longer than the timeout", request=response.request)
        # What Response.read() would have stored: the body is read, so .json() and .text work after the
        # stream is closed.
        response._content = b"".join(chunks)
    return response


@dataclass(frozen=True)
class HandleAnswer:
    status: Lookup
    reason: str | None = None


def handle_url(doi_url: str, doi: str) -> str:
    return f"{doi_url.rstrip('/')}/api/handles/{urllib.parse.quote(doi, safe='/:;()._-')}"


def lookup_handle(client: httpx2.Client, doi_url: str, doi: str, timeout: float) -> HandleAnswer:
    """FOUND or NOT_FOUND as doi.org says; UNVERIFIED with a reason when it could not say."""
    url = handle_url(doi_url, doi)
    try:
        response = bounded_get(client, url, time.monotonic() + timeout, timeout=timeout)
    except httpx2.TimeoutException:
        return HandleAnswer(Lookup.UNVERIFIED, f"doi.org timed out after {timeout:g} s")
    except httpx2.HTTPError as exc:
        return HandleAnswer(Lookup.UNVERIFIED, f"doi.org unreachable ({type(exc).__name__})")
    # doi.org answers an unknown handle with HTTP 404 and a JSON body carrying responseCode 100.
    if response.status_code not in (200, 404):
        return HandleAnswer(Lookup.UNVERIFIED, f"doi.org answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return HandleAnswer(Lookup.UNVERIFIED, "doi.org sent a malformed answer")
    code = body.get("responseCode") if isinstance(body, dict) else None
    if code in HANDLE_FOUND:
        return HandleAnswer(Lookup.FOUND)
    if code == HANDLE_NOT_FOUND:
        return HandleAnswer(Lookup.NOT_FOUND)
    return HandleAnswer(Lookup.UNVERIFIED, f"doi.org sent an unexpected answer (responseCode {code!r})")
