"""Precision on published writing: run kratomref offline over the real-world corpus and count what it reports.

Usage: python bench/realworld.py [--corpus ../shared/realworld] [--out FILE.json] [--markdown] [--jobs N]

Reads `manifest.json` of the corpus (documents nobody on the project wrote; see its SOURCES.md), checks every
document (each `main` file of a LaTeX or pandoc paper with the files it names, every other file on its own)
with the library API, offline and without a cache, as a new user would, and prints per kind of document:
documents, references read, findings per rule per 100 references, crashes and the slowest files. `--out`
writes every finding as JSON lines for reading by hand; `--markdown` prints the table for bench/RESULTS.md.
The corpus files are other people's: they are read from ../shared and never copied into the project.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "realworld"


def documents(corpus: Path) -> list[dict[str, Any]]:
    """The corpus's documents: main files of papers, and every file of the kinds that stand alone."""
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    return [item for item in manifest if item["role"] in ("", "main")]


def check_one(corpus: str, item: dict[str, Any]) -> dict[str, Any]:
    """Check one document offline; findings as plain dicts so they cross the process boundary."""
    import datetime as dt

    from kratomref.check import check
    from kratomref.options import Options

    path = str(Path(corpus) / "corpus" / item["file"])
    start = time.perf_counter()
    try:
        report = check(Options(paths=(path,), offline=True, use_cache=False, archive=False,
                               today=dt.date(2026, 11, 27)))
    except Exception:
        return {"file": item["file"], "kind": group(item), "crash": traceback.format_exc(limit=3),
                "seconds": time.perf_counter() - start, "references": 0, "findings": []}
    seconds = time.perf_counter() - start
    base = str(Path(corpus) / "corpus") + "/"
    findings = [
        {"code": f.rule.code, "name": f.rule.name, "level": f.level.label,
         "where": f"{str(f.location.file).removeprefix(base)}:{f.location.line}",
         "key": f.location.key, "message": f.message}
        for f in report.findings
    ]
    return {"file": item["file"], "kind": group(item), "crash": None, "seconds": seconds,
            "references": sum(len(d.references) for d in report.documents), "findings": findings}


def group(item: dict[str, Any]) -> str:
    """The kind of document, with the biblatex example documents apart from the LaTeX papers: they all share
    one 90-entry example database full of deliberate oddities, and they are examples, not published papers."""
    if item["kind"] == "latex" and "/examples/" in item["file"]:
        return "latex-examples"
    return str(item["kind"])


def run(corpus: Path, jobs: int) -> list[dict[str, Any]]:
    items = documents(corpus)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(check_one, [str(corpus)] * len(items), items, chunksize=4))


def summarise(results: list[dict[str, Any]], markdown: bool) -> str:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_kind[r["kind"]].append(r)
    lines: list[str] = []
    if markdown:
        lines.append("| kind | documents | references | crashes | errors | warnings | warnings /100 refs "
                     "| findings per rule per 100 references |")
        lines.append("|---|---|---|---|---|---|---|---|")
    for kind in sorted(by_kind):
        rs = by_kind[kind]
        refs = sum(r["references"] for r in rs)
        per_rule: Counter[str] = Counter()
        levels: Counter[str] = Counter()
        for r in rs:
            for f in r["findings"]:
                per_rule[f"{f['code']}"] += 1
                levels[f["level"]] += 1
        crashes = sum(1 for r in rs if r["crash"])
        denom = max(refs, 1) / 100
        rules = ", ".join(f"{code} {n / denom:.1f}" for code, n in sorted(per_rule.items()))
        if markdown:
            lines.append(f"| {kind} | {len(rs)} | {refs} | {crashes} | {levels['error']} | {levels['warning']} "
                         f"| {levels['warning'] / denom:.1f} | {rules or '-'} |")
        else:
            lines.append(f"{kind:14} docs {len(rs):4} refs {refs:6} crashes {crashes} errors {levels['error']:4} "
                         f"warnings {levels['warning']:5} ({levels['warning'] / denom:.1f}/100 refs)")
            lines.append(f"               {rules}")
    slowest = sorted(results, key=lambda r: -r["seconds"])[:5]
    lines.append("")
    lines.append("Slowest: " + ", ".join(f"{r['file']} {r['seconds']:.2f} s" for r in slowest))
    for r in results:
        if r["crash"]:
            lines.append(f"CRASH {r['file']}: {r['crash'].strip().splitlines()[-1]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, help="write every finding as JSON lines")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not (args.corpus / "manifest.json").exists():
        print(f"no corpus at {args.corpus} (expected manifest.json): pass --corpus", file=sys.stderr)
        return 2
    start = time.perf_counter()
    results = run(args.corpus, args.jobs)
    if args.out:
        with args.out.open("w", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps(r) + "\n")
    print(summarise(results, args.markdown))
    print(f"\n{len(results)} documents in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
