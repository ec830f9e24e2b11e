"""Mirror benchmark: load rate, store size, DOI look-ups and searches per second, and matching quality through
the mirror against the live path's.

    python bench/mirror_bench.py speed --records 1000000 [--lookups 20000] [--searches 2000] [--parts DIR]
    python bench/mirror_bench.py quality DATA.json.gz [--sample 2000]

speed: records in the public data file's shape ({"items": [...]} per gzipped part of 5,000), generated from the
real Crossref works in the `shared` directory next to the repository (fixtures/crossref/work-*.json) by giving
each a new DOI, a title of words drawn from a vocabulary, other authors and a year; loaded with the loader as
`kratomref mirror load` does (then the index merged), timed apart from the generation; --parts DIR keeps the
generated parts for the next run. Peak memory is the process's maximum resident set. The store's size is
measured after the merge (which gives back the pages it frees and empties the write-ahead log). Look-ups:
random DOIs of the loaded records, 100 per call, as a check asks.
Searches: citations (first author, title, journal, year, volume, pages) of random loaded records; a search
counts as a hit when the record is the first candidate.

quality: crossref_bench.py's matching-quality set-up (gold records and distractors built from the biblio-glutton
data, the same sample and seed), but the candidates come from the mirror's FTS5/BM25 search instead of the local
server's fuzzy ranking; validation (best_match) is the same. Run by hand; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PART_SIZE = 5000


def templates() -> list[dict[str, Any]]:
    paths = sorted((SHARED / "fixtures" / "crossref").glob("work-10.*.json"))
    if not paths:
        sys.exit(f"no Crossref works in {SHARED / 'fixtures' / 'crossref'} (the shared directory is absent)")
    works = [json.loads(p.read_text(encoding="utf-8"))["message"] for p in paths]
    for work in works:
        work.pop("reference", None)  # the loader drops it, as the live path does: not worth generating
    return works


def vocabulary(works: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    words = sorted({w.strip(".,:;()'\"").lower() for t in works for w in t["title"][0].split() if len(w) > 3})
    rng = random.Random(7)
    # A larger vocabulary than the fixtures hold: syllable words, so that titles are as varied as real ones.
    syllables = ["ka", "to", "mi", "ra", "ne", "lo", "su", "vi", "pe", "da", "gro", "bin", "tal", "mer", "xo", "qui"]
    words += sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(60000)})
    families = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).title() for _ in range(30000)})
    return words, families


def generate(n: int, into: Path, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    works = templates()
    words, families = vocabulary(works)
    parts: list[Path] = []
    for start in range(0, n, PART_SIZE):
        items = []
        for i in range(start, min(n, start + PART_SIZE)):
            work = dict(works[i % len(works)])  # shallow: every field changed below is a new object
            work["DOI"] = f"10.{5000 + i % 97}/bench.{i}"
            work["title"] = [" ".join(rng.choice(words) for _ in range(rng.randint(6, 14))).capitalize()]
            work["author"] = [{"given": "A.", "family": rng.choice(families), "sequence": "first" if k == 0
                               else "additional"} for k in range(rng.randint(1, 6))]
            year = rng.randint(1950, 2025)
            work["issued"] = {"date-parts": [[year, rng.randint(1, 12)]]}
            work["volume"], work["page"] = str(rng.randint(1, 300)), f"{rng.randint(1, 900)}-{rng.randint(901, 999)}"
            work["indexed"] = {"date-time": f"2025-0{1 + i % 9}-01T00:00:00Z"}
            items.append(work)
        path = into / f"{start // PART_SIZE:05d}.json.gz"
        path.write_bytes(gzip.compress(json.dumps({"items": items}).encode("utf-8"), compresslevel=1))
        parts.append(path)
    return parts


def parts_in(directory: Path, records: int) -> list[Path]:
    """The generated parts of `records` records in `directory`: those already there (a run before made them),
    else new ones."""
    directory.mkdir(parents=True, exist_ok=True)
    parts = sorted(directory.glob("*.json.gz"))
    if len(parts) == -(-records // PART_SIZE):
        return parts
    for part in parts:
        part.unlink()
    return generate(records, directory)


def speed(records: int, lookups: int, searches: int, keep: str | None, parts_dir: str | None = None) -> None:
    from kratomref.services.mirror.loader import load
    from kratomref.services.mirror.store import MirrorStore

    with tempfile.TemporaryDirectory(dir=keep) as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        parts = parts_in(Path(parts_dir) if parts_dir else work / "parts", records)
        print(f"generated {records:,} records in {len(parts)} parts: {time.perf_counter() - started:.1f} s, "
              f"{sum(p.stat().st_size for p in parts) / 2**20:.0f} MiB gzipped")
        store = MirrorStore(work / "mirror.sqlite3", create=True)
        started = time.perf_counter()
        report = load(store, parts)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        store.optimize()
        merged = time.perf_counter() - started
        info = store.info()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"load: {report.loaded:,} loaded in {loaded:.1f} s = {report.loaded / loaded:,.0f} records/s; "
              f"index merge {merged:.1f} s; total {(report.loaded / (loaded + merged)):,.0f} records/s")
        print(f"store: {info['bytes'] / 2**20:.0f} MiB = {info['bytes'] / 2**20 / records * 1e6:,.0f} MiB per "
              f"million records; peak RSS {peak:.0f} MiB")
        measure_reads(store, records, lookups, searches)
        store.close()


def measure_reads(store: Any, records: int, lookups: int, searches: int) -> None:
    """DOI look-ups (100 per call, as a check asks) and searches (a citation of a random loaded record each)
    per second against a loaded store of `records` generated works; prints both."""
    rng = random.Random(2)
    dois = [f"10.{5000 + i % 97}/bench.{i}" for i in (rng.randrange(records) for _ in range(lookups))]
    started = time.perf_counter()
    found = sum(len(store.get_many(dois[start:start + 100])) for start in range(0, len(dois), 100))
    elapsed = time.perf_counter() - started
    print(f"DOI look-ups: {lookups:,} in {elapsed:.2f} s = {lookups / elapsed:,.0f} per s ({found:,} found)")
    chosen = [f"10.{5000 + i % 97}/bench.{i}" for i in (rng.randrange(records) for _ in range(searches))]
    held = store.get_many(chosen)
    citations = []
    for doi in chosen:
        w = held[doi]
        citations.append((doi, f"{w['author'][0]['family']} A. {w['title'][0]}. {w['container-title'][0]} "
                               f"{w['issued']['date-parts'][0][0]};{w['volume']}:{w['page']}"))
    started = time.perf_counter()
    first = 0
    for doi, citation in citations:
        hits = store.search(citation)
        first += bool(hits) and hits[0]["DOI"] == doi
    elapsed = time.perf_counter() - started
    print(f"searches: {searches:,} in {elapsed:.2f} s = {searches / elapsed:,.1f} per s "
          f"(the record first in {first / searches:.1%})")


def quality(path: str, sample: int, seed: int = 1, *, store: Callable[[Path], tuple[Any, str]] | None = None,
            label: str = "the mirror") -> None:
    """Matching quality through a mirror. `store(tmp)` opens the mirror to load (with create=True) and gives
    the --mirror setting that names it; by default a SQLite file in tmp (mirror_pg_bench.py passes a server's)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from crossref_bench import gold_records, match_sample

    from kratomref.check import crossref_settings
    from kratomref.options import Options
    from kratomref.services import mirror as mirrors
    from kratomref.services.cache import Cache
    from kratomref.services.crossref import CrossrefService
    from kratomref.services.mirror.loader import load

    @dataclasses.dataclass(frozen=True)
    class MirrorOptions(Options):
        mirror: str | None = None

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        items = [i for i in json.load(handle) if i.get("doi") and i.get("reference")]
    rng = random.Random(seed)
    records = gold_records(items, rng)
    with_author = [i for i in items if i.get("firstAuthor")]
    chosen = rng.sample(with_author, min(sample, len(with_author)))  # the same sample as crossref_bench's
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / "gold.json.gz"
        with gzip.open(part, "wt", encoding="utf-8") as out:
            json.dump({"items": [{k: v for k, v in r.items() if v is not None} | {"type": "journal-article"}
                                 for r in records.values()]}, out)
        opened, setting = (store or _sqlite_store)(Path(tmp))
        with opened:
            report = load(opened, [part])
            opened.optimize()
        print(f"mirror: {report.loaded} records loaded, {report.malformed} malformed (untitled gold records)")
        options = MirrorOptions(offline=True, mirror=setting)
        service = CrossrefService(crossref_settings(options), Cache(Path(tmp) / "cache", enabled=False),
                                  mirror=lambda: mirrors.open_setting(options.mirror))
        for mode in ("parsed", "raw"):
            total, suggested, correct, elapsed, searches = match_sample(service, chosen, mode)
            precision = correct / suggested if suggested else 0.0
            recall = correct / total
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            print(f"quality through {label} ({mode}, {total} sampled, {len(records) - len(items)} distractors): "
                  f"suggested {suggested}, correct {correct}; precision {precision:.1%}, recall {recall:.1%}, "
                  f"F1 {f1:.1%} ({elapsed:.1f} s, {searches / elapsed:,.0f} searches/s)")


def _sqlite_store(tmp: Path) -> tuple[Any, str]:
    from kratomref.services.mirror.store import MirrorStore

    path = tmp / "mirror.sqlite3"
    return MirrorStore(path, create=True), str(path)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--records", type=int, default=100_000)
    s.add_argument("--lookups", type=int, default=20_000)
    s.add_argument("--searches", type=int, default=2_000)
    s.add_argument("--tmp", default=None, help="directory for the generated parts and the mirror")
    s.add_argument("--parts", default=None, help="directory keeping the generated parts between runs")
    q = sub.add_parser("quality")
    q.add_argument("data", help="references-doi-matching.json.gz from biblio-glutton")
    q.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.command == "speed":
        speed(args.records, args.lookups, args.searches, args.tmp, args.parts)
    else:
        quality(args.data, args.sample)


if __name__ == "__main__":
    main(sys.argv[1:])
