"""The doi.org handle API: is a DOI registered at all, whatever its registration agency?"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

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


def bounded_get(
    client: httpx2.Client, url: str, deadline: float | None, max_bytes: int = MAX_ANSWER_BYTES, **kwargs: Any
) -> httpx2.Response:
    """GET `url` and read its whole body before `deadline` (time.monotonic()) and within `max_bytes`.

    httpx's timeout bounds each read, not the request: a server sending a byte every half second keeps a
    plain get() going for as long as it likes. Raises httpx2.ReadTimeout past the deadline and
    AnswerTooLarge past the cap; the response returned is fully read, like client.get()'s.
    """
    with client.stream("GET", url, **kwargs) as response:
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
