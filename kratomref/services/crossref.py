"""Crossref look-ups: DOIs resolved in batches, bibliographic searches, rate limits, retries and the cache.

What could not be checked comes back as an UNVERIFIED result with its reason, never as an exception.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

from kratomref.doi import normalise_doi
from kratomref.model import DoiResolution, Lookup, SearchResolution
from kratomref.services.cache import Cache
from kratomref.services.clock import Clock, current
from kratomref.services.ratelimit import CrossrefLimiter
from kratomref.services.stats import Counters

if TYPE_CHECKING:
    from typing import Protocol

    import httpx2

    class Mirror(Protocol):
        """What the service reads of a local mirror (services/mirror: SQLite or PostgreSQL)."""

        def get_many(self, dois: Sequence[str]) -> dict[str, dict[str, Any]]: ...

        def search(self, query: str, container: str | None = None, rows: int = ...) -> list[dict[str, Any]]: ...

# The HTTP layer (services/http.py, and httpx2 under it) is loaded by the first request, not with this module:
# an offline run, which answers from the cache, never loads it.

DOI_NAMESPACE = "crossref-doi"
SEARCH_NAMESPACE = "crossref-search"
# Long URLs fail at proxies and at Crossref's own front end well before the 8 KB some servers accept;
# 4,000 characters (with every character of a DOI counted as percent-encoded) is the conservative limit.
MAX_URL_LENGTH = 4000
# A filter with more values gains little (the URL limit binds first for typical DOIs) and makes one
# failed request cost more DOIs.
MAX_DOIS_PER_BATCH = 100
SEARCH_ROWS = 5  # candidates per bibliographic search; Crossref's own matching looks at a handful
FALLBACK_PROBES = 2  # failed single look-ups in a row, after a failed batch, before the rest are given up
# Fields of a work dropped before it is cached or returned: the cited-reference list can be hundreds of
# entries and no rule reads it.
DROPPED_FIELDS = ("reference",)
# The shape of a work, as far as the rules read it (see well_formed_work).
WORK_LIST_FIELDS = ("title", "subtitle", "container-title", "short-container-title")  # lists of strings
WORK_RECORD_LISTS = ("author", "editor", "updated-by")  # lists of objects
WORK_OBJECTS = ("issued", "published", "published-print", "published-online", "relation")
WORK_STRINGS = ("type", "volume", "issue", "page", "article-number")
UNTITLED_TYPES = frozenset({"component", "journal-issue", "journal-volume"})  # records Crossref may leave untitled


# --- the requests --------------------------------------------------------------------------------------
# Crossref's REST API is asked for four things, each built here and sent through services/http.py, the one
# HTTP layer of the API services (see docs/design.md on why not habanero): a batch of DOIs
# (works?filter=doi:A,doi:B&rows=N), one DOI (works/{doi}), its registration agency (works/{doi}/agency) and a
# bibliographic search (works?rows=N&query.bibliographic=...&query.container-title=...). The URLs and
# parameters are the ones habanero sent for the same calls.


@dataclass(frozen=True)
class CrossrefSettings:
    """What CrossrefService needs to know of a run's settings (check.py maps Options onto it; the defaults
    are Options', declared there once)."""

    crossref_url: str
    doi_url: str  # the handle API, for DOIs Crossref lacks
    mailto: str | None  # the polite pool, and the contact in the User-Agent
    user_agent: str | None  # the user's string, appended to kratomref's
    timeout: float  # seconds, each request as a whole
    max_retries: int
    offline: bool  # the cache and the mirror only
    ttl_found: float  # seconds a found record is cached
    ttl_not_found: float

    @property
    def pool(self) -> str:
        """The pool Crossref puts us in, until it says otherwise (X-Api-Pool)."""
        return "polite" if self.mailto else "public"


@dataclass
class CrossrefStats(Counters):
    """What a service did (requests, retries, 429s, the pool), for the benchmark and the tests."""

    requests: int = 0  # to Crossref, retries included
    single: int = 0
    lists: int = 0  # batches and searches
    handles: int = 0  # to doi.org
    rate_limited: int = 0  # 429s seen
    retries: int = 0
    cache_hits: int = 0
    mirror_hits: int = 0  # DOIs and searches the local mirror answered
    pool: str = ""  # as announced by X-Api-Pool, else as assumed from mailto


@dataclass(frozen=True)
class _Answer:
    """One Crossref call after retries: the JSON "message", a 404, or a reason it could not be read."""

    message: Any = None
    not_found: bool = False
    error: str | None = None
    status: int | None = None  # HTTP status of the last answer, when there was one


def _json(response: httpx2.Response) -> Any:
    """The JSON body of an answer that says it is JSON (as Crossref's are), else None."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _message(body: Any) -> Any:
    # An error that came with HTTP 200 ({"status": "error", "message-type": "exception", ...}) is no answer.
    if isinstance(body, dict) and body.get("status", "ok") == "ok" and isinstance(body.get("message"), dict):
        return body["message"]
    return None


def _list_of(value: Any, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(v, kind) for v in value)


def well_formed_work(item: Any) -> bool:
    """Whether `item` has the shape of a Crossref work: a DOI, a title (unless its type is one Crossref
    leaves untitled) and, for the fields the rules read, the types Crossref sends. A look-up answered with
    anything else could not be checked: the rules never judge a reference against it, and it is never
    cached (issue 17)."""
    if not isinstance(item, dict):
        return False
    doi = item.get("DOI")
    if not isinstance(doi, str) or normalise_doi(doi) is None:
        return False
    for name in WORK_LIST_FIELDS:
        if name in item and not _list_of(item[name], str):
            return False
    for name in WORK_RECORD_LISTS:
        if name in item and not _list_of(item[name], dict):
            return False
    for name in WORK_OBJECTS:
        if name in item and not isinstance(item[name], dict):
            return False
    for name in WORK_STRINGS:
        if name in item and not isinstance(item[name], str):
            return False
    titled = any(t.strip() for t in item.get("title") or [])
    return titled or item.get("type") in UNTITLED_TYPES


def _usable_doi_entry(cached: Any) -> TypeGuard[dict[str, Any]]:
    """A cached DOI look-up that says something: found (with a well-formed record, or only an agency) or
    not found. Anything else (an entry an older version stored, a hand-edited file) is asked again."""
    if not isinstance(cached, dict):
        return False
    if cached.get("status") == Lookup.NOT_FOUND.value:
        return True
    record = cached.get("record")
    return cached.get("status") == Lookup.FOUND.value and (record is None or well_formed_work(record))


def _work_list(body: Any) -> Any:
    # A list's "message" says how many works matched ("total-results"): without it, no work list.
    message = _message(body)
    return message if isinstance(message, dict) and "total-results" in message else None


def _agency_label(body: Any) -> str | None:
    # works/{doi}/agency: {"message": {"agency": {"id": "crossref", "label": "Crossref"}}}.
    agency = _message(body)
    label = agency.get("agency") if isinstance(agency, dict) else None
    label = label.get("label") if isinstance(label, dict) else None
    if isinstance(label, str) and label.strip():
        return label.strip().lower()
    return None


def _trim(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in DROPPED_FIELDS}


def _quote_doi(doi: str) -> str:
    # The DOI is a path segment of the URL; it may hold "?", "#" or "%".
    return urllib.parse.quote(doi, safe="/:;()._-<>[]")


def service_key(*base_urls: str) -> str:
    """A short tag of the service base URLs, prefixed to cache keys: an answer from a mirror or a test
    server (a repository's config file can name one) is never reused against another service."""
    joined = "\n".join(url.rstrip("/").lower() for url in base_urls)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:12]


def batches(dois: Sequence[str], base_url: str) -> list[list[str]]:
    """Split DOIs into filter requests whose URL stays under MAX_URL_LENGTH characters."""
    budget = MAX_URL_LENGTH - len(base_url.rstrip("/") + "/works?filter=&rows=1000")
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for doi in dois:
        size = len(urllib.parse.quote(f"doi:{doi},", safe=""))
        if current and (used + size > budget or len(current) >= MAX_DOIS_PER_BATCH):
            chunks.append(current)
            current, used = [], 0
        current.append(doi)
        used += size
    if current:
        chunks.append(current)
    return chunks


def _plausible(query: str, candidates: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a mirror's candidates may hold the work the query describes: one's title appears in the query
    about as well as a title must for a match."""
    from kratomref import matching

    return any((matching.title_in_text(query, matching.record_titles(c)) or 0.0) >= matching.TITLE_MATCH
               for c in candidates)


class CrossrefService:
    """Resolves DOIs and runs bibliographic searches against Crossref (and doi.org for DOIs it lacks)."""

    def __init__(
        self,
        settings: CrossrefSettings,
        cache: Cache,
        clock: Clock | None = None,
        *,
        mirror: Callable[[], Mirror | None] | None = None,
    ) -> None:
        """settings: what the service needs of a run's options (check.crossref_settings maps them); mirror:
        opens the local mirror when a look-up first needs it (None: no mirror)."""
        self.settings = settings
        self.cache = cache
        self.clock = clock or current()  # pacing, backoffs and Retry-After; the timeout stays on real time
        self.limiter = CrossrefLimiter(settings.pool, self.clock)
        self.stats = CrossrefStats(pool=settings.pool)
        self.base_url = settings.crossref_url.rstrip("/")
        self._mirror = mirror
        self._http: httpx2.Client | None = None
        self._failed_probes = 0  # probes behind the circuit breaker that failed in a row, in any call
        self._doi_prefix = service_key(self.base_url, settings.doi_url) + ":"
        self._search_prefix = service_key(self.base_url) + ":"

    # --- public API ------------------------------------------------------------------------------------

    def resolve_dois(self, dois: Sequence[str]) -> dict[str, DoiResolution]:
        """Each normalised DOI -> what Crossref (or its registration agency) says about it."""

        results: dict[str, DoiResolution] = {}
        todo: list[str] = []
        uncached: list[str] = []
        for doi in dict.fromkeys(dois):
            cached = self.cache.get(DOI_NAMESPACE, self._doi_prefix + doi)
            if _usable_doi_entry(cached):
                self.stats.add(cache_hits=1)
                results[doi] = DoiResolution(
                    doi, Lookup(cached["status"]), cached.get("record"), cached.get("agency"), from_cache=True
                )
            else:
                uncached.append(doi)
        # Then the local mirror (a local answer, like the cache's: from_cache, never evidence that the network
        # is up); only what it lacks goes to the live API. A DOI the mirror lacks is never "not found" on its
        # word: the live API (or doi.org) decides, and offline it stays unverified.
        store = self._mirror() if uncached and self._mirror is not None else None
        held = store.get_many(uncached) if store is not None else {}
        for doi in uncached:
            record = held.get(doi)
            if record is not None:
                self.stats.add(mirror_hits=1)
                agency = None if record.get("source") == "openalex" else "crossref"
                results[doi] = DoiResolution(doi, Lookup.FOUND, record, agency, from_cache=True)
            elif self.settings.offline:
                reason = "offline; not in the mirror" if store is not None else "offline"
                results[doi] = DoiResolution(doi, Lookup.UNVERIFIED, reason=reason)
            else:
                todo.append(doi)
        if not todo:
            return results
        with self._session():
            missing: list[str] = []
            failed: list[str] = []  # DOIs of batches that failed (5xx, timeout, malformed answer)
            failure = ""
            chunks = batches(todo, self.base_url)
            # Each batch is judged and stored as it is answered, while the others are still on the wire.
            for chunk, answer in self._as_answered(self._batch, chunks):
                if answer.status == 400:
                    # A filter Crossref refuses (a DOI with characters its filter syntax cannot take)
                    # says nothing about the DOIs: ask for each on its own.
                    missing.extend(chunk)
                    continue
                if answer.status == 429:  # told to wait longer than a run should: single look-ups would be too
                    for doi in chunk:
                        results[doi] = DoiResolution(doi, Lookup.UNVERIFIED, reason=answer.error)
                    continue
                found = self._batch_items(answer.message) if answer.error is None and not answer.not_found else None
                if found is None:
                    # Filter queries fail under load far more often than single look-ups: try those. A 404
                    # is a failure too: a wrong path in --crossref-url, a mirror without filters, a proxy's
                    # error page; never a verdict on the DOIs.
                    failed.extend(chunk)
                    if answer.not_found:
                        failure = "Crossref answered HTTP 404 to a batched look-up"
                    else:
                        failure = answer.error or "Crossref sent a malformed answer"
                    continue
                answered = [DoiResolution(doi, Lookup.FOUND, found[doi], "crossref") for doi in chunk if doi in found]
                missing.extend(doi for doi in chunk if doi not in found)
                for resolution in self._store_many(answered):
                    results[resolution.doi] = resolution
            for resolution in self._store_many(self._map(self._single, missing)):
                results[resolution.doi] = resolution
            results.update(self._fall_back(failed, failure))
        return {doi: results[doi] for doi in dict.fromkeys(dois)}

    def _fall_back(self, dois: list[str], failure: str) -> dict[str, DoiResolution]:
        """Single look-ups for the DOIs of failed batches, behind the circuit breaker; DOIs given up on
        carry the batch's reason."""
        resolutions = self._behind_breaker(
            lambda doi: self._store(self._single(doi)),
            dois,
            lambda r: r.reason or failure if r.status is Lookup.UNVERIFIED else None,
            lambda doi, _: DoiResolution(doi, Lookup.UNVERIFIED, reason=failure),
        )
        return {r.doi: r for r in resolutions}

    def _behind_breaker(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        failed: Callable[[Any], str | None],
        given_up: Callable[[Any, str], Any],
    ) -> list[Any]:
        """fn over items, behind a circuit breaker: probes go one at a time until one is answered; when
        FALLBACK_PROBES fail in a row, Crossref is down or refusing us, and the rest become given_up(item,
        reason) rather than costing a retried request each. `failed` is a result's reason, or None."""
        results: list[Any] = []
        pending = list(items)
        while pending:
            result = fn(pending.pop(0))
            results.append(result)
            reason = failed(result)
            if reason is None:
                self._failed_probes = 0
                break
            # The count runs across calls: after the DOIs' probes failed, the searches that follow get
            # one probe (Crossref may be back), not FALLBACK_PROBES more timeouts.
            self._failed_probes += 1
            if self._failed_probes >= FALLBACK_PROBES:
                return results + [given_up(item, reason) for item in pending]
        return results + self._map(fn, pending)

    def search(
        self, queries: Mapping[str, str], container_titles: Mapping[str, str] | None = None
    ) -> dict[str, SearchResolution]:
        """Caller id -> the candidates a query.bibliographic search returned, best first.

        container_titles: caller id -> a journal that narrows that caller's search (query.container-title).
        """
        containers = container_titles or {}
        wanted = {ident: (query, containers.get(ident)) for ident, query in queries.items()}

        by_query: dict[tuple[str, str | None], SearchResolution] = {}
        todo: list[tuple[str, str | None]] = []
        store = self._mirror() if wanted and self._mirror is not None else None
        for search in dict.fromkeys(wanted.values()):
            query, container = search
            cached = self.cache.get(SEARCH_NAMESPACE, self._search_key(query, container))
            if isinstance(cached, list) and all(well_formed_work(item) for item in cached):
                self.stats.add(cache_hits=1)
                by_query[search] = SearchResolution(query, Lookup.FOUND, tuple(cached), from_cache=True)
                continue
            # The mirror answers a search when one of its candidates has a title the query holds; the rules
            # then validate them field by field exactly as the live API's. A mirror that holds nothing like the
            # work (a partial mirror) is no evidence that the work does not exist: that search goes live, and
            # offline it stays unverified, never "reference not found".
            candidates = store.search(query, container, SEARCH_ROWS) if store is not None else []
            if candidates and _plausible(query, candidates):
                self.stats.add(mirror_hits=1)
                by_query[search] = SearchResolution(query, Lookup.FOUND, tuple(candidates), from_cache=True)
            elif self.settings.offline:
                reason = "offline; nothing like it in the mirror" if store is not None else "offline"
                by_query[search] = SearchResolution(query, Lookup.UNVERIFIED, reason=reason)
            else:
                todo.append(search)
        if todo:
            with self._session():
                answered = self._behind_breaker(
                    self._search_one,
                    todo,
                    lambda r: r.reason or "search failed" if r.status is Lookup.UNVERIFIED else None,
                    lambda search, reason: SearchResolution(search[0], Lookup.UNVERIFIED, reason=reason),
                )
                to_store: dict[float, dict[str, Any]] = {}
                for search, resolution in zip(todo, answered, strict=True):
                    by_query[search] = resolution
                    if resolution.status is Lookup.FOUND:  # never an unverified search
                        ttl = self.settings.ttl_found if resolution.candidates else self.settings.ttl_not_found
                        to_store.setdefault(ttl, {})[self._search_key(*search)] = list(resolution.candidates)
                for ttl, items in to_store.items():
                    self.cache.put_many(SEARCH_NAMESPACE, items, ttl)
        return {ident: by_query[search] for ident, search in wanted.items()}

    # --- plumbing -------------------------------------------------------------------------------------

    @property
    def user_agent(self) -> str:
        """What Crossref and doi.org see (see http.user_agent)."""
        from kratomref.services import http

        return http.user_agent(self.settings.mailto, self.settings.user_agent)

    def _session(self) -> httpx2.Client:
        # One pooled client per public call: keep-alive connections instead of one per request.
        from kratomref.services import http

        self._http = http.make_client(user_agent=self.user_agent, max_connections=self.limiter.cap.limit + 2)
        return self._http

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if not items:
            return []
        workers = min(len(items), self.limiter.cap.limit)
        if workers == 1:
            return [fn(item) for item in items]
        from concurrent.futures import ThreadPoolExecutor  # loaded by the first run that asks several at once

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crossref") as pool:
            return list(pool.map(fn, items))

    def _search_key(self, query: str, container: str | None = None) -> str:
        if container:
            return f"{self._search_prefix}rows={SEARCH_ROWS}:container={container}:{query}"
        return f"{self._search_prefix}rows={SEARCH_ROWS}:{query}"

    def _as_answered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        """(item, fn(item)) in the order the answers come, up to the concurrency cap at once: the caller's
        work on one answer overlaps the requests still under way."""
        workers = min(len(items), self.limiter.cap.limit)
        if workers <= 1:
            for item in items:
                yield item, fn(item)
            return
        from concurrent.futures import ThreadPoolExecutor, as_completed

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crossref")
        try:
            futures = {pool.submit(fn, item): item for item in items}
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            # An interrupt or an error: the requests not yet started never are.
            pool.shutdown(wait=True, cancel_futures=True)

    def _store_many(self, resolutions: Sequence[DoiResolution]) -> Sequence[DoiResolution]:
        """_store for many, in one cache transaction per time to live (a transaction per DOI costs more
        than the requests)."""
        by_ttl: dict[float, dict[str, Any]] = {}
        for resolution in resolutions:
            if resolution.status is Lookup.UNVERIFIED:
                continue  # errors are never cached
            ttl = self.settings.ttl_found if resolution.status is Lookup.FOUND else self.settings.ttl_not_found
            value = {"status": resolution.status.value, "record": resolution.record, "agency": resolution.agency}
            by_ttl.setdefault(ttl, {})[self._doi_prefix + resolution.doi] = value
        for ttl, items in by_ttl.items():
            self.cache.put_many(DOI_NAMESPACE, items, ttl)
        return resolutions

    def _store(self, resolution: DoiResolution) -> DoiResolution:
        if resolution.status is Lookup.UNVERIFIED:
            return resolution  # errors are never cached
        ttl = self.settings.ttl_found if resolution.status is Lookup.FOUND else self.settings.ttl_not_found
        value = {"status": resolution.status.value, "record": resolution.record, "agency": resolution.agency}
        self.cache.put(DOI_NAMESPACE, self._doi_prefix + resolution.doi, value, ttl)
        return resolution

    def _call(
        self, kind: str, url: str, params: Mapping[str, str] | None = None,
        shape: Callable[[Any], Any] = _message,
    ) -> _Answer:
        """One GET through the limiter, retried on 429, 5xx and broken connections up to max_retries (see
        http.RetryPolicy); each attempt is bounded by the timeout as a whole.

        `shape` turns the JSON body of a 200 answer into the answer, or None when it is not what Crossref
        sends; by default the JSON object's "message" object."""
        from kratomref.services import http

        assert self._http is not None, "a request outside a session"
        exchange = http.get_with_retries(
            self._http, url, label="Crossref", timeout=self.settings.timeout,
            policy=http.RetryPolicy(max_retries=self.settings.max_retries),
            clock=self.clock, params=params,
            slot=lambda: self.limiter.request(kind),
            on_send=lambda attempt: self._sent(kind, attempt),
            on_answer=lambda response: self._answered(kind, response),
            on_429=lambda retry_after, started: self._too_many(kind, retry_after, started),
        )
        response = exchange.response
        if response is None:
            return _Answer(error=exchange.error, status=exchange.status)
        status = response.status_code
        if status == 404:
            self.limiter.succeeded(kind)
            self._failed_probes = 0
            return _Answer(not_found=True, status=404)
        if status != 200:
            return _Answer(error=f"Crossref answered HTTP {status}", status=status)
        self.limiter.succeeded(kind)
        value = shape(_json(response))
        if value is None:
            return _Answer(error="Crossref sent a malformed answer", status=status)
        self._failed_probes = 0  # Crossref answers: the circuit breaker starts afresh
        return _Answer(message=value, status=status)

    def _too_many(self, kind: str, retry_after: float | None, started: float) -> None:
        # Not a sleep here: the limiter holds back every request (this one's retry too) for Retry-After.
        self.limiter.too_many(kind, retry_after, started)

    def _sent(self, kind: str, attempt: int) -> None:
        self.stats.add(requests=1, **({"single": 1} if kind == "single" else {"lists": 1}))
        if attempt:
            self.stats.add(retries=1)

    def _answered(self, kind: str, response: httpx2.Response) -> None:
        """Every answer, whatever its status: the limits and the pool it announces."""
        headers = response.headers
        self.limiter.adapt(kind, headers)
        if headers.get("x-api-pool"):
            self.stats.pool = headers["x-api-pool"].strip().lower()
        if response.status_code == 429:
            self.stats.add(rate_limited=1)

    def _batch(self, chunk: list[str]) -> _Answer:
        params = {"filter": ",".join(f"doi:{doi}" for doi in chunk), "rows": str(len(chunk))}
        return self._call("list", f"{self.base_url}/works", params, _work_list)

    @staticmethod
    def _batch_items(message: Mapping[str, Any]) -> dict[str, dict[str, Any]] | None:
        items = message.get("items")
        if not isinstance(items, list):
            return None
        found: dict[str, dict[str, Any]] = {}
        for item in items:
            if not well_formed_work(item):
                return None  # one item of the wrong shape and the rest of the answer is not trusted either
            doi = normalise_doi(str(item["DOI"]))
            if doi:
                found[doi] = _trim(item)
        return found

    def _single(self, doi: str) -> DoiResolution:
        answer = self._call("single", f"{self.base_url}/works/{_quote_doi(doi)}")
        if answer.error is not None:
            return DoiResolution(doi, Lookup.UNVERIFIED, reason=answer.error)
        if not answer.not_found:
            if not well_formed_work(answer.message):
                return DoiResolution(doi, Lookup.UNVERIFIED, reason="Crossref sent a malformed answer")
            return DoiResolution(doi, Lookup.FOUND, _trim(answer.message), "crossref")
        return self._elsewhere(doi)

    def _elsewhere(self, doi: str) -> DoiResolution:
        """Crossref has no record: is the DOI registered with another agency (DataCite, mEDRA...)?"""
        from kratomref.services.doiorg import lookup_handle

        assert self._http is not None
        self.stats.add(handles=1)
        handle = lookup_handle(self._http, self.settings.doi_url, doi, self.settings.timeout)
        agency = self._call("single", f"{self.base_url}/works/{_quote_doi(doi)}/agency", shape=_agency_label)
        label: str | None = agency.message if isinstance(agency.message, str) else None
        if label is not None or handle.status is Lookup.FOUND:
            return DoiResolution(doi, Lookup.FOUND, None, label)
        if handle.status is Lookup.NOT_FOUND and agency.not_found:
            return DoiResolution(doi, Lookup.NOT_FOUND)
        reasons = [r for r in (handle.reason, agency.error) if r]
        return DoiResolution(doi, Lookup.UNVERIFIED, reason="; ".join(reasons) or "registration unknown")

    def _search_one(self, search: tuple[str, str | None]) -> SearchResolution:
        query, container = search
        params = {"rows": str(SEARCH_ROWS), "query.bibliographic": query}
        if container:
            params["query.container-title"] = container
        answer = self._call("list", f"{self.base_url}/works", params, _work_list)
        if answer.error is not None:
            return SearchResolution(query, Lookup.UNVERIFIED, reason=answer.error)
        if answer.not_found:
            return SearchResolution(query, Lookup.UNVERIFIED, reason="Crossref answered HTTP 404 to a search")
        items = answer.message.get("items")
        if not isinstance(items, list) or not all(well_formed_work(i) for i in items):
            return SearchResolution(query, Lookup.UNVERIFIED, reason="Crossref sent a malformed answer")
        return SearchResolution(query, Lookup.FOUND, tuple(_trim(i) for i in items))
