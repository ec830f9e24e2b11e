"""Does meaning rank a placeholder's candidate works better than the search engine's order? Measured on real citations.

Usage: python bench/placeholder_rank_bench.py [--corpus ../shared/realworld] [--half A|B] [--markdown]

Each real citing sentence of the real-world corpus (the papers and the citation extraction of
bench/offtopic_bench.py, read in place, never copied) is a case: its citation mark becomes "[citation needed]",
as a draft would hold it, and the work its authors cited is the right answer. The case's candidate list stands
in for what a Crossref search on that sentence returns (SEARCH_ROWS works): the cited work, DISTRACTORS_SAME
entries of the same paper's bibliography (same topic; an entry cited in the same sentence is a right answer
too, so never a distractor) and DISTRACTORS_OTHER entries of the other papers. Two constructions: "lexical
distractors" are the entries that best match the sentence's query words (what a lexical search returns
beside the right work: the hard case), "random distractors" are drawn at random (fixed seeds). The stand-in
for Crossref's order is BM25 of the placeholder's Crossref query (rules.placeholder_search) against each
work's title and journal, with document frequencies over every titled entry of the corpus: Crossref ranks
`query.bibliographic` lexically too. Ties are broken by a fixed-seed shuffle, so the cited work never wins
a tie by where it was put. The cases and their candidates are fixed by the corpus and the seeds before any
order is scored.

Measured: the cited work first, and in the top three (the suggestion shows three), for the stand-in's order,
for orders by meaning (kratomref.semantic: cosine similarity of each candidate's title, with or without its
journal, to a mix of the sentence and its paragraph, PARAGRAPH_SHARES), each less a weight times the
stand-in's position (POSITION_WEIGHTS: the product sees only Crossref's order, never its scores). Two
settings: titles alone, and with the abstracts and keywords the .bib files hold standing in for Crossref's
`abstract` and `subject`. The variants are compared on half A; the adopted one
(placeholder_candidates.rank_candidates, its shares and weight chosen on A) is what --markdown reports. Run
half B once, at the end: it is the honest figure. Needs the `semantic` extra (wordllama).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from offtopic_bench import DEFAULT_CORPUS, Paper, load

from kratomref import semantic
from kratomref.model import Reference
from kratomref.rules import offtopic, placeholder_candidates
from kratomref.rules.placeholder_search import placeholder_search
from kratomref.rules.placeholders import placeholder_spans
from kratomref.services.crossref import SEARCH_ROWS

DISTRACTORS_SAME = 2
DISTRACTORS_OTHER = SEARCH_ROWS - 1 - DISTRACTORS_SAME
PLACEHOLDER = "[citation needed]"
K1, B = 1.2, 0.75  # BM25's usual constants
POSITION_WEIGHTS = (0.0, 0.005, 0.01, 0.02, 0.05, 1.0)  # 1.0: the stand-in's order, in effect

_TOKEN_RE = re.compile(r"[^\W_]{2,}")


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN_RE.findall(text.lower()) if not t.isdigit()]


def normal_title(ref: Reference) -> str:
    return " ".join(tokens(ref.title or ""))


class BM25:
    """Okapi BM25 over the corpus's titled entries (title and journal), the stand-in for Crossref's relevance."""

    def __init__(self, documents: Sequence[list[str]]) -> None:
        self.count = len(documents)
        self.average = sum(map(len, documents)) / max(1, self.count)
        self.frequency: Counter[str] = Counter(t for d in documents for t in set(d))

    def score(self, query: list[str], document: list[str]) -> float:
        counts = Counter(document)
        total = 0.0
        for term in set(query):
            f = counts.get(term, 0)
            if not f:
                continue
            n = self.frequency.get(term, 0)
            idf = math.log(1 + (self.count - n + 0.5) / (n + 0.5))
            total += idf * f * (K1 + 1) / (f + K1 * (1 - B + B * len(document) / self.average))
        return total


def record(ref: Reference, abstracts: bool) -> dict[str, Any]:
    """A Crossref-like work item for an entry: title, journal, first author, year, and (with abstracts) the
    .bib abstract and keywords as Crossref's `abstract` and `subject`."""
    work: dict[str, Any] = {"title": [ref.title or ""], "container-title": [ref.container] if ref.container else []}
    if ref.authors:
        work["author"] = [{"family": ref.authors[0].family if hasattr(ref.authors[0], "family") else ""}]
    if ref.year and ref.year[:4].isdigit():
        work["issued"] = {"date-parts": [[int(ref.year[:4])]]}
    if abstracts:
        if ref.fields.get("abstract"):
            work["abstract"] = ref.fields["abstract"]
        if ref.fields.get("keywords"):
            work["subject"] = [k.strip() for k in re.split(r"[,;]", ref.fields["keywords"]) if k.strip()]
    work["_key"] = ref.key
    return work


@dataclass
class Case:
    paper: str
    half: str
    sentence: str  # the placeholder sentence, as the rule finds it
    paragraph: str
    query: str  # the Crossref query.bibliographic the product would send
    candidates: list[Reference]  # in the stand-in's order
    truth: int  # index of the cited work in candidates


def best(index: BM25, query: list[str], pool: list[Reference], n: int, rng: random.Random,
         lexical: bool) -> list[Reference]:
    """The n entries of pool that match the query best (ties in a shuffled order), or n at random."""
    pool = pool[:]
    rng.shuffle(pool)
    if not lexical:
        return pool[:n]
    return sorted(pool, key=lambda r: -index.score(query, tokens(f"{r.title} {r.container or ''}")))[:n]


def cases(papers: list[Paper], lexical: bool) -> list[Case]:
    """The cases, with distractors that match the query best (lexical) or drawn at random."""
    entries: dict[str, Reference] = {}  # normal title -> an entry, over the corpus
    for paper in papers:
        for ref in paper.bibliography:
            if ref.title and normal_title(ref):
                entries.setdefault(normal_title(ref), ref)
    index = BM25([tokens(f"{r.title} {r.container or ''}") for r in entries.values()])
    found: list[Case] = []
    for paper in papers:
        rng = random.Random(int(hashlib.sha256(paper.name.encode()).hexdigest()[:8], 16))
        own = {normal_title(r): r for r in paper.bibliography if r.title and normal_title(r)}
        others = [r for t, r in entries.items() if t not in own]
        co_cited: dict[str, set[str]] = {}  # sentence -> titles cited in it
        for c in paper.citings:
            co_cited.setdefault(c.sentence, set()).add(normal_title(c.reference))
        seen: set[tuple[str, str]] = set()
        for citing in paper.citings:
            truth = citing.reference
            if not normal_title(truth) or (citing.sentence, truth.key) in seen:
                continue
            seen.add((citing.sentence, truth.key))
            sentence = citing.sentence.replace(citing.citation.text, f" {PLACEHOLDER} ", 1)
            search = placeholder_search(offtopic.clean(sentence) + f" {PLACEHOLDER}")
            if search is None:
                continue  # too few content words: the product would not search
            query = tokens(search.query)

            same = best(index, query, [r for t, r in own.items() if t not in co_cited[citing.sentence]],
                        DISTRACTORS_SAME, rng, lexical)
            other = best(index, query, others, SEARCH_ROWS - 1 - len(same), rng, lexical)
            listed = [truth, *same, *other]
            rng.shuffle(listed)
            listed.sort(key=lambda r: -index.score(query, tokens(f"{r.title} {r.container or ''}")))
            found.append(Case(paper.name, paper.half, sentence, citing.paragraph_text, search.query, listed,
                              listed.index(truth)))
    return found


def evaluate(picked: list[Case], order: Callable[[Case], Sequence[int]]) -> dict[str, float]:
    first = top3 = 0
    for case in picked:
        ranked = list(order(case))
        first += ranked[0] == case.truth
        top3 += case.truth in ranked[:3]
    n = max(1, len(picked))
    return {"first": round(first / n, 4), "top3": round(top3 / n, 4)}


CONSTRUCTIONS = {"lexical distractors": True, "random distractors": False}
SETTINGS = {"titles alone": False, "titles and .bib abstracts": True}


def measure(corpus: Path, half: str, markdown: bool) -> dict[str, Any]:
    semantic.load()
    papers = load(corpus)
    results: dict[str, Any] = {"half": half, "candidates_per_case": SEARCH_ROWS}
    for construction, lexical in CONSTRUCTIONS.items():
        picked = [c for c in cases(papers, lexical) if c.half == half]
        results["cases"], results["papers"] = len(picked), len({c.paper for c in picked})
        for setting, abstracts in SETTINGS.items():
            results[f"{construction}, {setting}"] = setting_row(picked, abstracts)
    if markdown:
        print(to_markdown(results))
    else:
        print(json.dumps(results, indent=2))
    return results


PARAGRAPH_SHARES = (0.0, 0.5, 0.67, 0.8, 0.9, 1.0)  # of the query: the rest is the sentence


def setting_row(picked: list[Case], abstracts: bool) -> dict[str, Any]:
    """Each order's figures on the cases, with or without the .bib abstracts and keywords."""
    works = {id(c): [record(r, abstracts) for r in c.candidates] for c in picked}
    row: dict[str, Any] = {STAND_IN: evaluate(picked, lambda c: range(len(c.candidates)))}
    texts: dict[str, int] = {}  # every text once, embedded in one batch
    for c in picked:
        for text in (placeholder_candidates.sentence_text(c.sentence, placeholder_spans), c.paragraph,
                     *(placeholder_candidates.candidate_text(w, journal=True) for w in works[id(c)]),
                     *(placeholder_candidates.candidate_text(w, journal=False) for w in works[id(c)])):
            texts.setdefault(text, len(texts))
    vectors = semantic.embed(list(texts))

    def vec(text: str) -> np.ndarray:
        one: np.ndarray = vectors[texts[text]]
        return one

    def by_meaning(paragraph: float, weight: float, journal: bool) -> Callable[[Case], Sequence[int]]:
        def order(c: Case) -> Sequence[int]:
            sentence = placeholder_candidates.sentence_text(c.sentence, placeholder_spans)
            q = (1 - paragraph) * vec(sentence) + paragraph * vec(c.paragraph)
            q = q / max(float(np.linalg.norm(q)), 1e-9)
            scores = [float(vec(placeholder_candidates.candidate_text(w, journal=journal)) @ q) - weight * i
                      for i, w in enumerate(works[id(c)])]
            return sorted(range(len(scores)), key=lambda i: -scores[i])
        return order

    for paragraph in PARAGRAPH_SHARES:
        for journal in (True, False):
            for weight in POSITION_WEIGHTS:
                label = f"paragraph share {paragraph}, {'title+journal' if journal else 'title'}, position {weight}"
                row[label] = evaluate(picked, by_meaning(paragraph, weight, journal))
    # the product's own function, as adopted (its texts, its query, its weights)
    start = time.perf_counter()
    def adopted(c: Case) -> list[int]:
        where = {id(w): i for i, w in enumerate(works[id(c)])}
        ranked = placeholder_candidates.rank_candidates(works[id(c)], c.sentence, c.paragraph, placeholder_spans)
        return [where[id(w)] for w in ranked]

    row[ADOPTED] = evaluate(picked, adopted)
    row["adopted_ms_per_case"] = round(1000 * (time.perf_counter() - start) / max(1, len(picked)), 2)
    return row


STAND_IN = "stand-in order (BM25)"
ADOPTED = "adopted: placeholder_candidates.rank_candidates"


def to_markdown(results: dict[str, Any]) -> str:
    lines = [f"Half {results['half']}: {results['cases']} citing sentences from {results['papers']} papers, "
             f"{results['candidates_per_case']} candidates each; "
             f"{results[next(k for k in results if k.startswith('lexical'))]['adopted_ms_per_case']:.1f} ms "
             "per placeholder to order them, model loaded.", "",
             "| setting | order | cited work first | in the top three |", "| --- | --- | ---: | ---: |"]
    for setting in (f"{c}, {s}" for c in CONSTRUCTIONS for s in SETTINGS):
        row = results[setting]
        for label in (STAND_IN, ADOPTED):
            cell = row[label]
            lines.append(f"| {setting} | {label} | {100 * cell['first']:.1f}% | {100 * cell['top3']:.1f}% |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--half", choices=("A", "B"), default="A",
                        help="the half to report (B is the honest figure: run it once, at the end)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if not (args.corpus / "manifest.json").is_file():
        sys.exit(f"no corpus at {args.corpus} (the shared directory beside the repository)")
    measure(args.corpus, args.half, args.markdown)


if __name__ == "__main__":
    main()
