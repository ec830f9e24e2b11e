"""Issue 9: in-text citations tied to their entries, unsupported claims and unsourced quotes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import kratomref.readers as readers
from kratomref.model import NO_DOCUMENT_EVIDENCE, Document, Finding, TextLine
from kratomref.options import Options
from kratomref.readers import latex
from kratomref.readers.intext import find_citations
from kratomref.rules import Context, claims
from kratomref.rules import citations as rules

DRAFTS = Path(__file__).parents[2] / "fixtures" / "drafts"
CTX = Context(Options())


def judge(doc: Document) -> list[Finding]:
    return [*rules.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX),
            *claims.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)]


def where(findings: list[Finding], code: str) -> list[tuple[str, int | None]]:
    return [(os.path.basename(f.location.file), f.location.line) for f in findings if f.rule.code == code]


def linked(path: Path) -> Document:
    """What check.py does for LaTeX and pandoc: read the document, read its bibliographies, link them."""
    doc = readers.read(str(path))
    references = [ref for bib in latex.related_paths(doc) for ref in readers.read(bib).references]
    return latex.link_citations(doc, references)


def draft(text: str, fmt: str = "markdown") -> Document:
    from kratomref.readers.text import read_draft

    return read_draft("draft.md", text, fmt)


# --- LaTeX -----------------------------------------------------------------------------------------


def test_latex_missing_key_is_reported_at_its_file_and_line() -> None:
    findings = judge(linked(DRAFTS / "latex" / "paper.tex"))
    assert where(findings, "KR501") == [("paper.tex", 6)]
    assert "missingkey" in findings[[f.rule.code for f in findings].index("KR501")].message


def test_latex_uncited_bib_entry_is_reported_at_the_entry_only_when_asked() -> None:
    doc = linked(DRAFTS / "latex" / "paper.tex")
    assert where(judge(doc), "KR502") == [], "BibTeX prints only the cited entries"
    asked = Context(Options(uncited_bib=True))
    assert where(list(rules.judge_document(doc, NO_DOCUMENT_EVIDENCE, asked)), "KR502") == [("refs.bib", 15)]


def test_latex_input_file_is_followed_and_its_citation_located_there() -> None:
    doc = linked(DRAFTS / "latex" / "paper.tex")
    baker = [c for c in doc.citations if c.target == "baker2008"]
    assert [(os.path.basename(c.location.file), c.location.line, c.resolved_key) for c in baker] == [
        ("methods.tex", 2, "baker2008")
    ]


def test_latex_comments_and_verbatim_are_not_citations() -> None:
    targets = {c.target for c in readers.read(str(DRAFTS / "latex" / "paper.tex")).citations}
    assert "commented2020" not in targets and "inverbatim" not in targets


def test_latex_escaped_percent_keeps_the_rest_of_the_line() -> None:
    doc = readers.read(str(DRAFTS / "latex" / "paper.tex"))
    assert any(c.target == "missingkey" for c in doc.citations)  # the line holds 50\% before the cite


@pytest.mark.parametrize(
    ("source", "keys"),
    [
        (r"\citep[see][p.~12]{a, b}", ["a", "b"]),
        (r"\textcite*{c}", ["c"]),
        (r"\autocite[p. 3]{d}", ["d"]),
        (r"\footcite{e}", ["e"]),
        (r"\Citet{f}", ["f"]),
        (r"text 10\% more \cite{g} % \cite{h}", ["g"]),
    ],
    ids=["two optional arguments and two keys", "starred textcite", "autocite with a page",
         "footcite", "capitalised Citet", "escaped percent then a real comment"],
)
def test_latex_cite_commands(tmp_path: Path, source: str, keys: list[str]) -> None:
    tex = tmp_path / "a.tex"
    tex.write_text(source + "\n")
    assert [c.target for c in readers.read(str(tex)).citations] == keys


def test_nocite_star_turns_off_uncited_entries(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text((DRAFTS / "latex" / "refs.bib").read_text())
    tex = tmp_path / "a.tex"
    tex.write_text("\\nocite{*}\nText \\cite{hughes2018}.\n\\addbibresource{refs.bib}\n")
    doc = linked(tex)
    assert doc.meta["nocite-all"] == "1"
    assert where(judge(doc), "KR502") == []


def test_input_cycle_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.tex").write_text("\\input{b}\n\\cite{x}\n")
    (tmp_path / "b.tex").write_text("\\input{a}\n\\cite{y}\n")
    doc = readers.read(str(tmp_path / "a.tex"))
    assert [c.target for c in doc.citations] == ["y", "x"]


# --- pandoc ----------------------------------------------------------------------------------------


def test_pandoc_note_resolves_keys_and_reports_the_missing_one() -> None:
    doc = linked(DRAFTS / "note.md")
    assert doc.format == "pandoc"
    assert [c.target for c in doc.citations] == ["walker2009", "stickgold2005", "diekelmann2010", "walker2009"]
    assert where(judge(doc), "KR501") == [("note.md", 6)]
    assert where(judge(doc), "KR502") == []


def test_pandoc_ignores_email_addresses_code_spans_and_code_blocks() -> None:
    targets = {c.target for c in readers.read(str(DRAFTS / "note.md")).citations}
    assert not targets & {"example.org", "notacitation", "alsonotacitation"}


# --- drafts with their own list ---------------------------------------------------------------------


def test_numeric_draft_reports_item_five_of_four_and_the_uncited_fourth() -> None:
    findings = judge(readers.read(str(DRAFTS / "numeric-draft.md")))
    assert where(findings, "KR501") == [("numeric-draft.md", 4)]
    assert where(findings, "KR502") == [("numeric-draft.md", 13)]


def test_author_year_mismatch_names_the_entry() -> None:
    findings = judge(readers.read(str(DRAFTS / "author-year-draft.md")))
    mismatch = [f for f in findings if f.rule.code == "KR503"]
    assert [(f.location.line, "ref-1" in f.message) for f in mismatch] == [(3, True)]
    assert where(findings, "KR501") == [("author-year-draft.md", 4)]  # Garcia (2021): no such entry
    assert where(findings, "KR502") == []  # the entry a mismatch names is not also "uncited"


def test_a_body_that_cites_nothing_gets_one_finding_on_the_heading() -> None:
    doc = draft("# Note\n\nPlain text.\n\n## References\n\n1. A. Smith (2001). T. J.\n2. B. Jones (2002). U. K.\n")
    assert where(judge(doc), "KR502") == [("draft.md", 5)]


@pytest.mark.parametrize(
    ("line", "targets"),
    [
        ("Known before [1].", ["1"]),
        ("Known before [1, 3].", ["1", "3"]),
        ("Known before [2-4].", ["2", "3", "4"]),
        ("Known before (2).", ["2"]),
        ("Known before¹².", ["12"]),
        ("Known before^3^ and<sup>4</sup>.", ["3", "4"]),
        ("(Smith & Jones, 2019; Lee et al., 2020a)", ["Smith 2019", "Lee 2020a"]),
        ("Smith (2019) said so.", ["Smith 2019"]),
        ("The method has two steps: (1) extract, (2) filter.", []),
        ("In the summer (2019) it rained.", []),
        ("See `arr[1]` in the code.", []),
        ("An area of 5 km² was cleared.", []),
        ("(Smith, 2019a, 2019b; Lee, 2020; 2021)", ["Smith 2019a", "Smith 2019b", "Lee 2020", "Lee 2021"]),
    ],
    ids=["one bracketed number", "a list", "a range", "parenthesised number", "unicode superscript",
         "markdown and html superscripts", "two author-year items", "narrative author-year",
         "an enumeration is not a citation", "a year after a season is not a citation",
         "an index in a code span is not a citation", "a unit squared is not a superscript citation",
         "further years of one author are citations of that author"],
)
def test_intext_forms(line: str, targets: list[str]) -> None:
    assert [c.target for c in find_citations([TextLine("d.md", 1, line)])] == targets


def test_docx_draft_is_located_by_paragraph(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Bee populations")
    document.add_paragraph("Studies show that neonicotinoids harm wild bees.")
    document.add_paragraph("Honey bees pollinate many crops [1]. Wild bees matter too [2].")
    document.add_paragraph("References")
    document.add_paragraph("1. Klein AM et al. Importance of pollinators. Proc R Soc B. 2007;274:303-313.")
    path = tmp_path / "bees.docx"
    document.save(str(path))
    doc = readers.read(str(path))
    assert doc.format == "docx"
    findings = judge(doc)
    assert where(findings, "KR504") == [("bees.docx", 2)]
    assert where(findings, "KR501") == [("bees.docx", 3)]


def test_docx_that_is_not_a_zip_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_text("not a word file")
    assert [p.code for p in readers.read(str(path)).problems] == ["KR002"]


# --- KR504 / KR505 ---------------------------------------------------------------------------------

FLAGGED = [
    ("Studies show that intermittent fasting improves insulin sensitivity.", "KR504"),
    ("Research suggests that bilingual children switch tasks faster.", "KR504"),
    ("It has been shown that blue light delays melatonin release.", "KR504"),
    ("According to the FDA, kratom has no approved medical use.", "KR504"),
    ("Roughly 30% of patients stop taking statins within a year.", "KR504"),
    ("A study published in the Lancet found that air pollution shortens life expectancy.", "KR504"),
    ("Dr. Emily Chen, Clinical Pharmacist: “Kratom interacts with more drugs than people realise.”", "KR505"),
    ("As Keynes put it, “in the long run we are all dead.”", "KR505"),
    ("“We see more cases every winter,” said Dr. Ana Ruiz, an epidemiologist at the city hospital.", "KR505"),
    ("The WHO warned, “antimicrobial resistance is a global health threat.”", "KR505"),
]
NOT_FLAGGED = [
    "Water boils at 100 °C at sea level.",
    "In my view, the policy was a mistake.",
    "Our data show a clear seasonal pattern.",
    "Studies show that intermittent fasting improves insulin sensitivity [4].",
    "Research suggests that bilingual children switch tasks faster (Bialystok, 2011).",
    "According to the FDA \\cite{fda2019}, kratom has no approved use.",
    "Do studies show any benefit?",
    "She wrote a review titled “What studies show about sleep”.",
    "The so-called “miracle leaf” is mostly marketing.",
    "“I'll be back before dark,” said Tom, shutting the door.",
    "“Are you coming?” she asked.",
    "Contact press@example.com for the 2023 figures.",
    "Run `grep 'studies show' notes.txt` to find them.",
    "“Look at that one,” said Anna, pointing at the lavender.",
    "Martha stated flatly, “I am not going back to that house, not ever.”",
    "The data show a clear drop in pace after kilometre 30 (Figure 3).",
    "Our clinic's records show that most visits happen on Mondays.",
    "Tourists say the view from the tower is worth the climb.",
    "Water makes up about 60% of the human body.",
]


@pytest.mark.parametrize(("sentence", "code"), FLAGGED, ids=[s[:40] for s, _ in FLAGGED])
def test_flags_claims_and_quotes(sentence: str, code: str) -> None:
    assert [f.rule.code for f in judge(draft(sentence + "\n"))] == [code]


@pytest.mark.parametrize("sentence", NOT_FLAGGED, ids=[s[:40] for s in NOT_FLAGGED])
def test_does_not_flag_controls(sentence: str) -> None:
    assert [f.rule.code for f in judge(draft(sentence + "\n"))] == []


MORE_FLAGGED = [
    ("There is strong evidence that stretching does not prevent running injuries.", "KR504"),
    ("Sleep deprivation is associated with a higher risk of anxiety disorders.", "KR504"),
    ("Evidence from Denmark suggests that flexicurity keeps unemployment low.", "KR504"),
    ("The Federal Reserve estimates that inflation will fall to 2.5% next year.", "KR504"),
    ("Dog owners are 31% less likely to die of heart disease.", "KR504"),
    ("“Patch now, this is being actively exploited,” CISA Director Jen Easterly warned on Tuesday.", "KR505"),
    ("“Healthy soil is the foundation of food security,” the agriculture minister told reporters.", "KR505"),
]


@pytest.mark.parametrize(("sentence", "code"), MORE_FLAGGED, ids=[s[:40] for s, _ in MORE_FLAGGED])
def test_flags_claims_and_quotes_in_other_words(sentence: str, code: str) -> None:
    assert [f.rule.code for f in judge(draft(sentence + "\n"))] == [code]


def test_quotations_in_a_story_are_its_characters_words() -> None:
    story = ("“Where are you going, little fox?” asked the owl.\n\n“To find the moon,” she whispered.\n\n"
             "Professor Hoot declared, “Nobody has ever caught the moon, not once.”\n\n"
             "“Then I will be the first,” he replied.\n")
    assert judge(draft(story)) == []
    assert [f.rule.code for f in judge(draft(story.split("\n\n")[2]))] == ["KR505"]  # alone, it reads as a quote


def test_a_citation_closing_the_paragraph_covers_its_claims() -> None:
    text = "Studies show sleep helps memory.\nResearch suggests naps help too (Mednick, 2003).\n"
    assert judge(draft(text)) == []


def test_a_claim_in_a_fenced_code_block_is_ignored() -> None:
    assert judge(draft("```\nprint('studies show x')\n```\n")) == []


def test_latex_comment_with_a_claim_is_ignored(tmp_path: Path) -> None:
    tex = tmp_path / "c.tex"
    tex.write_text("% studies show that this is hidden\nAbout 50\\% of the text is plain.\n")
    assert judge(readers.read(str(tex))) == []


def test_a_claim_in_latex_is_located_in_its_file(tmp_path: Path) -> None:
    tex = tmp_path / "c.tex"
    tex.write_text("\\section{Intro}\nResearch suggests that 50\\% of patients relapse.\n")
    assert where(judge(readers.read(str(tex))), "KR504") == [("c.tex", 2)]


def test_every_rule_explains_its_headings() -> None:
    for rule in (*rules.RULES, *claims.RULES):
        for heading in ("What it does", "Why it matters", "Example", "How to fix"):
            assert heading in rule.explanation, (rule.code, heading)


def test_link_citations_keeps_documents_immutable() -> None:
    doc = readers.read(str(DRAFTS / "note.md"))
    assert latex.link_citations(doc, []) is not doc
