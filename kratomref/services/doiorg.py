"""The doi.org handle API: is a DOI registered at all, whatever its registration agency?"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass

import httpx2

from kratomref.model import Lookup

# The bounded GET lives in the HTTP layer; these names stay importable from here.
from kratomref.services.http import (
    MAX_ANSWER_BYTES,
    AnswerTooLarge,
    bounded_get,
    deadline_scope,
    keep_deadlines,
)

# Handle System response codes (https://www.doi.org/the-identifier/resources/factsheets/doi-resolution-documentation):
# 1 = success (the handle exists), 100 = handle not found, 200 = values not found (the handle exists).
HANDLE_FOUND = {1, 200}
HANDLE_NOT_FOUND = 100


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
    except (httpx2.HTTPError, AnswerTooLarge) as exc:
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


__all__ = ["MAX_ANSWER_BYTES", "AnswerTooLarge", "HandleAnswer", "bounded_get", "deadline_scope", "handle_url",
           "keep_deadlines", "lookup_handle"]
