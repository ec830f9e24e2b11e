"""Start-up time of the CLI (issue 16): this tree against another commit, run in turn, and what each imports.

    python bench/startup.py [--base REV] [-n RUNS] [--importtime]

Each command runs as a whole process (`python -c` calling kratomref.cli.main, in the tree's root, with its
bytecode compiled as an installed package has it), this tree (A) and REV extracted with `git archive` (B)
alternating, after one warm-up run each. It prints the median and the minimum wall time of each, the median of
the A/B ratios pair by pair, and the same for the CPU time (user + system) of the child, which other jobs on a
shared machine disturb less than the wall time. With --importtime it also prints, for each tree, the largest
cumulative imports of the offline check (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (
    ("kratomref --version", ["--version"]),
    ("kratomref rules", ["rules"]),
    ("kratomref check --offline -f json references.bib", ["check", "--offline", "--format", "json", "references.bib"]),
    ("kratomref check --offline references.bib (text)", ["check", "--offline", "references.bib"]),
)
MAIN = "import sys; from kratomref.cli import main; sys.argv[0] = 'kratomref'; main()"


def environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["NO_COLOR"] = "1"
    return env


def run(tree: Path, args: list[str], extra: tuple[str, ...] = ()) -> tuple[float, bytes, float]:
    """Wall time, output and CPU time (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *extra, "-c", MAIN, *args], cwd=tree, env=environment(),
                          capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, done.stdout + done.stderr, cpu


def extract(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def importtime(tree: Path, args: list[str], top: int) -> list[tuple[int, str]]:
    """The largest cumulative imports (microseconds, module) of one run; the median of three runs each."""
    runs: dict[str, list[int]] = {}
    for _ in range(3):
        _, output, _ = run(tree, args, ("-X", "importtime"))
        for line in output.decode("utf-8", "replace").splitlines():
            if line.startswith("import time:") and "|" in line:
                _, cumulative, name = line[len("import time:"):].split("|")
                if cumulative.strip().isdigit():
                    runs.setdefault(name.strip(), []).append(int(cumulative))
    found = sorted(((int(statistics.median(t)), name) for name, t in runs.items()), reverse=True)
    return found[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare with (default HEAD)")
    parser.add_argument("-n", "--runs", type=int, default=10, help="counted runs of each tree and command")
    parser.add_argument("--importtime", action="store_true", help="also list the largest imports of the check")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kratomref-base-") as tmp:
        base = extract(options.base, Path(tmp))
        print(f"A = this tree, B = {options.base}; {options.runs} runs each, alternating; {sys.executable}; "
              f"load average {os.getloadavg()[0]:.2f} at the start")
        print("| command | A median (min) | B median (min) | A/B median | CPU A median | CPU B median | "
              "CPU A/B median |")
        print("|---|---|---|---|---|---|---|")
        for label, args in COMMANDS:
            a_out, b_out = run(ROOT, args)[1], run(base, args)[1]  # warm-up: writes the bytecode
            a_times, b_times, ratios, a_cpu, b_cpu, cpu_ratios = [], [], [], [], [], []
            for _ in range(options.runs):
                a, _, a_used = run(ROOT, args)
                b, _, b_used = run(base, args)
                a_times.append(a)
                b_times.append(b)
                ratios.append(a / b)
                a_cpu.append(a_used)
                b_cpu.append(b_used)
                cpu_ratios.append(a_used / b_used)
            same = "" if a_out == b_out else " (outputs differ)"
            print(f"| `{label}` | {statistics.median(a_times):.3f} s ({min(a_times):.3f}) | "
                  f"{statistics.median(b_times):.3f} s ({min(b_times):.3f}) | {statistics.median(ratios):.2f}{same} | "
                  f"{statistics.median(a_cpu):.3f} s | {statistics.median(b_cpu):.3f} s | "
                  f"{statistics.median(cpu_ratios):.2f} |")
        if options.importtime:
            args = COMMANDS[2][1]
            for name, tree in (("A", ROOT), ("B", base)):
                print(f"\n{name}: largest cumulative imports of `{COMMANDS[2][0]}` (median of 3, ms)")
                for micros, module in importtime(tree, args, 15):
                    print(f"  {micros / 1000:7.1f}  {module}")


if __name__ == "__main__":
    main()
