"""A long run of non-space characters in a draft must not make reading or judging it quadratic (issue 7).

A line of 80,000 non-space characters used to take 45 s, a 2 MB one hours; each run below is 200,000
characters and the whole check must end in a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from linear_time import best_seconds, best_seconds_until

from kratomref.model import TextLine
from kratomref.readers.intext import find_citations, prose
from kratomref.readers.text import read_draft

RUN_CHARS = 200_000
GENEROUS_SECONDS = 10  # the check takes about 2 s here; before the fix it did not finish in an hour


@pytest.mark.parametrize(
    "unit",
    ["x:", "A", "Ab,"],
    ids=["letters and colons (the URL pattern)", "capitals (surnames, organisations)", "a list of short names"],
)
def test_a_long_run_of_non_space_characters_is_checked_in_seconds(tmp_path: Path, unit: str) -> None:
    draft = tmp_path / "long.md"
    draft.write_text("# Draft\n\nSleep helps memory (Smith, 2019).\n\n" + unit * (RUN_CHARS // len(unit))
                     + "\n\n## References\n\nSmith, J. (2019). A title. Journal of Sleep, 1, 1-2.\n")
    try:
        done = subprocess.run([sys.executable, "-m", "kratomref", "check", "--offline", "-f", "json", str(draft)],
                              capture_output=True, text=True, timeout=GENEROUS_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"checking a draft with a {RUN_CHARS:,}-character run took over {GENEROUS_SECONDS} s")
    report = json.loads(done.stdout)
    assert [(c["target"], c["resolved"]) for c in report["citations"]] == [("Smith 2019", "ref-1")]


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
def test_a_long_run_of_doi_prefixes_in_a_bibtex_entry_is_checked_in_seconds(tmp_path: Path, unit: str) -> None:
    """The DOI found in a note field and the "did you mean" of an invalid doi field each tried every "10."
    of the run, scanning to its end: 0.8 s for 20,000 characters, minutes for 200,000."""
    run = unit * (RUN_CHARS // len(unit))
    bib = tmp_path / "long.bib"
    bib.write_text(f"@misc{{a, title = {{A}}, year = {{2020}}, doi = {{{run}}}}}\n\n"
                   f"@misc{{b, title = {{B}}, year = {{2020}}, note = {{{run}}}}}\n")
    try:
        done = subprocess.run([sys.executable, "-m", "kratomref", "check", "--offline", "-f", "json", str(bib)],
                              capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"checking a {RUN_CHARS:,}-character run of {unit!r} took over 5 s")
    report = json.loads(done.stdout)
    assert [r["doi_as_written"] for r in report["references"]] == [run, None]
    assert "KR201" in {f["code"] for f in report["findings"] if f["key"] == "a"}


def test_an_unclosed_bracket_of_citation_keys_is_read_in_linear_time() -> None:
    """A pandoc bracket was found by one regex that tried every "@" of an unclosed bracket from each start."""
    # the best CPU time of three runs (one wall-clock run failed on a busy machine); 2n until one run passes
    small = best_seconds(lambda: read_draft("d.md", "[" + "@a " * 20_000, "markdown"))
    large = best_seconds_until(lambda: read_draft("d.md", "[" + "@a " * 40_000, "markdown"),
                               under=min(3 * small + 0.1, 2))
    assert large < 3 * small + 0.1 and large < 2, (small, large)
