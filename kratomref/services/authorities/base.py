"""The one interface every authority besides Crossref implements, and the HTTP, pacing and cache plumbing they
share: what could not be checked comes back as an UNVERIFIED answer with its reason, never as an exception."""

from __future__ import annotations

import abc
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kratomref.model import AuthorityAnswer, AuthorityRecord, Lookup, Reference
from kratomref.services.cache import Cache
from kratomref.services.clock import Clock, current
from kratomref.services.crossref import service_key
from kratomref.services.stats import Counters

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    import httpx2

FAILED_REQUESTS_BEFORE_GIVING_UP = 2
NAMESPACE = "authority"  # cache namespace; keys start with the authority's name and its base URL's tag
# Subject terms kept per work, the most telling first: OpenAlex tags a work with a dozen concepts or more and
# PubMed with a dozen MeSH headings, and the weakest of them (level-0 fields, "Humans") say least about it.
SUBJECTS_KEPT = 8
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "le", "la", "dos", "ten"})


@dataclass(frozen=True)
class AuthoritySettings:
    """What an authority needs of a run's settings (check.py maps Options onto it, one per authority; the
    defaults are Options', declared there once)."""

    base_url: str  # the API's root, e.g. https://api.openalex.org
    mailto: str | None  # OpenAlex's polite pool, NCBI's email, the contact in the User-Agent
    user_agent: str | None  # the user's string, appended to kratomref's
    timeout: float  # seconds, each request as a whole
    max_retries: int
    offline: bool  # the cache only
    ttl_found: float  # seconds a found record is cached
    ttl_not_found: float
    pacing: float  # times the authority's own interval between requests (0: no pacing, for tests)


def family_name(name: str) -> str:
    """The family name in a display name: "Smith, Jane" -> Smith, "Jane Q. van der Berg" -> van der Berg,
    "Makar AB" (PubMed's form, initials last) -> Makar."""
    name = " ".join(re.sub(r"\s+\d{4}$", "", name).split())  # DBLP's homonym number: "Wei Wang 0001"
    if "," in name:
        return name.split(",", 1)[0].strip()
    words = name.split()
    if len(words) <= 1:
        return name
    if words[-1].isupper() and len(words[-1]) <= 3 and words[-1].isalpha():  # PubMed: "Makar AB"
        return " ".join(words[:-1])
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return " ".join(words[start:])


def year_in(text: Any) -> int | None:
    m = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", str(text or ""))
    return int(m.group(1)) if m else None


def obj(value: Any) -> dict[str, Any]:
    """An object of an untrusted JSON answer: the dict itself, anything else an empty one."""
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str | None:
    """A string field of an untrusted answer: strings as they are (whitespace folded), anything else None."""
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def subject_list(names: Iterable[str | None]) -> tuple[str, ...]:
    """The first SUBJECTS_KEPT distinct names (case aside), in the order given; empty ones skipped."""
    kept: dict[str, str] = {}
    for name in names:
        if name and len(kept) < SUBJECTS_KEPT:
            kept.setdefault(name.casefold(), name)
    return tuple(kept.values())


_XML_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(body: bytes) -> ET.Element | None:
    """An authority's XML answer as a tree; None when it does not parse or declares a DTD or an entity (an
    answer is never trusted to expand entities: no billion laughs, no external files)."""
    import xml.etree.ElementTree as ET  # here: a run that parses no XML answer does not load it

    if _XML_DECLARATION.search(body):
        return None
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        return None


@dataclass
class AuthorityStats(Counters):
    """What an authority did (requests, retries, 429s), for the benchmark and the tests."""

    requests: int = 0  # retries included
    retries: int = 0
    rate_limited: int = 0
    cache_hits: int = 0


@dataclass(frozen=True)
class Reply:
    """One HTTP exchange after retries: the status and body, or why there was none."""

    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    error: str | None = None  # set when no usable answer came (timeout, 5xx after retries, 429...)

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        import json

        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None


@dataclass
class _Pacer:
    """Starts an authority's requests at least `interval` seconds apart, as the service asks."""

    interval: float
    clock: Clock
    _next: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self) -> None:
        if self.interval <= 0:
            return
        with self._lock:
            now = self.clock.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.clock.sleep(start - now)


class Authority(abc.ABC):
    """A bibliographic authority: it says which references it covers and looks them up, in batches where its
    API allows. Subclasses set the class attributes and implement `covers` and `_lookup`."""

    name: str = ""  # "openalex": the key of its answers, its options and its cache entries
    label: str = ""  # "OpenAlex": as the reports name it
    interval: float = 0.0  # seconds between two requests, as the service asks
    ttl_scale: float = 1.0

    def __init__(self, settings: AuthoritySettings, cache: Cache, clock: Clock | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.clock = clock or current()  # pacing, backoffs and Retry-After; the timeout stays on real time
        self.base_url = settings.base_url.rstrip("/")
        self.stats = AuthorityStats()
        self._pacer = _Pacer(self.interval * settings.pacing, self.clock)
        self._prefix = f"{self.name}:{service_key(self.base_url)}:"
        self._client: httpx2.Client | None = None
        self._in_session = False
        self._failed_in_a_row = 0  # requests that failed after their retries, one after another
        self._last_failure = ""

    # --- the interface ----------------------------------------------------------------------------------

    @abc.abstractmethod
    def covers(self, ref: Reference) -> bool:
        """Whether this authority can say anything about the reference (by its type and identifiers)."""

    def by_identifier(self, ref: Reference) -> bool:
        """Whether the look-up goes by an identifier the reference carries (strong evidence), not a search."""
        return False

    def lookup(self, refs: Mapping[str, Reference]) -> dict[str, AuthorityAnswer]:
        """Reference id -> this authority's answer, for every reference given (the covered ones at least)."""
        if not refs:
            return {}
        with self._session():
            try:
                answers = self._lookup(refs)
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                # An answer shaped unlike anything the parsers expect: could not check, never a crash.
                reason = f"{self.label} sent an answer kratomref could not read ({type(exc).__name__})"
                return {key: self.unverified(reason, "") for key in refs}
        for key in refs:
            answers.setdefault(key, self.unverified("not asked", ""))
        return answers

    @abc.abstractmethod
    def _lookup(self, refs: Mapping[str, Reference]) -> dict[str, AuthorityAnswer]:
        """lookup() inside an open HTTP session."""

    # --- answers ---------------------------------------------------------------------------------------

    def unverified(self, reason: str, asked: str, identifier: str | None = None) -> AuthorityAnswer:
        return AuthorityAnswer(self.name, Lookup.UNVERIFIED, asked=asked, identifier=identifier, reason=reason)

    def answer(
        self, records: Sequence[AuthorityRecord], asked: str, identifier: str | None = None
    ) -> AuthorityAnswer:
        status = Lookup.FOUND if records else Lookup.NOT_FOUND
        return AuthorityAnswer(self.name, status, tuple(records), asked=asked, identifier=identifier)

    # --- the cache: answers by query, never a could-not-check --------------------------------------------

    def cached(self, query: str, asked: str, identifier: str | None = None) -> AuthorityAnswer | None:
        """The cached answer to `query`, an UNVERIFIED one when offline, or None: ask the service."""
        value = self.cache.get(NAMESPACE, self._prefix + query)
        if isinstance(value, dict) and value.get("status") in (Lookup.FOUND.value, Lookup.NOT_FOUND.value):
            records = tuple(r for r in (_record_from(self.name, v) for v in value.get("records") or []) if r)
            self.stats.add(cache_hits=1)
            return AuthorityAnswer(self.name, Lookup(value["status"]), records, asked, identifier, from_cache=True)
        if self.settings.offline:
            return self.unverified("offline", asked, identifier)
        return None

    def store(self, query: str, answer: AuthorityAnswer) -> AuthorityAnswer:
        if answer.status is Lookup.UNVERIFIED:
            return answer
        ttl = self.settings.ttl_found if answer.status is Lookup.FOUND else self.settings.ttl_not_found
        value = {"status": answer.status.value, "records": [_record_to(r) for r in answer.records]}
        self.cache.put(NAMESPACE, self._prefix + query, value, ttl * self.ttl_scale)
        return answer

    def batched(
        self,
        values: Sequence[str],
        *,
        key: Callable[[str], str],
        asked: Callable[[str], str],
        identifier: str | None,
        per_request: int,
        ask: Callable[[list[str]], Mapping[str, Sequence[AuthorityRecord]] | str],
    ) -> dict[str, AuthorityAnswer]:
        """Value (an id) -> answer, for many: the cached answers, then the rest asked `per_request` at a
        time. `ask(chunk)` sends one request: each value's records (none: not found), or, as a string, why
        the request gave no answer (then every value of the chunk is unverified with that reason).
        `key(value)` is the cache key, `asked(value)` how the answer says what was asked."""
        answers: dict[str, AuthorityAnswer] = {}
        todo: list[str] = []
        for value in dict.fromkeys(values):
            cached = self.cached(key(value), asked(value), identifier)
            if cached is not None:
                answers[value] = cached
            else:
                todo.append(value)
        for start in range(0, len(todo), per_request):
            chunk = todo[start:start + per_request]
            found = ask(chunk)
            for value in chunk:
                if isinstance(found, str):
                    answers[value] = self.unverified(found, asked(value), identifier)
                else:
                    answer = self.answer(found.get(value, ()), asked(value), identifier)
                    answers[value] = self.store(key(value), answer)
        return answers

    # --- HTTP ------------------------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[None]:
        """The span of one lookup: its HTTP client is made by its first request (`_http`), so a lookup the
        cache or --offline answers makes none and never loads the HTTP stack, and closed at its end."""
        self._in_session = True
        try:
            yield
        finally:
            self._in_session = False
            if self._client is not None:
                self._client.close()
                self._client = None

    @property
    def user_agent(self) -> str:
        from kratomref.services import http

        return http.user_agent(self.settings.mailto, self.settings.user_agent)

    def _http(self) -> httpx2.Client:
        from kratomref.services import http

        if self._client is None:
            self._client = http.make_client(user_agent=self.user_agent)
        return self._client

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Reply:
        """GET base_url + path, paced, retried as http.RetryPolicy says (429 with a short Retry-After, 5xx,
        broken connections) up to max_retries. Any other status is returned as it is, for the caller."""
        from kratomref.services import http

        assert self._in_session, "get() outside lookup()"
        if self._failed_in_a_row >= FAILED_REQUESTS_BEFORE_GIVING_UP:
            # a circuit breaker, as for Crossref: a service that is down (or a network that is) costs two
            # requests and their retries per run, not that much for every reference
            return Reply(error=f"{self._last_failure}; not asked again in this run")
        exchange = http.get_with_retries(
            self._http(), self.base_url + path, label=self.label, timeout=self.settings.timeout,
            # A refused connection is not asked again at once: it seldom helps, and the circuit breaker
            # stops this authority after two failed requests.
            policy=http.RetryPolicy(max_retries=self.settings.max_retries, retry_unreachable=False),
            clock=self.clock, params=params, slot=self._paced, on_send=self._sent, on_answer=self._answered,
        )
        response = exchange.response
        if response is not None:
            self._failed_in_a_row = 0
            return Reply(response.status_code, response.content, response.headers.get("content-type", ""))
        reason = exchange.error or "no answer"
        if exchange.failed:
            self._failed_in_a_row += 1
            self._last_failure = reason
        return Reply(status=exchange.status, error=reason)

    @contextmanager
    def _paced(self) -> Iterator[float]:
        self._pacer.wait()
        yield self.clock.monotonic()

    def _sent(self, attempt: int) -> None:
        self.stats.add(requests=1)
        if attempt:
            self.stats.add(retries=1)

    def _answered(self, response: httpx2.Response) -> None:
        if response.status_code == 429:
            self.stats.add(rate_limited=1)

    def get_json(self, path: str, params: Mapping[str, str] | None = None) -> tuple[Any, Reply]:
        """The JSON body of a 200 answer, or None with the reply (its error says why when it is not 200)."""
        reply = self.get(path, params)
        if reply.error is not None or reply.status != 200:
            return None, reply
        body = reply.json()
        if body is None:
            return None, Reply(reply.status, reply.body, reply.content_type, f"{self.label} sent a malformed answer")
        return body, reply

    def failure(self, reply: Reply) -> str:
        """Why a reply is no answer, in words."""
        if reply.error:
            return reply.error
        return f"{self.label} answered HTTP {reply.status}"


def _record_to(record: AuthorityRecord) -> dict[str, Any]:
    return {
        "title": record.title, "authors": list(record.authors), "year": record.year, "years": list(record.years),
        "venue": record.venue, "volume": record.volume, "pages": record.pages,
        "identifiers": [list(pair) for pair in record.identifiers], "url": record.url, "kind": record.kind,
        "is_retracted": record.is_retracted, "published_doi": record.published_doi,
        "journal_ref": record.journal_ref, "abstract": record.abstract, "subjects": list(record.subjects),
    }


def _record_from(authority: str, value: Any) -> AuthorityRecord | None:
    if not isinstance(value, dict):
        return None
    try:
        return AuthorityRecord(
            authority=authority, title=value.get("title"), authors=tuple(value.get("authors") or ()),
            year=value.get("year"), years=tuple(value.get("years") or ()), venue=value.get("venue"),
            volume=value.get("volume"), pages=value.get("pages"),
            identifiers=tuple((str(k), str(v)) for k, v in value.get("identifiers") or ()),
            url=value.get("url"), kind=value.get("kind"), is_retracted=bool(value.get("is_retracted")),
            published_doi=value.get("published_doi"), journal_ref=value.get("journal_ref"),
            # absent from entries cached before issue 21: no abstract, no subjects
            abstract=value.get("abstract"), subjects=tuple(str(s) for s in value.get("subjects") or ()),
        )
    except (TypeError, ValueError):
        return None


def search_text(ref: Reference) -> str | None:
    """What a title search asks: the cited title, else the entry as written (a free-text list item)."""
    if ref.title:
        return " ".join(ref.title.split())[:300]
    raw = re.sub(r"https?://\S+|\b10\.\d{4,9}/\S+", " ", ref.raw)
    raw = " ".join(raw.split())[:300]
    return raw if len(raw) >= 10 else None
