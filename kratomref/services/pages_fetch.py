"""Fetching a web page to check (`kratomref check https://…`) under the link checker's network policy.

The same rules as a link check: public addresses only unless --allow-private (every redirect hop checked, and
the address connected to is the one checked), the link checker's User-Agent, --timeout per request and a bound
on the whole fetch, at most MAX_PAGE_BYTES of page, no cookies or credentials sent, the environment's proxy and
CA bundle. A page fetched is kept in the cache for --ttl-links, and an --offline run reads it from there.
A page that cannot be fetched raises PageError with the reason in words: the run stops with exit 2.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kratomref.services.cache import Cache

PAGES_NAMESPACE = "pages"
MAX_PAGE_BYTES = 8 * 1024 * 1024  # decoded bytes: an article page is rarely past 2 MB, markup included
MAX_REDIRECTS = 10
TOTAL_SECONDS_PER_TIMEOUT = 3  # the whole fetch (redirects, body) within three times --timeout
_CHUNK = 64 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")


@dataclass(frozen=True)
class PageSettings:
    """What a page fetch takes of a run's options (check.page_settings maps them)."""

    timeout: float = 10.0  # seconds per request; the whole fetch gets TOTAL_SECONDS_PER_TIMEOUT times it
    user_agent: str | None = None  # None: the link checker's
    allow_private: bool = False
    offline: bool = False  # only a copy in the cache is read
    ttl_links: float = 86400.0  # how long a fetched page stays in the cache


class PageError(Exception):
    """A page that could not be fetched, and why (in words, without the address)."""


def is_address(path: str) -> bool:
    """True for an input named by an http(s) address rather than a file."""
    return path[:8].lower().startswith(("http://", "https://"))


def fetch(url: str, settings: PageSettings, cache: Cache | None = None) -> tuple[str, bytes, str]:
    """(final address after redirects, the page's bytes, its Content-Type), from the cache when a fresh copy is
    there (None: no cache), else from the web. Raises PageError."""
    from kratomref.services.netpolicy import PRIVATE_REFUSED, AddressRefused, check_literal

    host = urllib.parse.urlsplit(url).hostname or ""
    try:  # before the cache too: a copy fetched with --allow-private is not read without it
        check_literal(host, allow_private=settings.allow_private)
    except AddressRefused as exc:
        raise PageError(f"{exc.address}: {PRIVATE_REFUSED}") from None
    cached = cache.get(PAGES_NAMESPACE, url) if cache is not None else None
    if isinstance(cached, dict) and isinstance(cached.get("body"), str):
        try:
            body = base64.b64decode(cached["body"], validate=True)
        except ValueError:
            body = None
        if body is not None:
            return str(cached.get("final") or url), body, str(cached.get("type") or "")
    if settings.offline:
        raise PageError("offline, and the page is not in the cache")
    final, body, content_type = _fetch(url, settings)
    if cache is not None:
        value = {"final": final, "body": base64.b64encode(body).decode("ascii"), "type": content_type}
        cache.put(PAGES_NAMESPACE, url, value, settings.ttl_links)
    return final, body, content_type


def _fetch(url: str, settings: PageSettings) -> tuple[str, bytes, str]:
    from kratomref.services.links import DEFAULT_USER_AGENT
    from kratomref.services.links.transport import Transport, describe_failure
    from kratomref.services.netpolicy import PRIVATE_REFUSED, AddressRefused, check_literal

    timeout = max(0.05, settings.timeout)
    deadline = time.monotonic() + timeout * TOTAL_SECONDS_PER_TIMEOUT
    transport = Transport(user_agent=settings.user_agent or DEFAULT_USER_AGENT, timeout=timeout, per_host=1)
    try:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            parts = urllib.parse.urlsplit(current)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise PageError(f"{current} is not an http(s) address with a host")
            try:
                check_literal(parts.hostname, allow_private=settings.allow_private)
            except AddressRefused as exc:
                raise PageError(f"{exc.address}: {PRIVATE_REFUSED}") from None
            guarded = not settings.allow_private and transport.proxy_for(current) is None
            session = transport.session(guarded)
            try:
                response = session.get(current, stream=True, allow_redirects=False, timeout=(timeout, timeout))
            except AddressRefused as exc:
                raise PageError(f"{exc.address}: {PRIVATE_REFUSED}") from None
            except Exception as exc:
                _, reason, _ = describe_failure(exc, timeout)
                raise PageError(reason) from None
            try:
                if response.status_code in (301, 302, 303, 307, 308):
                    location = response.headers.get("location", "").strip()
                    if not location:
                        raise PageError(f"HTTP {response.status_code} redirect without a Location header")
                    current = urllib.parse.urljoin(current, location)
                    continue
                if response.status_code != 200:
                    raise PageError(f"HTTP {response.status_code}")
                content_type = response.headers.get("content-type", "")
                kind = content_type.split(";")[0].strip().lower()
                if kind and kind not in _HTML_TYPES:
                    raise PageError(f"it is {kind}, not a web page")
                return current, _body(response, deadline, timeout), content_type
            finally:
                response.close()
        raise PageError(f"too many redirects (more than {MAX_REDIRECTS})")
    finally:
        transport.close()


def _body(response: Any, deadline: float, timeout: float) -> bytes:
    """The decoded body, at most MAX_PAGE_BYTES, read before the deadline: read1 returns what one receive
    brings (each bounded by --timeout), so a server that sends a byte at a time cannot hold the run."""
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = response.raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_PAGE_BYTES:
                raise PageError(f"the page is larger than {MAX_PAGE_BYTES // 2**20} MiB")
            if time.monotonic() > deadline:
                raise PageError(f"the page took longer than {timeout * TOTAL_SECONDS_PER_TIMEOUT:.0f} s to arrive")
            chunks.append(chunk)
    except PageError:
        raise
    except Exception as exc:
        raise PageError(f"the connection failed while the page was read ({type(exc).__name__})") from None
    return b"".join(chunks)
