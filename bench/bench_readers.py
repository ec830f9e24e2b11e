"""Time and peak memory of the readers on large generated inputs (run by hand, not in the test suite).

    python bench/bench_readers.py [MEGABYTES]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from kratomref import readers

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "inputs"


def _bibtex(size: int) -> str:
    entries = (ROOT / "references.bib").read_text(encoding="utf-8").split("\n\n")[1:]
    out: list[str] = []
    total = 0
    n = 0
    while total < size:
        entry = entries[n % len(entries)]
        head, rest = entry.split(",", 1)
        block = f"{head}-{n},{rest}"
        out.append(block)
        total += len(block) + 2
        n += 1
    return "\n\n".join(out) + "\n"


def _markdown(size: int) -> str:
    draft = (FIXTURES / "kratom-draft.md").read_text(encoding="utf-8")
    body, refs = draft.split("## References\n", 1)
    items = [line.split(". ", 1)[1] for line in refs.splitlines() if line[:1].isdigit()]
    paragraph = body.replace("## References", "")
    out = [paragraph * max(1, size // (2 * len(paragraph))), "## References\n"]
    total = sum(len(part) for part in out)
    n = 0
    while total < size:
        line = f"{n + 1}. {items[n % len(items)]}\n"
        out.append(line)
        total += len(line)
        n += 1
    return "".join(out)


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 50
    size = int(megabytes * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("refs.bib", _bibtex), ("draft.md", _markdown)):
            path = Path(tmp) / name
            path.write_text(make(size), encoding="utf-8")
            started = time.perf_counter()
            doc = readers.read(str(path))
            elapsed = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{name}: {path.stat().st_size / 2**20:.1f} MiB, {len(doc.references)} references, "
                f"{len(doc.body)} body lines, {len(doc.problems)} problems, {elapsed:.1f} s, "
                f"process peak RSS so far {peak:.0f} MiB"
            )


if __name__ == "__main__":
    main()
