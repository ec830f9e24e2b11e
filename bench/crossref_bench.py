"""Crossref benchmark: resolving 1,000 and 5,000 DOIs against a local server that enforces Crossref's limits
(polite or public pool), side by side with a baseline; and the quality of DOI suggestions (best_match) on
PubMed Central reference strings with gold DOIs.

    python bench/crossref_bench.py speed [--dois 1000 5000] [--pool polite public] [--reps 3] [--baseline REV]
    python bench/crossref_bench.py quality DATA.json.gz [--sample 2000]

speed: the server (this process) answers like Crossref: list requests (filters, searches) and single-work
requests are limited per second in a sliding one-second window, and requests beyond the pool's concurrency
are refused; both get HTTP 429 with Retry-After, as Crossref does. Every answer takes a realistic latency
(list requests 0.4 s, single works 0.15 s, +-25 %, seeded) and carries the pool's X-Rate-Limit-* and
X-Concurrency-Limit headers. Each run is a fresh process with an empty cache, timing resolve_dois() only:
this tree's kratomref, and the baseline's (`git archive REV kratomref`, default HEAD, i.e. the last commit),
alternating which goes first, `--reps` times. The floor is what the pool's limits allow: the batches spaced
at the pool's list rate, at most `concurrency` in flight, plus one answer's latency.

Run by hand; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import copy
import gzip
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from rapidfuzz import fuzz, process

from kratomref.matching import best_match
from kratomref.model import Location, Lookup, Reference
from kratomref.options import Options
from kratomref.readers.freetext import parse_citation
from kratomref.rules.crossref import search_query
from kratomref.services.cache import Cache
from kratomref.services.crossref import CrossrefService, batches

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "crossref" / "work-10.1038_srep16696.json"
MAILTO = "bench@example.org"
# Crossref's documented limits per pool (requests per second, and at once), and the headers it sends.
POOLS: dict[str, dict[str, Any]] = {
    "polite": {"single": 10, "list": 3, "concurrency": 3,
               "headers": {"x-api-pool": "polite", "x-concurrency-limit": "3", "x-rate-limit-interval": "1s",
                           "x-rate-limit-limit": "10"}},
    "public": {"single": 5, "list": 1, "concurrency": 1,
               "headers": {"x-api-pool": "public", "x-concurrency-limit": "1", "x-rate-limit-interval": "1s",
                           "x-rate-limit-limit": "5"}},
}
LATENCY = {"list": 0.4, "single": 0.15}  # seconds per answer, before the jitter
JITTER = 0.25


class LimitedCrossref:
    """Answers /works/{doi}, /works?filter=doi:... and /works?query.bibliographic=...; 429 past the limits."""

    def __init__(self, records: dict[str, dict[str, Any]], search: Any = None, pool: str = "polite",
                 latency: dict[str, float] | None = None) -> None:
        self.records = records
        self.search = search
        self.limits = POOLS[pool]
        self.headers: dict[str, str] = self.limits["headers"]
        self.latency = LATENCY if latency is None else latency
        self.lock = threading.Lock()
        self.enforce = True
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.arrivals: dict[str, collections.deque[float]] = {k: collections.deque() for k in ("single", "list")}
            self.in_flight = 0
            self.max_in_flight = 0
            self.requests = collections.Counter[str]()
            self.too_many = 0
            self.random = random.Random(1)

    def admit(self, kind: str) -> float | None:
        """The latency to serve this request with, or None to refuse it."""
        now = time.monotonic()
        with self.lock:
            self.requests[kind] += 1
            window = self.arrivals[kind]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if self.enforce and (len(window) >= self.limits[kind] or self.in_flight >= self.limits["concurrency"]):
                self.too_many += 1
                return None
            window.append(now)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.latency[kind] * (1 + self.random.uniform(-JITTER, JITTER))

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
            latency = app.admit(kind)
            if latency is None:
                status, body, ctype = 429, "Too many requests", "text/plain"
                extra = {"Retry-After": "1"}
            else:
                started = time.monotonic()
                try:
                    status, payload = app.answer(parts.path, query)
                    body = payload if isinstance(payload, str) else json.dumps(payload)
                    time.sleep(max(0.0, latency - (time.monotonic() - started)))
                finally:
                    app.done()
                ctype = "application/json" if not isinstance(payload, str) else "text/plain"
                extra = {}
            data = body.encode()
            self.send_response(status)
            for name, value in {**app.headers, **extra, "Content-Type": ctype}.items():
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


def floor_seconds(n_batches: int, pool: str) -> float:
    """What the pool's limits allow: batches spaced at the list rate, at most `concurrency` at once."""
    limits = POOLS[pool]
    spaced = (n_batches - 1) / limits["list"]
    waves = (math.ceil(n_batches / limits["concurrency"]) - 1) * LATENCY["list"]
    return float(max(spaced, waves) + LATENCY["list"])


def _settings(options: Options) -> Any:
    """What this tree's CrossrefService takes: its own settings, or (a baseline from before issue 18) Options."""
    try:
        from kratomref.check import crossref_settings
    except ImportError:
        return options
    return crossref_settings(options)


def match_sample(service: Any, chosen: list[dict[str, Any]], mode: str) -> tuple[int, int, int, float, int]:
    """Search for each sampled reference ("parsed" by the free-text reader, or "raw" as written) and validate
    the candidates as a check does: (references, suggested, correct, seconds, searches)."""
    from kratomref.model import Lookup, Reference

    refs: dict[str, Reference] = {}
    for n, item in enumerate(chosen):
        location = Location("bench", n + 1, f"ref-{n + 1}")
        text = " ".join(str(item["reference"]).split())
        refs[str(n)] = parse_citation(text, location) if mode == "parsed" else Reference(location, "article", raw=text)
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
        correct += match.doi == str(chosen[int(k)]["doi"]).lower()
    return len(refs), suggested, correct, time.perf_counter() - start, len(queries)


def client(url: str, n: int, pool: str) -> None:
    """One timed run in this process (started by `speed`): resolve n DOIs with an empty cache."""
    dois = list(synthetic_records(n))
    with tempfile.TemporaryDirectory() as tmp:
        options = Options(crossref_url=url, doi_url=url, mailto=MAILTO if pool == "polite" else None, timeout=10)
        cache = Cache(tmp)
        service = CrossrefService(_settings(options), cache)
        start = time.perf_counter()
        results = service.resolve_dois(dois)
        elapsed = time.perf_counter() - start
        cache.close()
    found = sum(1 for r in results.values() if r.status is Lookup.FOUND)
    print(json.dumps({"elapsed": elapsed, "found": found, "stats": service.stats.as_dict()}))


def baseline_tree(rev: str, into: Path) -> Path:
    """The kratomref package as committed at `rev`, extracted under `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "kratomref"], check=True,
                             capture_output=True).stdout
    tar_path = into / "baseline.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into


def run_client(tree: Path, url: str, n: int, pool: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, __file__, "_client", url, str(n), pool], env=env, check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def speed(sizes: list[int], pools: list[str], reps: int, rev: str | None) -> None:
    records = synthetic_records(max(sizes))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; latency {LATENCY} +-{JITTER:.0%}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"kratomref": ROOT}
        if rev:
            trees[f"baseline {rev}"] = baseline_tree(rev, Path(tmp))
        for pool in pools:
            app = LimitedCrossref(records, pool=pool)
            server, url = serve(app)
            for n in sizes:
                plan = batches(list(records)[:n], url)
                floor = floor_seconds(len(plan), pool)
                times: dict[str, list[float]] = {name: [] for name in trees}
                refused: dict[str, int] = collections.Counter()
                for rep in range(reps):
                    order = list(trees) if rep % 2 == 0 else list(reversed(trees))
                    for name in order:
                        app.reset()
                        result = run_client(trees[name], url, n, pool)
                        times[name].append(result["elapsed"])
                        refused[name] += app.too_many
                        print(f"  {pool} {n} rep {rep + 1} {name}: {result['elapsed']:.2f} s, found "
                              f"{result['found']}, requests {dict(app.requests)}, 429s {app.too_many}, "
                              f"max in flight {app.max_in_flight}", flush=True)
                for name, values in times.items():
                    best, median = min(values), statistics.median(values)
                    print(f"{pool:6} {n:5} DOIs {name:22} min {best:6.2f} s ({best / floor:.2f}x)  median "
                          f"{median:6.2f} s ({median / floor:.2f}x)  floor {floor:.2f} s ({len(plan)} batches)  "
                          f"429s {refused[name]}", flush=True)
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

    app = LimitedCrossref(records, search, latency={"list": 0.0, "single": 0.0})
    app.enforce = False  # the quality run measures matching, not pacing
    server, url = serve(app)
    # A third of the gold items lack a first author. A real Crossref record of a journal article carries its
    # authors, and best_match never accepts a candidate with no author in common, so a gold record without an
    # author could never be suggested: sample the items whose gold metadata names the first author.
    with_author = [i for i in items if i.get("firstAuthor")]
    print(f"{len(with_author)} of {len(items)} gold items name a first author")
    chosen = rng.sample(with_author, min(sample, len(with_author)))
    with tempfile.TemporaryDirectory() as tmp:
        service = CrossrefService(_settings(Options(crossref_url=url, doi_url=url, mailto="b@example.org")), Cache(tmp))
        service.limiter.pacers["list"].set_rate(1000.0)  # a local server: lift the pacing
        service.limiter.cap.set_limit(8)
        service.limiter.adapt = lambda kind, headers: None  # type: ignore[method-assign]
        for mode in ("parsed", "raw"):
            total, suggested, correct, elapsed, _ = match_sample(service, chosen, mode)
            precision = correct / suggested if suggested else 0.0
            recall = correct / total
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            print(f"quality ({mode} references, {total} sampled of {len(items)}, {len(records) - len(items)} "
                  f"distractors): suggested {suggested}, correct {correct}; precision {precision:.1%}, "
                  f"recall {recall:.1%}, F1 {f1:.1%} ({elapsed:.1f} s)")
    server.shutdown()


def main(argv: list[str]) -> None:
    if argv[:1] == ["_client"]:
        client(argv[1], int(argv[2]), argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--dois", type=int, nargs="+", default=[1000, 5000])
    s.add_argument("--pool", nargs="+", choices=list(POOLS), default=list(POOLS))
    s.add_argument("--reps", type=int, default=3)
    s.add_argument("--baseline", default="HEAD", help="git revision to compare with ('none': no baseline)")
    q = sub.add_parser("quality")
    q.add_argument("data", help="references-doi-matching.json.gz from biblio-glutton")
    q.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.command == "speed":
        speed(args.dois, args.pool, args.reps, None if args.baseline == "none" else args.baseline)
    else:
        quality(args.data, args.sample)


if __name__ == "__main__":
    main(sys.argv[1:])
