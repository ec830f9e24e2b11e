"""Authorities beyond Crossref (issue 15): detections and false alarms per kind of work on a mixed bibliography,
and requests per reference and wall time beside a Crossref-only run.

Every service is a local fake (tests/services/authorities/fakes.py for OpenAlex, DataCite, arXiv, PubMed, DBLP and Open
Library; tests/services/crossref/crossref_server.py for Crossref and doi.org) serving the world of
bench/data/authorities/world.json; the bibliography is bench/data/authorities/mixed.bib. A genuine entry
raises a false alarm when it gets KR202, KR203 or KR205; a fabricated one is caught when it gets one of them.

    python bench/authorities_bench.py [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "authorities"
TESTS = ROOT / "tests"
ALARMS = {"KR202", "KR203", "KR205"}
AUTHORITIES = ("openalex", "datacite", "arxiv", "pubmed", "dblp", "openlibrary")


def _load(name: str, path: Path) -> ModuleType:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))  # crossref_server imports recorded_works from there
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _run(bib: Path, fakes: Any, crossref: Any, options_for: Any, authorities: bool) -> dict[str, Any]:
    from kratomref import check

    for fake in fakes.services.values():
        fake.seen.clear()
    crossref.seen.clear()
    switches = {f"use_{name}": authorities for name in AUTHORITIES}
    options = options_for(fakes, crossref.url, paths=(str(bib),), use_cache=False, max_retries=0, **switches)
    started = time.perf_counter()
    report = check.check(options)
    elapsed = time.perf_counter() - started
    findings: dict[str, set[str]] = defaultdict(set)
    for finding in report.findings:
        if finding.location.key:
            findings[finding.location.key].add(finding.rule.code)
    requests = {"crossref": len(crossref.seen), **fakes.requests()}
    return {
        "seconds": elapsed,
        "requests": requests,
        "results": {r.reference.key: (r.verdict.value, r.confirmed_by) for r in report.results},
        "findings": {k: sorted(v) for k, v in findings.items()},
        "references": len(report.results),
    }


def _per_kind(run: dict[str, Any], expect: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, what in expect.items():
        row = table[what["kind"]]
        alarm = bool(ALARMS & set(run["findings"].get(key, [])))
        verdict = run["results"].get(key, ("missing", None))[0]
        if what["genuine"]:
            row["genuine"] += 1
            row["false_alarms"] += alarm
            row["verified"] += verdict == "verified"
        else:
            row["fabricated"] += 1
            row["caught"] += alarm
    return {kind: dict(row) for kind, row in sorted(table.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args()

    fakes_module = _load("kratomref_bench_authority_fakes", TESTS / "services" / "authorities" / "fakes.py")
    crossref_module = _load("kratomref_bench_crossref_server", TESTS / "services" / "crossref" / "crossref_server.py")
    world_data = json.loads((DATA / "world.json").read_text(encoding="utf-8"))
    expect: dict[str, dict[str, Any]] = world_data["expect"]
    bib = DATA / "mixed.bib"

    from kratomref.rules import crossref as crossref_rules

    patched = hasattr(crossref_rules, "authority_rules")
    crossref = crossref_module.FakeCrossref()
    crossref.search_results = dict(world_data["crossref_search"])
    # doi.org knows DataCite's DOIs: a Crossref-only run finds them registered (and compares nothing).
    crossref.other_agencies.update({w["doi"]: "DataCite" for w in world_data["works"] if "datacite" in w["held_by"]})
    server = crossref_module.serve(crossref)
    try:
        with fakes_module.serve_world(fakes_module.world_of(world_data["works"])) as fakes, \
                tempfile.TemporaryDirectory() as tmp:
            journal_only = Path(tmp) / "journal.bib"
            text = bib.read_text(encoding="utf-8")
            entries = [e for e in text.split("\n@") if e.startswith("article{g_journal_doi")]
            journal_only.write_text("".join("@" + e.strip() + "\n" for e in entries), encoding="utf-8")
            runs = {
                "crossref-only": _run(bib, fakes, crossref, fakes_module.options_for, authorities=False),
                "authorities": _run(bib, fakes, crossref, fakes_module.options_for, authorities=True),
                "journal-only, crossref-only": _run(journal_only, fakes, crossref, fakes_module.options_for, False),
                "journal-only, authorities": _run(journal_only, fakes, crossref, fakes_module.options_for, True),
            }
    finally:
        server.shutdown()
        server.server_close()

    summary = {
        "kr205_change_landed": patched,
        "runs": {
            name: {
                "references": run["references"],
                "requests": run["requests"],
                "requests_per_reference": round(sum(run["requests"].values()) / max(1, run["references"]), 2),
                "seconds": round(run["seconds"], 2),
                "per_kind": _per_kind(run, expect) if not name.startswith("journal-only") else None,
            }
            for name, run in runs.items()
        },
        "confirmed_by": {k: v[1] for k, v in runs["authorities"]["results"].items() if v[0] == "verified"},
        "alarms": {name: {k: v for k, v in run["findings"].items() if ALARMS & set(v)}
                   for name, run in runs.items() if not name.startswith("journal-only")},
    }
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    if not patched:
        print("NOTE: rules/crossref.py does not consult the authorities yet (the KR205 change of issue 15 has not"
              " landed): KR205 below is Crossref's alone.\n")
    for name in ("crossref-only", "authorities"):
        run = summary["runs"][name]
        print(f"## {name}: {run['references']} references, {sum(run['requests'].values())} requests"
              f" ({run['requests_per_reference']} per reference), {run['seconds']} s")
        print("| kind | genuine | verified | false alarms | fabricated | caught |")
        print("|---|---|---|---|---|---|")
        for kind, row in run["per_kind"].items():
            print(f"| {kind} | {row.get('genuine', 0)} | {row.get('verified', 0)} | {row.get('false_alarms', 0)} |"
                  f" {row.get('fabricated', 0)} | {row.get('caught', 0)} |")
        print("requests by service:", {k: v for k, v in run["requests"].items() if v})
        print()
    for name in ("journal-only, crossref-only", "journal-only, authorities"):
        run = summary["runs"][name]
        asked = {k: v for k, v in run["requests"].items() if v}
        print(f"{name}: {run['references']} references, requests {asked}, {run['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
