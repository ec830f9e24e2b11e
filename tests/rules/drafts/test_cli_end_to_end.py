"""Issue 9 as a user runs it: `kratomref check` on a LaTeX paper, a pandoc note, Markdown drafts and a .docx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kratomref.cli import main

DRAFTS = Path(__file__).parents[2] / "fixtures" / "drafts"
EDITOR_CODES = ("KR501", "KR502", "KR503", "KR504", "KR505")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--offline", *args])
    return result.exit_code, result.output


def report(*paths: Path) -> dict[str, Any]:
    code, out = run("-f", "json", *(str(p) for p in paths))
    assert code in (1, 3), out
    data: dict[str, Any] = json.loads(out)
    return data


def editor_findings(data: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {(f["code"], Path(f["file"]).name, f["line"]) for f in data["findings"] if f["code"] in EDITOR_CODES}


def uncited_bib(tmp_path: Path) -> tuple[str, str]:
    """--config for a configuration that checks every entry of a .bib and reports the uncited ones."""
    config = tmp_path / "kratomref.toml"
    config.write_text("uncited-bib = true\n")
    return "--config", str(config)


def test_latex_paper_reports_the_missing_key_and_checks_the_entries_it_prints() -> None:
    data = report(DRAFTS / "latex" / "paper.tex")
    assert editor_findings(data) == {("KR501", "paper.tex", 6)}
    # the .bib is checked in the same run: the entries BibTeX prints (the cited ones) are references of the report
    assert [r["key"] for r in data["references"]] == ["hughes2018", "baker2008"]
    cited = [(Path(c["file"]).name, c["line"], c["target"], c["resolved"]) for c in data["citations"]]
    assert cited == [("paper.tex", 4, "hughes2018", "hughes2018"), ("paper.tex", 6, "hughes2018", "hughes2018"),
                     ("paper.tex", 6, "missingkey", None), ("methods.tex", 2, "baker2008", "baker2008")]


def test_uncited_bib_reports_the_uncited_bib_entry(tmp_path: Path) -> None:
    code, out = run(*uncited_bib(tmp_path), "-f", "json", str(DRAFTS / "latex" / "paper.tex"))
    assert code == 1, out
    data = json.loads(out)
    assert editor_findings(data) == {("KR501", "paper.tex", 6), ("KR502", "refs.bib", 15)}
    assert [r["key"] for r in data["references"]] == ["hughes2018", "baker2008", "unused2001"]


def test_latex_text_report_shows_the_bib_entry_finding_and_a_summary_per_document(tmp_path: Path) -> None:
    code, out = run(*uncited_bib(tmp_path), str(DRAFTS / "latex" / "paper.tex"))
    assert code == 1
    assert "refs.bib:15: KR502 uncited-reference [warning] entry unused2001 is never cited" in out
    assert "paper.tex:6:51: KR501 undefined-citation [error]" in out
    assert ("paper.tex: 4 in-text citations, 1 undefined, 1 uncited entry, 0 unsupported claims, "
            "0 unsourced quotes.") in out


def test_latex_bibliography_list_include_and_nocite(tmp_path: Path) -> None:
    (tmp_path / "bib").mkdir()
    (tmp_path / "chapters").mkdir()
    (tmp_path / "bib" / "one.bib").write_text(
        "@article{a, author={Ames, B.}, title={One}, journal={J}, year={2001}}\n"
        "@article{b, author={Bell, C.}, title={Two}, journal={J}, year={2002}}\n")
    (tmp_path / "bib" / "two.bib").write_text("@book{c, author={Cole, D.}, title={Three}, year={2003}}\n")
    (tmp_path / "chapters" / "intro.tex").write_text("Background \\footcite{c}.\n\\include{main}\n")
    (tmp_path / "main.tex").write_text(
        "\\include{chapters/intro}\n"
        "Text \\cite*{a} and 10\\% more. % \\cite{hidden}\n"
        "\\begin{verbatim}\n\\cite{inverbatim}\n\\end{verbatim}\n"
        "\\bibliography{bib/one, bib/two}\n")
    data = report(tmp_path / "main.tex")
    assert editor_findings(data) == set() and {r["key"] for r in data["references"]} == {"a", "c"}
    code, out = run(*uncited_bib(tmp_path / "bib"), "-f", "json", str(tmp_path / "main.tex"))
    assert code == 3, out
    data = json.loads(out)
    assert editor_findings(data) == {("KR502", "one.bib", 2)}
    assert {c["target"] for c in data["citations"]} == {"a", "c"}

    (tmp_path / "main.tex").write_text("\\nocite{*}\nText \\cite{a}.\n\\bibliography{bib/one,bib/two}\n")
    assert editor_findings(report(tmp_path / "main.tex")) == set()


def test_pandoc_note_with_a_list_of_bibliographies_in_bibtex_and_csl_json(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text((DRAFTS / "note.bib").read_text())
    (tmp_path / "more.json").write_text(json.dumps(indent=1, obj=[
        {"id": "diekelmann2010", "type": "article-journal", "title": "The memory function of sleep",
         "author": [{"family": "Diekelmann", "given": "S."}], "issued": {"date-parts": [[2010]]}},
        {"id": "neverused", "type": "book", "title": "Unused", "author": [{"family": "Nobody", "given": "N."}],
         "issued": {"date-parts": [[2001]]}},
    ]))
    note = tmp_path / "note.md"
    note.write_text((DRAFTS / "note.md").read_text().replace(
        "bibliography: note.bib", "bibliography:\n  - refs.bib\n  - more.json"))
    assert "neverused" not in {r["key"] for r in report(note)["references"]}, "pandoc prints only what is cited"
    code, out = run(*uncited_bib(tmp_path), "-f", "json", str(note))
    assert code == 3, out
    data = json.loads(out)
    line = 1 + (tmp_path / "more.json").read_text().split('"neverused"')[0].count("\n")
    [uncited] = [f for f in data["findings"] if f["code"] == "KR502"]
    assert editor_findings(data) == {("KR502", "more.json", line)} and uncited["key"] == "neverused"
    assert all(c["resolved"] for c in data["citations"])


def test_pandoc_fixture_reports_the_key_missing_from_its_bibliography() -> None:
    data = report(DRAFTS / "note.md")
    assert editor_findings(data) == {("KR501", "note.md", 6)}
    assert {c["target"] for c in data["citations"]} == {"walker2009", "stickgold2005", "diekelmann2010"}


def test_numeric_draft_end_to_end() -> None:
    data = report(DRAFTS / "numeric-draft.md")
    assert editor_findings(data) == {("KR501", "numeric-draft.md", 4), ("KR502", "numeric-draft.md", 13)}
    assert [(c["text"], c["resolved"]) for c in data["citations"]] == [
        ("[1]", "ref-1"), ("[2, 3]", "ref-2"), ("[2, 3]", "ref-3"), ("[5]", None)]


def test_author_year_draft_end_to_end() -> None:
    data = report(DRAFTS / "author-year-draft.md")
    assert editor_findings(data) == {("KR503", "author-year-draft.md", 3), ("KR501", "author-year-draft.md", 4)}
    [mismatch] = [f for f in data["findings"] if f["code"] == "KR503"]
    assert "ref-1 (Hassan et al., 2013)" in mismatch["message"]


PARAGRAPHS = [
    "Bees in decline",  # 1
    "",  # 2: an empty paragraph still counts
    "Studies show that neonicotinoids harm wild bees.",  # 3: KR504
    "Honey bees pollinate many crops [1]. Wild bees matter too [3].",  # 4: KR501, the list has two items
    "Dr. Maria Lopez, an entomologist at the University of Leeds, said: “We are losing pollinators faster "
    "than we can count them.”",  # 5: KR505
    "In my view, every garden can help. The so-called “bee hotel” is popular.",  # 6: opinion, scare quotes
    "“Look at that one,” said Anna, pointing at the lavender.",  # 7: dialogue
    "Write to bees@example.org for the data. Bees are insects.",  # 8: e-mail, common knowledge
    "References",  # 9
    "1. Klein AM, Vaissière BE, Cane JH, et al. Importance of pollinators in changing landscapes for world "
    "crops. Proc R Soc B. 2007;274:303-313.",  # 10
    "2. Potts SG, Biesmeijer JC, Kremen C, et al. Global pollinator declines: trends, impacts and drivers. "
    "Trends Ecol Evol. 2010;25:345-353.",  # 11: KR502, never cited
]


@pytest.fixture
def bees(tmp_path: Path) -> Path:
    import docx

    document = docx.Document()
    for text in PARAGRAPHS:
        document.add_paragraph(text)
    path = tmp_path / "bees.docx"
    document.save(str(path))
    return path


def test_docx_draft_end_to_end_located_by_paragraph(bees: Path) -> None:
    data = report(bees)
    assert data["documents"] == [{"file": str(bees), "format": "docx"}]
    assert editor_findings(data) == {("KR504", "bees.docx", 3), ("KR501", "bees.docx", 4),
                                     ("KR505", "bees.docx", 5), ("KR502", "bees.docx", 11)}
    assert [(c["line"], c["text"], c["resolved"]) for c in data["citations"]] == [
        (4, "[1]", "ref-1"), (4, "[3]", None)]


def test_docx_text_report_counts_claims_and_quotes(bees: Path) -> None:
    code, out = run(str(bees))
    assert code == 1
    assert "bees.docx:5: KR505 unsourced-quote [warning] quotation attributed to Dr. Maria Lopez" in out
    assert (f"{bees}: 2 in-text citations, 1 undefined, 1 uncited entry, 1 unsupported claim, "
            "1 unsourced quote.") in out


def test_explain_kr504_says_what_triggers_it() -> None:
    result = CliRunner().invoke(main, ["explain", "KR504"])
    assert result.exit_code == 0
    for cue in ("studies/research", "has been shown", "according to", "40% of patients", "published in",
                "Not flagged"):
        assert cue in result.output


def test_a_draft_that_cites_nothing_counts_its_whole_list_as_uncited(tmp_path: Path) -> None:
    path = tmp_path / "plain.md"
    path.write_text("# Note\n\nPlain text about parks.\n\n## References\n\n1. A. Smith (2001). Parks. J. Parks.\n"
                    "2. B. Jones (2002). Trees. J. Trees.\n")
    code, out = run(str(path))
    assert code == 3  # a warning only, and offline: some references stay unverified
    assert "plain.md:5: KR502 uncited-reference [warning] the text cites none of the 2 entries" in out
    assert f"{path}: 0 in-text citations, 0 undefined, 2 uncited entries," in out


def test_the_overall_undefined_count_is_what_kr501_reports(tmp_path: Path) -> None:
    """A KR503 mismatch names its entry and a bracketed number in a draft without a list is not known
    to be a citation: neither is undefined, in the summary line or in the JSON summary."""
    mismatch = tmp_path / "mismatch.md"
    mismatch.write_text("# Draft\n\nKratom eases pain (Hassan et al., 2014). Others disagree (Smith, 2019).\n\n"
                        "## References\n\n1. Hassan, Z., Muzaimi, M., & Navaratnam, V. (2013). From Kratom to "
                        "mitragynine. Neuroscience and Biobehavioral Reviews, 37(2), 138-151.\n")
    no_list = tmp_path / "no-list.md"
    no_list.write_text("# Note\n\nThe shop sells kit [3] for the tent.\n")
    code, out = run(str(mismatch), str(no_list))
    assert code == 1
    assert out.rstrip().endswith("3 in-text citations, 1 undefined.")
    summary = report(mismatch, no_list)["summary"]
    assert (summary["citations"], summary["undefined_citations"]) == (3, 1)
