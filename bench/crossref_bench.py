"""Crossref benchmark: 1,000 DOIs against a local server enforcing Crossref's polite-pool limits, and the
quality of DOI suggestions (best_match) on PubMed Central reference strings with gold DOIs.

    python bench/crossref_bench.py speed [--dois 1000] [--baseline 200]
    python bench/crossref_bench.py quality DATA.json.gz [--sample 2000]

Run by hand; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import copy
import gzip
import json
import random
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import habanero
import httpx2
from rapidfuzz import fuzz, process

from kratomref.matching import best_match
from kratomref.model import Location, Lookup, Reference
from kratomref.options import Options
from kratomref.readers.freetext import parse_citation
from kratomref.rules.crossref import search_query
from kratomref.services.cache import Cache
from kratomref.services.crossref import CrossrefService, batches

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "crossref" / "work-10.1038_srep16696.json"
LATENCY = 0.05
LIMITS = {"single": 10, "list": 3}  # per second, Crossref's polite pool
CONCURRENCY = 3
HEADERS = {"x-api-pool": "polite", "x-concurrency-limit": "3", "x-rate-limit-interval": "1s",
           "x-rate-limit-limit": "10"}


class LimitedCrossref:
    """Answers /works/{doi}, /works?filter=doi:... and /works?query.bibliographic=...; 429 past the limits."""

    def __init__(self, records: dict[str, dict[str, Any]], search: Any = None) -> None:
        self.records = records
        self.search = search
        self.lock = threading.Lock()
        self.arrivals: dict[str, collections.deque[float]] = {k: collections.deque() for k in LIMITS}
        self.in_flight = 0
        self.requests = collections.Counter[str]()
        self.too_many = 0
        self.enforce = True

    def admit(self, kind: str) -> bool:
        now = time.monotonic()
        with self.lock:
            self.requests[kind] += 1
            window = self.arrivals[kind]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if self.enforce and (len(window) >= LIMITS[kind] or self.in_flight >= CONCURRENCY):
                self.too_many += 1
                return False
            window.append(now)
            self.in_flight += 1
            return True

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any] | str]:
        if path.rstrip("/") == "/works":
            if "filter" in query:
                wanted = [p.removeprefix("doi:").lower() for v in query["filter"] for p in v.split(",")]
                items = [self.records[d] for d in wanted if d in self.records]
            else:
                rows = int(query.get("rows", ["20"])[0])
                items = self.search(query.get("query.bibliographic", [""])[0], rows) if self.search else []
            return 200, {"status": "ok", "message-type": "work-list",
                         "message": {"total-results": len(items), "items": items, "items-per-page": len(items)}}
        doi = unquote(path).removeprefix("/works/").lower()
        if doi in self.records:
            return 200, {"status": "ok", "message-type": "work", "message": self.records[doi]}
        return 404, "Resource not found."


def serve(app: LimitedCrossref) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            kind = "list" if parts.path.rstrip("/") == "/works" else "single"
            if not app.admit(kind):
                status, body, ctype = 429, "Too many requests", "text/plain"
                extra = {"Retry-After": "1"}
            else:
                try:
                    time.sleep(LATENCY)
                    status, payload = app.answer(parts.path, query)
                finally:
                    app.done()
                body = payload if isinstance(payload, str) else json.dumps(payload)
                ctype = "application/json" if not isinstance(payload, str) else "text/plain"
                extra = {}
            data = body.encode()
            self.send_response(status)
            for name, value in {**HEADERS, **extra, "Content-Type": ctype}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def synthetic_records(n: int) -> dict[str, dict[str, Any]]:
    template = json.loads(FIXTURE.read_text(encoding="utf-8"))["message"]
    template.pop("reference", None)
    records = {}
    for i in range(n):
        doi = f"10.{5000 + i % 7}/bench.{i:05d}{'x' * (i % 13)}"
        rec = copy.deepcopy(template)
        rec["DOI"] = doi
        rec["title"] = [f"Benchmark work number {i}"]
        records[doi] = rec
    return records


def speed(n: int, baseline_n: int) -> None:
    records = synthetic_records(n)
    dois = list(records)
    app = LimitedCrossref(records)
    server, url = serve(app)
    with tempfile.TemporaryDirectory() as tmp:
        options = Options(crossref_url=url, doi_url=url, mailto="bench@example.org", timeout=10)
        cache = Cache(tmp)
        service = CrossrefService(options, cache)
        plan = batches(dois, url)
        start = time.perf_counter()
        results = service.resolve_dois(dois)
        cold = time.perf_counter() - start
        found = sum(1 for r in results.values() if r.status is Lookup.FOUND)
        lists = app.requests["list"]
        floor = (len(plan) - 1) / LIMITS["list"] + LATENCY
        print(f"(a) kratomref: {n} DOIs in {cold:.2f} s; found {found}; {len(plan)} batch requests planned, "
              f"{dict(app.requests)} seen; 429s {app.too_many}; rate-limit floor {floor:.2f} s "
              f"-> {cold / floor:.2f}x floor; stats {service.stats.as_dict()}")
        before = sum(app.requests.values())
        start = time.perf_counter()
        warm_results = CrossrefService(options, cache).resolve_dois(dois)
        warm = time.perf_counter() - start
        warm_found = sum(1 for r in warm_results.values() if r.from_cache)
        print(f"    warm cache: {n} DOIs in {warm:.3f} s, {sum(app.requests.values()) - before} requests, "
              f"{warm_found} from cache")
        del lists

    # (b) the naive baseline: one habanero.works(ids=doi) per DOI, waiting out each 429 as a user must.
    app.requests.clear()
    app.too_many = 0
    cr = habanero.Crossref(base_url=url, mailto="bench@example.org")
    subset = dois[:baseline_n]
    start = time.perf_counter()
    got = 0
    for doi in subset:
        while True:
            try:
                cr.works(ids=doi)
                got += 1
                break
            except httpx2.HTTPStatusError as exc:
                if exc.response.status_code != 429:
                    raise
                time.sleep(float(exc.response.headers.get("retry-after", "1")))
    naive = time.perf_counter() - start
    per_doi = naive / len(subset)
    print(f"(b) habanero loop: {len(subset)} DOIs in {naive:.2f} s ({got} found, {app.too_many} 429s waited out); "
          f"extrapolated to {n}: {per_doi * n:.1f} s -> kratomref is {per_doi * n / cold:.1f}x faster")
    server.shutdown()


# --- matching quality ---------------------------------------------------------------------------------


def gold_records(items: list[dict[str, Any]], rng: random.Random) -> dict[str, dict[str, Any]]:
    """Crossref-like records from the gold metadata, plus distractors: the same first author, journal and
    volume with another work's title and another first page (what a wrong-but-close candidate looks like)."""
    records: dict[str, dict[str, Any]] = {}
    for item in items:
        doi = str(item["doi"]).lower()
        records[doi] = {
            "DOI": doi,
            "title": [item.get("atitle") or ""],
            "author": [{"family": item.get("firstAuthor") or "", "sequence": "first"}],
            "container-title": [item.get("jtitle") or ""],
            "volume": item.get("volume") or None,
            "page": item.get("firstPage") or None,
        }
    titles = [r["title"][0] for r in records.values()]
    for i, item in enumerate(items[: len(items) // 3]):
        doi = f"10.9999/distractor.{i}"
        rec = copy.deepcopy(records[str(item["doi"]).lower()])
        rec.update(DOI=doi, title=[rng.choice(titles)])
        if rec["page"] and str(rec["page"]).isdigit():
            rec["page"] = str(int(rec["page"]) + 17)
        records[doi] = rec
    return records


def quality(path: str, sample: int, seed: int = 1) -> None:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        items = [i for i in json.load(handle) if i.get("doi") and i.get("reference")]
    rng = random.Random(seed)
    records = gold_records(items, rng)
    keys = list(records)
    texts = [" ".join(str(x) for x in (r["author"][0]["family"], r["title"][0], r["container-title"][0],
                                        r["volume"] or "", r["page"] or "")) for r in records.values()]

    def search(query: str, rows: int) -> list[dict[str, Any]]:
        hits = process.extract(query, texts, scorer=fuzz.token_set_ratio, limit=rows)
        return [records[keys[index]] for _, _, index in hits]

    app = LimitedCrossref(records, search)
    app.enforce = False  # the quality run measures matching, not pacing
    server, url = serve(app)
    # A third of the gold items lack a first author. A real Crossref record of a journal article carries its
    # authors, and best_match never accepts a candidate with no author in common, so a gold record without an
    # author could never be suggested: sample the items whose gold metadata names the first author.
    with_author = [i for i in items if i.get("firstAuthor")]
    print(f"{len(with_author)} of {len(items)} gold items name a first author")
    chosen = rng.sample(with_author, min(sample, len(with_author)))
    with tempfile.TemporaryDirectory() as tmp:
        service = CrossrefService(Options(crossref_url=url, doi_url=url, mailto="b@example.org"), Cache(tmp))
        service.limiter.pacers["list"].set_rate(1000.0)  # a local server: lift the pacing
        service.limiter.cap.set_limit(8)
        service.limiter.adapt = lambda kind, headers: None  # type: ignore[method-assign]
        for mode in ("parsed", "raw"):
            refs: dict[str, Reference] = {}
            for n, item in enumerate(chosen):
                location = Location("bench", n + 1, f"ref-{n + 1}")
                text = " ".join(str(item["reference"]).split())
                if mode == "parsed":
                    refs[str(n)] = parse_citation(text, location)
                else:
                    refs[str(n)] = Reference(location, "article", raw=text)
            queries = {k: q for k, r in refs.items() if (q := search_query(r))}
            start = time.perf_counter()
            found = service.search(queries)
            suggested = correct = 0
            for k, ref in refs.items():
                resolution = found.get(k)
                if resolution is None or resolution.status is not Lookup.FOUND:
                    continue
                match = best_match(ref, resolution.candidates)
                if match is None:
                    continue
                suggested += 1
                gold = str(chosen[int(k)]["doi"]).lower()
                correct += match.doi == gold
            elapsed = time.perf_counter() - start
            total = len(refs)
            precision = correct / suggested if suggested else 0.0
            recall = correct / total
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            print(f"quality ({mode} references, {total} sampled of {len(items)}, {len(records) - len(items)} "
                  f"distractors): suggested {suggested}, correct {correct}; precision {precision:.1%}, "
                  f"recall {recall:.1%}, F1 {f1:.1%} ({elapsed:.1f} s)")
    server.shutdown()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--dois", type=int, default=1000)
    s.add_argument("--baseline", type=int, default=200, help="DOIs for the habanero loop (extrapolated)")
    q = sub.add_parser("quality")
    q.add_argument("data", help="references-doi-matching.json.gz from biblio-glutton")
    q.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.command == "speed":
        speed(args.dois, args.baseline)
    else:
        quality(args.data, args.sample)


if __name__ == "__main__":
    main(sys.argv[1:])
