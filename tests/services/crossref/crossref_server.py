"""A local HTTP server that answers like the Crossref REST API and doi.org's handle API, from records built
out of real recorded Crossref responses (tests/fixtures/crossref/).

A module of its own, not conftest.py: tests import from it, and `from conftest import ...` picks whichever
conftest.py was imported first when several test directories run together."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import local_server
from recorded_works import FIXTURES, load_records

from kratomref.services import clock

NOT_FOUND_BODY = (FIXTURES / "work-not-found-10.1371_notarealdoi.txt").read_text(encoding="utf-8")
# Headers Crossref sends in the polite pool (recorded, see tests/fixtures/crossref/SOURCES.md).
POLITE_HEADERS = {"x-api-pool": "polite", "x-concurrency-limit": "3", "x-rate-limit-interval": "1s",
                  "x-rate-limit-limit": "10"}
JSON = {"Content-Type": "application/json"}


RECORDS = load_records()


def record(doi: str, **changes: Any) -> dict[str, Any]:
    """A copy of a recorded work with some fields changed (a retraction notice, a relation...)."""
    message = copy.deepcopy(RECORDS[doi])
    message.update(changes)
    return message


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, list[str]]
    at: float
    target: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.path.startswith("/api/handles/"):
            return "handle"
        if self.path.rstrip("/") == "/works":
            return "batch" if "filter" in self.query else "search"
        return "agency" if self.path.rstrip("/").endswith("/agency") else "single"


# A fault may answer a request before the healthy server does: (status, body, headers) or None.
Fault = Callable[[Seen], "tuple[int, str, Mapping[str, str]] | None"]


@dataclass
class FakeCrossref:
    """Crossref and doi.org in one server; what a test changes is plain data on this object."""

    records: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(RECORDS))
    other_agencies: dict[str, str] = field(default_factory=dict)  # DOI -> "DataCite", "mEDRA"...
    left_out_of_batches: set[str] = field(default_factory=set)  # DOIs a filter request omits
    search_results: dict[str, list[str]] = field(default_factory=dict)  # query substring -> DOIs
    headers: dict[str, str] = field(default_factory=lambda: dict(POLITE_HEADERS))
    fault: Fault | None = None
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    latency: float = 0.0
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str | None = None) -> int:
        return sum(1 for s in self.seen if kind is None or s.kind == kind)

    def answer(self, seen: Seen) -> tuple[int, str, Mapping[str, str]]:
        if self.fault is not None:
            faulty = self.fault(seen)
            if faulty is not None:
                return faulty
        json_headers = {"Content-Type": "application/json", **self.headers}
        text_headers = {"Content-Type": "text/plain", **self.headers}
        path = unquote(seen.path)
        if seen.kind == "batch":
            wanted = [p.strip().removeprefix("doi:").lower() for v in seen.query["filter"] for p in v.split(",")]
            items = [self.records[d] for d in wanted if d in self.records and d not in self.left_out_of_batches]
            return 200, _work_list(items), json_headers
        if seen.kind == "search":
            query = seen.query.get("query.bibliographic", [""])[0].lower()
            dois = [d for key, ds in self.search_results.items() if key.lower() in query for d in ds]
            rows = int(seen.query.get("rows", ["20"])[0])
            return 200, _work_list([self.records[d] for d in dois[:rows]]), json_headers
        if seen.kind == "handle":
            doi = path.removeprefix("/api/handles/").lower()
            if doi in self.records or doi in self.other_agencies:
                return 200, json.dumps({"responseCode": 1, "handle": doi, "values": []}), JSON
            return 404, json.dumps({"responseCode": 100, "handle": doi}), JSON
        doi = path.removeprefix("/works/").removesuffix("/agency").lower()
        if seen.kind == "agency":
            label = "Crossref" if doi in self.records else self.other_agencies.get(doi)
            if label is None:
                return 404, NOT_FOUND_BODY, text_headers
            body = {"status": "ok", "message-type": "work-agency", "message-version": "1.0.0",
                    "message": {"DOI": doi, "agency": {"id": label.lower(), "label": label}}}
            return 200, json.dumps(body), json_headers
        if doi in self.records:
            body = {"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": self.records[doi]}
            return 200, json.dumps(body), json_headers
        return 404, NOT_FOUND_BODY, text_headers


def _work_list(items: list[dict[str, Any]]) -> str:
    return json.dumps({"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
                       "message": {"facets": {}, "total-results": len(items), "items": items,
                                   "items-per-page": len(items), "query": {"start-index": 0, "search-terms": None}}})


class _Handler(local_server.Handler):
    protocol_version = "HTTP/1.1"
    server: Server

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        at = clock.current().monotonic()  # the services' clock: a fake one in tests that do not sleep
        seen = Seen(parts.path, parse_qs(parts.query), at, self.path, dict(self.headers.items()))
        with fake._lock:
            fake.seen.append(seen)
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if fake.latency:
                time.sleep(fake.latency)
            status, body, headers = fake.answer(seen)
        finally:
            with fake._lock:
                fake.in_flight -= 1
        local_server.send_body(self, body.encode("utf-8"), content_type=None, status=status, headers=headers)


class Server(local_server.Server):
    request_queue_size = 256  # the stdlib's 5 would refuse a concurrent client: the server's fault, not ours
    fake: FakeCrossref


def serve(fake: FakeCrossref) -> Server:
    """Start `fake` on 127.0.0.1 (a free port); the caller shuts the server down."""
    server = Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    local_server.serve(server)
    return server
