"""The Wayback Machine availability API: the closest archived copy of a broken link."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import requests

# The API answers in well under a second; a slow archive must not hold up the whole run.
ARCHIVE_TIMEOUT_CAP = 10.0  # seconds
MAX_ANSWER_BYTES = 64 * 1024  # the JSON answer is a few hundred bytes


def availability_url(archive_url: str) -> str:
    return f"{archive_url.rstrip('/')}/wayback/available"


class ArchiveAnswer(NamedTuple):
    """What the archive said: `answered` is False when it could not be asked or made no sense (worth
    asking again later); `snapshot` is None when it answered that it holds no copy."""

    answered: bool
    snapshot: str | None = None


def lookup_snapshot(
    session: requests.Session, archive_url: str, url: str, year: str | None, *, timeout: float
) -> ArchiveAnswer:
    """The snapshot closest to `year` (or the newest). Never raises for a network failure or a malformed
    answer: those come back as not answered."""
    params = {"url": url}
    if year and year[:4].isdigit():
        params["timestamp"] = year[:4]
    try:
        response = session.get(
            availability_url(archive_url),
            params=params,
            timeout=min(timeout, ARCHIVE_TIMEOUT_CAP),
            allow_redirects=False,
            stream=True,
        )
        with response:
            if response.status_code != 200:
                return ArchiveAnswer(answered=False)
            body = response.raw.read(MAX_ANSWER_BYTES, decode_content=True)
        data: Any = json.loads(body)
    except (requests.RequestException, ValueError, OSError):
        return ArchiveAnswer(answered=False)
    snapshots = data.get("archived_snapshots") if isinstance(data, dict) else None
    if not isinstance(snapshots, dict):
        return ArchiveAnswer(answered=False)  # not the API's shape: say nothing rather than "no copy"
    closest = snapshots.get("closest")
    if isinstance(closest, dict) and closest.get("available") and isinstance(closest.get("url"), str):
        return ArchiveAnswer(answered=True, snapshot=str(closest["url"]))
    return ArchiveAnswer(answered=True)
