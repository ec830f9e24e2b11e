"""Formatted exports through pandoc's citeproc: .bib entries as pandoc's biblatex reader reads them, LaTeX and
Word output, keys of any case or script, an entry a style leaves empty, and a missing pandoc."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pandoc_runs import remember_pandoc_runs

from kratomref.cli import main


@pytest.fixture(autouse=True)
def _pandoc_runs_once(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    remember_pandoc_runs(monkeypatch, tmp_path_factory)  # pandoc_runs.py: a run made is answered with its output


BIB = r"""@article{Smith2019,
  author  = {Smith, Anna and {Micro Focus}},
  title   = {Alkaloids of \emph{Mitragyna speciosa} leaves},
  journal = {Journal of Tests},
  volume  = {3},
  number  = {2},
  pages   = {1--24},
  year    = {2019}
}

@book{müller2020ü,
  author    = {M{\"u}ller, Jan},
  editor    = {Doe, Jane},
  title     = {Kratom},
  publisher = {Press},
  address   = {Berlin},
  year      = {2020}
}

@article{short2018,
  author  = {Lee, Kim},
  title   = {Short},
  journal = {Journal of Tests},
  pages   = {9--10},
  year    = {2018}
}
"""


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["export", "--offline", *args], env=env, catch_exceptions=False)


@pytest.fixture
def bib(tmp_path: Path) -> Path:
    path = tmp_path / "refs.bib"
    path.write_text(BIB, encoding="utf-8")
    return path


def test_capital_and_unicode_keys_keep_their_ids(bib: Path) -> None:
    html = run("--style", "ieee", "--to", "html", str(bib))
    assert html.exit_code == 0, html.output
    assert 'id="Smith2019"' in html.stdout and 'id="müller2020ü"' in html.stdout
    latex = run("--style", "apa", "--to", "latex", str(bib)).stdout
    assert "\\bibitem{Smith2019}" in latex and "\\bibitem{müller2020ü}" in latex


def test_emph_stays_italic_in_html_and_docx(bib: Path, tmp_path: Path) -> None:
    # pandoc's biblatex reader sentence-cases an English title's unbraced words; words in italics (a species, a
    # work's title) keep the case they are written in.
    html = run("--style", "apa", "--to", "html", str(bib)).stdout
    assert "Alkaloids of <em>Mitragyna speciosa</em> leaves" in html
    out = tmp_path / "bib.docx"
    result = run("--style", "apa", "--to", "docx", "-o", str(out), str(bib))
    assert result.exit_code == 0, result.output
    import docx

    document = docx.Document(str(out))
    runs = [r for p in document.paragraphs for r in p.runs]
    italic = "".join(r.text for r in runs if r.italic)
    assert "Mitragyna speciosa" in italic and "Alkaloids" not in italic


def test_organisation_author_is_kept_whole(bib: Path) -> None:
    text = run("--style", "apa", str(bib)).stdout
    assert "Smith, A., & Micro Focus. (2019)." in text
    assert "Focus, M." not in text


def test_mla_page_ranges_are_printed_in_full(bib: Path) -> None:
    text = run("--style", "mla", str(bib)).stdout
    assert "pp. 1–24" in text and "pp. 9–10" in text


def test_editor_and_place_survive(bib: Path) -> None:
    # Chicago 18 (14.131) no longer asks for the place of publication; the style's book layout drops it
    text = run("--style", "chicago", str(bib)).stdout
    assert "Müller, Jan. 2020. Kratom. Edited by Jane Doe. Press." in text


def test_latex_is_a_thebibliography_with_the_number_left_to_bibitem(bib: Path) -> None:
    latex = run("--style", "ieee", "--to", "latex", str(bib)).stdout
    assert latex.startswith("\\begin{thebibliography}{9}") and latex.rstrip().endswith("\\end{thebibliography}")
    assert latex.count("\\bibitem{") == 3
    assert "[1]" not in latex, "\\bibitem numbers the entries; the style's number is not repeated"
    assert "\\emph{Mitragyna speciosa}" in latex


def test_markers_in_latex_and_markdown(bib: Path) -> None:
    latex = run("--mark-problems", "--to", "latex", str(bib)).stdout
    assert latex.count("\\textbf{[unverified]} ") + latex.count("\\textbf{[problem]} ") == 3
    markdown = run("--mark-problems", "--to", "markdown", str(bib)).stdout
    assert markdown.count("**[unverified]** ") + markdown.count("**[problem]** ") == 3


def test_docx_is_refused_on_a_terminal(bib: Path) -> None:
    result = run("--to", "docx", str(bib))
    assert result.exit_code == 2 and "-o FILE" in result.output


def test_docx_holds_one_paragraph_per_entry_and_the_markers(bib: Path, tmp_path: Path) -> None:
    out = tmp_path / "bib.docx"
    assert run("--mark-problems", "--to", "docx", "-o", str(out), str(bib)).exit_code == 0
    assert zipfile.is_zipfile(out)
    import docx

    texts = [p.text for p in docx.Document(str(out)).paragraphs if p.text.strip()]
    assert len(texts) == 3 and all(t.startswith(("[unverified] ", "[problem] ")) for t in texts)


EMPTY_STYLE = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><id>titles-only</id><title>Titles only</title><updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation><layout><text variable="title"/></layout></citation>
  <bibliography><layout><text variable="title"/></layout></bibliography>
</style>
"""


def test_an_entry_the_style_renders_empty_is_named_not_a_crash(tmp_path: Path) -> None:
    style = tmp_path / "titles-only.csl"
    style.write_text(EMPTY_STYLE, encoding="utf-8")
    refs = tmp_path / "refs.json"
    refs.write_text('[{"id": "a", "type": "book", "title": "Alpha"}, {"id": "NoTitle", "type": "book"}]',
                    encoding="utf-8")
    result = run("--style", str(style), str(refs))
    assert result.exit_code == 0
    assert result.stdout == "Alpha\n"
    assert "renders empty: NoTitle" in result.stderr


@pytest.mark.parametrize("value", ["", "/no/such/pandoc"], ids=["turned off", "a binary that is not there"])
def test_missing_pandoc_names_the_export_extra(bib: Path, value: str) -> None:
    result = run(str(bib), env={"KRATOMREF_PANDOC": value, "PATH": ""})
    assert result.exit_code == 2
    assert "pip install 'kratomref[export]'" in result.output
    assert "Traceback" not in result.output


def test_data_formats_need_no_pandoc(bib: Path) -> None:
    result = run("--to", "bibtex", str(bib), env={"KRATOMREF_PANDOC": ""})
    assert result.exit_code == 0 and "@article{Smith2019," in result.stdout


def test_csl_json_of_a_bib_entry_is_what_pandoc_reads(bib: Path) -> None:
    import json

    items = {i["id"]: i for i in json.loads(run("--to", "csl-json", str(bib)).stdout)}
    # the italic binomial kept as written, marked so that no style's text case changes it
    assert items["Smith2019"]["title"] == 'Alkaloids of <i><span class="nocase">Mitragyna speciosa</span></i> leaves'
    assert items["Smith2019"]["author"][1] == {"literal": "Micro Focus"}
    assert items["müller2020ü"]["editor"] == [{"family": "Doe", "given": "Jane"}]
    assert items["müller2020ü"]["publisher-place"] == "Berlin"


# --- the real-world bibliography (../shared/realworld/export/real.bib) -----------------------------------

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "realworld" / "export" / "real.bib"
STYLES = ["apa", "vancouver", "ieee", "chicago", "mla"]


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL.is_file():
        pytest.skip("the shared directory next to the repository (../shared/realworld/export/real.bib) is absent")
    return REAL


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_real_bibliography_exports_in_every_style_and_format(real: Path, style: str, tmp_path: Path) -> None:
    outputs = {}
    for to in ("text", "html", "markdown", "latex"):
        result = run("--style", style, "--to", to, str(real))
        assert result.exit_code == 0, (to, result.output[-500:])
        assert "Traceback" not in result.output
        outputs[to] = result.stdout
    # text is the default --to (test_organisation_author_is_kept_whole runs it without one): one line an entry
    assert len(outputs["text"].splitlines()) == 108
    out = tmp_path / "real.docx"
    assert run("--style", style, "--to", "docx", "-o", str(out), str(real)).exit_code == 0
    import docx

    paragraphs = [p for p in docx.Document(str(out)).paragraphs if p.text.strip()]
    assert len(paragraphs) == 108


@pytest.mark.slow
def test_real_bibliography_capitalised_keys_and_data_formats(real: Path) -> None:
    html = run("--style", "ieee", "--to", "html", str(real)).stdout
    for key in ("Hug2020", "ESAPI", "Ricci2010"):
        assert f'id="{key}"' in html
    for to in ("csl-json", "ris", "bibtex"):
        result = run("--to", to, str(real))
        assert result.exit_code == 0 and result.stdout.strip(), to
