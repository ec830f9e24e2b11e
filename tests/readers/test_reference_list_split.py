"""Where a draft's reference list ends and how it splits into items (README, "Article drafts")."""

from __future__ import annotations

from kratomref.readers.text import read_draft

SMITH = "Smith, J. (2019). Title one. Journal A, 1, 1-2."
LEE = "Lee, A., & Park, B. (2020). Title two. Journal B, 2, 3-4."


def references(text: str, fmt: str = "markdown") -> list[tuple[str, str]]:
    return [(r.key, r.raw) for r in read_draft("draft.md", text, fmt).references]


def body(text: str, fmt: str = "markdown") -> list[str]:
    return [line.text for line in read_draft("draft.md", text, fmt).body]


def test_a_note_after_a_list_of_paragraphs_is_body_text() -> None:
    text = f"# Draft\n\nText.\n\nReferences\n\n{SMITH}\n\n{LEE}\n\nAll links accessed in May 2024.\n"
    assert references(text) == [("ref-1", SMITH), ("ref-2", LEE)]
    assert body(text)[-1] == "All links accessed in May 2024."


def test_a_note_after_a_plain_text_list_of_paragraphs_is_body_text() -> None:
    text = f"Text.\n\nReferences:\n\n{SMITH}\n\n{LEE}\n\nNote: the sources were compiled in 2023.\n"
    assert [key for key, _ in references(text, "text")] == ["ref-1", "ref-2"]


def test_a_closing_reference_without_a_year_but_with_a_link_is_still_a_reference() -> None:
    last = "World Health Organization. Kratom fact sheet. https://www.who.int/kratom"
    text = f"Text.\n\n## References\n\n{SMITH}\n\n{last}\n"
    assert references(text) == [("ref-1", SMITH), ("ref-2", last)]


def test_setext_works_cited_then_an_appendix_with_steps_keeps_both_references() -> None:
    text = (f"# Draft\n\nText (Smith, 2019; Lee & Park, 2020).\n\nWorks Cited\n===\n\n{SMITH}\n\n{LEE}\n\n"
            "## Appendix\n\n1. Step one\n2. Step two\n")
    assert references(text) == [("ref-1", SMITH), ("ref-2", LEE)]
    assert body(text)[-2:] == ["1. Step one", "2. Step two"]


def test_a_subheading_that_is_not_another_section_stays_in_the_list() -> None:
    text = f"# References\n\n## Journal articles\n\n1. {SMITH}\n2. {LEE}\n"
    assert [key for key, _ in references(text)] == ["ref-1", "ref-2"]
