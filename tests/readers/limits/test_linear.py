"""Hostile lines from a pull request (issue 17): every pattern family reads its input in linear time.

Each case checks a generated input of n and of 4n characters offline, through the same path as `kratomref check`,
and asserts that four times the input takes under 8 times as long, by CPU time (linear work takes about 4 times as
long, a quadratic pattern 16 and a cubic one 64; a line of `[?]` was cubic). No wall time is asserted; speed
targets are in bench/. The small input runs three times, the large one until a run is under the bound
(tests/linear_time.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from linear_time import GROWTH, assert_linear

from kratomref.check import check
from kratomref.options import Options
from kratomref.readers import MAX_BIBLIOGRAPHY_LINE_CHARS, MAX_LINE_CHARS
from kratomref.readers.bibtex import MAX_ENTRY_CHARS


def _max_chars(ext: str) -> int:
    """The most characters the large input may have: under the guards on a draft's line, and on a bibliography's
    line and a BibTeX entry (a longer one is refused, not read)."""
    guard = min(MAX_ENTRY_CHARS, MAX_BIBLIOGRAPHY_LINE_CHARS) if ext.endswith(".bib") else MAX_LINE_CHARS
    return guard - 100  # the text around the hostile run


def _check(path: Path) -> Callable[[], object]:
    return lambda: check(Options(paths=(str(path),), offline=True, use_cache=False, archive=False,
                                 today=dt.date(2026, 11, 27)))


def _line(unit: str) -> Callable[[int], str]:
    return lambda n: "Sleep helps memory. " + unit * (n // len(unit)) + "\n"


def _bib_field(unit: str) -> Callable[[int], str]:
    return lambda n: "@misc{k, title={" + unit * (n // len(unit)) + "}, year={2020}}\n"


def _entries_on_one_line(n: int) -> str:
    entry = "@article{k%d, title={Title %d}, author={Doe, A.}, year={2020}} "
    return "".join(entry % (i, i) for i in range(n // 60)) + "\n"


# family, file name, input of about n characters, n (a run at n takes two or three hundredths of a second here)
CASES: list[tuple[str, str, Callable[[int], str], int]] = [
    ("placeholders: TODO markers", "d.md", _line("TODO "), 2_000),
    ("placeholders: [?] (was cubic)", "d.md", _line("[?] "), 1_000),
    ("placeholders: XXX after a capitalised word", "d.txt", _line("Bowl XXX "), 1_250),
    ("placeholders: [citation needed]", "d.txt", _line("[citation needed] "), 4_000),
    ("placeholders: a dummy link target and a run of spaces", "d.md", lambda n: "[a](" + " " * n + "x\n", 15_000),
    ("quotes and claims: unclosed “", "d.txt", _line("“"), 12_000),
    ("quotes and claims: unclosed ‘", "d.txt", _line("‘"), 10_000),
    ("quotes and claims: unclosed \" and «", "d.md", _line("\" « "), 10_000),
    ("citations: author-year groups", "d.md", _line("(Smith, 2020; "), 10_000),
    ("citations: unclosed brackets", "d.md", _line("[1, "), 8_000),
    ("citations: unclosed parentheses", "d.txt", _line("("), 10_000),
    ("bibtex: many entries on one line", "refs.bib", _entries_on_one_line, 10_000),
    ("bibtex: a field of placeholders", "refs.bib", _bib_field("TODO [?] "), 15_000),
    ("bibtex: a field of placeholders over many lines", "refs.bib", _bib_field("TODO TODO TODO\n"), 10_000),
    ("bibtex: a field of quotation marks", "refs.bib", _bib_field("‘“"), 40_000),
    ("latex: unclosed \\cite", "d.tex", _line("\\cite{a,"), 12_000),
    ("latex: backslashes and braces", "d.tex", _line("\\{"), 8_000),
    ("markdown links: unclosed targets", "d.md", _line("[a](http://x.org/"), 15_000),
    ("markdown links: unclosed labels", "d.md", _line("[a]("), 10_000),
    ("urls: closing parentheses after an address", "d.md", lambda n: "See http://x.org/a" + ")" * n + "\n", 12_500),
    ("urls: one address after another", "d.txt", _line("http://a.org/x "), 12_000),
    ("dois: prefixes", "d.txt", _line("10.1234/"), 6_000),
    ("dois: doi: labels", "d.md", _line("doi:10."), 20_000),
]


@pytest.mark.parametrize(("name", "ext", "make", "n"), CASES, ids=[case[0] for case in CASES])
def test_four_times_the_input_takes_about_four_times_as_long(tmp_path: Path, name: str, ext: str,
                                                             make: Callable[[int], str], n: int) -> None:
    def write(size: int) -> Path:
        path = tmp_path / str(size) / ext
        path.parent.mkdir()
        path.write_text(make(size), encoding="utf-8")
        return path

    assert GROWTH * n <= _max_chars(ext)
    assert_linear(write, lambda path: _check(path)(), n, what=name, max_n=_max_chars(ext))
