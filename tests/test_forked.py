"""A long bibliography judged half in a forked child gives the report one process gives, finding for finding."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kratomref import forked
from kratomref.cli import main

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the split needs fork (Linux)")


@pytest.fixture(autouse=True)
def _forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork even when an earlier test left an idle thread behind (kratomref itself would not, to be safe)."""
    monkeypatch.setattr(forked, "can_fork", lambda: True)


def _library(entries: int) -> str:
    """Entries with something to report: placeholders, duplicate keys, DOIs and titles, old web pages."""
    parts = ["@string{dad = {Drug and Alcohol Dependence}}\n"]
    for i in range(entries):
        key = f"ref{i // 2}" if i % 37 == 5 else f"ref{i}"  # some keys used twice
        doi = f"10.1000/x.{i // 3 if i % 11 == 0 else i}"
        title = "TODO add title" if i % 13 == 0 else f"Kratom alkaloid survey number {i % 50}"
        parts.append(
            f"@article{{{key},\n  author = {{Smith, J. and Nguyen, W{i % 7}}},\n  title = {{{title}}},\n"
            f"  journal = dad,\n  year = {{{1960 + i % 66}}},\n  pages = {{{i}--{i + 9}}},\n  doi = {{{doi}}}\n}}\n"
        )
        if i % 17 == 0:
            parts.append(f"@online{{web{i},\n  title = {{Statement}},\n  url = {{https://example.org/{i}}},\n"
                         f"  year = {{1999}},\n  note = {{Accessed \\today}}\n}}\n")
    return "\n".join(parts)


def _report(path: Path, fmt: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--offline", "--isolated", "--no-cache", "--format", fmt, str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_bibliography_judged_in_two_processes_reports_what_one_process_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    library = tmp_path / "library.bib"
    library.write_text(_library(400), encoding="utf-8")
    monkeypatch.setattr(forked, "FORK_THRESHOLD", 10**9)
    serial = _report(library, fmt)

    forks: list[int] = []
    real_fork = os.fork

    def counted_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(forked, "FORK_THRESHOLD", 100)
    monkeypatch.setattr(forked.os, "fork", counted_fork)
    split = _report(library, fmt)
    assert forks, "the references were not shared with a child"
    assert split == serial
    assert "KR" in serial[1]  # there are findings to compare


def test_the_parent_computes_the_part_of_a_child_that_failed() -> None:
    parent = os.getpid()

    def square(n: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return n * n

    assert forked.split_map(square, list(range(50)), threshold=10) == [n * n for n in range(50)]


def test_rules_cross_to_the_parent_as_the_same_objects() -> None:
    from kratomref.rules import placeholders

    rule = placeholders.RULES[0]
    found = forked.split_map(lambda n: (rule, n), list(range(20)), shared=[rule], threshold=10)
    assert [n for _, n in found] == list(range(20))
    assert all(r is rule for r, _ in found)


def test_without_a_process_to_fork_one_process_does_it_all(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(forked.os, "fork", no_fork)
    assert forked.split_map(lambda n: n + 1, list(range(30)), threshold=10) == list(range(1, 31))
    assert list(forked.streamed(lambda: iter([1, 2, 3]))) == []  # nothing made ahead: the caller makes it all
