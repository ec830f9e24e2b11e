"""Live link checks: LinkChecker and the names other modules use (the HTTP layer loads only when a link is fetched).

Rooms: checker.py (what to fetch, cache, retries, redirects, archive look-ups, results), schedule.py (per-host
scheduling), answers.py (what an HTTP answer says), pages.py (a page's title and heading, soft 404s, bot
walls), transport.py (requests and urllib3: sessions, connections, proxies, CA bundle, failures in words).
"""

from __future__ import annotations

from kratomref.services.links.checker import (
    ARCHIVE_NAMESPACE,
    DEFAULT_USER_AGENT,
    LINKS_NAMESPACE,
    LinkChecker,
    LinkSettings,
    LinkStats,
)

__all__ = ["ARCHIVE_NAMESPACE", "DEFAULT_USER_AGENT", "LINKS_NAMESPACE", "LinkChecker", "LinkSettings", "LinkStats"]
