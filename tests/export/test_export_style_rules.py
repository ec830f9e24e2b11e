"""What the issue found wrong in formatted exports, each on an input of its own: MLA page ranges, doubled
punctuation after a title ending in ? or ., repeated-author dashes, year suffixes, curly apostrophes; and the
title capitals, MLA's organisation-as-publisher, Citing Medicine's subtitles, American punctuation inside inner
quotes and CSL's decoration reset that kratomref adds to pandoc's citeproc. (The cases of one parametrized test
share one bibliography, an entry by an author of its own each, so that one pandoc run renders them all; each
case reads its own entry's line.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pandoc_runs import remember_pandoc_runs

from kratomref.cli import main
from kratomref.export.render import render
from kratomref.export.styles import Style
from kratomref.export.titles import is_sentence_case, keep_written_case


@pytest.fixture(autouse=True)
def _pandoc_runs_once(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    remember_pandoc_runs(monkeypatch, tmp_path_factory)  # pandoc_runs.py: a run made is answered with its output


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["export", "--offline", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def bib(tmp_path: Path, text: str) -> str:
    path = tmp_path / "refs.bib"
    path.write_text(text, encoding="utf-8")
    return str(path)


def csl_json(tmp_path: Path, items: list[dict[str, Any]]) -> str:
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return str(path)


def article(key: str, author: str, title: str, year: int, pages: str = "1--9", extra: str = "") -> str:
    return (f"@article{{{key},\n  author = {{{author}}},\n  title = {{{title}}},\n  journal = {{Journal of "
            f"Tests}},\n  volume = {{4}},\n  pages = {{{pages}}},\n  year = {{{year}}}{extra}\n}}\n\n")


# Authors for the cases that share a bibliography: no two alike, so that no entry changes how another is
# printed (no repeated-author dash, no year suffix), and none of the names is a word of a title or journal.
FAMILIES = ("Gaul", "Hale", "Ibsen", "Jaeger", "Kovacs")


def cases_bib(tmp_path: Path, titles_and_pages: list[tuple[str, str]]) -> str:
    """One bibliography of an article per case, the n-th by FAMILIES[n]."""
    return bib(tmp_path, "".join(article(f"case{n}", f"{FAMILIES[n]}, Anna", title, 2019, pages)
                                 for n, (title, pages) in enumerate(titles_and_pages)))


def line_of(out: str, family: str) -> str:
    """The one line of the output that is the entry by `family`."""
    [line] = [line for line in out.splitlines() if family in line]
    return line


# --- page ranges -------------------------------------------------------------------------------------------


PAGE_RANGES = [("1--24", "pp. 1–24"), ("9--10", "pp. 9–10"), ("138--151", "pp. 138–51"),
               ("1198--1204", "pp. 1198–204"), ("45", "p. 45")]


@pytest.mark.parametrize(("pages", "printed"), PAGE_RANGES,
                         ids=["1-24 in full", "9-10 in full", "138-151 last two", "1198-1204 minimal two",
                              "one page"])
def test_mla_page_ranges_follow_the_handbook(tmp_path: Path, pages: str, printed: str) -> None:
    # MLA 9: the second number in full up to 99, then its last two digits (at least) when the rest is the same
    out = run("--style", "mla", cases_bib(tmp_path, [("Alpha", p) for p, _ in PAGE_RANGES]))
    family = FAMILIES[[p for p, _ in PAGE_RANGES].index(pages)]
    assert f", {printed}." in line_of(out, family)


# --- doubled punctuation -------------------------------------------------------------------------------------


PUNCTUATED_TITLES = ["Does kratom relieve pain?", "Kratom use in the U.S.", "Kratom at last!"]


@pytest.mark.parametrize("style", ["apa", "mla", "chicago", "ieee", "vancouver"])
@pytest.mark.parametrize("title", PUNCTUATED_TITLES, ids=["question mark", "abbreviation period", "exclamation mark"])
def test_a_title_ending_in_punctuation_is_not_followed_by_more(tmp_path: Path, style: str, title: str) -> None:
    together = run("--style", style, cases_bib(tmp_path, [(t, "1--9") for t in PUNCTUATED_TITLES]))
    out = line_of(together, FAMILIES[PUNCTUATED_TITLES.index(title)])
    end = title[-1]
    assert "Journal of Tests" in out and title[-2:] in out  # "U.S." is not lower-cased either
    doubled = ["..", ".”.", ".”,"] if end == "." else [end + p for p in (".", ",", "”.", "”,", ",”", ".”")]
    assert not [d for d in doubled if d in out], out


# --- repeated-author dashes ------------------------------------------------------------------------------------


def test_mla_replaces_a_repeated_author_with_three_em_dashes(tmp_path: Path) -> None:
    path = bib(tmp_path, article("b", "Gaul, Anna", "Beta", 2019) + article("a", "Gaul, Anna", "Alpha", 2018)
               + article("c", "Lee, Kim", "Gamma", 2017))
    lines = run("--style", "mla", path).splitlines()
    assert lines[0].startswith("Gaul, Anna. “Alpha.”")
    assert lines[1].startswith("———. “Beta.”")
    assert lines[2].startswith("Lee, Kim.")


def test_the_dash_compares_the_printed_names_not_how_they_are_stored(tmp_path: Path) -> None:
    # one agency stored as a family name only, once as a literal: the same printed author
    items = [{"id": "x", "type": "book", "title": "Alpha", "author": [{"family": "World Health Organization"}],
              "issued": {"date-parts": [[2019]]}, "publisher": "Press"},
             {"id": "y", "type": "book", "title": "Beta", "author": [{"literal": "World Health Organization"}],
              "issued": {"date-parts": [[2020]]}, "publisher": "Press"}]
    lines = run("--style", "mla", csl_json(tmp_path, items)).splitlines()
    assert lines[0].startswith("World Health Organization. ")
    assert lines[1].startswith("———. ")


def test_two_works_that_begin_with_the_same_title_keep_both_titles(tmp_path: Path) -> None:
    # two agencies' pages titled "Kratom": MLA begins each with its title (author = publisher), no dash
    text = "".join(
        f"@online{{{key},\n  author = {{{{{org}}}}},\n  title = {{Kratom}},\n  organization = {{{org}}},\n"
        f"  year = {{{year}}},\n  url = {{https://example.org/{key}}}\n}}\n\n"
        for key, org, year in (("dea", "Drug Enforcement Administration", 2016),
                               ("nida", "National Institute on Drug Abuse", 2019)))
    lines = run("--style", "mla", bib(tmp_path, text)).splitlines()
    assert lines == ["“Kratom.” Drug Enforcement Administration, 2016, https://example.org/dea.",
                     "“Kratom.” National Institute on Drug Abuse, 2019, https://example.org/nida."]


def test_the_dash_is_in_word_and_html_too(tmp_path: Path) -> None:
    path = bib(tmp_path, article("a", "Gaul, Anna", "Alpha", 2018) + article("b", "Gaul, Anna", "Beta", 2019))
    assert '<div class="csl-entry" id="b">———. “Beta.”' in run("--style", "mla", "--to", "html", path)
    out = tmp_path / "refs.docx"
    CliRunner().invoke(main, ["export", "--offline", "--style", "mla", "--to", "docx", "-o", str(out), path],
                       catch_exceptions=False)
    import docx

    paragraphs = [p.text for p in docx.Document(str(out)).paragraphs if p.text.strip()]
    assert paragraphs[1].startswith("———. “Beta.”")


# --- year suffixes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "first", "second"), [("apa", "(2019a)", "(2019b)"),
                                                        ("chicago", "2019a.", "2019b.")])
def test_same_author_same_year_gets_year_suffixes(tmp_path: Path, style: str, first: str, second: str) -> None:
    path = bib(tmp_path, article("z", "Gaul, Anna", "Zeta", 2019) + article("b", "Gaul, Anna", "Beta", 2019))
    lines = run("--style", style, path).splitlines()
    assert first in lines[0] and "Beta" in lines[0]
    assert second in lines[1] and "Zeta" in lines[1]


# --- apostrophes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "html", "markdown"])
def test_apostrophes_and_quotes_are_curly(tmp_path: Path, fmt: str) -> None:
    path = bib(tmp_path, article("a", "O'Brien, Anna", "Kratom's effects on ``pain''", 2019))
    out = run("--style", "apa", "--to", fmt, path)
    # APA is American: the period goes inside the closing quotation mark
    assert "Kratom’s effects on “pain.”" in out and "O’Brien" in out
    assert "'" not in out


# --- title capitals ------------------------------------------------------------------------------------------


def test_a_proper_noun_in_a_sentence_case_title_keeps_its_capital(tmp_path: Path) -> None:
    path = bib(tmp_path, article("a", "Gaul, Anna", "Kratom use among workers in Malaysia and Thailand", 2019))
    assert "Kratom use among workers in Malaysia and Thailand." in run("--style", "apa", path)


def test_a_title_case_title_is_sentence_cased_for_apa_and_kept_for_mla(tmp_path: Path) -> None:
    path = bib(tmp_path, article("a", "Gaul, Anna", "Pharmacology of Kratom: An Emerging Botanical Agent", 2019))
    assert "Pharmacology of kratom: An emerging botanical agent." in run("--style", "apa", path)
    assert "“Pharmacology of Kratom: An Emerging Botanical Agent.”" in run("--style", "mla", path)


BINOMIALS = [r"\emph{Mitragyna speciosa}", "{Mitragyna speciosa}"]


@pytest.mark.parametrize("written", BINOMIALS, ids=["italic binomial", "braced binomial"])
@pytest.mark.parametrize(("style", "printed"), [("apa", "Alkaloids of Mitragyna speciosa leaves."),
                                                ("mla", "“Alkaloids of Mitragyna speciosa Leaves.”"),
                                                ("chicago", "“Alkaloids of Mitragyna speciosa Leaves.”")])
def test_a_binomial_keeps_its_lower_case_epithet_in_every_style(
    tmp_path: Path, written: str, style: str, printed: str
) -> None:
    path = cases_bib(tmp_path, [(f"Alkaloids of {w} Leaves", "1--9") for w in BINOMIALS])
    assert printed in line_of(run("--style", style, path), FAMILIES[BINOMIALS.index(written)])


def test_a_title_braced_whole_is_still_title_cased(tmp_path: Path) -> None:
    # "{{How to use the plugin}}" stops BibTeX lower-casing; it does not ask a title-case style to leave "use"
    path = bib(tmp_path, article("a", "Gaul, Anna", "{How to use the SecureAssist plugin}", 2019))
    assert "“How to Use the SecureAssist Plugin.”" in run("--style", "mla", path)


def test_acronyms_and_inner_capitals_are_kept(tmp_path: Path) -> None:
    path = bib(tmp_path, article("a", "Gaul, Anna", "The FDA and BioMed Reports on mRNA Vaccines", 2019))
    assert "The FDA and BioMed reports on mRNA vaccines." in run("--style", "apa", path)


def test_citing_medicine_lower_cases_a_subtitle_and_apa_capitalises_it(tmp_path: Path) -> None:
    path = bib(tmp_path, article("a", "Gaul, Anna", "The abuse potential of kratom: implications for Malaysia",
                                 2019))
    assert "The abuse potential of kratom: implications for Malaysia." in run("--style", "vancouver", path)
    assert "The abuse potential of kratom: Implications for Malaysia." in run("--style", "apa", path)


def test_sentence_case_is_told_from_title_case() -> None:
    assert is_sentence_case("Kratom (Mitragyna speciosa) dependence, withdrawal symptoms and craving")
    assert not is_sentence_case("Following the Roots of Kratom: The Evolution of an Enhancer")
    assert not is_sentence_case("Kratom")  # nothing to tell by: capitals are left to the reader
    # pandoc's words and the writer's differ: nothing is changed
    assert keep_written_case("kratom in malaysia", "Kratom in Malaysia today") == "kratom in malaysia"


# --- MLA: an organisation that is author and publisher -----------------------------------------------------------


def test_mla_begins_with_the_title_when_the_author_is_the_publisher(tmp_path: Path) -> None:
    text = ("@book{who,\n  author = {{World Health Organization (WHO)}},\n  title = {Kratom Report},\n"
            "  publisher = {World Health Organization},\n  year = {2021}\n}\n\n"
            "@book{other,\n  author = {{Kratom Council}},\n  title = {Kratom Facts},\n"
            "  publisher = {World Health Organization},\n  year = {2020}\n}\n")
    out = run("--style", "mla", bib(tmp_path, text))
    assert "Kratom Council. Kratom Facts. World Health Organization, 2020." in out
    assert "Kratom Report. World Health Organization, 2021." in out and "(WHO)" not in out


# --- American punctuation inside inner quotes, and a decoration reset ---------------------------------------------


def test_a_period_goes_inside_the_inner_quotes_too(tmp_path: Path) -> None:
    path = bib(tmp_path, article("a", "Gaul, Anna", "Reading ``the Roots''", 2019))
    assert "“Reading ‘the Roots.’”" in run("--style", "mla", path)


CASE_NAME_STYLE = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><id>case-names</id><title>Case names</title><updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation><layout><text variable="title"/></layout></citation>
  <bibliography><layout suffix="."><text variable="title" font-style="italic"/></layout></bibliography>
</style>
"""


@pytest.mark.parametrize(("fmt", "printed"), [
    ("html", '<em>Lessard <span style="font-style:normal;">v.</span> Schmidt</em>.'),
    ("latex", "\\emph{Lessard \\textup{v.} Schmidt}."),
    ("text", "Lessard v. Schmidt."),
])
def test_a_decoration_reset_inside_italics_is_kept(tmp_path: Path, fmt: str, printed: str) -> None:
    style_path = tmp_path / "case-names.csl"
    style_path.write_text(CASE_NAME_STYLE, encoding="utf-8")
    item = {"id": "l", "type": "legal_case", "title": 'Lessard <span class="nodecor">v.</span> Schmidt'}
    [entry] = render([item], Style("case-names", style_path, "Case names"), fmt)
    assert entry.text == printed
