"""A small imitation of the Crossref REST API and the doi.org handle API, built from recorded records,
into which a test injects faults request by request."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from recorded_works import load_records
from servers import Reply, Request, json_reply

Fault = Callable[[Request], "Reply | None"]


RECORDS = load_records()


def bibtex_entry(key: str, record: Mapping[str, Any], *, with_doi: bool = True) -> str:
    """A BibTeX entry that cites `record` faithfully, so a healthy run verifies it."""
    authors = " and ".join(
        f"{a['family']}, {a.get('given', '')}".strip(", ") for a in record.get("author", []) if "family" in a
    )
    year = record["issued"]["date-parts"][0][0]
    fields = {
        "author": authors,
        "title": record["title"][0],
        "journal": record["container-title"][0],
        "year": str(year),
        "volume": record.get("volume"),
        "number": record.get("issue"),
        "pages": (record.get("page") or "").replace("-", "--") or None,
        "doi": record["DOI"] if with_doi else None,
    }
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items() if value)
    return f"@article{{{key},\n{body}\n}}\n"


def is_batch(request: Request) -> bool:
    return request.path.rstrip("/") == "/works" and "filter" in request.query


def is_search(request: Request) -> bool:
    return request.path.rstrip("/") == "/works" and "filter" not in request.query


def is_single(request: Request) -> bool:
    return request.path.startswith("/works/") and not request.path.rstrip("/").endswith("/agency")


def is_agency(request: Request) -> bool:
    return request.path.startswith("/works/") and request.path.rstrip("/").endswith("/agency")


def is_handle(request: Request) -> bool:
    return request.path.startswith("/api/handles/")


def is_crossref(request: Request) -> bool:
    return request.path.startswith("/works")


def doi_of(request: Request) -> str | None:
    """The DOI a single-work, agency or handle request is about."""
    path = unquote(request.path)
    for prefix in ("/works/", "/api/handles/"):
        if path.startswith(prefix):
            doi = path[len(prefix):]
            return doi.removesuffix("/agency").lower()
    return None


def _work_list(items: list[Mapping[str, Any]]) -> Reply:
    body = {
        "status": "ok",
        "message-type": "work-list",
        "message-version": "1.0.0",
        "message": {"facets": {}, "total-results": len(items), "items": items, "items-per-page": len(items),
                    "query": {"start-index": 0, "search-terms": None}},
    }
    return json_reply(json.dumps(body))


class FakeCrossref:
    """Answers like Crossref and doi.org for the records it holds; `fault` may answer a request first."""

    def __init__(self, records: Mapping[str, Mapping[str, Any]] = RECORDS, fault: Fault | None = None) -> None:
        self.records = dict(records)
        self.fault = fault

    def __call__(self, request: Request) -> Reply:
        if self.fault is not None:
            reply = self.fault(request)
            if reply is not None:
                return reply
        return self.healthy(request)

    def healthy(self, request: Request) -> Reply:
        if is_batch(request):
            wanted = {
                part.strip().removeprefix("doi:").lower()
                for value in request.query["filter"]
                for part in unquote(value).split(",")
            }
            return _work_list([r for doi, r in self.records.items() if doi in wanted])
        if is_search(request):
            terms = " ".join(v for k, vs in request.query.items() if k.startswith("query") for v in vs).lower()
            words = {w for w in terms.split() if len(w) > 3}
            hits = [r for r in self.records.values() if words & set(r["title"][0].lower().split())]
            return _work_list(hits[: int(request.query.get("rows", ["5"])[0])])
        doi = doi_of(request)
        if is_agency(request):
            if doi in self.records:
                return json_reply(json.dumps({"status": "ok", "message-type": "work-agency", "message": {
                    "DOI": doi, "agency": {"id": "crossref", "label": "Crossref"}}}))
            return Reply(404, "Resource not found.", {"Content-Type": "text/plain"})
        if is_single(request):
            if doi in self.records:
                return json_reply(json.dumps({"status": "ok", "message-type": "work", "message-version": "1.0.0",
                                              "message": self.records[doi]}))
            return Reply(404, "Resource not found.", {"Content-Type": "text/plain"})
        if is_handle(request):
            if doi in self.records:
                return json_reply(json.dumps({"responseCode": 1, "handle": doi, "values": [
                    {"index": 1, "type": "URL", "data": {"format": "string", "value": "https://example.org/"}}]}))
            return json_reply(json.dumps({"responseCode": 100, "handle": doi}), status=404)
        return Reply(404, "Resource not found.", {"Content-Type": "text/plain"})
