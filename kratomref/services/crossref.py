"""Crossref look-ups: DOIs resolved in batches, bibliographic searches, rate limits, retries and the cache.

What could not be checked comes back as an UNVERIFIED result with its reason, never as an exception.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import habanero
import httpx2

from kratomref import __version__
from kratomref.doi import normalise_doi
from kratomref.model import DoiResolution, Lookup, SearchResolution
from kratomref.options import Options
from kratomref.services import PROJECT_URL
from kratomref.services.cache import Cache
from kratomref.services.doiorg import MAX_ANSWER_BYTES, AnswerTooLarge, bounded_get, lookup_handle
from kratomref.services.ratelimit import CrossrefLimiter, parse_retry_after
from kratomref.services.stats import Counters

DOI_NAMESPACE = "crossref-doi"
SEARCH_NAMESPACE = "crossref-search"
# Long URLs fail at proxies and at Crossref's own front end well before the 8 KB some servers accept;
# 4,000 characters (with every character of a DOI counted as percent-encoded) is the conservative limit.
MAX_URL_LENGTH = 4000
# A filter with more values gains little (the URL limit binds first for typical DOIs) and makes one
# failed request cost more DOIs.
MAX_DOIS_PER_BATCH = 100
SEARCH_ROWS = 5  # candidates per bibliographic search; Crossref's own matching looks at a handful
# A Retry-After longer than this is not worth waiting for in an interactive run: the look-up stays unverified.
MAX_RETRY_AFTER = 30.0
SERVER_ERROR_BACKOFF = 0.5  # seconds before retrying a 5xx or a timeout, doubled each time
FALLBACK_PROBES = 2  # failed single look-ups in a row, after a failed batch, before the rest are given up
# Fields of a work dropped before it is cached or returned: the cited-reference list can be hundreds of
# entries and no rule reads it.
DROPPED_FIELDS = ("reference",)


# --- habanero, with the response headers it hides ------------------------------------------------------
# habanero's request functions call their module's `httpx2.get` and keep neither the response nor its
# headers, and they raise on 429 before we could read Retry-After. Rather than re-implementing its calls,
# the `httpx2` name of those modules is pointed at this stand-in: every attribute is the real module's, and
# `get` goes through the calling thread's pooled client (when one is set) and remembers the response. With
# no client set it behaves exactly like httpx2.get, so other users of habanero in the process see no change.
# With a client set, the timeout also bounds the whole request (see doiorg.bounded_get): httpx's own
# timeout is per read, so a server trickling a byte every half second would otherwise never time out.
_calls = threading.local()
# works() with a query or filter goes through habanero.request_class, ids and agency through habanero.request.
# importlib, not `import habanero.request`: the package re-exports a function under that module's name.
HABANERO_MODULES = ("habanero.request", "habanero.request_class")


class _RecordingHttpx:
    def __getattr__(self, name: str) -> Any:
        return getattr(httpx2, name)

    def get(self, url: str, **kwargs: Any) -> httpx2.Response:
        client: httpx2.Client | None = getattr(_calls, "client", None)
        _calls.last = None
        if client is None:
            response = httpx2.get(url, **kwargs)
        else:
            response = bounded_get(client, url, getattr(_calls, "deadline", None), MAX_ANSWER_BYTES, **kwargs)
        _calls.last = response
        return response


for _name in HABANERO_MODULES:
    _module = importlib.import_module(_name)
    if not isinstance(getattr(_module, "httpx2", None), _RecordingHttpx):
        setattr(_module, "httpx2", _RecordingHttpx())  # noqa: B010 - a module attribute mypy cannot see


@dataclass
class CrossrefStats(Counters):
    """What a service did, for --verbose and the benchmark."""

    requests: int = 0  # to Crossref, retries included
    single: int = 0
    lists: int = 0  # batches and searches
    handles: int = 0  # to doi.org
    rate_limited: int = 0  # 429s seen
    retries: int = 0
    cache_hits: int = 0
    pool: str = ""  # as announced by X-Api-Pool, else as assumed from mailto


@dataclass(frozen=True)
class _Answer:
    """One Crossref call after retries: the JSON "message", a 404, or a reason it could not be read."""

    message: Any = None
    not_found: bool = False
    error: str | None = None
    status: int | None = None  # HTTP status of the last answer, when there was one


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _message(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("message"), dict):
        return body["message"]
    return None


def _agency_label(body: Any) -> str | None:
    # registration_agency() returns the agency labels ("Crossref", "DataCite", "mEDRA"), one per id.
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], str) and body[0].strip():
        return body[0].strip().lower()
    return None


def _trim(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in DROPPED_FIELDS}


def _quote_doi(doi: str) -> str:
    # habanero appends ids to the URL as they are; a DOI may hold "?", "#" or "%".
    return urllib.parse.quote(doi, safe="/:;()._-<>[]")


def user_agent(options: Options) -> str:
    """What Crossref and doi.org see: always kratomref and its version (Crossref's etiquette, issue 3),
    then the user's --user-agent string, if any. habanero prefixes its own and httpx's names."""
    contact = f"+{PROJECT_URL}" + (f"; mailto:{options.mailto}" if options.mailto else "")
    agent = f"kratomref/{__version__} ({contact})"
    return f"{agent} {options.user_agent}" if options.user_agent else agent


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


class CrossrefService:
    """Resolves DOIs and runs bibliographic searches against Crossref (and doi.org for DOIs it lacks)."""

    def __init__(self, options: Options, cache: Cache) -> None:
        self.options = options
        self.cache = cache
        pool = "polite" if options.mailto else "public"
        self.limiter = CrossrefLimiter(pool)
        self.stats = CrossrefStats(pool=pool)
        self.base_url = options.crossref_url.rstrip("/")
        self.user_agent = user_agent(options)
        self.client = habanero.Crossref(
            base_url=self.base_url,
            mailto=options.mailto,
            ua_string=self.user_agent,
            timeout=options.timeout,
        )
        self._http: httpx2.Client | None = None
        self._doi_prefix = service_key(self.base_url, options.doi_url) + ":"
        self._search_prefix = service_key(self.base_url) + ":"

    # --- public API ------------------------------------------------------------------------------------

    def resolve_dois(self, dois: Sequence[str]) -> dict[str, DoiResolution]:
        """Each normalised DOI -> what Crossref (or its registration agency) says about it."""
        results: dict[str, DoiResolution] = {}
        todo: list[str] = []
        for doi in dict.fromkeys(dois):
            cached = self.cache.get(DOI_NAMESPACE, self._doi_prefix + doi)
            if isinstance(cached, dict) and cached.get("status") in (Lookup.FOUND.value, Lookup.NOT_FOUND.value):
                self.stats.add(cache_hits=1)
                results[doi] = DoiResolution(
                    doi, Lookup(cached["status"]), cached.get("record"), cached.get("agency"), from_cache=True
                )
            elif self.options.offline:
                results[doi] = DoiResolution(doi, Lookup.UNVERIFIED, reason="offline")
            else:
                todo.append(doi)
        if not todo:
            return results
        with self._session():
            missing: list[str] = []
            failed: list[str] = []  # DOIs of batches that failed (5xx, timeout, malformed answer)
            failure = ""
            chunks = batches(todo, self.base_url)
            for chunk, answer in zip(chunks, self._map(self._batch, chunks), strict=True):
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
                for doi in chunk:
                    if doi in found:
                        results[doi] = self._store(DoiResolution(doi, Lookup.FOUND, found[doi], "crossref"))
                    else:
                        missing.append(doi)
            for doi, resolution in zip(missing, self._map(self._single, missing), strict=True):
                results[doi] = self._store(resolution)
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
                break
            if len(results) >= FALLBACK_PROBES:
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
        for search in dict.fromkeys(wanted.values()):
            query, container = search
            cached = self.cache.get(SEARCH_NAMESPACE, self._search_key(query, container))
            if isinstance(cached, list):
                self.stats.add(cache_hits=1)
                by_query[search] = SearchResolution(query, Lookup.FOUND, tuple(cached), from_cache=True)
            elif self.options.offline:
                by_query[search] = SearchResolution(query, Lookup.UNVERIFIED, reason="offline")
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
                for search, resolution in zip(todo, answered, strict=True):
                    by_query[search] = resolution
                    if resolution.status is Lookup.FOUND:
                        ttl = self.options.ttl_found if resolution.candidates else self.options.ttl_not_found
                        self.cache.put(SEARCH_NAMESPACE, self._search_key(*search), list(resolution.candidates), ttl)
        return {ident: by_query[search] for ident, search in wanted.items()}

    # --- plumbing -------------------------------------------------------------------------------------

    def _session(self) -> httpx2.Client:
        # One pooled client per public call: keep-alive connections instead of one per request.
        concurrency = self.limiter.cap.limit
        self._http = httpx2.Client(
            limits=httpx2.Limits(max_connections=concurrency + 2),
            headers={"User-Agent": self.user_agent},  # doi.org; habanero sets its own per request
        )
        return self._http

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if not items:
            return []
        workers = min(len(items), self.limiter.cap.limit)
        if workers == 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crossref") as pool:
            return list(pool.map(fn, items))

    def _search_key(self, query: str, container: str | None = None) -> str:
        if container:
            return f"{self._search_prefix}rows={SEARCH_ROWS}:container={container}:{query}"
        return f"{self._search_prefix}rows={SEARCH_ROWS}:{query}"

    def _store(self, resolution: DoiResolution) -> DoiResolution:
        if resolution.status is Lookup.UNVERIFIED:
            return resolution  # errors are never cached
        ttl = self.options.ttl_found if resolution.status is Lookup.FOUND else self.options.ttl_not_found
        value = {"status": resolution.status.value, "record": resolution.record, "agency": resolution.agency}
        self.cache.put(DOI_NAMESPACE, self._doi_prefix + resolution.doi, value, ttl)
        return resolution

    def _call(self, kind: str, fn: Callable[[], Any], shape: Callable[[Any], Any] | None = None) -> _Answer:
        """One habanero call through the limiter, retried on 429, 5xx and timeouts up to max_retries.

        `shape` turns what habanero returned into the answer, or None when it is not what Crossref sends;
        by default the JSON object's "message" object. Each attempt is bounded by the timeout as a whole.
        """
        backoff = SERVER_ERROR_BACKOFF
        reason = "no answer"
        attempts = self.options.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            if attempt:
                self.stats.add(retries=1)
            with self.limiter.request(kind) as started:
                _calls.client = self._http
                _calls.deadline = time.monotonic() + self.options.timeout
                _calls.last = None
                self.stats.add(requests=1, **({"single": 1} if kind == "single" else {"lists": 1}))
                try:
                    body, exc = fn(), None
                except Exception as error:  # habanero raises RuntimeError, RequestError, HTTPStatusError...
                    body, exc = None, error
                response: httpx2.Response | None = getattr(_calls, "last", None)
                _calls.client = None
                _calls.deadline = None
            if response is None:
                assert exc is not None
                chain = _cause_chain(exc)
                if any(isinstance(e, httpx2.TimeoutException) for e in chain):
                    reason = f"Crossref timed out after {self.options.timeout:g} s"
                elif any(isinstance(e, AnswerTooLarge) for e in chain):
                    reason = f"Crossref sent an answer over {MAX_ANSWER_BYTES // 2**20} MB"
                else:
                    kinds = [type(e).__name__ for e in chain if isinstance(e, httpx2.HTTPError)]
                    reason = f"Crossref unreachable ({kinds[0] if kinds else type(exc).__name__})"
                if not last:  # no point waiting after the final attempt
                    time.sleep(backoff)
                    backoff *= 2
                continue
            headers = response.headers
            self.limiter.adapt(kind, headers)
            if headers.get("x-api-pool"):
                self.stats.pool = headers["x-api-pool"].strip().lower()
            status = response.status_code
            if status == 429:
                self.stats.add(rate_limited=1)
                retry_after = parse_retry_after(headers.get("retry-after"))
                hint = f", Retry-After {retry_after:g} s" if retry_after is not None else ""
                reason = f"rate-limited by Crossref (HTTP 429{hint})"
                if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                    return _Answer(error=reason, status=429)
                self.limiter.too_many(kind, retry_after, started)
                continue
            if status == 404:
                self.limiter.succeeded(kind)
                return _Answer(not_found=True, status=404)
            if status >= 500:
                reason = f"Crossref answered HTTP {status}"
                if not last:
                    time.sleep(backoff)
                    backoff *= 2
                continue
            if status != 200:
                return _Answer(error=f"Crossref answered HTTP {status}", status=status)
            self.limiter.succeeded(kind)
            value = None if exc is not None else (shape or _message)(body)
            if value is None:
                return _Answer(error="Crossref sent a malformed answer", status=status)
            return _Answer(message=value, status=status)
        return _Answer(error=reason)

    def _batch(self, chunk: list[str]) -> _Answer:
        return self._call("list", lambda: self.client.works(filter={"doi": chunk}, limit=len(chunk)))

    @staticmethod
    def _batch_items(message: Mapping[str, Any]) -> dict[str, dict[str, Any]] | None:
        items = message.get("items")
        if not isinstance(items, list):
            return None
        found: dict[str, dict[str, Any]] = {}
        for item in items:
            if not isinstance(item, dict):
                return None
            doi = normalise_doi(str(item.get("DOI", "")))
            if doi:
                found[doi] = _trim(item)
        return found

    def _single(self, doi: str) -> DoiResolution:
        answer = self._call("single", lambda: self.client.works(ids=[_quote_doi(doi)]))
        if answer.error is not None:
            return DoiResolution(doi, Lookup.UNVERIFIED, reason=answer.error)
        if not answer.not_found:
            if normalise_doi(str(answer.message.get("DOI", ""))) is None:
                return DoiResolution(doi, Lookup.UNVERIFIED, reason="Crossref sent a malformed answer")
            return DoiResolution(doi, Lookup.FOUND, _trim(answer.message), "crossref")
        return self._elsewhere(doi)

    def _elsewhere(self, doi: str) -> DoiResolution:
        """Crossref has no record: is the DOI registered with another agency (DataCite, mEDRA...)?"""
        assert self._http is not None
        self.stats.add(handles=1)
        handle = lookup_handle(self._http, self.options.doi_url, doi, self.options.timeout)
        agency = self._call(
            "single", lambda: self.client.registration_agency(_quote_doi(doi)), shape=_agency_label
        )
        label: str | None = agency.message if isinstance(agency.message, str) else None
        if label is not None or handle.status is Lookup.FOUND:
            return DoiResolution(doi, Lookup.FOUND, None, label)
        if handle.status is Lookup.NOT_FOUND and agency.not_found:
            return DoiResolution(doi, Lookup.NOT_FOUND)
        reasons = [r for r in (handle.reason, agency.error) if r]
        return DoiResolution(doi, Lookup.UNVERIFIED, reason="; ".join(reasons) or "registration unknown")

    def _search_one(self, search: tuple[str, str | None]) -> SearchResolution:
        query, container = search
        fields = {"query_bibliographic": query}
        if container:
            fields["query_container_title"] = container
        answer = self._call("list", lambda: self.client.works(limit=SEARCH_ROWS, **fields))
        if answer.error is not None:
            return SearchResolution(query, Lookup.UNVERIFIED, reason=answer.error)
        if answer.not_found:
            return SearchResolution(query, Lookup.UNVERIFIED, reason="Crossref answered HTTP 404 to a search")
        items = answer.message.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return SearchResolution(query, Lookup.UNVERIFIED, reason="Crossref sent a malformed answer")
        return SearchResolution(query, Lookup.FOUND, tuple(_trim(i) for i in items))
