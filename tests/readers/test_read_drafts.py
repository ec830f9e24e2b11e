"""Text and Markdown drafts: the reference list found under its heading, one reference per item, the body kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from kratomref.model import Author, Document
from kratomref.readers import read, text

INPUTS = Path(__file__).resolve().parents[1] / "fixtures" / "inputs"
MARKDOWN = INPUTS / "kratom-draft.md"
PLAIN = INPUTS / "kratom-draft.txt"


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def _draft(tmp_path: Path, source: str, name: str = "draft.md") -> Document:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return read(str(path))


@pytest.mark.parametrize("path", [MARKDOWN, PLAIN], ids=["markdown draft", "plain-text draft"])
def test_the_kratom_draft_gives_one_reference_per_list_item(path: Path) -> None:
    doc = read(str(path))
    assert doc.problems == ()
    assert [r.key for r in doc.references] == [f"ref-{n}" for n in range(1, 9)]
    assert doc.references[0].location.line == _line_of(path, "Hassan, Z., Muzaimi")
    assert doc.references[7].location.line == _line_of(path, "National Institute on Drug Abuse (NIDA). (2019)")


@pytest.mark.parametrize("path", [MARKDOWN, PLAIN], ids=["markdown draft", "plain-text draft"])
def test_the_kratom_draft_citations_are_parsed_into_fields(path: Path) -> None:
    refs = {r.key: r for r in read(str(path)).references}
    hassan = refs["ref-1"]
    assert hassan.type == "article"
    assert hassan.authors[0] == Author("Hassan", "Z.")
    assert hassan.authors[-1] == Author("Jayabalan", "N.")
    assert hassan.et_al is True
    assert hassan.year == "2013"
    assert hassan.title == (
        "From Kratom to mitragynine and its derivatives: Physiological and behavioural effects related to use, "
        "abuse, and addiction"
    )
    assert hassan.container == "Neuroscience & Biobehavioral Reviews"
    assert (hassan.volume, hassan.issue, hassan.pages) == ("37", "2", "138-151")
    assert hassan.doi == "https://doi.org/10.1016/j.neubiorev.2012.11.012"
    assert hassan.urls == ()
    assert hassan.line_of("doi") == _line_of(path, "https://doi.org/10.1016/j.neubiorev")

    singh = refs["ref-2"]
    assert [a.family for a in singh.authors] == ["Singh", "Müller", "Vicknasingam"]
    assert singh.et_al is False
    assert (singh.volume, singh.issue, singh.pages) == ("139", None, "132-137")

    fda = refs["ref-3"]
    assert fda.type == "online"
    assert fda.authors == (Author("Food and Drug Administration (FDA)", literal=True),)
    assert (fda.year, fda.title, fda.container) == ("2020", "FDA and Kratom", "U.S. Food and Drug Administration")
    assert fda.urls == ("https://www.fda.gov",)
    assert fda.doi is None

    prozialeck = refs["ref-5"]
    assert prozialeck.urls == ("https://jaoa.org/article.aspx?articleid=2094342",)
    assert prozialeck.doi is None
    assert refs["ref-4"].title is not None and refs["ref-4"].title.startswith('Following "the Roots"')
    assert refs["ref-8"].raw.startswith("National Institute on Drug Abuse (NIDA). (2019). Kratom.")


def test_markdown_body_keeps_every_line_outside_the_reference_list_with_its_number() -> None:
    doc = read(str(MARKDOWN))
    body = {line.line: line.text for line in doc.body}
    placeholder = _line_of(MARKDOWN, "(reference needed)")
    assert body[placeholder].endswith("is used for pain (reference needed).")
    assert _line_of(MARKDOWN, "[Link to FDA statement]") in body
    assert _line_of(MARKDOWN, "1. Is kratom legal?") in body  # an FAQ list is body, not references
    assert not any("Hassan, Z." in line for line in body.values())
    assert all(line.file == str(MARKDOWN) for line in doc.body)


def test_markdown_links_in_the_body_are_urls_to_check() -> None:
    doc = read(str(MARKDOWN))
    links = [(loc.line, url) for loc, url in doc.body_links]
    assert links == [
        (_line_of(MARKDOWN, "[DEA page]"), "https://www.dea.gov/factsheets/kratom"),
        (_line_of(MARKDOWN, "[DEA page]"), "https://www.nida.nih.gov/kratom"),
        (_line_of(MARKDOWN, "2. Is it safe?"), "https://www.fda.gov/kratom-faq"),
        (_line_of(MARKDOWN, "[nida]:"), "https://nida.nih.gov/research-topics/kratom"),
    ]  # and not the URL in the `code span`
    assert all(loc.key is None for loc, _ in doc.body_links)


def test_html_comment_suppressions_apply_to_their_line_or_the_next() -> None:
    doc = read(str(MARKDOWN))
    assert doc.suppressions[_line_of(MARKDOWN, "(citation needed)")] == frozenset({"KR101"})
    dea = _line_of(MARKDOWN, "Drug Enforcement Administration (DEA). (2016)")
    assert doc.suppressions[dea] == frozenset({"KR304"})
    assert [r.key for r in doc.references if r.suppressed] == ["ref-6"]
    assert next(r for r in doc.references if r.key == "ref-6").suppressed == frozenset({"KR304"})


def test_a_url_in_square_brackets_is_found_without_its_brackets() -> None:
    refs = read(str(PLAIN)).references
    assert refs[2].urls == ("https://www.fda.gov",)


def test_the_plain_text_list_ends_at_the_next_section() -> None:
    doc = read(str(PLAIN))
    assert len(doc.references) == 8
    assert _line_of(PLAIN, "Thanks to the reviewers.") in {line.line for line in doc.body}


CITATION = "Smith, J. (2019). A title. Journal of Things, 1(2), 3-4."


@pytest.mark.parametrize(
    "heading",
    [
        "## References", "# Bibliography", "###### Works Cited", "References\n----------", "REFERENCES\n==========",
        "**Works Cited**", "Bibliography:", "References", "Literature Cited", "7. References", "Sources:",
        "__Reference List__", "Notes and References",
    ],
    ids=[
        "h2 references", "h1 bibliography", "h6 works cited", "setext h2", "setext h1 in capitals",
        "bold line", "bare line with a colon", "bare line", "literature cited", "numbered section heading",
        "sources", "underscore bold", "notes and references",
    ],
)
def test_the_reference_list_is_found_under_any_usual_heading(tmp_path: Path, heading: str) -> None:
    doc = _draft(tmp_path, f"Intro text.\n\n{heading}\n\n1. {CITATION}\n2. Doe, A. (2020). Other. J, 5, 6.\n")
    assert [r.key for r in doc.references] == ["ref-1", "ref-2"]
    assert doc.references[0].title == "A title"


@pytest.mark.parametrize(
    "source",
    [
        "# Steps\n\n1. Open the file.\n2. Smith, J. (2019). Looks like a citation. J, 1, 2.\n",
        "# FAQ\n\n1. Is kratom legal?\n2. Is it safe?\n",
        "Some text with no reference list.\n\n- a bullet\n- another\n",
        "## How we chose our references\n\n1. Smith, J. (2019). A title. J, 1, 2.\n",
    ],
    ids=[
        "a numbered list under another heading",
        "an FAQ list",
        "bullets without any heading",
        "a heading that only mentions references",
    ],
)
def test_lists_that_are_not_under_a_reference_heading_are_not_references(tmp_path: Path, source: str) -> None:
    doc = _draft(tmp_path, source)
    assert doc.references == ()
    assert len(doc.body) == len([line for line in source.splitlines() if line.strip()])


@pytest.mark.parametrize(
    ("items", "keys"),
    [
        (f"1. {CITATION}\n2. {CITATION}\n3. {CITATION}\n", ["ref-1", "ref-2", "ref-3"]),
        (f"1) {CITATION}\n2) {CITATION}\n", ["ref-1", "ref-2"]),
        (f"[1] {CITATION}\n[2] {CITATION}\n", ["ref-1", "ref-2"]),
        (f"(1) {CITATION}\n(2) {CITATION}\n", ["ref-1", "ref-2"]),
        (f"[4] {CITATION}\n[7] {CITATION}\n", ["ref-4", "ref-7"]),
        (f"- {CITATION}\n- {CITATION}\n* {CITATION}\n", ["ref-1", "ref-2", "ref-3"]),
        (f"• {CITATION}\n• {CITATION}\n", ["ref-1", "ref-2"]),
        (f"{CITATION}\n\n{CITATION}\n\n{CITATION}\n", ["ref-1", "ref-2", "ref-3"]),
        (f"{CITATION}\n{CITATION}\n", ["ref-1", "ref-2"]),
        ("Smith, J. (2019). A title.\n    Journal of Things, 1(2), 3-4.\nDoe, A. (2020).\n    Other. J, 5, 6.\n",
         ["ref-1", "ref-2"]),
        ("1. Smith, J. (2019). A title.\n   Journal of Things, 1(2), 3-4.\n\n2. Doe, A. (2020). B. J, 5, 6.\n",
         ["ref-1", "ref-2"]),
        ("1. Smith, J. (2019). A title.\nJournal of Things, 1(2), 3-4.\n2. Doe, A. (2020). B. J, 5, 6.\n",
         ["ref-1", "ref-2"]),
    ],
    ids=[
        "numbered with dots", "numbered with parentheses", "numbered in brackets", "numbered in round brackets",
        "keys follow the written numbers", "bullets", "round bullets", "paragraphs separated by blank lines",
        "one citation per line", "hanging indent", "indented continuation after a blank line",
        "unindented continuation line",
    ],
)
def test_each_list_style_gives_one_reference_per_item(tmp_path: Path, items: str, keys: list[str]) -> None:
    doc = _draft(tmp_path, f"# Draft\n\nBody.\n\n## References\n\n{items}", name="draft.txt")
    assert [r.key for r in doc.references] == keys
    assert {r.year for r in doc.references} <= {"2019", "2020"}
    first = doc.references[0]
    assert (first.title, first.container, first.volume, first.issue, first.pages) == (
        "A title", "Journal of Things", "1", "2", "3-4"
    )


def test_the_list_ends_at_the_next_heading_of_the_same_or_higher_level(tmp_path: Path) -> None:
    source = (
        "# Draft\n\n## References\n\n1. Smith, J. (2019). A. J, 1, 2.\n\n### Web sources\n\n"
        "2. Doe, A. (2020). B. https://x.org/b\n\n## Appendix\n\n1. Step one.\n"
    )
    doc = _draft(tmp_path, source)
    assert [r.key for r in doc.references] == ["ref-1", "ref-2"]
    assert "1. Step one." in [line.text for line in doc.body]


def test_a_heading_inside_a_code_block_is_not_a_heading(tmp_path: Path) -> None:
    source = "# Draft\n\n```\n## References\n1. not a reference https://example.org/x\n```\n"
    doc = _draft(tmp_path, source)
    assert doc.references == ()
    assert doc.body_links == ()


def test_front_matter_dashes_are_not_a_heading_underline(tmp_path: Path) -> None:
    source = "---\ntitle: Draft\n---\n\nText.\n\n## References\n\n1. Smith, J. (2019). A. J, 1, 2.\n"
    doc = _draft(tmp_path, source)
    assert [r.key for r in doc.references] == ["ref-1"]


def test_a_note_after_the_list_is_body_not_a_reference(tmp_path: Path) -> None:
    source = "## References\n\n1. Smith, J. (2019). A. J, 1, 2.\n2. Doe, A. (2020). B. J, 3, 4.\n\nTODO: check these.\n"
    doc = _draft(tmp_path, source)
    assert len(doc.references) == 2
    assert [line.text for line in doc.body] == ["## References", "TODO: check these."]


def test_plain_text_and_markdown_formats_are_named(tmp_path: Path) -> None:
    assert _draft(tmp_path, "# A\n", name="a.md").format == "markdown"
    assert _draft(tmp_path, "A\n", name="a.txt").format == "text"


def test_the_reader_functions_can_be_called_on_text_directly() -> None:
    doc = text.read_markdown("inline.md", "## References\n\n1. Smith, J. (2019). A. J, 1, 2.\n")
    assert doc.references[0].location.file == "inline.md"
    assert doc.references[0].location.line == 3


def test_markdown_markup_inside_an_item_is_read_through(tmp_path: Path) -> None:
    source = (
        "## References\n\n"
        "1. Smith, J. (2019). [A linked title](https://x.org/paper). *Journal of Things*, 1(2), 3-4.\n"
        "2. Doe, A. (2020). Other work. Site. <https://y.org/page>\n"
    )
    first, second = _draft(tmp_path, source).references
    assert (first.title, first.container, first.urls) == ("A linked title", "Journal of Things", ("https://x.org/paper",))
    assert second.urls == ("https://y.org/page",)
    assert "<" not in (second.container or "") and ">" not in (second.container or "")


def test_a_link_on_a_continuation_line_is_located_on_that_line(tmp_path: Path) -> None:
    source = "## References\n\n1. Smith, J. (2019). A title. Site.\n   https://x.org/page\n"
    (ref,) = _draft(tmp_path, source).references
    assert ref.location.line == 3
    assert ref.line_of("url") == 4


def test_a_suppression_comment_between_items_is_not_an_item(tmp_path: Path) -> None:
    source = (
        "## References\n\n1. Smith, J. (2019). A. J, 1, 2.\n<!-- kratomref: ignore[KR304, link-generic] -->\n"
        "2. FDA. (2020). Kratom. https://www.fda.gov\n"
    )
    doc = _draft(tmp_path, source)
    assert [r.key for r in doc.references] == ["ref-1", "ref-2"]
    assert doc.references[1].suppressed == frozenset({"KR304", "link-generic"})
    assert doc.references[0].suppressed == frozenset()


def test_two_reference_lists_numbered_from_one_keep_distinct_keys(tmp_path: Path) -> None:
    source = "## References\n\n1. A, B. (2019). T. J, 1, 2.\n\n## Bibliography\n\n1. C, D. (2018). U. J, 3, 4.\n"
    doc = _draft(tmp_path, source)
    keys = [r.key for r in doc.references]
    assert len(keys) == 2 and len(set(keys)) == 2
