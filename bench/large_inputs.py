"""Large inputs: BibTeX files of up to 100,000 entries and articles of up to 20 MB, generated on the fly and
read with kratomref.readers.read; wall time and peak memory at several sizes, each in a fresh process.

    python bench/large_inputs.py                      # 10k, 50k, 100k entries; 5, 10, 20 MB articles
    python bench/large_inputs.py --entries 1000 --article-mb 1   # a quick look

Target (issue 7): growth linear in the input, peak RSS under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

MEMORY_TARGET = 2**30  # 1 GiB, issue 7
SEED = 7

_CHILD = r"""
import json, resource, sys, time
from kratomref import readers
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started = time.perf_counter()
doc = readers.read(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
seconds = time.perf_counter() - started
print(json.dumps({
    "seconds": seconds, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "baseline_rss": base, "references": len(doc.references), "problems": len(doc.problems),
    "body_lines": len(doc.body), "citations": len(doc.citations), "format": doc.format,
}))
"""

SURNAMES = ["Smith", "Nguyen", "García", "Müller", "O'Brien", "Kowalski", "Hassan", "Tanaka", "Okafor", "Lindqvist",
            "Prozialeck", "Grundmann", "Swogger", "Hemby", "Kruegel", "Boyer", "Singh", "Veltri", "Henningfield"]
GIVEN = ["J.", "A. B.", "Maria", "Wei", "K.", "Olusegun", "É.", "Hans-Peter", "S. L."]
WORDS = [
    "kratom", "mitragynine", "opioid", "receptor", "pharmacology", "withdrawal", "alkaloid", "hepatotoxicity",
    "survey", "cohort", "analgesic", "dependence", "self-treatment", "Mitragyna", "speciosa", "metabolism",
    "toxicology", "case", "report", "review", "systematic", "randomized", "trial", "serotonin", "adrenergic",
    "7-hydroxymitragynine", "assay", "LC-MS",
]
JOURNALS = ["Drug and Alcohol Dependence", "J. Ethnopharmacol.", "Journal of Medicinal Chemistry", "PLoS ONE",
            "Frontiers in Pharmacology", "Addiction", "Clinical Toxicology", "Psychopharmacology (Berl)"]


def _title(rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.randint(5, 12))
    return " ".join(words).capitalize()


def _authors(rng: random.Random) -> list[tuple[str, str]]:
    return [(rng.choice(SURNAMES), rng.choice(GIVEN)) for _ in range(rng.randint(1, 6))]


def bibtex_entry(i: int, rng: random.Random) -> str:
    kind = rng.random()
    authors = " and ".join(f"{s}, {g}" for s, g in _authors(rng))
    year = rng.randint(1965, 2026)
    if kind < 0.75:
        first = rng.randint(1, 900)
        return (
            f"@article{{ref{i},\n  author = {{{authors}}},\n  title = {{{_title(rng)}}},\n"
            f"  journal = {{{rng.choice(JOURNALS)}}},\n  year = {{{year}}},\n  volume = {{{rng.randint(1, 300)}}},\n"
            f"  number = {{{rng.randint(1, 12)}}},\n  pages = {{{first}--{first + rng.randint(2, 20)}}},\n"
            f"  doi = {{10.{rng.randint(1000, 99999)}/j.x.{year}.{i:06d}}}\n}}\n"
        )
    if kind < 0.9:
        return (
            f"@book{{ref{i},\n  author = {{{authors}}},\n  title = {{{_title(rng)}}},\n"
            f"  publisher = {{Academic Press}},\n  address = {{London}},\n  year = {year},\n"
            f"  isbn = {{978-0-12-{i:06d}-1}}\n}}\n"
        )
    return (
        f"@online{{ref{i},\n  author = {{{{U.S. Food and Drug Administration}}}},\n  title = {{{_title(rng)}}},\n"
        f"  url = {{https://www.example.gov/news/{year}/statement-{i}}},\n"
        f"  urldate = {{2024-05-{rng.randint(1, 28):02d}}},\n"
        f"  year = {{{year}}},\n  note = {{Accessed \\today; see also \\url{{https://example.org/{i}}}}}\n}}\n"
    )


def write_bibtex(path: Path, entries: int) -> None:
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("% Encoding: UTF-8\n@string{dad = {Drug and Alcohol Dependence}}\n\n")
        for i in range(entries):
            handle.write(bibtex_entry(i, rng))
            handle.write("\n")


def write_article(path: Path, megabytes: float) -> int:
    """A Markdown draft of about `megabytes` MB: sections of prose with numbered citations and links,
    then a numbered reference list of one item per 10 kB of text. Returns the number of references."""
    rng = random.Random(SEED)
    target = int(megabytes * 1_000_000)
    refs = max(10, target // 10_000)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("---\ntitle: A very long review of kratom\n---\n\n# A very long review of kratom\n\n")
        section = 0
        while written < target - refs * 250:
            section += 1
            head = f"\n## {section}. {_title(rng)}\n\n"
            handle.write(head)
            written += len(head)
            for _ in range(20):
                words = [rng.choice(WORDS) for _ in range(rng.randint(40, 120))]
                sentence = " ".join(words).capitalize()
                para = f"{sentence} [{rng.randint(1, refs)}], see https://example.org/page/{rng.randint(1, 10**6)}. " \
                       f"{sentence[:200]} ({rng.choice(SURNAMES)} et al., {rng.randint(1990, 2026)}).\n\n"
                handle.write(para)
                written += len(para.encode("utf-8"))
        handle.write("\n## References\n\n")
        for n in range(1, refs + 1):
            names = ", ".join(f"{s}, {g}" for s, g in _authors(rng))
            year = rng.randint(1965, 2026)
            handle.write(
                f"{n}. {names} ({year}). {_title(rng)}. *{rng.choice(JOURNALS)}*, {rng.randint(1, 300)}"
                f"({rng.randint(1, 12)}), {rng.randint(1, 500)}–{rng.randint(501, 900)}. "
                f"https://doi.org/10.{rng.randint(1000, 99999)}/art.{n}\n"
            )
    return refs


def measure(path: Path, input_format: str | None = None) -> dict[str, float]:
    args = [sys.executable, "-c", _CHILD, str(path)] + ([input_format] if input_format else [])
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="10000,50000,100000", help="BibTeX sizes, comma-separated")
    parser.add_argument("--article-mb", default="5,10,20", help="article sizes in MB, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.entries.split(",") if s]
    articles = [float(s) for s in args.article_mb.split(",") if s]

    rows: list[str] = []
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="kratomref-bench-") as work:
        for n in sizes:
            path = Path(work) / f"library-{n}.bib"
            write_bibtex(path, n)
            r = measure(path)
            worst = max(worst, r["peak_rss"])
            rows.append(
                f"| BibTeX, {n:,} entries | {os.path.getsize(path) / 1e6:.1f} MB | {r['references']:,.0f} refs, "
                f"{r['problems']:.0f} problems | {r['seconds']:.2f} s | {r['seconds'] / n * 1e6:.0f} µs |"
                f" {_mib(r['peak_rss'])} MiB | {_mib(r['peak_rss'] - r['baseline_rss'])} MiB |"
            )
            print(rows[-1], flush=True)
        for mb in articles:
            path = Path(work) / f"article-{mb:g}mb.md"
            refs = write_article(path, mb)
            r = measure(path)
            worst = max(worst, r["peak_rss"])
            size = os.path.getsize(path)
            per_mb = r["seconds"] / (size / 1e6) * 1e3
            rows.append(
                f"| Markdown article, {size / 1e6:.1f} MB | {size / 1e6:.1f} MB | "
                f"{r['references']:,.0f} of {refs:,} refs, {r['citations']:,.0f} citations | "
                f"{r['seconds']:.2f} s | {per_mb:.0f} ms/MB |"
                f" {_mib(r['peak_rss'])} MiB | {_mib(r['peak_rss'] - r['baseline_rss'])} MiB |"
            )
            print(rows[-1], flush=True)
    print()
    print("| input | size | read | wall | per unit | peak RSS | above interpreter |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    verdict = "under" if worst < MEMORY_TARGET else "OVER"
    print(f"\nworst peak RSS {_mib(worst)} MiB: {verdict} the 1 GiB target")
    return 0 if worst < MEMORY_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
