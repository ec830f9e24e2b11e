"""KR101-KR104: placeholders an editor would flag, and ordinary prose they must leave alone."""

from __future__ import annotations

import pytest

from kratomref.model import NO_DOCUMENT_EVIDENCE, NO_EVIDENCE, Document, Location, Reference, TextLine
from kratomref.options import Options
from kratomref.readers.bibtex import read as read_bibtex
from kratomref.readers.text import read_draft
from kratomref.rules import Context
from kratomref.rules import placeholders as rules

CTX = Context(Options())

FLAGGED = [
    ("Kratom is used for pain (reference needed).", "KR101", "(reference needed)"),
    ("This is well known, citation needed.", "KR101", "citation needed"),
    ("It works [citation needed].", "KR101", "[citation needed]"),
    ("CITATION NEEDED: kratom is safe.", "KR101", "CITATION NEEDED"),
    ("Kratom is safe. Source?", "KR101", "Source?"),
    ("Kratom is safe (source?).", "KR101", "(source?)"),
    ("TODO: add the dosage table", "KR101", "TODO"),
    ("Kratom eases pain. TODO: cite", "KR101", "TODO: cite"),
    ("Kratom eases pain (TODO cite Hassan).", "KR101", "TODO cite"),
    ("Kratom eases pain. TODO: add reference", "KR101", "TODO: add reference"),
    ("Release date: TBD.", "KR101", "TBD"),
    ("XXX check this number", "KR101", "XXX"),
    ("As shown before [?].", "KR101", "[?]"),
    ("Kratom helps with pain (Author, Year).", "KR101", "(Author, Year)"),
    ("Smith (20XX) found the opposite.", "KR101", "20XX"),
    ("Please insert citation for this claim.", "KR101", "insert citation"),
    ("Kratom is popular [insert reference here].", "KR101", "[insert reference here]"),
    ("A XX% rise was seen.", "KR101", "XX%"),
    ("Smith, J. (2020). Title of the Article.", "KR101", "Title of the Article"),
    ("The FDA has warned against it [Link to FDA statement].", "KR102", "[Link to FDA statement]"),
    ("Read the report at [URL].", "KR102", "[URL]"),
    ("See the statement (link here).", "KR102", "(link here)"),
    ("Read [the report]() first.", "KR102", "[the report]()"),
    ("Read [the report](#) first.", "KR102", "[the report](#)"),
    ("See https://example.com/kratom-study for details.", "KR102", "https://example.com/kratom-study"),
    ("Data at http://localhost:8000/report.", "KR102", "http://localhost:8000/report"),
    ("Visit www.example.org to learn more.", "KR102", "www.example.org"),
    ("One user, Jane Doe, said it helped.", "KR103", "Jane Doe"),
    ("John Doe reported no side effects.", "KR103", "John Doe"),
    ("Dr. X says it is safe.", "KR103", "Dr. X"),
    ("According to Professor Y, doses vary.", "KR103", "Professor Y"),
    ("Lorem ipsum about kratom.", "KR103", "Lorem ipsum"),
    ("Author Name (2020). Kratom.", "KR103", "Author Name"),
    ("Doe, J. (2019). Kratom use.", "KR103", "Doe, J."),
    ("Remember to update the statistics before publishing.", "KR104",
     "Remember to update the statistics before publishing"),
    ("The data is for illustrative purposes only.", "KR104", "for illustrative purposes only"),
    ("A 2019 survey (hypothetical example) found 40%.", "KR104", "hypothetical example"),
    ("This is a hypothetical example.", "KR104", "hypothetical example"),
    ("40% of users [replace with actual figures].", "KR104", "[replace with actual figures]"),
    ("Replace with actual data before sending.", "KR104", "Replace with actual"),
    ("Note to self: call the FDA press office.", "KR104", "Note to self"),
    ("Please verify these links.", "KR104", "verify these links"),
    ("Kratom is legal in most states [to be confirmed].", "KR104", "[to be confirmed]"),
]


@pytest.mark.parametrize(
    ("text", "code", "matched"), FLAGGED, ids=[f"{code} {matched}" for _, code, matched in FLAGGED]
)
def test_placeholder_is_flagged(text: str, code: str, matched: str) -> None:
    found = rules.find_placeholders(text)
    assert [(p.rule.code, p.text) for p in found] == [(code, matched)]
    assert text[found[0].start : found[0].end] == matched


PROSE = {
    "a novelist's real name": "Jane Austen wrote novels, not pharmacology.",
    "a study is needed": "A study is needed before anyone can say more.",
    "more research is needed": "More research is needed to understand mitragynine.",
    "a doctor whose name starts with X": "Dr. Xavier Moreau disagrees.",
    "a doctor with an initial": "Dr. X. Wang reported similar findings.",
    "example as a word": "For example, kratom is sold as a powder.",
    "Spanish todos": "todos los días, kratom se vende en polvo.",
    "XXX inside a word": "The XXXL size sold out.",
    "Roman numeral XXX": "Super Bowl XXX drew a record audience.",
    "XX chromosomes": "Cells with XX chromosomes were used.",
    "a real URL with example in its path": "See https://www.nature.com/articles/example-study for more.",
    "a domain that merely contains example": "See https://www.examples.com/kratom and https://example-study.org/x.",
    "TBD defined as an acronym": "Tick-borne diseases (TBD) are different; TBD rates rose.",
    "URL defined as an acronym": "Each uniform resource locator (URL) points somewhere.",
    "a question about a source in prose": "What is the source? Nobody knows.",
    "a rhetorical question": "Is kratom a good energy source?",
    "advice to readers to update software": "Remember to update your software regularly.",
    "advice to readers to check a label": "Remember to check the label before buying.",
    "a hypothetical example used to explain": "Consider a hypothetical example: a man takes 5 g a day.",
    "a hypothetical example as prose lead": "As a hypothetical example, imagine two users.",
    "a stock photo caption": "Photo for illustrative purposes only.",
    "a Markdown link with a real target": "See the [DEA page](https://www.dea.gov/factsheets/kratom).",
    "a link text that says link with a target": "Follow [the link to the study](https://www.fda.gov/x).",
    "a reference-style link": "Read the [URL][1] standard.",
    "an email address": "Write to user@example.com for a copy.",
    "numbered citations": "Kratom is used for pain [1], [2, 3].",
    "n.d. for an undated work": "Kratom (n.d.). Retrieved from the FDA.",
    "a TODO list": "Add it to my TODO list.",
    "Notes to editors": "Notes to editors: the embargo lifts at noon.",
    "an Editor's note": "Editor's note: this article was updated.",
    "Mr. Xi": "Mr. Xi Jinping spoke on drug policy.",
    "Lorem alone": "Lorem is a Latin word.",
    "the author name field in prose": "Fill in the author name field of the form.",
    "checking links is advice": "Check these links to learn more.",
    "verifying the source is advice": "Always verify the source of your kratom.",
    "a will be replaced sentence": "The old label will be replaced with a new one.",
    "Patient X in a case report": "Patient X was admitted in 2019.",
    "decades": "In the 2020s, use grew.",
}


@pytest.mark.parametrize("text", list(PROSE.values()), ids=list(PROSE))
def test_ordinary_prose_is_not_flagged(text: str) -> None:
    assert rules.find_placeholders(text) == []


def test_several_placeholders_on_a_line_are_each_found_in_order() -> None:
    found = rules.find_placeholders("Dr. X found XX% of users (Author, Year) [Link to study].")
    assert [(p.rule.code, p.text) for p in found] == [
        ("KR103", "Dr. X"), ("KR101", "XX%"), ("KR101", "(Author, Year)"), ("KR102", "[Link to study]")
    ]


def test_citation_placeholders_are_only_the_missing_citations() -> None:
    found = rules.citation_placeholders("TODO: Dr. X said so (reference needed) [?].")
    assert [p.text for p in found] == ["(reference needed)", "[?]"]


def _body(*lines: str) -> Document:
    return Document("d.md", "markdown", body=tuple(TextLine("d.md", n, t) for n, t in enumerate(lines, 1)))


def test_each_body_placeholder_is_its_own_finding_with_line_and_column() -> None:
    doc = _body("Kratom helps (reference needed) says Jane Doe.", "Fine prose here.", "See [URL].")
    found = [(f.rule.code, f.location.line, f.location.column, f.location.key)
             for f in rules.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)]
    assert found == [("KR101", 1, 14, None), ("KR103", 1, 38, None), ("KR102", 3, 5, None)]


def test_code_blocks_code_spans_and_directives_are_not_prose() -> None:
    doc = _body("```", "TODO: https://example.com", "```", "Run `curl https://example.org/x` now.",
                "<!-- kratomref: ignore[KR101] --> Fine.")
    assert list(rules.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)) == []


def test_an_acronym_defined_on_one_line_is_not_a_marker_on_another() -> None:
    doc = _body("Tick-borne diseases (TBD) are rising.", "TBD cases doubled.")
    assert list(rules.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)) == []


def test_a_bibtex_field_placeholder_is_reported_on_its_field_line() -> None:
    doc = read_bibtex("refs.bib", "@article{a,\n  author = {Doe, Jane},\n  title = {Kratom [citation needed]},\n"
                                  "  year = {20XX},\n  url = {https://example.org/paper}\n}\n")
    [ref] = doc.references
    found = sorted((f.rule.code, f.location.line, f.location.key) for f in rules.judge(ref, NO_EVIDENCE, CTX))
    assert found == [("KR101", 3, "a"), ("KR101", 4, "a"), ("KR102", 5, "a"), ("KR103", 2, "a")]


def test_a_url_field_holding_a_stand_in_is_a_placeholder_link() -> None:
    doc = read_bibtex("refs.bib", "@online{a, author = {FDA}, title = {Kratom}, year = {2020}, url = {URL}}\n")
    assert [f.rule.code for f in rules.judge(doc.references[0], NO_EVIDENCE, CTX)] == ["KR102"]


def test_a_clean_entry_has_no_placeholder() -> None:
    ref = Reference(Location("r.bib", 1, "k"), "article", title="Kratom and pain", year="2020",
                    fields={"title": "Kratom and pain", "year": "2020", "url": "https://www.fda.gov/example/x"})
    assert list(rules.judge(ref, NO_EVIDENCE, CTX)) == []


def test_a_draft_list_item_is_scanned_once_as_written() -> None:
    doc = read_draft("d.md", "## References\n\n1. Doe, J. (20XX). Kratom. Journal Name, 1, 1-2.\n", "markdown")
    [ref] = doc.references
    found = [(f.rule.code, f.location.line, f.location.key) for f in rules.judge(ref, NO_EVIDENCE, CTX)]
    assert sorted(found) == [("KR101", 3, "ref-1"), ("KR101", 3, "ref-1"), ("KR103", 3, "ref-1")]


def test_the_suggestion_fits_what_the_placeholder_stands_for() -> None:
    doc = _body("Kratom helps (reference needed). TODO", "See [URL].")
    found = rules.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)
    suggestions = {f.message.split('"')[1]: f.suggestion or "" for f in found}
    assert suggestions["(reference needed)"].startswith("cite the source")
    assert "marker" in suggestions["TODO"]
    assert "address" in suggestions["[URL]"]


@pytest.mark.parametrize(
    "marker", ["TODO: cite", "TODO cite Hassan", "TODO: add reference"],
    ids=["TODO: cite", "TODO cite and a name", "TODO: add reference"],
)
def test_a_marker_that_asks_for_a_source_is_a_citation_placeholder(marker: str) -> None:
    [finding] = rules.judge_document(_body(f"Kratom eases opioid withdrawal. {marker}"), NO_DOCUMENT_EVIDENCE, CTX)
    assert finding.message.startswith('citation placeholder "TODO')
    assert finding.suggestion == rules.SUGGESTIONS["citation"]
    assert [p.kind for p in rules.citation_placeholders(marker)] == ["citation"]


@pytest.mark.parametrize(("field", "value", "reported"), [
    ("date", "19XX", False), ("origdate", "199X", False), ("year", "20XX", True), ("date", "20XX-XX-XX", False),
], ids=["an EDTF century", "an EDTF decade", "a placeholder year", "an EDTF date"])
def test_an_edtf_date_with_unspecified_digits_is_not_a_placeholder(field: str, value: str, reported: bool) -> None:
    ref = Reference(Location("refs.bib", 1, "a"), "misc", "T", fields={field: value, "title": "T"})
    assert bool([f for f in rules.judge(ref, NO_EVIDENCE, CTX) if f.rule.code == "KR101"]) is reported
