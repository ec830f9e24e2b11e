"""Precision and recall of KR504 (unsupported-claim) and KR505 (unsourced-quote) on a labelled set.

Usage: python bench/editor_bench.py [bench/data/claims.jsonl ...] [--show]
Each line of a set: {"text", "needs_citation", "kind": "claim"|"quote"|"none", "has_citation"} and, in the
later sets, "draft" (the kind of document the sentence comes from). With several sets, a pooled line follows.
A sentence should be flagged when it needs a citation and has none; KR504 is scored on kind "claim",
KR505 on kind "quote", and either rule firing on a "none" sentence counts as a false alarm of that rule.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kratomref.model import Document, TextLine
from kratomref.options import Options
from kratomref.rules import Context, claims

DEFAULT = Path(__file__).parent / "data" / "claims.jsonl"


def flagged(text: str) -> set[str]:
    doc = Document("sentence.md", "markdown", body=(TextLine("sentence.md", 1, text),))
    return {f.rule.code for f in claims.judge_document(doc, {}, Context(Options()))}


def score(rows: list[dict[str, object]], show: bool) -> None:
    for code, kind in (("KR504", "claim"), ("KR505", "quote")):
        tp = fp = fn = 0
        for row in rows:
            should = bool(row["needs_citation"]) and not bool(row["has_citation"]) and row["kind"] == kind
            fired = code in flagged(str(row["text"]))
            if fired and should:
                tp += 1
            elif fired:
                fp += 1
                if show:
                    print(f"  false alarm {code}: {row['text']}")
            elif should and not fired:
                fn += 1
                if show:
                    print(f"  missed {code}: {row['text']}")
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"{code}: precision {precision:.3f} ({tp}/{tp + fp}), recall {recall:.3f} ({tp}/{tp + fn})")


def main(argv: list[str]) -> None:
    show = "--show" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or [DEFAULT]
    pooled: list[dict[str, object]] = []
    for path in paths:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        positives = sum(1 for r in rows if r["needs_citation"])
        print(f"{path.name}: {len(rows)} sentences, {positives} needing a citation")
        score(rows, show)
        pooled.extend(rows)
    if len(paths) > 1:
        positives = sum(1 for r in pooled if r["needs_citation"])
        print(f"all sets: {len(pooled)} sentences, {positives} needing a citation")
        score(pooled, False)


if __name__ == "__main__":
    main(sys.argv[1:])
