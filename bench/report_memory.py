"""Report memory: peak RSS and time of rendering each report format for N references, in a fresh process each.

    python bench/report_memory.py                                 # 10k and 100k synthetic results, every format
    python bench/report_memory.py --entries 10000 --formats json,sarif
    python bench/report_memory.py --base ../kratomref-base        # beside another tree (git archive of a commit)
    python bench/report_memory.py --end-to-end --entries 10000    # `kratomref check --offline -o FILE` too

Target (issue 16): every format streams to its output, so the memory rendering takes (the peak RSS of the
process over what it held before rendering) does not grow with the number of references: a few MiB of
buffers, where the whole JSON document of 100,000 references took over 400 MiB. Synthetic mode builds the
Report in the child (N references, a finding on each, a third unverified, a third verified), then renders it
to a file with the format's `write` (or `render` and one write, for a tree without it). End-to-end mode runs
the CLI on a generated .bib of N entries (bench/large_inputs.py's generator). Runs alternate between the
trees; each figure is the min and median of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")

_CHILD = r"""
import importlib, json, resource, sys, time
from kratomref.model import Document, Finding, Location, Reference, ReferenceResult, Report, Rule, Severity, Verdict

n, fmt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rule = Rule("KR101", "placeholder-text", Severity.ERROR, "Placeholder text.", "")
refs = tuple(Reference(Location("library.bib", 1 + 8 * i, f"key{i}"), "article", f"Title {i} of a long library",
                       year="2020", doi=f"10.1000/x{i}", urls=(f"https://example.org/{i}",)) for i in range(n))
verdicts = (Verdict.PROBLEM, Verdict.UNVERIFIED, Verdict.VERIFIED)
results = tuple(ReferenceResult(r, verdicts[i % 3], ("offline: Crossref was not asked",) if i % 3 == 1 else (),
                                {"doi": r.doi} if i % 3 == 2 else None, confirmed_by="Crossref" if i % 3 == 2 else None)
                for i, r in enumerate(refs))
findings = tuple(Finding(rule, r.location, f"placeholder 'XX' in {r.title}", "put in the missing fact",
                         fingerprint=f"{i:016x}") for i, r in enumerate(refs))
report = Report("0.0.0", (Document("library.bib", "bibtex", refs),), results, findings)
module = importlib.import_module(f"kratomref.reports.{fmt}")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started = time.perf_counter()
with open(path, "w", encoding="utf-8") as out:
    if hasattr(module, "write"):
        module.write(report, out)
    else:
        out.write(module.render(report))
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "before": before, "peak": peak}))
"""


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f}"


def _env(tree: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs: with its .pyc files
    if tree is not None:
        env["PYTHONPATH"] = tree
    return env


def synthetic(tree: str | None, n: int, fmt: str, out: Path) -> tuple[float, int, int]:
    """Seconds rendering, peak RSS before rendering, peak RSS after (bytes) of one child process."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(n), fmt, str(out)], capture_output=True, text=True,
                          check=True, env=_env(tree))
    row = json.loads(done.stdout)
    return row["seconds"], row["before"], row["peak"]


def end_to_end(tree: str | None, library: Path, fmt: str, out: Path) -> tuple[float, int, int]:
    """Wall seconds, 0 and peak RSS of `kratomref check --offline --format FMT -o OUT LIBRARY`."""
    args = [sys.executable, "-m", "kratomref", "check", "--offline", "--isolated", "--no-cache", "--format", fmt,
            "-o", str(out), str(library)]
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(tree))
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    error = child.stderr.read().decode("utf-8", "replace") if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    if os.waitstatus_to_exitcode(status) not in (0, 1, 3):
        raise RuntimeError(f"{args[:8]} failed: {error[-2000:]}")
    return seconds, 0, usage.ru_maxrss * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="10000,100000", help="numbers of references, comma-separated")
    parser.add_argument("--formats", default=",".join(FORMATS), help="report formats, comma-separated")
    parser.add_argument("--base", help="another kratomref tree to measure beside this one (its directory)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree, format and size")
    parser.add_argument("--end-to-end", action="store_true", help="the CLI on a generated .bib, not synthetic")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parent.parent)
    trees = {"this tree": here} | ({"base": str(Path(args.base).resolve())} if args.base else {})
    sizes = [int(n) for n in args.entries.split(",")]
    formats = args.formats.split(",")
    rows = []
    with tempfile.TemporaryDirectory(prefix="kratomref-reports-") as work:
        for n in sizes:
            library = Path(work) / f"library-{n}.bib"
            if args.end_to_end:
                sys.path.insert(0, str(Path(__file__).parent))
                from large_inputs import write_bibtex

                write_bibtex(library, n)
            for fmt in formats:
                runs: dict[str, list[tuple[float, int, int]]] = {name: [] for name in trees}
                for _ in range(args.repeat):  # alternating, so a slow minute of the machine falls on both
                    for name, tree in trees.items():
                        out = Path(work) / f"report-{n}.{fmt}"
                        if args.end_to_end:
                            runs[name].append(end_to_end(tree, library, fmt, out))
                        else:
                            runs[name].append(synthetic(tree, n, fmt, out))
                        size = out.stat().st_size
                for name, measured in runs.items():
                    times = [s for s, _, _ in measured]
                    peaks = [p for _, _, p in measured]
                    grown = [p - b for _, b, p in measured]
                    rendering = "" if args.end_to_end else f" {_mib(statistics.median(grown))} MiB |"
                    rows.append(f"| {n:,} | {fmt} | {name} | {min(times):.2f} s | {statistics.median(times):.2f} s |"
                                f"{rendering} {_mib(max(peaks))} MiB | {size / 2**20:.1f} MiB |")
                    print(rows[-1], flush=True)
    kind = "`kratomref check --offline -o FILE`, wall" if args.end_to_end else "rendering to a file"
    print(f"\n{args.repeat} runs each, alternating; time: {kind}")
    growth = "" if args.end_to_end else " rendering's peak RSS growth |"
    print(f"| references | format | tree | min | median |{growth} peak RSS | output |")
    print("|---|---|---|---|---|" + ("---|" if not args.end_to_end else "") + "---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
