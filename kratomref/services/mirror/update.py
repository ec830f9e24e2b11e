"""Brings a mirror up to date from Crossref's REST API: the works indexed since its newest, cursor by cursor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from kratomref.services import http
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
    store: MirrorStore, crossref_url: str, from_date: str | None = None, *, mailto: str | None = None,
    user_agent: str | None = None, timeout: float = 60.0, progress: Callable[[int], None] | None = None,
    rows: int = ROWS, clock: Clock | None = None,
) -> LoadReport:
    """Works indexed by the Crossref at `crossref_url` since `from_date` (default: `since(store)`) into the
    store, retractions and corrections included (an updated work comes back with its `updated-by` notices and
    replaces the old). `timeout` bounds each page; retries wait by `clock` (default: services.clock.current())."""
    start = from_date or since(store)
    if start is None:
        raise UpdateError("the mirror holds no Crossref record to start from: give --from-date")
    report = LoadReport()
    cursor = "*"
    seen = 0
    base = crossref_url.rstrip("/")
    params: dict[str, Any] = {"filter": f"from-index-date:{start}", "rows": rows}
    if mailto:
        params["mailto"] = mailto
    policy = http.RetryPolicy(max_retries=RETRIES, backoff=BACKOFF)
    agent = http.user_agent(mailto, user_agent)
    with http.make_client(user_agent=agent, timeout=timeout) as client:
        while True:
            message = _page(client, f"{base}/works", {**params, "cursor": cursor}, timeout, policy,
                            clock or current())
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


def _page(client: Any, url: str, params: dict[str, Any], timeout: float, policy: http.RetryPolicy,
          clock: Clock) -> dict[str, Any]:
    """One page of works, through the API services' HTTP layer: retried on 429, 5xx and broken connections,
    waiting by `clock`; UpdateError when Crossref could not be asked or sent no page."""
    exchange = http.get_with_retries(client, url, label="Crossref", timeout=timeout, policy=policy, clock=clock,
                                     params={k: str(v) for k, v in params.items()})
    response = exchange.response
    if response is None:
        raise UpdateError(exchange.error or "Crossref did not answer")
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
