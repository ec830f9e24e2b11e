"""Brings a mirror up to date from Crossref's REST API: the works indexed since its newest, cursor by cursor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from kratomref.options import Options
from kratomref.services.clock import Clock, current
from kratomref.services.mirror.loader import LoadReport, as_work
from kratomref.services.mirror.store import MirrorStore

ROWS = 1000  # Crossref's largest page
RETRIES = 3
BACKOFF = 1.0  # seconds, doubled each retry


class UpdateError(Exception):
    """Crossref could not be asked (what was fetched before stays in the mirror)."""


def since(store: MirrorStore) -> str | None:
    """The day to ask from: the day of the newest Crossref record the mirror holds (inclusive, so nothing
    indexed later that day is missed; the records seen again are skipped)."""
    newest = store.meta("newest_indexed") or store.meta("updated_from")
    return newest[:10] if newest else None


def update(
    store: MirrorStore, options: Options, from_date: str | None = None,
    progress: Callable[[int], None] | None = None, rows: int = ROWS, clock: Clock | None = None,
) -> LoadReport:
    """Works indexed by Crossref since `from_date` (default: `since(store)`) into the store, retractions and
    corrections included (an updated work comes back with its `updated-by` notices and replaces the old).
    Retries wait by `clock` (default: services.clock.current())."""
    import httpx2

    from kratomref.services.crossref import user_agent

    start = from_date or since(store)
    if start is None:
        raise UpdateError("the mirror holds no Crossref record to start from: give --from-date")
    report = LoadReport()
    cursor = "*"
    seen = 0
    base = options.crossref_url.rstrip("/")
    params: dict[str, Any] = {"filter": f"from-index-date:{start}", "rows": rows}
    if options.mailto:
        params["mailto"] = options.mailto
    with httpx2.Client(headers={"User-Agent": user_agent(options)}, timeout=options.timeout) as client:
        while True:
            message = _page(client, f"{base}/works", {**params, "cursor": cursor}, clock or current())
            items = message.get("items")
            if not isinstance(items, list):
                raise UpdateError("Crossref sent a page without items")
            works = []
            for position, raw in enumerate(items, seen + 1):
                work = as_work(raw)
                if isinstance(work, str):
                    report.malformed += 1
                    report.problem(f"page record {position}: {work}")
                else:
                    works.append(work)
            with store.transaction():
                result = store.upsert(works)
            report.loaded += result.loaded
            report.skipped += result.skipped
            seen += len(items)
            if progress is not None:
                progress(seen)
            following = message.get("next-cursor")
            if not items or not isinstance(following, str) or following == cursor or len(items) < rows:
                break
            cursor = following
    with store.transaction():
        store.set_meta({"updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                        "updated_from": start})
    return report


def _page(client: Any, url: str, params: dict[str, Any], clock: Clock) -> dict[str, Any]:
    import httpx2

    backoff = BACKOFF
    problem = "no answer"
    for attempt in range(RETRIES + 1):
        if attempt:
            clock.sleep(backoff)
            backoff *= 2
        try:
            response = client.get(url, params=params)
        except httpx2.HTTPError as exc:
            problem = f"Crossref unreachable ({type(exc).__name__})"
            continue
        if response.status_code == 429 or response.status_code >= 500:
            problem = f"Crossref answered HTTP {response.status_code}"
            continue
        if response.status_code != 200:
            raise UpdateError(f"Crossref answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise UpdateError("Crossref sent a page that is not JSON") from exc
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict):
            raise UpdateError("Crossref sent a malformed page")
        return message
    raise UpdateError(problem)
