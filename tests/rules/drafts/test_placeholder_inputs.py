"""A placeholder in a LaTeX file that a paper \\input-s gets the candidate works Crossref found, in every paper that
reads the file, from one search (a local Crossref server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import local_server
import pytest

from kratomref.check import check
from kratomref.options import Options

WORK = json.loads((Path(__file__).parents[2] / "fixtures" / "crossref" / "work-10.1002_jor.1100150407.json")
                  .read_text(encoding="utf-8"))["message"]
SENTENCE = ("A study (reference needed) found that a growth hormone secretagogue increases muscle strength during "
            "remobilization in dogs.\n")


class _Crossref(local_server.Handler):
    searches: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        if "query.bibliographic" in self.path:
            _Crossref.searches.append(self.path)
        body = json.dumps({"status": "ok", "message-type": "work-list",
                           "message": {"items": [WORK], "total-results": 1}}).encode()
        local_server.send_body(self, body, "application/json")


@pytest.fixture
def crossref_url() -> Iterator[str]:
    _Crossref.searches = []
    with local_server.running(_Crossref) as url:
        yield url


def test_a_placeholder_in_an_input_file_names_the_candidates_in_each_paper_that_reads_it(
    crossref_url: str, tmp_path: Path
) -> None:
    (tmp_path / "chapter.tex").write_text("\\section{Strength}\n" + SENTENCE, encoding="utf-8")
    papers = []
    for name in ("a.tex", "b.tex"):
        papers.append(tmp_path / name)
        papers[-1].write_text("\\documentclass{article}\n\\begin{document}\n\\input{chapter}\n\\end{document}\n",
                              encoding="utf-8")
    options = Options(paths=tuple(str(p) for p in papers), crossref_url=crossref_url, mailto="t@example.org",
                      timeout=2.0, max_retries=1, cache_dir=str(tmp_path / "cache"), archive=False)
    report = check(options)
    placeholders = [f for f in report.findings if f.rule.code == "KR101" and f.location.file.endswith("chapter.tex")]
    assert placeholders, [(f.rule.code, f.location.file, f.location.line) for f in report.findings]
    assert all("https://doi.org/10.1002/jor.1100150407" in (f.suggestion or "") for f in placeholders)
    assert len(_Crossref.searches) == 1, "one search for the one sentence, though two papers read it"
