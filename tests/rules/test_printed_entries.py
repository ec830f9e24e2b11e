"""A paper's .bib database is judged by what the paper prints: its cited entries (KR502 and the entry rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kratomref.check import check
from kratomref.model import Report
from kratomref.options import Options

BIB = """@article{cited, author = {Smith, J.}, title = {Cited work}, journal = {J}, year = {2020}}

@article{uncited, author = {Doe, A.}, title = {An entry no one cites}, year = {2019}}

@inproceedings{child, author = {Roe, B.}, title = {A paper}, crossref = {proc}}

@proceedings{proc, title = {Proceedings of a meeting}, year = {2018}, publisher = {P}}
"""


def run(tmp_path: Path, name: str, text: str, **options: object) -> Report:
    (tmp_path / "refs.bib").write_text(BIB, encoding="utf-8")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return check(Options(paths=(str(path),), offline=True, use_cache=False, archive=False, **options))  # type: ignore[arg-type]


def codes(report: Report, code: str) -> list[str | None]:
    return [f.location.key for f in report.findings if f.rule.code == code]


DOCUMENTS = {
    "latex": ("paper.tex", "As shown \\cite{cited} and \\cite{child}.\n\\bibliography{refs}\n"),
    "pandoc": ("paper.md", "---\nbibliography: refs.bib\n---\nAs shown [@cited; @child].\n"),
}


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_uncited_database_entries_are_neither_reported_nor_checked(tmp_path: Path, kind: str) -> None:
    report = run(tmp_path, *DOCUMENTS[kind])
    assert codes(report, "KR502") == []
    assert codes(report, "KR105") == [], "the uncited entry lacks a journal, but it is never printed"
    assert sorted(r.reference.key for r in report.results) == ["child", "cited", "proc"], "a parent is printed too"


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_uncited_bib_checks_and_reports_every_entry(tmp_path: Path, kind: str) -> None:
    report = run(tmp_path, *DOCUMENTS[kind], uncited_bib=True)
    assert "uncited" in codes(report, "KR502")
    assert codes(report, "KR105") == ["uncited"]


def test_a_text_that_cites_nothing_still_gets_one_finding_for_the_whole_database(tmp_path: Path) -> None:
    report = run(tmp_path, "paper.tex", "No citations here.\n\\bibliography{refs}\n")
    [finding] = [f for f in report.findings if f.rule.code == "KR502"]
    assert "cites none of the 4 entries" in finding.message


def test_a_drafts_own_reference_list_is_still_reported_when_uncited(tmp_path: Path) -> None:
    draft = "Kratom is studied [1].\n\n## References\n\n1. Smith J. Cited work. J. 2020.\n" \
            "2. Doe A. An entry no one cites. J. 2019.\n"
    report = run(tmp_path, "draft.md", draft)
    assert codes(report, "KR502") == ["ref-2"]
