"""Editor rules: false alarms and wording found in review (KR502, KR504, KR102, KR104, placeholder search)."""

from __future__ import annotations

from pathlib import Path

import pytest

import kratomref.readers as readers
from kratomref.model import NO_DOCUMENT_EVIDENCE, Document, Finding
from kratomref.options import Options
from kratomref.readers.text import read_draft
from kratomref.rules import Context, citations, claims, placeholder_search, placeholders

CTX = Context(Options())


def codes(doc: Document) -> list[str]:
    found: list[Finding] = [*citations.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX),
                            *claims.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX),
                            *placeholders.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)]
    return [f.rule.code for f in found]


def draft(text: str) -> Document:
    return read_draft("draft.md", text + "\n", "markdown")


@pytest.mark.parametrize(
    "command",
    ["\\Citep{lee2020}", "\\Textcite{lee2020}", "\\Parencite[p.~3]{lee2020}", "\\autocites{lee2020}{kim2019}",
     "\\footcitetext{lee2020}", "\\Cite{lee2020}"],
    ids=["Citep", "Textcite", "Parencite with a page", "autocites", "footcitetext", "Cite"],
)
def test_a_claim_with_a_capitalised_or_multi_cite_command_is_cited(tmp_path: Path, command: str) -> None:
    tex = tmp_path / "paper.tex"
    tex.write_text(f"Studies show that 50\\% of cases improve {command}.\n")
    doc = readers.read(str(tex))
    assert "KR504" not in codes(doc)  # (KR501: no bibliography here to resolve the key against)
    assert "lee2020" in [c.target for c in doc.citations]


def test_the_same_claim_without_a_cite_command_is_flagged(tmp_path: Path) -> None:
    tex = tmp_path / "paper.tex"
    tex.write_text("Studies show that 50\\% of cases improve \\emph{quickly}.\n")
    assert codes(readers.read(str(tex))) == ["KR504"]


def test_a_list_of_one_uncited_entry_is_named_in_the_singular() -> None:
    doc = draft("# Draft\n\nText.\n\n## References\n\n1. Smith, J. (2019). A title. Journal A, 1, 1-2.")
    [finding] = [f for f in citations.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX) if f.rule.code == "KR502"]
    assert finding.message == "the text does not cite the only entry of the reference list"


def test_a_list_of_two_uncited_entries_keeps_the_plural() -> None:
    doc = draft("# Draft\n\nText.\n\n## References\n\n1. Smith, J. (2019). A title. Journal A, 1, 1-2.\n"
                "2. Lee, A. (2020). Another. Journal B, 2, 3-4.")
    [finding] = [f for f in citations.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX) if f.rule.code == "KR502"]
    assert finding.message == "the text cites none of the 2 entries of the reference list"


# --- placeholder searches come from the placeholder rules' own detector -----------------------------

SENTENCE = "A study published in the Journal of Ethnopharmacology {} found that mitragynine relieves pain in mice."


@pytest.mark.parametrize(
    "marker", ["(reference needed)", "[?]", "[insert citation]", "TODO: cite", "[Link to the study]"],
    ids=["reference needed", "LaTeX's [?]", "insert citation", "TODO: cite", "link placeholder"],
)
def test_a_reported_placeholder_gets_a_crossref_search(marker: str) -> None:
    doc = draft(SENTENCE.format(marker))
    assert {"KR101", "KR102"} & set(codes(doc))
    assert "mitragynine" in placeholder_search.placeholder_searches(doc)["placeholder:draft.md:1"].query


@pytest.mark.parametrize("marker", ["[CITE 3]", "XXX"], ids=["a bracketed label", "a bare XXX marker"])
def test_no_search_is_spent_on_text_that_is_not_a_citation_placeholder(marker: str) -> None:
    assert placeholder_search.placeholder_searches(draft(SENTENCE.format(marker))) == {}


# --- prose that is not a placeholder, a note or a claim -------------------------------------------

PROSE = [
    ("The link here is broken, said the plumber.", []),
    ("This is a placeholder for the fence.", []),
    ("Data shown for illustrative purposes only.", ["KR104"]),
    ("The recipe has been shown to friends many times.", []),
    ("The film has been shown to the public in Paris.", []),
    ("The keys have been found.", []),
]
STILL_FLAGGED = [
    ("Add the address (link here).", ["KR102"]),
    ("The FDA statement [link here] says otherwise.", ["KR102"]),
    ("This is a placeholder.", ["KR104"]),
    ("This is a placeholder for the real statistic.", ["KR104"]),
    ("Kratom has been shown to reduce withdrawal symptoms.", ["KR504"]),
    ("It has been shown that blue light delays sleep.", ["KR504"]),
    ("Exercise has been shown in several trials to lower blood pressure.", ["KR504"]),
    ("Caffeine has been found to improve alertness.", ["KR504"]),
    ("Data show that sleep helps memory.", ["KR504"]),
]


@pytest.mark.parametrize(("sentence", "expected"), PROSE, ids=[s for s, _ in PROSE])
def test_prose_is_not_taken_for_a_placeholder_or_a_claim(sentence: str, expected: list[str]) -> None:
    assert codes(draft(sentence)) == expected


@pytest.mark.parametrize(("sentence", "expected"), STILL_FLAGGED, ids=[s for s, _ in STILL_FLAGGED])
def test_real_placeholders_and_claims_are_still_flagged(sentence: str, expected: list[str]) -> None:
    assert codes(draft(sentence)) == expected
