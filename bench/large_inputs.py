"""Large inputs: BibTeX files of up to 100,000 entries and articles of up to 20 MB, generated on the fly and
read with kratomref.readers.read; wall time and peak memory at several sizes, each in a fresh process.

    python bench/large_inputs.py                      # 10k, 50k, 100k entries; 5, 10, 20 MB articles
    python bench/large_inputs.py --entries 1000 --article-mb 1   # a quick look
    python bench/large_inputs.py --end-to-end         # the whole check, beside bibtexparser's own parse
    python bench/large_inputs.py --read-mib 64        # reading a .bib as large as the size guard lets through
    python bench/large_inputs.py --peak all           # hostile shapes as large as the guards let through
    python bench/large_inputs.py --peak bib-tiny --peak-entries 50000 --peak-formats text,json

Targets: reading grows linearly in the input with peak RSS under 1 GiB (issue 7). End to end (issue 16):
`kratomref check --offline --format text -o FILE` on 100,000 entries in at most 2x bibtexparser's own parse
of the same file, per-entry time at 100k within ~1.2x of 10k, under 1 GiB. Reading the largest file the size
guard lets through under 512 MiB (issue 17).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEMORY_TARGET = 2**30  # 1 GiB, issue 7
READ_MEMORY_TARGET = 512 * 2**20  # issue 17: any input the size guards let through
SPEED_TARGET = 2.0  # issue 16: end to end at most 2x bibtexparser's parse
LINEAR_TARGET = 1.2  # per-entry time at the largest size against the smallest
SEED = 7

# bibtexparser's own parse of the file, the baseline issue 16 names: the whole process, as kratomref's is.
_BIBTEXPARSER = r"""
import sys
import bibtexparser
library = bibtexparser.parse_file(sys.argv[1])
print(len(library.entries))
"""

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


def timed_child(args: list[str], cwd: str) -> tuple[float, int, int]:
    """Wall time, peak RSS (bytes, from the child's own rusage) and exit status of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    error = child.stderr.read().decode("utf-8", "replace") if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    code = child.returncode
    if code not in (0, 1):  # 1: the check found problems, as it does in these libraries
        raise RuntimeError(f"{args[:4]} exited {code}: {error[-2000:]}")
    return seconds, usage.ru_maxrss * 1024, code


def end_to_end(sizes: list[int], formats: list[str], repeat: int) -> int:
    """kratomref check --offline on each generated library, alternating with bibtexparser's parse of it."""
    rows: list[str] = []
    per_entry: dict[tuple[str, int], float] = {}
    medians: dict[tuple[str, int], float] = {}
    worst = 0
    with tempfile.TemporaryDirectory(prefix="kratomref-bench-") as work:
        for n in sizes:
            path = Path(work) / f"library-{n}.bib"
            write_bibtex(path, n)
            runs: dict[str, list[tuple[float, int]]] = {}
            commands = {"bibtexparser.parse_file": [sys.executable, "-c", _BIBTEXPARSER, str(path)]}
            for fmt in formats:
                out = Path(work) / f"report-{n}.{fmt}"
                commands[f"kratomref check --format {fmt}"] = [
                    sys.executable, "-m", "kratomref", "check", "--offline", "--isolated", "--no-cache",
                    # above the default size guards (50,000 entries, 16 MiB): the entries and the @string, the file
                    "--max-entries", str(n + 1), "--max-bibliography-mib", str(os.path.getsize(path) // 2**20 + 1),
                    "--format", fmt, "-o", str(out), str(path),
                ]
            for _ in range(repeat):  # alternating: a slow minute of the machine falls on every tool alike
                for name, args in commands.items():
                    seconds, rss, _code = timed_child(args, work)
                    runs.setdefault(name, []).append((seconds, rss))
            base = statistics.median(s for s, _ in runs["bibtexparser.parse_file"])
            for name, measured in runs.items():
                times = [s for s, _ in measured]
                rss = max(r for _, r in measured)
                worst = max(worst, rss) if name != "bibtexparser.parse_file" else worst
                median = statistics.median(times)
                medians[(name, n)] = median
                per_entry[(name, n)] = median / n
                rows.append(
                    f"| {n:,} entries ({os.path.getsize(path) / 1e6:.1f} MB) | {name} | {min(times):.2f} s |"
                    f" {median:.2f} s | {median / n * 1e6:.0f} µs | {_mib(rss)} MiB | {median / base:.2f}x |"
                )
                print(rows[-1], flush=True)
    print()
    print(f"{repeat} runs each, alternating; ratio: median against bibtexparser's median on the same file")
    print("| input | run | min | median | per entry | peak RSS | against bibtexparser |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    ok = worst < MEMORY_TARGET
    largest, smallest = max(sizes), min(sizes)
    for fmt in formats:
        name = f"kratomref check --format {fmt}"
        ratio = medians[(name, largest)] / medians[("bibtexparser.parse_file", largest)]
        growth = per_entry[(name, largest)] / per_entry[(name, smallest)]
        print(f"{name}: {largest:,} entries {ratio:.2f}x bibtexparser (target {SPEED_TARGET}x); per entry"
              f" {growth:.2f}x from {smallest:,} to {largest:,} (target {LINEAR_TARGET}x)")
        ok = ok and ratio <= SPEED_TARGET and (largest == smallest or growth <= LINEAR_TARGET)
    print(f"worst peak RSS {_mib(worst)} MiB: {'under' if worst < MEMORY_TARGET else 'OVER'} the 1 GiB target")
    return 0 if ok else 1


def read_largest(mib: float) -> int:
    """Read a generated .bib of `mib` MiB (the size guard's limit by default) and report its peak RSS."""
    limit = int(mib * 2**20)
    with tempfile.TemporaryDirectory(prefix="kratomref-bench-") as work:
        path = Path(work) / "largest.bib"
        rng = random.Random(SEED)
        entries = 0
        with path.open("w", encoding="utf-8") as handle:
            written = handle.write("% Encoding: UTF-8\n@string{dad = {Drug and Alcohol Dependence}}\n\n")
            while True:
                entry = bibtex_entry(entries, rng) + "\n"
                size = len(entry.encode("utf-8"))
                if written + size > limit:
                    break
                handle.write(entry)
                written += size
                entries += 1
        r = measure(path)
        print(f"| BibTeX, {entries:,} entries | {os.path.getsize(path) / 2**20:.1f} MiB | {r['references']:,.0f} refs |"
              f" {r['seconds']:.2f} s | {_mib(r['peak_rss'])} MiB | {_mib(r['peak_rss'] - r['baseline_rss'])} MiB |")
        verdict = "under" if r["peak_rss"] < READ_MEMORY_TARGET else "OVER"
        print(f"peak RSS {_mib(r['peak_rss'])} MiB: {verdict} the 512 MiB target")
        return 0 if r["peak_rss"] < READ_MEMORY_TARGET else 1


# --- Peak memory on hostile shapes (issue 17) ------------------------------------------------------------
# Each shape is generated up to a size (MiB) or a number of entries, whichever comes first, and checked end to
# end in a fresh process; the worst a guard lets through must stay under READ_MEMORY_TARGET.


def _tiny(i: int, rng: random.Random) -> str:
    return f"@misc{{k{i},}}\n"


def _many_fields(i: int, rng: random.Random) -> str:
    body = ",".join(f"f{j}={{v{j}}}" for j in range(200))  # distinct names and values, short
    return f"@misc{{k{i},{body}}}\n"


def _huge_field(i: int, rng: random.Random) -> str:
    line = "word " * 15 + "\n"
    return f"@article{{k{i}, title={{A title {i}}}, author={{Doe, Alan}}, year={{2020}}, note={{" + \
        line * (1000 * 1000 // len(line)) + "}}\n"


def _many_authors(i: int, rng: random.Random) -> str:
    names = " and ".join(f"Surname{i}x{j}, G{j}" for j in range(300))
    return f"@article{{k{i}, title={{T {i}}}, author={{{names}}}, year={{2020}}}}\n"


def _long_lines(i: int, rng: random.Random) -> str:  # entries side by side on lines of about 1 MB
    entry = f"@article{{k{i}, title={{Title {i}}}, author={{Doe, A.}}, year={{2020}}}} "
    return entry + ("\n" if i % 14000 == 13999 else "")


def _ris(i: int, rng: random.Random) -> str:
    return f"TY  - JOUR\nTI  - Title {i}\nAU  - Doe, A.\nPY  - 2020\nER  - \n"


def _ris_tiny(i: int, rng: random.Random) -> str:
    return "TY  - GEN\nER  - \n"


SHAPES = {
    "bib-ordinary": (".bib", bibtex_entry),
    "bib-tiny": (".bib", _tiny),
    "bib-many-fields": (".bib", _many_fields),
    "bib-huge-field": (".bib", _huge_field),
    "bib-many-authors": (".bib", _many_authors),
    "bib-long-lines": (".bib", _long_lines),
    "ris": (".ris", _ris),
    "ris-tiny": (".ris", _ris_tiny),
    "csl-tiny": (".json", None),
    "csl-ordinary": (".json", None),
}


def write_shape(path: Path, shape: str, mib: float, entries: int) -> int:
    """A file of `shape` up to mib MiB or `entries` entries, whichever comes first; returns the entries."""
    limit = int(mib * 2**20)
    rng = random.Random(SEED)
    _, make = SHAPES[shape]
    count = 0
    if make is None:  # CSL-JSON: one item a line inside a list
        with path.open("w", encoding="utf-8") as handle:
            written = handle.write("[\n")
            while count < entries:
                if shape == "csl-tiny":
                    item = {"id": f"k{count}"}
                else:
                    item = {"id": f"k{count}", "type": "article-journal", "title": _title(rng),
                            "author": [{"family": s, "given": g} for s, g in _authors(rng)],
                            "container-title": rng.choice(JOURNALS), "issued": {"date-parts": [[2020]]},
                            "DOI": f"10.1234/x.{count}"}
                text = ("," if count else "") + json.dumps(item) + "\n"
                if written + len(text) + 2 > limit:
                    break
                written += handle.write(text)
                count += 1
            handle.write("]\n")
        return count
    with path.open("w", encoding="utf-8") as handle:
        written = 0
        while count < entries:
            text = make(count, rng)
            size = len(text.encode("utf-8"))
            if written + size > limit:
                break
            written += handle.write(text)
            count += 1
    return count


def peak_shapes(shapes: list[str], mib: float, entries: int, formats: list[str], extra: list[str]) -> int:
    """kratomref check --offline of each shape, as large as mib/entries allow: wall time, peak RSS, exit status."""
    worst = 0
    print("| shape | entries | size | report | exit | wall | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="kratomref-bench-") as work:
        for shape in shapes:
            suffix, _ = SHAPES[shape]
            path = Path(work) / f"{shape}{suffix}"
            count = write_shape(path, shape, mib, entries)
            for fmt in formats:
                out = Path(work) / f"report.{fmt}"
                args = [sys.executable, "-m", "kratomref", "check", "--offline", "--isolated", "--no-cache",
                        "--format", fmt, "-o", str(out), *extra, str(path)]
                started = time.perf_counter()
                child = subprocess.Popen(args, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _, status, usage = os.wait4(child.pid, 0)
                seconds = time.perf_counter() - started
                rss = usage.ru_maxrss * 1024
                worst = max(worst, rss)
                print(f"| {shape} | {count:,} | {os.path.getsize(path) / 2**20:.1f} MiB | {fmt} |"
                      f" {os.waitstatus_to_exitcode(status)} | {seconds:.1f} s | {_mib(rss)} MiB |", flush=True)
            path.unlink()
    verdict = "under" if worst < READ_MEMORY_TARGET else "OVER"
    print(f"worst peak RSS {_mib(worst)} MiB: {verdict} the 512 MiB target")
    return 0 if worst < READ_MEMORY_TARGET else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="10000,50000,100000", help="BibTeX sizes, comma-separated")
    parser.add_argument("--article-mb", default="5,10,20", help="article sizes in MB, comma-separated")
    parser.add_argument("--end-to-end", action="store_true",
                        help="time kratomref check --offline on each library beside bibtexparser's own parse")
    parser.add_argument("--formats", default="text,json", help="report formats for --end-to-end")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool and size for --end-to-end")
    parser.add_argument("--read-mib", type=float, help="read one generated .bib of this many MiB (64: the size guard)")
    parser.add_argument("--peak", help=f"check hostile shapes end to end, comma-separated ({','.join(SHAPES)}; all)")
    parser.add_argument("--peak-mib", type=float, default=64, help="--peak: the largest file of each shape, MiB")
    parser.add_argument("--peak-entries", type=int, default=10**9, help="--peak: the most entries of each shape")
    parser.add_argument("--peak-formats", default="text", help="--peak: report formats, comma-separated")
    parser.add_argument("--peak-args", default="", help="--peak: more arguments for kratomref check")
    args = parser.parse_args()
    if args.peak:
        shapes = list(SHAPES) if args.peak == "all" else args.peak.split(",")
        return peak_shapes(shapes, args.peak_mib, args.peak_entries, args.peak_formats.split(","),
                           args.peak_args.split())
    sizes = [int(s) for s in args.entries.split(",") if s]
    articles = [float(s) for s in args.article_mb.split(",") if s]
    if args.end_to_end:
        return end_to_end(sizes, [f for f in args.formats.split(",") if f], args.repeat)
    if args.read_mib:
        return read_largest(args.read_mib)

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
