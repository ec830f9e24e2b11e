"""A long run of non-space characters in a draft must not make reading or judging it quadratic (issue 7).

A line of 80,000 non-space characters used to take 45 s, a 2 MB one hours; each run below is checked as
`kratomref check --offline -f json` checks it, at n and at 4n characters, and four times the run must take
about four times as long (tests/linear_time.py), not sixteen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from linear_time import assert_linear

from kratomref.cli import main
from kratomref.model import TextLine
from kratomref.readers.intext import find_citations, prose
from kratomref.readers.text import read_draft

RUN_CHARS = 10_000  # the small run; the large one is four times as long


def _check_json(path: Path) -> dict[str, Any]:
    """The JSON report of `kratomref check --offline -f json path`."""
    result = CliRunner().invoke(main, ["check", "--offline", "-f", "json", str(path)])
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize(
    "unit",
    ["x:", "A", "Ab,"],
    ids=["letters and colons (the URL pattern)", "capitals (surnames, organisations)", "a list of short names"],
)
def test_a_long_run_of_non_space_characters_is_checked_in_linear_time(tmp_path: Path, unit: str) -> None:
    def write(chars: int) -> Path:
        draft = tmp_path / f"long{chars}.md"
        draft.write_text("# Draft\n\nSleep helps memory (Smith, 2019).\n\n" + unit * (chars // len(unit))
                         + "\n\n## References\n\nSmith, J. (2019). A title. Journal of Sleep, 1, 1-2.\n")
        return draft

    report = _check_json(write(RUN_CHARS))
    assert [(c["target"], c["resolved"]) for c in report["citations"]] == [("Smith 2019", "ref-1")]
    assert_linear(write, _check_json, RUN_CHARS, what=f"checking a run of {unit!r}")


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("see ftp://host.org/a[1] and https://x.org/b(2) here [3].", "[3]"),
        ("the custom scheme doi+x://10.1/abc[4] is not prose [5]", "[5]"),
    ],
    ids=["http and ftp URLs are blanked", "any scheme is blanked"],
)
def test_urls_of_any_scheme_are_not_read_as_citations(line: str, kept: str) -> None:
    assert len(prose(line)) == len(line)
    found = find_citations([TextLine("d.md", 1, line)])
    assert [c.text for c in found] == [kept]


@pytest.mark.parametrize("unit", ["10.1234", "10.1234."], ids=["a DOI prefix repeated", "with dots between"])
def test_a_long_run_of_doi_prefixes_in_a_bibtex_entry_is_checked_in_linear_time(tmp_path: Path, unit: str) -> None:
    """The DOI found in a note field and the "did you mean" of an invalid doi field each tried every "10."
    of the run, scanning to its end: 0.8 s for 20,000 characters, minutes for 200,000."""
    def write(chars: int) -> Path:
        run = unit * (chars // len(unit))
        bib = tmp_path / f"long{chars}.bib"
        bib.write_text(f"@misc{{a, title = {{A}}, year = {{2020}}, doi = {{{run}}}}}\n\n"
                       f"@misc{{b, title = {{B}}, year = {{2020}}, note = {{{run}}}}}\n")
        return bib

    report = _check_json(write(RUN_CHARS))
    assert [r["doi_as_written"] for r in report["references"]] == [unit * (RUN_CHARS // len(unit)), None]
    assert "KR201" in {f["code"] for f in report["findings"] if f["key"] == "a"}
    assert_linear(write, _check_json, RUN_CHARS, what=f"checking a run of {unit!r}")


def test_an_unclosed_bracket_of_citation_keys_is_read_in_linear_time() -> None:
    """A pandoc bracket was found by one regex that tried every "@" of an unclosed bracket from each start."""
    assert_linear(lambda n: "[" + "@a " * n, lambda text: read_draft("d.md", text, "markdown"), 5_000,
                  what="an unclosed bracket", under=2.0)
