"""Issue 13: the editor rules on machine-written drafts (KR103, KR104, KR504, KR505), and KR504 on published writing.

Every input here is made up for these tests; the labelled drafts of bench/data/machine-drafts are scored by
bench/machine_drafts.py, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from linear_time import assert_linear

from kratomref.check import check
from kratomref.model import NO_DOCUMENT_EVIDENCE, NO_EVIDENCE, Document, Finding
from kratomref.options import Options
from kratomref.readers.bibtex import read as read_bibtex
from kratomref.readers.text import read_draft
from kratomref.rules import Context, claims, placeholders

CTX = Context(Options())


def draft(text: str) -> Document:
    return read_draft("draft.md", text + "\n", "markdown")


def findings(text: str) -> list[Finding]:
    doc = draft(text)
    return [*claims.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX),
            *placeholders.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)]


def found(text: str, code: str) -> list[int | None]:
    """The lines where the rule `code` reports something."""
    return [f.location.line for f in findings(text) if f.rule.code == code]


# --- KR505: quotations from experts the article never sources ----------------------------------------

ARTICLE = "# Eating Late\n\nMany people eat dinner after nine.\n\n{}\n\nThat is the short answer.\n"


@pytest.mark.parametrize(
    "quotation",
    [
        "Dr. Priya Natarajan, Consultant Cardiologist: “Most people underestimate how much salt hides in bread.”",
        "“Eating late is not the problem most people think it is,” says Dr. Tom Okafor, a gastroenterologist"
        " at St Mary's Hospital.",
        "Laura Chen, a registered dietitian, explains: “Fibre keeps you full for longer. It also feeds the"
        " bacteria that matter.”",
        "According to Dr. Henrik Olsen, “Cold water swimming is a stress, and stress has costs too.”",
        '"Sleep is the cheapest performance enhancer there is," says Professor Anna Kowalczyk of the University'
        " of Leeds.",
        "> “Children copy what they see, not what they are told.” — Dr. Miriam Hale, child psychologist",
        "**Dr. Jane Roe, cardiologist:** “You cannot out-exercise a bad diet, whatever the adverts say.”",
        "Fitness coach Daniel Reyes puts it bluntly: “If you cannot do it for a year, do not start it now.”",
        "“Most claims on supplement labels have never been tested,” a spokesperson for the Consumer Health"
        " Alliance said.",
        "“Fibre is the nutrient most adults forget,” the British Dietetic Association said in a statement.",
        "“Walking after meals flattens the glucose spike,” says nutrition researcher Dr. Omar Haddad.",
        "“I stopped snacking at my desk and lost four kilos,” says Marta, a teacher from Porto.",
        "In the words of Dr. Paul Mensah, “There is no such thing as a safe tan, only a smaller risk.”",
    ],
    ids=["name, title and colon", "says + title + role", "role, explains and colon", "according to",
         "straight quotes with an affiliation", "blockquote with a dash", "bold speaker label",
         "name, verb phrase and colon", "an organisation's spokesperson", "an organisation said in a statement",
         "a role before the name", "a testimonial with says and who she is", "in the words of"],
)
def test_a_quotation_from_an_unsourced_expert_is_reported_on_its_line(quotation: str) -> None:
    assert found(ARTICLE.format(quotation), "KR505") == [5]


def test_a_quotation_of_several_sentences_is_one_finding_on_the_line_that_opens_it() -> None:
    text = ARTICLE.format("Ana Ruiz, a sports physiotherapist, explains: “Rest days are training days.\n"
                          "Muscles rebuild when you stop, not while you run. Skip them and you stall.”")
    assert found(text, "KR505") == [5]
    assert found(text, "KR504") == []


@pytest.mark.parametrize(
    "quotation",
    [
        "“Most supplement claims have never been tested,” Dr. Tom Okafor told The Guardian in March 2023.",
        "“Eat slowly and stop before you are full,” said Ana Ruiz, a nutritionist, in an interview with the"
        " author on 3 May 2024.",
        "“Eat slowly and stop before you are full,” Ruiz said in a 2021 interview with *Men's Health*.",
        "“Eat slowly and stop before you are full,” the dietitian Ana Ruiz told this newspaper.",
        "“Eat slowly and stop before you are full,” says Dr. Ana Ruiz in her [2022 column]"
        "(https://news.example.org/ruiz-column).",
        "“Eat slowly and stop before you are full,” says Dr. Ana Ruiz, a dietitian (Ruiz, 2021).",
        "Dr. Ana Ruiz calls it “the quiet habit”.",
        "Some people say “eat less, move more” and leave it there.",
    ],
    ids=["told an outlet, dated", "an interview with the author", "a dated interview with a magazine",
         "told this newspaper", "a link", "a citation", "a scare quote", "no named source"],
)
def test_a_quotation_with_a_stated_source_or_no_named_speaker_is_quiet(quotation: str) -> None:
    assert found(ARTICLE.format(quotation), "KR505") == []


def test_a_transcripts_and_a_plays_speaker_labels_are_quiet() -> None:
    interview = ("We spoke to the sleep researcher Dr. Ines Walsh on 2 June 2024.\n\n"
                 "**Interviewer:** What is the first thing you ask a patient?\n\n"
                 "**Dr. Walsh:** “What time do you get up on a Sunday?” It tells me more than any diary.\n\n"
                 "**Interviewer:** And naps?\n\n"
                 "**Dr. Walsh:** “Twenty minutes, before three, or not at all.”\n")
    play = ("MARGARET: “You said you would be home by six o'clock.”\n"
            "TOM: “The trains were late again, every single one.”\n"
            "MARGARET: “They are always late when the pub is open.”\n")
    assert found(interview, "KR505") == []
    assert found(play, "KR505") == []


def test_a_storys_dialogue_and_narration_are_quiet() -> None:
    story = ("The ferry was late, as it always was in October.\n\n"
             "“Do you think it will come at all?” Nadia asked.\n\n"
             "“It always comes in the end,” said Captain Morrow, a ferryman of forty years.\n\n"
             "“Always?”\n\n"
             "“Nearly always.”\n\n"
             "The old pier was said to have survived three great storms.\n")
    assert found(story, "KR505") == []
    assert found(story, "KR504") == []


# --- KR103: stock names ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("John Smith, a certified personal trainer, says: “Most beginners lift too heavy in the first month.”",
         "John Smith"),
        ("“Most beginners lift too heavy in the first month,” says Dr. Jane Smith.", "Jane Smith"),
        ("Our expert Max Mustermann recommends stretching every morning.", "Max Mustermann"),
        ("> “The app paid for itself in a week.” — Jane Doe, mother of three", "Jane Doe"),
        ("**Joe Bloggs, 41, Leeds.** He switched banks and saved £200 a year.", "Joe Bloggs"),
        ("“I paid off my card in a year,” says John Smith, 45, from Leeds.", "John Smith"),
    ],
    ids=["John Smith quoted as an expert", "Dr. Jane Smith", "Max Mustermann", "Jane Doe after a dash",
         "Joe Bloggs in a case study", "John Smith in a testimonial"],
)
def test_a_stock_name_is_reported_whatever_the_form(line: str, name: str) -> None:
    [finding] = [f for f in findings(line) if f.rule.code == "KR103"]
    assert finding.location.line == 1 and f'"{name}"' in finding.message


@pytest.mark.parametrize(
    "line",
    ["The court's ruling in Jane Doe v. Roe Corporation set the standard for anonymous plaintiffs.",
     "The appeal in Doe v. Bolton was heard the same day.",
     "Captain John Smith sailed to Virginia in 1607.",
     "John Smith was a common name on the 1881 census."],
    ids=["a court's pseudonym", "Doe v.", "a historical John Smith", "a name in a history"],
)
def test_a_real_use_of_a_stock_name_is_quiet(line: str) -> None:
    assert found(line, "KR103") == []


def test_john_smith_as_an_author_of_a_bibtex_entry_is_quiet() -> None:
    source = "@article{smith2020,\n  author = {Smith, John and Jones, Ann},\n  title = {Soil},\n  year = {2020}\n}\n"
    [ref] = read_bibtex("refs.bib", source).references
    assert [f for f in placeholders.judge(ref, NO_EVIDENCE, CTX) if f.rule.code == "KR103"] == []


# --- KR104: an assistant's leftovers -------------------------------------------------------------------

@pytest.mark.parametrize(
    "line",
    [
        "Sure! Here is a blog post about composting for beginners, written for your audience.",
        "Here's a rewritten version of your introduction:",
        "Here is a short story based on your prompt about a lost dog.",
        "As an AI language model, I cannot verify the accuracy of these statistics.",
        "I hope this helps with your newsletter!",
        "Let me know if you would like me to add more examples or shorten any section.",
        "Feel free to tweak the tone to suit your brand.",
        "You might want to add a paragraph on costs, depending on the target audience.",
        "You can expand this section with the company's own figures.",
        "This post is roughly 1,200 words.",
        "Writing a good meta description for this post requires knowing the main keyword.",
        "(Insert a quote from a local farmer here.)",
        "Please note that the actual documents and links would need to be accessed and verified.",
        "The figures above should be double-checked before publication.",
        "Note: Always ensure that the links provided are from reputable sources.",
        "Remember to update the placeholders with actual research links.",
        "[Insert statistic here]",
        "**Meta description:** Learn how to compost on a balcony in five easy steps.",
        "Note: The statistics and quotes in this article are illustrative.",
    ],
)
def test_a_note_to_the_person_who_asked_is_a_drafting_note(line: str) -> None:
    [finding] = [f for f in findings("# Composting\n\n" + line) if f.rule.code == "KR104"]
    assert finding.location.line == 3


def test_an_assistants_leftover_is_said_to_read_as_a_note_to_the_writer() -> None:
    [finding] = [f for f in findings("I hope this helps!") if f.rule.code == "KR104"]
    assert "reads as an assistant's note to the writer" in finding.message


@pytest.mark.parametrize(
    "line",
    [
        "Note: prices change often; check the operator's site before you travel.",
        "Remember to stretch before running.",
        "Feel free to adjust the recipe to your taste.",
        "Here's how to change a bike tyre in five minutes.",
        "Here is what first-time buyers should know.",
        "Here is the story of how the village got its name.",
        "Below is an example configuration file for the server.",
        "Below are some questions you can ask your landlord.",
        "Let me know in the comments what you think.",
        "Always make sure the links you click in emails come from people you know.",
        "You can add a row to the table with the plus button.",
        "I hope you enjoy your trip.",
        "This is a work of fiction. Names, characters and places are products of the author's imagination.",
    ],
)
def test_advice_to_the_reader_is_not_a_drafting_note(line: str) -> None:
    assert found("# Guide\n\n" + line, "KR104") == []


ANNOUNCED = """# Budgeting

Most people never track what they spend.

{announcement}

**Case 1: The student.** Leo, 20, rounds every purchase up. “It adds up faster than you think,” he says.

**Case 2: The nurse.** Priya budgets by week. “Payday is every fortnight, so months make no sense,” she says.

> “A budget is a plan, not a punishment,” as one planner told a client.

## Getting Started

Open a spreadsheet and list last month's spending.
"""


@pytest.mark.parametrize(
    "announcement",
    ["Below are hypothetical examples that show how different people might budget.",
     "The following case studies are illustrative and do not describe real people.",
     "Here are some fictional profiles to show the method at work."],
)
def test_an_announcement_of_invented_material_names_what_it_covers(announcement: str) -> None:
    [finding] = [f for f in findings(ANNOUNCED.format(announcement=announcement)) if f.rule.code == "KR104"]
    assert finding.location.line == 5
    assert "the 3 quotes and 2 case studies that follow are illustrative material" in finding.message
    assert "must not be published as evidence" in finding.message


def test_an_announced_sample_bibliography_counts_its_entries() -> None:
    text = ("# Sources\n\nSome text here.\n\nBelow is a sample bibliography for the topic.\n\n## References\n\n"
            "1. Okafor, T. (2020). Late meals. *Journal of Eating*, 3, 1-9.\n"
            "2. Ruiz, A. (2019). Slow eating. *Appetite Review*, 8, 20-31.\n")
    [finding] = [f for f in findings(text) if f.rule.code == "KR104"]
    assert finding.location.line == 5 and "the 2 entries of the reference list that follow" in finding.message


# --- KR504: authorities, hearsay, headings ----------------------------------------------------------------

@pytest.mark.parametrize(
    "sentence",
    [
        "The FDA has issued warnings about supplements that contain hidden drugs.",
        "The WHO recommends no more than five grams of salt a day.",
        "Health authorities have raised concerns about energy drinks for teenagers.",
        "The American Heart Association advises adults to limit added sugar.",
        "The Centers for Disease Control and Prevention (CDC) recommends two doses for adults.",
        "Courts have generally held that a verbal agreement can bind a landlord.",
        "Current guidelines recommend screening every three years.",
        "Green tea is said to have a lower risk of heart disease than coffee.",
        "Turmeric is believed to reduce inflammation in the joints.",
        "Vitamin D is thought to protect against respiratory infections.",
        "Cold showers are reported to boost the immune system.",
        "The Mediterranean diet is widely considered the healthiest diet in the world.",
        "It is said that honey never spoils.",
        "Large retailers have reported that returns doubled after the change.",
        "Yoga is often considered one of the best exercises for back pain.",
    ],
)
def test_an_uncited_authority_or_hearsay_is_an_unsupported_claim(sentence: str) -> None:
    [finding] = [f for f in findings("# Health\n\n" + sentence) if f.rule.code == "KR504"]
    assert finding.location.line == 3


@pytest.mark.parametrize(
    "text",
    [
        "The WHO recommends no more than five grams of salt a day [3].",
        "Green tea is said to have a lower risk of heart disease than coffee (Lee et al., 2019).",
        "A matrix is said to be positive definite if all its eigenvalues are positive.",
        "I think the small family-run places beat the big dinner shows.",
        "Yoga is often considered a form of exercise.",
        "Further Reading and Research Links",
        "## What the Research Says",
        "**Studies Show Mixed Results**",
        "Studies Show Mixed Results\n==========================",
        "The values are updated according to the Bellman equation.",
        "The output is sorted according to Table 2.",
        "The software has been documented using Sphinx and is available on GitHub.",
        "All source code and data generated for this study are available at the project's repository.",
        "This work was supported by the National Science Foundation under grant 12345.",
        "# Acknowledgements\n\nWe thank the reviewers. Research suggests that reviewers improve papers.",
        "| Model | Note |\n|---|---|\n| VAE | VAEs have been shown to produce useful representations |",
        "> Recent work has found that most benchmarks leak into training data.",
    ],
    ids=["cited", "cited author-year", "a definition", "an opinion", "a classification", "a title-case heading",
         "a Markdown heading", "a bold heading", "a setext heading", "according to an equation", "according to a table",
         "software documented", "data availability", "funding", "an acknowledgements section", "a table",
         "a block quote"],
)
def test_what_is_no_unsupported_claim_is_quiet(text: str) -> None:
    assert found(text, "KR504") == []


def test_a_sentence_that_refers_back_to_a_cited_work_is_quiet() -> None:
    text = ("## Dense retrieval\n\nDPR [7] trains two encoders on question-passage pairs.\n\n"
            "Their experiments showed that in-batch negatives work best. DPR found that one hard negative helps.\n")
    assert found(text, "KR504") == []


def test_the_same_sentence_with_nothing_cited_before_it_is_reported() -> None:
    assert found("## Dense retrieval\n\nTheir experiments showed that in-batch negatives work best.", "KR504") == [3]


def test_a_claim_whose_support_follows_in_its_paragraph_is_quiet() -> None:
    assert found("Recent work has revealed where deep networks fail. One survey lists twelve cases [4].",
                 "KR504") == []


# --- through the check, as a user runs it ---------------------------------------------------------------

def test_a_machine_written_draft_gets_each_finding_on_its_line(tmp_path: Path) -> None:
    text = ("Certainly! Here's a friendly, SEO-optimised article on houseplants.\n\n"
            "# Houseplants for Dark Flats\n\n"
            "Snake plants are believed to clean the air of a whole room.\n\n"
            "Horticulturist Dr. Lena Park, Plant Scientist: “Most houseplants die of too much water.”\n\n"
            "Pothos grows in almost any light [1].\n\n"
            "I hope this helps! Let me know if you'd like a version for offices.\n\n"
            "## References\n\n"
            "1. Brandt, K. (2021). Low-light foliage plants. *Indoor Horticulture*, 4, 10-19.\n")
    path = tmp_path / "plants.md"
    path.write_text(text, encoding="utf-8")
    report = check(Options(paths=(str(path),), offline=True, use_cache=False, archive=False))
    editor = sorted({(f.rule.code, f.location.line) for f in report.findings
                     if f.rule.code in ("KR103", "KR104", "KR504", "KR505")})
    assert editor == [("KR104", 1), ("KR104", 11), ("KR504", 5), ("KR505", 7)]


# --- long runs: linear time ---------------------------------------------------------------------------------


def _judge(doc: Document) -> None:
    list(claims.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX))
    list(placeholders.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX))


@pytest.mark.parametrize(
    "unit",
    ["“A. ", "Dr. A, ", "Dr. John Smith, a ", "”, says the a ", "” — A ", "**A:** “", "Aa Bb of ", "is said to ",
     "According to A ", "Here is a draft ", "you can add the ", "please note that the links ", "A (AB) ",
     "Jane Doe v. ", "The Centers for A ", "Their ", "[a](" + " " * 10],
)
def test_a_long_run_of_a_cue_is_judged_in_linear_time(unit: str) -> None:
    """A run of n characters and one of 4n: quadratic work took minutes at 100,000 characters."""
    assert_linear(lambda n: draft("# Draft\n\n" + unit * (n // len(unit))), _judge, 10_000, what=f"a run of {unit!r}")
