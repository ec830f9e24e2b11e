"""The Wayback Machine availability API: the closest archived copy of a broken link."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx2

from kratomref.services.http import AnswerTooLarge, bounded_get, make_client

if TYPE_CHECKING:
    import requests

# The API answers in well under a second; a slow archive must not hold up the whole run.
ARCHIVE_TIMEOUT_CAP = 10.0  # seconds
MAX_ANSWER_BYTES = 64 * 1024  # the JSON answer is a few hundred bytes

# One client per proxy setting, shared by every thread: the archive is asked through the API services' HTTP
# layer (services/http.py: its connections keep to a total deadline), not through the link checker's
# requests session, whose timeout bounds each read only, so that a trickling archive cannot hold a run.
_clients: dict[bool, httpx2.Client] = {}
_clients_lock = threading.Lock()


def availability_url(archive_url: str) -> str:
    return f"{archive_url.rstrip('/')}/wayback/available"


class ArchiveAnswer(NamedTuple):
    """What the archive said: `answered` is False when it could not be asked or made no sense (worth
    asking again later); `snapshot` is None when it answered that it holds no copy."""

    answered: bool
    snapshot: str | None = None


def _client(trust_env: bool) -> httpx2.Client:
    with _clients_lock:
        client = _clients.get(trust_env)
        if client is None:
            client = make_client(trust_env=trust_env)
            _clients[trust_env] = client
        return client


def lookup_snapshot(
    session: requests.Session, archive_url: str, url: str, year: str | None, *, timeout: float
) -> ArchiveAnswer:
    """find_snapshot with the headers (the User-Agent) and the proxy setting of the link checker's
    `session`."""
    headers = {k: str(v) for k, v in session.headers.items() if k.lower() in ("user-agent", "accept-language")}
    return find_snapshot(archive_url, url, year, timeout=timeout, headers=headers, trust_env=bool(session.trust_env))


def find_snapshot(
    archive_url: str, url: str, year: str | None, *, timeout: float, headers: Mapping[str, str],
    trust_env: bool = True,
) -> ArchiveAnswer:
    """The snapshot closest to `year` (or the newest). Never raises for a network failure or a malformed
    answer: those come back as not answered. `headers` are sent (the User-Agent); `trust_env`: whether the
    environment's proxy and CA bundle settings apply; the whole request, headers included, ends within
    `timeout` (at most ARCHIVE_TIMEOUT_CAP)."""
    params = {"url": url}
    if year and year[:4].isdigit():
        params["timestamp"] = year[:4]
    limit = min(timeout, ARCHIVE_TIMEOUT_CAP)
    sent = {**headers, "Accept": "application/json"}
    try:
        response = bounded_get(
            _client(trust_env),
            availability_url(archive_url),
            time.monotonic() + limit,
            MAX_ANSWER_BYTES,
            params=params,
            headers=sent,
            timeout=limit,
        )
        if response.status_code != 200:
            return ArchiveAnswer(answered=False)
        data: Any = json.loads(response.content)
    except (httpx2.HTTPError, AnswerTooLarge, ValueError, OSError):
        return ArchiveAnswer(answered=False)
    snapshots = data.get("archived_snapshots") if isinstance(data, dict) else None
    if not isinstance(snapshots, dict):
        return ArchiveAnswer(answered=False)  # not the API's shape: say nothing rather than "no copy"
    closest = snapshots.get("closest")
    if isinstance(closest, dict) and closest.get("available") and isinstance(closest.get("url"), str):
        return ArchiveAnswer(answered=True, snapshot=str(closest["url"]))
    return ArchiveAnswer(answered=True)
