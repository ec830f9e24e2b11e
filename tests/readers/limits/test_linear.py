"""Hostile lines from a pull request (issue 17): every pattern family reads its input in linear time.

Each case checks a generated input of n and of 2n characters offline, through the same path as `kratomref check`,
and asserts that doubling the input at most about doubles the time: the ratio of the best of three runs is under
3 (a quadratic pattern gives 4, and most of these gave 4 to 8 before: a line of `[?]` was cubic). No wall time is
asserted; speed targets are in bench/. The large input runs only until one run is under 3 times the small one's
best (tests/linear_time.py: the verdict of all three runs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from linear_time import best_seconds, best_seconds_until

from kratomref.check import check
from kratomref.options import Options

MAX_RATIO = 3.0
MIN_SECONDS = 0.15
MAX_DOUBLINGS = 3  # the bibtex cases stay under the 1 MiB entry guard at 2n


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


# family, file name, input of about n characters, n (each run takes a few tenths of a second here)
CASES: list[tuple[str, str, Callable[[int], str], int]] = [
    ("placeholders: TODO markers", "d.md", _line("TODO "), 8_000),
    ("placeholders: [?] (was cubic)", "d.md", _line("[?] "), 8_000),
    ("placeholders: XXX after a capitalised word", "d.txt", _line("Bowl XXX "), 10_000),
    ("placeholders: [citation needed]", "d.txt", _line("[citation needed] "), 20_000),
    ("placeholders: a dummy link target and a run of spaces", "d.md", lambda n: "[a](" + " " * n + "x\n", 15_000),
    ("quotes and claims: unclosed “", "d.txt", _line("“"), 15_000),
    ("quotes and claims: unclosed ‘", "d.txt", _line("‘"), 15_000),
    ("quotes and claims: unclosed \" and «", "d.md", _line("\" « "), 20_000),
    ("citations: author-year groups", "d.md", _line("(Smith, 2020; "), 20_000),
    ("citations: unclosed brackets", "d.md", _line("[1, "), 20_000),
    ("citations: unclosed parentheses", "d.txt", _line("("), 20_000),
    ("bibtex: many entries on one line", "refs.bib", _entries_on_one_line, 40_000),
    ("bibtex: a field of placeholders", "refs.bib", _bib_field("TODO [?] "), 20_000),
    ("bibtex: a field of quotation marks", "refs.bib", _bib_field("‘“"), 40_000),
    ("latex: unclosed \\cite", "d.tex", _line("\\cite{a,"), 20_000),
    ("latex: backslashes and braces", "d.tex", _line("\\{"), 20_000),
    ("markdown links: unclosed targets", "d.md", _line("[a](http://x.org/"), 20_000),
    ("markdown links: unclosed labels", "d.md", _line("[a]("), 20_000),
    ("urls: closing parentheses after an address", "d.md", lambda n: "See http://x.org/a" + ")" * n + "\n", 25_000),
    ("urls: one address after another", "d.txt", _line("http://a.org/x "), 20_000),
    ("dois: prefixes", "d.txt", _line("10.1234/"), 12_000),
    ("dois: doi: labels", "d.md", _line("doi:10."), 20_000),
]


@pytest.mark.parametrize(("name", "ext", "make", "n"), CASES, ids=[case[0] for case in CASES])
def test_doubling_the_input_at_most_about_doubles_the_time(tmp_path: Path, name: str, ext: str,
                                                           make: Callable[[int], str], n: int) -> None:
    small, large = tmp_path / "small" / ext, tmp_path / "large" / ext
    small.parent.mkdir()
    large.parent.mkdir()
    small.write_text(make(n), encoding="utf-8")
    _check(small)()  # warm: imports, compiled patterns
    # a run of a few hundredths of a second is mostly noise (the collector, the caches): grow the input
    # until the small one takes MIN_SECONDS of CPU, within the line guards
    once = best_seconds(_check(small))
    for _ in range(MAX_DOUBLINGS):
        if once >= MIN_SECONDS:
            break
        n *= 2
        small.write_text(make(n), encoding="utf-8")
        once = best_seconds(_check(small))
    large.write_text(make(2 * n), encoding="utf-8")
    ratio = best_seconds_until(_check(large), under=MAX_RATIO * once) / once
    assert ratio < MAX_RATIO, f"{name}: doubling the input multiplied the time by {ratio:.1f}"
