"""The placeholder pre-filter is read from data/placeholder_triggers.json: it must say what the patterns require."""

from __future__ import annotations

import re

import pytest

from kratomref import lazy
from kratomref.rules import placeholder_triggers, placeholders

TEXTS = (
    "Kratom is used for pain (reference needed).",
    "Smith, J. (20XX). Title of the article. Journal Name.",
    "The FDA has warned against it [Link to FDA statement].",
    '"Kratom is safe," says Dr. X, a leading pharmacologist.',
    "I hope this helps! Let me know if you'd like a meta description.",
    "A 2019 survey found that 40% of users... [hypothetical example - replace with actual data]",
    "Tick-borne disease (TBD) is common; TODO: add source.",
    "An ordinary sentence about kratom with no placeholder at all.",
    "Stra\u00dfe \u0130stanbul \u212aelvin [citation needed]",
)


def test_the_shipped_triggers_are_what_the_patterns_require() -> None:
    shipped = placeholder_triggers.data_path().read_text(encoding="utf-8")
    assert shipped == placeholder_triggers.generate(), (
        "stale: run `python -m kratomref.rules.placeholder_triggers` and commit data/placeholder_triggers.json")


def found_and_tables() -> tuple[list[list[tuple[str, str, int]]], object]:
    """The placeholders of TEXTS and the pre-filter's tables, made afresh."""
    placeholders._prefilter.cache_clear()
    placeholders._remembered.cache_clear()
    try:
        return [[(p.rule.code, p.text, p.start) for p in placeholders.find_placeholders(t)] for t in TEXTS], \
            placeholders._prefilter()
    finally:
        placeholders._prefilter.cache_clear()
        placeholders._remembered.cache_clear()


def test_the_data_file_and_reading_the_patterns_find_the_same_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    from_the_file, file_tables = found_and_tables()
    monkeypatch.setattr(placeholders, "_stored_triggers", lambda: [])  # as when the file is stale or missing
    by_reading, read_tables = found_and_tables()
    assert by_reading == from_the_file
    assert read_tables == file_tables
    assert any(from_the_file) and not all(from_the_file)


def test_a_lazy_pattern_answers_as_the_compiled_one() -> None:
    source, flags = r"(?P<word>kra\w+)\s+(\d+)", re.IGNORECASE
    compiled, deferred = re.compile(source, flags), lazy.regex(source, flags)
    text = "KRATOM 12 and kratom 7"
    assert deferred.pattern == source
    assert [m.span() for m in deferred.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    assert deferred.sub(r"\2", text) == compiled.sub(r"\2", text)
    assert deferred.findall(text) == compiled.findall(text)
    assert deferred.flags == compiled.flags and deferred.groupindex == compiled.groupindex
    assert deferred.split(text) == compiled.split(text)
