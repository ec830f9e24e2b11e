"""Bibliography guards (issue 17): a BibTeX, RIS or CSL-JSON file with more entries, or more text, than a run
reads is reported (KR002, naming the limit and how to raise it) and not parsed; only the user raises the limits."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from kratomref.check import check
from kratomref.config import ConfigFile, build_options
from kratomref.options import DEFAULT_MAX_BIBLIOGRAPHY_MIB, DEFAULT_MAX_ENTRIES, Options
from kratomref.readers import read

from .peak import peak

MEMORY_KIB = 512 * 1024  # issue 17


def _bib(n: int) -> str:
    return "".join(f"@misc{{k{i}, title={{Title {i}}}, year={{2001}}}}\n" for i in range(n))


def _ris(n: int) -> str:
    return "".join(f"TY  - JOUR\nTI  - Title {i}\nPY  - 2001\nER  - \n" for i in range(n))


def _csl(n: int) -> str:
    return json.dumps([{"id": f"k{i}", "type": "book", "title": f"Title {i}"} for i in range(n)])


def _problems(path: Path, **limits: int) -> tuple[list[tuple[str, str, str | None]], int]:
    report = check(Options(paths=(str(path),), offline=True, use_cache=False, archive=False,
                           today=datetime.date(2026, 11, 27), **limits))
    problems = [(p.code, p.message, p.suggestion) for d in report.documents for p in d.problems]
    return problems, sum(len(d.references) for d in report.documents)


@pytest.mark.parametrize(("name", "make"), [("refs.bib", _bib), ("refs.ris", _ris)])
def test_a_bibliography_over_the_entry_limit_is_reported_not_read(tmp_path: Path, name: str, make: object) -> None:
    path = tmp_path / name
    path.write_text(make(31), encoding="utf-8")  # type: ignore[operator]
    problems, references = _problems(path, max_entries=30)
    [(code, message, suggestion)] = problems
    assert code == "KR002" and "31" in message and "the limit is 30" in message and references == 0
    assert suggestion is not None and "--max-entries" in suggestion and "KRATOMREF_MAX_ENTRIES" in suggestion
    problems, references = _problems(path, max_entries=31)  # at the limit: read
    assert problems == [] and references == 31


def test_csl_json_is_bounded_by_its_objects(tmp_path: Path) -> None:
    path = tmp_path / "refs.json"
    path.write_text(_csl(50), encoding="utf-8")
    problems, references = _problems(path, max_entries=2)  # 50 objects, 40 allowed
    assert [p[0] for p in problems] == ["KR002"] and "JSON objects" in problems[0][1] and references == 0
    problems, references = _problems(path, max_entries=3)
    assert problems == [] and references == 50


def test_a_bibliography_over_the_size_limit_is_reported_not_read(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    note = ("word " * 12 + "\n") * 10
    path.write_text("".join(f"@misc{{k{i}, note={{{note}}}}}\n" for i in range(2000)), encoding="utf-8")
    assert path.stat().st_size > 2**20
    problems, _ = _problems(path, max_bibliography_mib=1)
    [(code, message, suggestion)] = problems
    assert code == "KR002" and "the limit is 1 MiB" in message and suggestion and "--max-bibliography-mib" in suggestion


def test_the_limits_apply_to_the_run_only(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(_bib(5), encoding="utf-8")
    assert _problems(path, max_entries=4)[0]
    assert not read(str(path)).problems  # the defaults again, after the run


def _options(repository: dict[str, object], env: dict[str, str] | None = None,
             user: dict[str, object] | None = None) -> tuple[Options, list[str]]:
    warned: list[str] = []
    config = ConfigFile(Path("kratomref.toml"), repository, "kratomref.toml", trusted=False)
    user_config = ConfigFile(Path("user.toml"), user, "user config", trusted=True) if user else None
    options, _ = build_options({}, config, env or {}, user_config=user_config, warn=warned.append, tree=())
    return options, warned


@pytest.mark.parametrize("key", ["max-entries", "max-bibliography-mib"])
def test_a_repository_configuration_cannot_raise_a_limit(key: str) -> None:
    options, warned = _options({key: 10**6})
    assert (options.max_entries, options.max_bibliography_mib) == (DEFAULT_MAX_ENTRIES, DEFAULT_MAX_BIBLIOGRAPHY_MIB)
    assert len(warned) == 1 and key in warned[0] and "only lower" in warned[0]
    options, warned = _options({key: 10})  # lowering is the repository's to choose
    assert 10 in (options.max_entries, options.max_bibliography_mib) and not warned


def test_the_user_raises_a_limit_from_the_environment_or_their_own_config() -> None:
    options, _ = _options({}, env={"KRATOMREF_MAX_ENTRIES": "100000", "KRATOMREF_MAX_BIBLIOGRAPHY_MIB": "48"})
    assert (options.max_entries, options.max_bibliography_mib) == (100_000, 48)
    options, warned = _options({"max-entries": 150_000}, user={"max-entries": 120_000})
    assert options.max_entries == 120_000 and warned  # the repository may not go above the user's own
    options, warned = _options({"max-entries": 90_000}, user={"max-entries": 120_000})
    assert options.max_entries == 90_000 and not warned  # but it may go below


def test_the_most_tiny_entries_allowed_are_checked_in_bounded_memory(tmp_path: Path) -> None:
    # the cheapest entry to write is the costliest per byte: every entry is a reference, a result, a verdict.
    # Memory grows linearly with the entries: a quarter of the most allowed are checked, and their memory times
    # four (over the interpreter's own) stays under the bound.
    share = 4
    entries = DEFAULT_MAX_ENTRIES // share
    path = tmp_path / "refs.bib"
    path.write_text("".join(f"@misc{{k{i},}}\n" for i in range(entries)), encoding="utf-8")
    result = peak(str(path), whole_check=True, timeout=600)
    assert result["problems"] == [] and result["references"] == entries
    assert result["baseline_kib"] + (result["peak_kib"] - result["baseline_kib"]) * share < MEMORY_KIB
