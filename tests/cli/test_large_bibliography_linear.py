"""Reading a large bibliography and judging its entries grow linearly with its entries (ratio of n and 2n)."""

from __future__ import annotations

import time

from linear_time import best_seconds, best_seconds_until

from kratomref.model import NO_EVIDENCE
from kratomref.options import Options
from kratomref.readers import bibtex
from kratomref.rules import Context, judge_reference


def _library(entries: int) -> str:
    words = ["kratom", "mitragynine", "opioid", "receptor", "withdrawal", "alkaloid", "survey", "cohort", "review"]
    return "@string{dad = {Drug and Alcohol Dependence}}\n\n" + "".join(
        f"@article{{ref{i},\n  author = {{Smith, J. and Nguyen, W{i % 7}}},\n"
        f"  title = {{{' '.join(words[(i + k) % len(words)] for k in range(6))} {i}}},\n"
        f"  journal = dad,\n  year = {{{1990 + i % 30}}},\n  volume = {{{i % 40}}},\n  pages = {{{i}--{i + 9}}},\n"
        f"  doi = {{10.1000/x.{i}}}\n}}\n\n" for i in range(entries))


def test_reading_and_judging_twice_the_entries_takes_about_twice_as_long() -> None:
    ctx = Context(Options())

    def check(text: str) -> None:
        for ref in bibtex.read("big.bib", text).references:
            list(judge_reference(ref, NO_EVIDENCE, ctx))

    small, large = _library(2500), _library(5000)
    assert len(list(bibtex._chunks(large, bibtex.CHUNK_ENTRIES))) > 1  # several chunks, as a large file has
    once = best_seconds(lambda: check(small), clock=time.perf_counter)
    twice = best_seconds_until(lambda: check(large), under=2.8 * once + 0.05, clock=time.perf_counter)
    assert twice < 2.8 * once + 0.05, f"{once:.2f} s for 2,500 entries, {twice:.2f} s for 5,000"
