"""A million references checked against the mirror with no network, end to end, as a journal's month of papers.

    python bench/mirror_million.py make --parts DIR --references 1000000 --out DIR [--per-file 1000]
    python bench/mirror_million.py run --mirror MIRROR.sqlite3 --bibs DIR [--workers 2] [--per-run 50]

make: the references cite the first N records of the generated parts (`mirror_bench.py speed --parts DIR`, the
same records the mirror was loaded with), one BibTeX file per --per-file of them. Nine in ten carry their DOI
(a look-up); the tenth has none, only its authors, title, journal, year, volume and pages (a search).

run: `kratomref check --offline --mirror MIRROR --format json` over the files, --per-run files a command and
--workers commands at a time, as a journal's CI workers would run (--offline: no request leaves the machine;
the mirror still answers). Each worker has a cache directory of its own, empty at the start. Prints the wall
time, the time per reference, the verdicts (a reference whose record is in the mirror should be verified),
the searches' matches, and the largest worker's peak memory. Run by hand; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEARCHED_EVERY = 10  # one reference in ten has no DOI


def _records(parts: Path, wanted: int) -> Any:
    """The first `wanted` records of the generated parts, in order."""
    given = 0
    for part in sorted(parts.glob("*.json.gz")):
        for record in json.loads(gzip.decompress(part.read_bytes()))["items"]:
            if given == wanted:
                return
            yield record
            given += 1


def _braced(text: str) -> str:
    return text.replace("{", "").replace("}", "").replace("\\", "")


def entry(n: int, record: dict[str, Any], with_doi: bool) -> str:
    """A faithful BibTeX citation of a generated record."""
    authors = " and ".join(f"{a['family']}, {a.get('given', '')}".strip(", ") for a in record["author"])
    fields = {
        "author": authors, "title": record["title"][0], "journal": record["container-title"][0],
        "year": str(record["issued"]["date-parts"][0][0]), "volume": record.get("volume", ""),
        "pages": record.get("page", "").replace("-", "--"),
    }
    if with_doi:
        fields["doi"] = record["DOI"]
    body = ",\n".join(f"  {name} = {{{_braced(value)}}}" for name, value in fields.items() if value)
    return f"@article{{ref{n},\n{body}\n}}\n"


def make(parts: Path, references: int, out: Path, per_file: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    chunk: list[str] = []
    written = 0
    for n, record in enumerate(_records(parts, references)):
        chunk.append(entry(n, record, with_doi=n % SEARCHED_EVERY != SEARCHED_EVERY - 1))
        if len(chunk) == per_file:
            (out / f"paper-{written:05d}.bib").write_text("".join(chunk), encoding="utf-8")
            written += 1
            chunk = []
    if chunk:
        (out / f"paper-{written:05d}.bib").write_text("".join(chunk), encoding="utf-8")
        written += 1
    print(f"{references:,} references in {written} files of {per_file}: {time.perf_counter() - started:.1f} s")


def _check(files: list[Path], mirror: str, cache: Path) -> dict[str, Any]:
    """One worker's command; its verdicts and findings by rule."""
    command = [sys.executable, "-m", "kratomref", "check", *map(str, files), "--offline", "--mirror", mirror,
               "--cache-dir", str(cache), "--format", "json", "--max-entries", "1000000"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"kratomref check exited {done.returncode}: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    verdicts = Counter(r["verdict"] for r in report["references"])
    rules = Counter(f["code"] for f in report["findings"])
    return {"verdicts": verdicts, "rules": rules, "exit": done.returncode}


def run(mirror: str, bibs: Path, workers: int, per_run: int) -> None:
    files = sorted(bibs.glob("*.bib"))
    batches = [files[i:i + per_run] for i in range(0, len(files), per_run)]
    verdicts: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(_check, batch, mirror, Path(tmp) / f"cache-{i % workers}")
                       for i, batch in enumerate(batches)]
            for future in concurrent.futures.as_completed(futures):
                result = future.result()
                verdicts.update(result["verdicts"])
                rules.update(result["rules"])
        elapsed = time.perf_counter() - started
    total = sum(verdicts.values())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{total:,} references in {len(files)} files, {len(batches)} commands, {workers} at a time: "
          f"{elapsed:.0f} s ({elapsed / 60:.1f} min), {elapsed / max(total, 1) * 1e6:.0f} µs a reference")
    print(f"verdicts: {dict(verdicts)}")
    print(f"findings by rule: {dict(rules.most_common())}")
    print(f"largest worker's peak RSS: {peak:.0f} MiB; load average {os.getloadavg()[0]:.1f}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("--parts", required=True, help="the generated parts the mirror was loaded from")
    m.add_argument("--references", type=int, default=1_000_000)
    m.add_argument("--out", required=True)
    m.add_argument("--per-file", type=int, default=1000)
    r = sub.add_parser("run")
    r.add_argument("--mirror", required=True)
    r.add_argument("--bibs", required=True)
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--per-run", type=int, default=50)
    args = parser.parse_args(argv)
    if args.command == "make":
        make(Path(args.parts), args.references, Path(args.out), args.per_file)
    else:
        run(args.mirror, Path(args.bibs), args.workers, args.per_run)


if __name__ == "__main__":
    main(sys.argv[1:])
