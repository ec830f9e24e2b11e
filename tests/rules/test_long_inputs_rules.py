"""Long inputs must not make the rules quadratic (or worse): each check is timed at a size N and at 4N.

Linear work takes about four times as long at 4N; the old code took sixteen times as long or more (four to eight
times at 2N): each test gives the time it took before the fix, at sizes where it took seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from linear_time import assert_linear

from kratomref.model import NO_DOCUMENT_EVIDENCE, Document, TextLine
from kratomref.options import Options
from kratomref.readers.text import read_draft
from kratomref.rules import Context, claims, placeholders
from kratomref.rules.links import title_names_project

CTX = Context(Options())


def _assert_linear(work: Callable[[int], object], size: int, bound: float) -> None:
    """work(4 * size) takes well under sixteen times work(size) (quadratic), and under `bound` seconds, by CPU
    time: another process on a busy machine does not count (wall time did, and made these tests fail under load)."""
    assert_linear(lambda n: n, work, size, what="the check", under=bound)


def _draft(*lines: str) -> Document:
    return Document("d.md", "markdown", body=tuple(TextLine("d.md", i, text) for i, text in enumerate(lines, 1)))


def test_a_paragraph_of_many_sentences_is_judged_in_linear_time() -> None:
    """Each sentence asked whether it or any later sentence of its paragraph is cited: 2.1 s for 25,000
    sentences, 8.6 s for 50,000."""
    _assert_linear(lambda n: list(claims.judge_document(_draft("Go. " * n), NO_DOCUMENT_EVIDENCE, CTX)), 8_000,
                   bound=2.0)


def test_many_announcements_of_examples_are_judged_in_linear_time() -> None:
    """Each announcement read and sorted every later line again: 7.7 s for 4,000 lines, 29 s for 8,000."""
    _assert_linear(lambda n: list(placeholders.judge_document(_draft(*["Below are hypothetical examples."] * n),
                                                               {}, CTX)), 1_000, bound=1.5)


def test_what_announcements_cover_is_counted_to_the_next_heading() -> None:
    doc = _draft("Below are hypothetical examples.", "", "# Cases", "**Case A**: a story.",
                 "“A quotation of some length,” she said.", "## Next", "**Case B**: not covered.",
                 "Below are hypothetical examples.", "**Case C**: the last one.")
    found = placeholders.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)
    messages = [f.message for f in found if f.rule.code == "KR104"]
    assert len(messages) == 2
    assert "the 1 quote and 1 case study that follow are illustrative material" in messages[0]
    assert "the 1 case study that follows is illustrative material" in messages[1]


def test_a_long_title_lead_is_compared_with_the_site_name_in_linear_time() -> None:
    """Every run of words before the title's separator was joined and compared: 0.15 s for a lead of 500
    words, 1.1 s (5 s on a slower machine) for 1,000."""
    def lead(n: int) -> bool:
        return title_names_project(" ".join(f"w{i}" for i in range(n)) + ": the rest", "https://scipy.org/")

    _assert_linear(lead, 250, bound=0.5)
    assert title_names_project("The SciPy library: scientific tools", "https://scipy.org/")
    assert title_names_project("Notes on Sci Py, version 2", "https://scipy.org/")
    assert not title_names_project("Notes on Scipyx: version 2", "https://scipy.org/")
    assert not title_names_project("FDA and Kratom", "https://www.fda.gov/")


def test_an_unclosed_bracket_of_keys_is_read_in_linear_time() -> None:
    """"[@a @a @a ..." never closed: 1.0 s for 30,000 characters, 4.1 s for 60,000, 15 s for 200,000."""
    _assert_linear(lambda n: claims.has_citation("[" + "@a " * n), 5_000, bound=1.0)
    assert claims.has_citation("[" + "@a " * 10_000 + "]")
    assert claims.has_citation("as shown [see @smith2019, p. 3].")
    assert not claims.has_citation("mail [me] at x @ y [or not]")


def test_an_unclosed_parenthesis_of_years_is_read_in_linear_time() -> None:
    """"(2019 2019 2019 ..." never closed: 1.1 s for 50,000 characters, 4.6 s for 100,000, 14 s for 200,000."""
    _assert_linear(lambda n: claims.has_citation("(" + "2019 " * n), 5_000, bound=1.0)
    assert claims.has_citation("(" + "2019 " * 10_000 + ")")
    assert claims.has_citation("Sleep helps memory (Smith, 2019a).")
    assert not claims.has_citation("Sleep helps memory (Smith, 20190).")


def test_a_draft_with_an_unclosed_parenthesis_of_years_is_read_in_linear_time() -> None:
    """The author-year reader's pattern for a parenthesis with a year: 4.0 s for 10,000 years, 13 s for
    20,000."""
    _assert_linear(lambda n: read_draft("d.md", "(" + "2019 " * n, "markdown"), 5_000, bound=2.0)
    found = read_draft("d.md", "Sleep helps (see Smith, 2019; 2020) and (Lee 2018a, 2018b).\n", "markdown")
    assert [c.target for c in found.citations] == ["Smith 2019", "Smith 2020", "Lee 2018a", "Lee 2018b"]
