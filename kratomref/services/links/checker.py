"""Checks links: one LinkResult per URL, from the cache or fetched (redirects by hand, retries, archive copies).

Before any request: not http(s), malformed, excluded or a refused literal address. Then the cache; then every
URL left is fetched once, politely (a worker pool, a per-host limit and gap): workers take the next URL of a
host that has room, so none waits on a busy host while others are idle, and the first URLs are fetched while
the rest are still being looked at. The HTTP layer (transport.py) is loaded when the first link is fetched:
an offline run answers from the cache and never loads it.

What could not be checked (offline, refused by policy, a rate limit, a bot wall, our own network) comes
back as an UNVERIFIED or BLOCKED result with its reason, never as "broken" and never as an exception.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from kratomref import __version__, lazy
from kratomref.model import Hop, LinkResult, LinkStatus
from kratomref.services import PROJECT_URL
from kratomref.services.cache import Cache
from kratomref.services.clock import Clock
from kratomref.services.links.schedule import HostGate, HostQueue, host_key
from kratomref.services.netpolicy import PRIVATE_REFUSED, AddressRefused, check_literal
from kratomref.services.stats import Counters
from kratomref.urls import normalise_url

if TYPE_CHECKING:
    from concurrent.futures import Future

    from kratomref.services.archive import ArchiveAnswer
    from kratomref.services.links.answers import Answer
    from kratomref.services.links.transport import Transport

LINKS_NAMESPACE = "links"
ARCHIVE_NAMESPACE = "wayback"
MAX_REDIRECTS = 10  # browsers give up after 20; a citation that needs more than 10 is not worth citing
MAX_RETRY_AFTER = 30.0  # seconds: a longer Retry-After is not waited for; the link stays unverified
RETRY_BACKOFF = 0.25  # seconds before the first retry of a connection error or 5xx, doubled each time
# Paths that name a file rather than a page: HEAD tells whether they exist without downloading them.
FILE_SUFFIXES = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".gz", ".tgz", ".tar", ".epub",
    ".mp3", ".mp4", ".avi", ".mov", ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".csv", ".xml", ".json",
)
DEFAULT_USER_AGENT = f"kratomref/{__version__} (reference checker; +{PROJECT_URL})"
_SCHEME = lazy.regex(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass
class LinkStats(Counters):
    """What a checker did (requests, retries, connections), for the benchmark and the tests."""

    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    archive_lookups: int = 0
    max_in_flight_per_host: int = 0


def looks_like_file(url: str) -> bool:
    path = urllib.parse.urlsplit(url).path.lower()
    return path.endswith(FILE_SUFFIXES)


def to_cache(result: LinkResult) -> dict[str, Any]:
    data = asdict(result)
    data["status"] = result.status.value
    data.pop("from_cache", None)
    data.pop("archived", None)  # archive look-ups have their own entries
    return data


def from_cache(data: Mapping[str, Any]) -> LinkResult | None:
    try:
        return LinkResult(
            url=str(data["url"]),
            status=LinkStatus(data["status"]),
            http_status=data.get("http_status"),
            final_url=data.get("final_url"),
            chain=tuple(Hop(str(h["url"]), int(h["status"])) for h in data.get("chain") or ()),
            permanent_redirect=bool(data.get("permanent_redirect")),
            title=data.get("title"),
            soft_404=bool(data.get("soft_404")),
            https_works=data.get("https_works"),
            reason=data.get("reason"),
            from_cache=True,
        )
    except (KeyError, ValueError, TypeError):
        return None


def worth_caching(result: LinkResult) -> bool:
    """Answers that will still hold tomorrow. Could-not-check results (blocked, unverified) are never
    cached, nor failures that may be gone in a minute (a timeout, a refused or reset connection, a DNS or
    TLS failure, a 5xx): the next run asks again, as lychee does."""
    if result.status in (LinkStatus.OK, LinkStatus.UNSUPPORTED):
        return True
    if result.status is LinkStatus.BROKEN:
        return (result.http_status or 0) < 500
    if result.status is LinkStatus.UNREACHABLE:
        # With a status, the server's own answers made it unreachable (a redirect loop, too many
        # redirects, an invalid status code): that is what it will answer tomorrow too.
        return result.http_status is not None
    return False


@dataclass(frozen=True)
class LinkSettings:
    """What the link checker takes of a run's options (check.link_settings maps them; the defaults are
    Options', declared there once)."""

    timeout: float
    max_retries: int
    max_concurrency: int
    max_per_host: int
    host_interval: float
    user_agent: str | None
    exclude: tuple[str, ...]
    accept: tuple[int, ...]
    allow_private: bool
    offline: bool
    use_cache: bool
    ttl_links: float
    archive: bool
    archive_url: str


class LinkChecker:
    """Checks URLs concurrently; `check` returns one LinkResult per URL, keyed by the URL as given."""

    def __init__(self, settings: LinkSettings, cache: Cache, clock: Clock | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.timeout = max(0.05, settings.timeout)
        # host intervals, backoffs and Retry-After wait by this clock; the timeout stays on real time
        self.gate = HostGate(settings.max_per_host, settings.host_interval, clock)
        self.stats = LinkStats()
        self.user_agent = settings.user_agent or DEFAULT_USER_AGENT
        self._exclude = [self._compile(p) for p in settings.exclude]
        self._local = threading.local()  # .target: the URL this worker is checking
        self._lock = threading.Lock()
        self._no_https: set[str] = set()  # hosts whose https:// form did not answer at all
        # Behind a proxy: the targets whose proxy said it could not reach the host, and whether the proxy
        # answered for any host at all (then those hosts are unreachable; if not, the proxy is the problem).
        self._proxy_failures: set[str] = set()
        self._proxy_answered = False
        self._transport: Transport | None = None

    @staticmethod
    def _compile(pattern: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern)
        except re.error:
            return re.compile(re.escape(pattern))  # not a regular expression: taken literally

    @property
    def transport(self) -> Transport:
        """The HTTP layer, loaded and set up when the first link is fetched (first asked for by `_run`, before
        any worker starts)."""
        if self._transport is None:
            from kratomref.services.links.transport import Transport

            self._transport = Transport(user_agent=self.user_agent, timeout=self.timeout, per_host=self.gate.per_host)
        return self._transport

    def close(self, *, wait: bool = True) -> None:
        """Close the run's connections (without `wait`, in the background)."""
        if self._transport is not None:
            self._transport.close(wait=wait)

    # -- public --

    def check(self, urls: list[str], years: Mapping[str, str | int] | None = None) -> dict[str, LinkResult]:
        years = years or {}
        results: dict[str, LinkResult] = {}
        todo: OrderedDict[str, list[str]] = OrderedDict()  # URL to fetch -> URLs as given
        year_of: dict[str, str | None] = {}
        archive_todo: dict[str, LinkResult] = {}  # cached broken links whose archived copy is not cached
        seen: set[str] = set()
        fetching: _Fetching | None = None  # started at the first URL to fetch, while the rest are looked at
        try:
            for url in urls:
                if url in seen:
                    continue
                seen.add(url)
                early, target = self._precheck(url)
                if early is not None:
                    results[url] = early
                    continue
                hit = self._cached(target, years.get(url))
                if hit is not None:
                    cached, archive_known = hit
                    self.stats.add(cache_hits=1)
                    results[url] = cached
                    if not archive_known and self._wants_archive(cached):
                        archive_todo[url] = cached
                        year_of.setdefault(target, str(years[url]) if years.get(url) else None)
                    continue
                if self.settings.offline:
                    results[url] = LinkResult(target, LinkStatus.UNVERIFIED, reason="offline, and not in the cache")
                    continue
                year = years.get(url)
                year_of.setdefault(target, str(year) if year else None)
                if target in todo:
                    todo[target].append(url)
                    continue
                todo[target] = [url]
                if fetching is None:
                    fetching = _Fetching(self, year_of)
                fetching.add(target)
            if archive_todo and fetching is None:
                fetching = _Fetching(self, year_of)
            if fetching is not None:
                fetched, archived = fetching.finish(archive_todo)
                for target, result in fetched.items():
                    for url in todo[target]:
                        results[url] = result
                results.update(archived)
        except BaseException:
            if fetching is not None:
                fetching.abort()
            raise
        return {url: results[url] for url in dict.fromkeys(urls)}

    def precheck(self, url: str) -> LinkResult | None:
        """A result without any request: not http(s), malformed, excluded or a refused literal address."""
        return self._precheck(url)[0]

    def _precheck(self, url: str) -> tuple[LinkResult | None, str]:
        """precheck's answer, and the URL to fetch (normalised) when there is none."""
        text = url.strip()
        scheme, sep, _ = text.partition("://")
        if not sep:
            match = _SCHEME.match(text)
            if match and not text[match.end():].startswith("//") and "." not in match.group(0):
                name = match.group(0)[:-1].lower()
                reason = f"{name}: links are not checked (only http and https)"
                return LinkResult(text, LinkStatus.UNSUPPORTED, reason=reason), text
            return LinkResult(text, LinkStatus.UNSUPPORTED, reason="not a URL: no scheme (write https://...)"), text
        if scheme.lower() not in ("http", "https"):
            return LinkResult(text, LinkStatus.UNSUPPORTED,
                              reason=f"{scheme.lower()}:// links are not checked (only http and https)"), text
        target = normalise_url(text)
        try:
            parts = urllib.parse.urlsplit(target)
            host = parts.hostname
            _ = parts.port
        except ValueError as exc:
            return LinkResult(target, LinkStatus.UNSUPPORTED, reason=f"not a URL: {exc}"), target
        if not host:
            return LinkResult(target, LinkStatus.UNSUPPORTED, reason="not a URL: no host name"), target
        for pattern in self._exclude:
            if pattern.search(text) or pattern.search(target):
                return LinkResult(target, LinkStatus.UNVERIFIED,
                                  reason=f"excluded by --exclude {pattern.pattern!r}"), target
        try:
            check_literal(host, allow_private=self.settings.allow_private)
        except AddressRefused as exc:
            return LinkResult(target, LinkStatus.UNVERIFIED, reason=f"{PRIVATE_REFUSED}: {exc.address}"), target
        return None, target

    # -- cache --

    def _cache_key(self, target: str) -> str:
        # A result fetched with --allow-private is not one a run without it may reuse.
        return f"{target}|private" if self.settings.allow_private else target

    def _cached(self, target: str, year: str | int | None) -> tuple[LinkResult, bool] | None:
        """The cached result as this run judges it (--accept applies now, not when it was stored), and
        whether the archive's answer for it is cached too."""
        if not self.settings.use_cache:
            return None
        data = self.cache.get(LINKS_NAMESPACE, self._cache_key(target))
        result = from_cache(data) if isinstance(data, dict) else None
        if result is None:
            return None
        result = self._accepted(result)
        archive_known = False
        if result.status in (LinkStatus.BROKEN, LinkStatus.UNREACHABLE) and self.settings.archive:
            answer = self._cached_snapshot(target, year)
            archive_known = answer.answered
            result = replace(result, archived=answer.snapshot)
        return result, archive_known

    def _archive_key(self, target: str, year: str | int | None) -> str:
        return f"{target}|{year or ''}"

    def _cached_snapshot(self, target: str, year: str | int | None) -> ArchiveAnswer:
        from kratomref.services.archive import ArchiveAnswer  # its HTTP client only when the archive is asked
        if not self.settings.use_cache:
            return ArchiveAnswer(answered=False)
        data = self.cache.get(ARCHIVE_NAMESPACE, self._archive_key(target, year))
        if isinstance(data, str):  # a snapshot, as earlier versions stored it
            return ArchiveAnswer(answered=True, snapshot=data)
        if isinstance(data, dict) and "snapshot" in data:
            snapshot = data["snapshot"]
            return ArchiveAnswer(answered=True, snapshot=snapshot if isinstance(snapshot, str) else None)
        return ArchiveAnswer(answered=False)

    def _wants_archive(self, result: LinkResult) -> bool:
        return (
            self.settings.archive and not self.settings.offline and result.archived is None
            and result.status in (LinkStatus.BROKEN, LinkStatus.UNREACHABLE)
        )

    def _accepted(self, result: LinkResult) -> LinkResult:
        if result.http_status in self.settings.accept and result.status is not LinkStatus.OK:
            return replace(result, status=LinkStatus.OK, reason=f"HTTP {result.http_status} accepted (--accept)")
        return result

    # -- running --

    def _behind_proxy(self, target: str, result: LinkResult, year: str | None) -> LinkResult:
        """A proxy's "cannot reach this host" is the host's failure when the proxy reached other hosts in
        this run; when nothing got through it at all, the proxy is what failed and the link stays
        unverified."""
        if target not in self._proxy_failures or result.status is not LinkStatus.UNVERIFIED:
            return result
        if not self._proxy_answered:
            return replace(result, reason=f"{result.reason}; no host answered through the proxy in this run, "
                                          "so the proxy is the likely cause: not checked")
        found = replace(result, status=LinkStatus.UNREACHABLE,
                        reason=f"{result.reason} (the proxy reached other hosts in this run)")
        found = self._accepted(found)
        if found.status is LinkStatus.UNREACHABLE and self.settings.archive:
            found = replace(found, archived=self._archived(target, year))
        return found

    def _check_safely(self, target: str, year: str | None) -> LinkResult:
        self._local.target = target  # whose result a proxy's refusal on any hop belongs to
        try:
            result = self._check_one(target, year)
        except Exception as exc:  # a bug or an exotic failure must not cost the rest of the run
            return LinkResult(target, LinkStatus.UNVERIFIED, reason=f"could not check: {type(exc).__name__}: {exc}")
        return result

    def _check_one(self, target: str, year: str | None) -> LinkResult:
        found = self._follow(target)
        if (
            self._accepted(found).status is LinkStatus.OK
            and target.lower().startswith("http://")
            and (found.final_url or target).lower().startswith("http://")
        ):
            found = replace(found, https_works=self._https_works(target))
        # The answer as the site gave it is cached; --accept is applied on the way out (and again on
        # every read of the cache), so a run without it never reuses what only --accept let through.
        if worth_caching(found) and self.settings.use_cache:
            self.cache.put(LINKS_NAMESPACE, self._cache_key(target), to_cache(found), self.settings.ttl_links)
        result = self._accepted(found)
        if result.status in (LinkStatus.BROKEN, LinkStatus.UNREACHABLE) and self.settings.archive:
            result = replace(result, archived=self._archived(target, year))
        return result

    def _follow(self, url: str) -> LinkResult:
        """Fetch `url` and follow its redirects by hand, checking every hop against the policy."""
        from kratomref.services.links.answers import REDIRECT_CODES, verdict  # fetching only: not offline
        chain: list[Hop] = []
        seen = {_without_fragment(url)}
        current = url
        method = "HEAD" if looks_like_file(url) else "GET"
        for hop in range(MAX_REDIRECTS + 1):
            answer = self._fetch(current, method)
            if answer.failure is not None:
                return LinkResult(url, answer.failure, http_status=answer.status, final_url=current,
                                  chain=tuple(chain), reason=answer.reason)
            assert answer.status is not None
            chain.append(Hop(current, answer.status))
            if answer.status not in REDIRECT_CODES:
                return verdict(url, current, chain, answer)
            if not answer.location:
                return LinkResult(url, LinkStatus.BROKEN, answer.status, current, tuple(chain),
                                  reason=f"HTTP {answer.status} redirect without a Location header")
            try:
                nxt = urllib.parse.urljoin(current, answer.location.strip())
                parts = urllib.parse.urlsplit(nxt)
                _ = parts.port
            except ValueError:
                return LinkResult(url, LinkStatus.BROKEN, answer.status, current, tuple(chain),
                                  reason=f"HTTP {answer.status} redirect to an invalid Location: "
                                  f"{answer.location[:100]!r}")
            if parts.scheme.lower() not in ("http", "https"):
                return LinkResult(url, LinkStatus.UNSUPPORTED, answer.status, current, tuple(chain),
                                  reason=f"redirects to a {parts.scheme or 'relative'}: address, which is not followed")
            if not parts.hostname:
                return LinkResult(url, LinkStatus.BROKEN, answer.status, current, tuple(chain),
                                  reason="redirect to a Location without a host")
            try:
                check_literal(parts.hostname, allow_private=self.settings.allow_private)
            except AddressRefused as exc:
                return LinkResult(url, LinkStatus.UNVERIFIED, answer.status, current, tuple(chain),
                                  reason=f"redirects to {exc.address}: {PRIVATE_REFUSED}")
            nxt = normalise_url(nxt)
            key = _without_fragment(nxt)
            if key in seen:
                return LinkResult(url, LinkStatus.UNREACHABLE, answer.status, nxt, tuple(chain),
                                  reason=f"redirect loop: {current} -> {nxt}")
            if hop == MAX_REDIRECTS:
                break
            seen.add(key)
            current = nxt
            if answer.status == 303:
                method = "GET"
        return LinkResult(url, LinkStatus.UNREACHABLE, chain[-1].status, current, tuple(chain),
                          reason=f"too many redirects (more than {MAX_REDIRECTS})")

    def _fetch(self, url: str, method: str) -> Answer:
        """One hop, with retries on connection errors and 5xx, Retry-After on 429/503, and GET when a
        HEAD answer says nothing."""
        from kratomref.services.http import parse_retry_after  # one Retry-After parser for every service
        from kratomref.services.links.answers import Answer, is_proxy_answer
        from kratomref.services.links.pages import is_challenge
        attempt = 0
        host = host_key(url)
        transport = self.transport
        proxy = transport.proxy_for(url)
        while True:
            with self.gate.slot(host):
                self.stats.add(requests=1)
                answer = transport.request(url, method, guarded=not self.settings.allow_private and proxy is None)
            if answer.failure is not None:
                status, reason, retryable = answer.failure, answer.reason, answer.retryable
                refusal = answer.proxy_refusal
                if refusal is not None:
                    status, retryable = LinkStatus.UNVERIFIED, True
                    reason = f"the proxy could not reach the host: {refusal}"
                if retryable and attempt < self.settings.max_retries:
                    attempt += 1
                    self.stats.add(retries=1)
                    self.gate.clock.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
                    continue
                if refusal is not None:
                    self._proxy_refused()
                return Answer(failure=status, reason=reason, attempts=attempt + 1)
            code = answer.status or 0
            if proxy is not None:
                if is_proxy_answer(code, answer.headers):
                    if attempt < self.settings.max_retries:
                        attempt += 1
                        self.stats.add(retries=1)
                        self.gate.clock.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
                        continue
                    self._proxy_refused()
                    return Answer(failure=LinkStatus.UNVERIFIED, attempts=attempt + 1,
                                  reason=f"the proxy could not reach the host: HTTP {code} from the proxy")
                self._proxy_answered = True
            if method == "HEAD" and (code >= 400 or not answer.headers.get("content-type")):
                # Servers refuse or mishandle HEAD (405, 501, and 403/404/400 from some CDNs and frameworks),
                # or answer it without saying what they hold: ask with GET (not counted as a retry).
                method = "GET"
                continue
            if code in (429, 503) and not is_challenge(code, answer.headers, answer.title):
                wait = parse_retry_after(answer.headers.get("retry-after"))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    return replace(answer, reason=f"asked to retry after {wait:.0f} s, longer than kratomref waits",
                                   attempts=attempt + 1)
                if attempt < self.settings.max_retries:
                    attempt += 1
                    self.stats.add(retries=1)
                    self.gate.hold_off(host, wait if wait is not None else RETRY_BACKOFF * 2 ** (attempt - 1))
                    continue
                if code == 429 or wait is not None:
                    return replace(answer, reason="still refused after waiting as asked", attempts=attempt + 1)
            elif code >= 500 and attempt < self.settings.max_retries:
                attempt += 1
                self.stats.add(retries=1)
                self.gate.clock.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
                continue
            return replace(answer, attempts=attempt + 1)

    def _proxy_refused(self) -> None:
        target = getattr(self._local, "target", None)
        if target is not None:
            with self._lock:
                self._proxy_failures.add(target)

    def _https_works(self, url: str) -> bool:
        from kratomref.services.links.answers import REDIRECT_CODES, Answer

        secure = "https://" + url[len("http://"):]
        host = host_key(secure)
        with self._lock:
            if host in self._no_https:
                return False
        transport = self.transport
        guarded = not self.settings.allow_private and transport.proxy_for(secure) is None
        try:
            check_literal(urllib.parse.urlsplit(secure).hostname or "", allow_private=self.settings.allow_private)
        except AddressRefused:
            answer = Answer(failure=LinkStatus.UNVERIFIED)
        else:
            with self.gate.slot(host):
                self.stats.add(requests=1)
                answer = transport.request(secure, "HEAD", guarded=guarded)
        if answer.failure is not None:
            # No TLS on that host at all (refused, handshake failed): its other links need not be tried.
            with self._lock:
                self._no_https.add(host)
            return False
        code = answer.status or 0
        if code >= 400:
            # HEAD refused (405, 501, 403 from some CDNs): ask with a bounded GET, as a normal check does.
            with self.gate.slot(host):
                self.stats.add(requests=1)
                answer = transport.request(secure, "GET", guarded=guarded)
            if answer.failure is not None:
                return False
            code = answer.status or 0
        if 200 <= code < 300:
            return True
        return code in REDIRECT_CODES and (answer.location or "").lower().startswith("https://")

    def _archived(self, target: str, year: str | None) -> str | None:
        cached = self._cached_snapshot(target, year)
        if cached.answered:
            return cached.snapshot
        self.stats.add(archive_lookups=1)
        archive_host = host_key(self.settings.archive_url)
        with self.gate.slot(archive_host):
            from kratomref.services.archive import lookup_snapshot

            answer = lookup_snapshot(self.transport.session(False), self.settings.archive_url, target, year,
                                     timeout=self.timeout)
        # "No copy" is an answer and is remembered like one; an archive that failed is asked again.
        if answer.answered and self.settings.use_cache:
            self.cache.put(ARCHIVE_NAMESPACE, self._archive_key(target, year), {"snapshot": answer.snapshot},
                           self.settings.ttl_links)
        return answer.snapshot


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


class _Fetching:
    """One run's fetching: a worker pool drains a HostQueue that URLs are added to while it runs, so the
    first URLs are fetched while the rest are still being looked at (checked, looked up in the cache)."""

    def __init__(self, checker: LinkChecker, years: Mapping[str, str | None]) -> None:
        from concurrent.futures import ThreadPoolExecutor  # fetching only: an offline run never loads it

        self.checker = checker
        self.years = years  # filled in before each URL is added
        self.targets: list[str] = []
        self.results: dict[str, LinkResult] = {}
        self.queue = HostQueue((), checker.gate, closed=False)
        self.workers = max(1, checker.settings.max_concurrency)
        self.executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="kratomref-link")
        self.drains: list[Future[None]] = []
        self.transport = checker.transport  # loaded here, before the workers share it

    def add(self, target: str) -> None:
        """Fetch `target` too: a worker takes it as soon as its host has room."""
        if not self.targets:
            self.transport.preload_ca_bundle()
        self.targets.append(target)
        self.queue.add(target)
        if len(self.drains) < self.workers:  # one worker per URL, up to the pool's size
            self.drains.append(self.executor.submit(self._drain))

    def _drain(self) -> None:
        while (target := self.queue.take()) is not None:
            try:
                self.results[target] = self.checker._check_safely(target, self.years.get(target))
            finally:
                self.queue.done(target)

    def finish(
        self, archive_todo: Mapping[str, LinkResult]
    ) -> tuple[dict[str, LinkResult], dict[str, LinkResult]]:
        """Wait for every URL added (no more will be) and look up the archive's copies of the cached
        broken links in `archive_todo`: (results by URL fetched, archived results by URL as given)."""
        checker = self.checker
        archived: dict[str, LinkResult] = {}
        lookups = {
            url: self.executor.submit(checker._archived, cached.url, self.years.get(cached.url))
            for url, cached in archive_todo.items()
        }
        self.queue.close()
        for future in self.drains:
            future.result()
        for url, lookup in lookups.items():
            archived[url] = replace(archive_todo[url], archived=lookup.result())
        self.executor.shutdown(wait=True)
        checker.close(wait=False)
        checker.stats.max_in_flight_per_host = max(checker.stats.max_in_flight_per_host, checker.gate.max_in_flight)
        fetched = {target: checker._behind_proxy(target, self.results[target], self.years.get(target))
                   for target in self.targets}
        return fetched, archived

    def abort(self) -> None:
        """Stop handing out URLs and close the connections; requests under way end on their own."""
        self.queue.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.checker.close()
