"""Reading a large bibliography and judging its entries grow linearly with its entries (ratio of n and 4n)."""

from __future__ import annotations

import pytest
from linear_time import GROWTH, assert_linear

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


def test_reading_and_judging_four_times_the_entries_takes_about_four_times_as_long(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = Context(Options())

    def check(text: str) -> None:
        for ref in bibtex.read("big.bib", text).references:
            list(judge_reference(ref, NO_EVIDENCE, ctx))

    # chunks of fewer entries, so that both sizes are read in several chunks, as a large file is
    monkeypatch.setattr(bibtex, "CHUNK_ENTRIES", bibtex.CHUNK_ENTRIES // 8)
    n = 600
    assert len(list(bibtex._chunks(_library(n), bibtex.CHUNK_ENTRIES))) > 1
    assert len(list(bibtex._chunks(_library(GROWTH * n), bibtex.CHUNK_ENTRIES))) > 4
    assert_linear(_library, check, n, what="reading and judging the entries")
