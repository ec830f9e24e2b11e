"""What an HTTP answer says about a link: the Answer one fetch returns, and the verdict its last hop gives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kratomref.model import Hop, LinkResult, LinkStatus
from kratomref.services.links.pages import is_challenge, is_soft_404

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
PERMANENT_CODES = frozenset({301, 308})
# Answers that mean "the site will not let a robot check this", not "the page is gone": 401/407 need
# credentials, 403 is the usual bot wall, 429 a rate limit, 999 LinkedIn's robot refusal.
BLOCKED_CODES = frozenset({401, 403, 407, 429, 999})
# Answers a proxy gives when it cannot reach the host (to CONNECT, or to a request it forwards).
PROXY_FAILURE_CODES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class Answer:
    """One HTTP answer (after retries), or why there was none."""

    status: int | None = None
    location: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None
    heading: str | None = None
    # set when there was no usable answer
    failure: LinkStatus | None = None
    reason: str | None = None
    attempts: int = 1
    retryable: bool = False  # the failure may pass: worth asking again
    proxy_refusal: str | None = None  # how the proxy said it could not reach the host, when it did


def is_proxy_answer(status: int, headers: Mapping[str, str]) -> bool:
    """An answer that is the proxy's own "cannot reach this host" to a request it forwards: a 502 or 504
    (gateway errors), or a 503 that says it is the proxy's (Proxy-Status, RFC 9209, or Squid's header)."""
    if status not in PROXY_FAILURE_CODES:
        return False
    return status != 503 or "proxy-status" in headers or "x-squid-error" in headers


def verdict(url: str, final: str, chain: list[Hop], answer: Answer) -> LinkResult:
    """The result of a link whose last hop (`final`, reached through `chain`) gave `answer`, not a redirect."""
    code = answer.status
    assert code is not None
    redirects = [h.status for h in chain[:-1]]
    common: dict[str, Any] = {
        "http_status": code, "final_url": final, "chain": tuple(chain), "title": answer.title or answer.heading,
        "permanent_redirect": bool(redirects) and all(s in PERMANENT_CODES for s in redirects),
    }
    challenge = is_challenge(code, answer.headers, answer.title)
    if 200 <= code < 300 or code in (300, 304):
        if challenge:
            return LinkResult(url, LinkStatus.BLOCKED, reason="a bot challenge page", **common)
        soft = is_soft_404(answer.title, answer.heading)
        return LinkResult(url, LinkStatus.OK, soft_404=soft,
                          reason="the page says it was not found" if soft else None, **common)
    if code in BLOCKED_CODES or challenge:
        words = "a bot challenge page" if challenge else {
            401: "needs a login", 407: "needs proxy credentials", 429: "rate limited",
            999: "refuses robots", 403: "forbidden to robots",
        }.get(code, "")
        extra = f"; {answer.reason}" if answer.reason else ""
        return LinkResult(url, LinkStatus.BLOCKED, reason=f"HTTP {code}: {words}{extra}", **common)
    if answer.reason and code == 503:  # asked to come back later than we wait
        return LinkResult(url, LinkStatus.UNVERIFIED, reason=f"HTTP 503: {answer.reason}", **common)
    if 400 <= code < 600:
        persisted = f" (after {answer.attempts - 1} retries)" if code >= 500 and answer.attempts > 1 else ""
        return LinkResult(url, LinkStatus.BROKEN, reason=f"HTTP {code}{persisted}", **common)
    return LinkResult(url, LinkStatus.UNREACHABLE, reason=f"HTTP {code} is not a valid status", **common)
