"""CSL-JSON's rich-text markup (<i>, <b>, <sup>, <sub>, small caps, <span class="nocase">, as pandoc writes a .bib's
\\emph and {braces}) exported as BibTeX markup and as RIS plain text, never as literal tags."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kratomref.cli import main
from kratomref.export.fields import plain

MARKED = ('<span class="nocase">DNA</span> of <i>Mitragyna speciosa</i>: <b>strong</b> x<sup>2</sup> '
          'H<sub>2</sub>O in <span style="font-variant:small-caps;">Kratom</span>')


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["export", "--offline", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def csl_file(tmp_path: Path, title: str, **more: Any) -> str:
    path = tmp_path / "refs.json"
    item = {"id": "gaul2020", "type": "article-journal", "title": title, "author": [{"family": "Gaul", "given": "A"}],
            "container-title": "Journal of <i>Tests</i>", "issued": {"date-parts": [[2020]]}, **more}
    path.write_text(json.dumps([item]), encoding="utf-8")
    return str(path)


def field(bib: str, name: str) -> str:
    line = next(line for line in bib.splitlines() if line.strip().startswith(f"{name} "))
    return line.split("= {", 1)[1].rsplit("}", 1)[0]


def unprotected(value: str) -> str:
    """A BibTeX value without the braces that only protect case ("{DNA}"); a command's braces stay."""
    while True:
        shorter = re.sub(r"(?<![A-Za-z])\{([^{}\\]*)\}", r"\1", value)
        if shorter == value:
            return value
        value = shorter


def test_bibtex_writes_latex_markup_for_csl_tags(tmp_path: Path) -> None:
    bib = run("--to", "bibtex", csl_file(tmp_path, MARKED))
    assert "<" not in bib and "span" not in bib
    title = unprotected(field(bib, "title"))
    assert r"\emph{Mitragyna speciosa}" in title
    assert r"\textbf{strong}" in title
    assert r"x\textsuperscript{2}" in title
    assert r"\textsubscript{2}" in title
    assert r"\textsc{" in title and "Kratom" in title
    assert field(bib, "title").startswith("{DNA} of ")  # nocase: braces
    assert field(bib, "journal") == r"Journal of \emph{Tests}"


def test_ris_writes_the_text_without_the_tags(tmp_path: Path) -> None:
    ris = run("--to", "ris", csl_file(tmp_path, MARKED))
    assert "TI  - DNA of Mitragyna speciosa: strong x2 H2O in Kratom" in ris.splitlines()
    assert "T2  - Journal of Tests" in ris.splitlines()
    assert "<" not in ris


def test_text_that_only_looks_like_markup_is_kept(tmp_path: Path) -> None:
    title = "Doses < 5 mg and <i>never closed, a </b> stray"
    path = csl_file(tmp_path, title)
    assert f"TI  - {title}" in run("--to", "ris", path).splitlines()
    assert field(run("--to", "bibtex", path), "title") == "Doses < 5 mg and <i>never closed, a </b> stray"
    assert plain("<span>not CSL's</span>") == "<span>not CSL's</span>"


def test_markup_survives_bib_to_csl_json_to_bib(tmp_path: Path) -> None:
    """A .bib's \\emph and \\textsuperscript through pandoc's CSL-JSON and back to a .bib that pandoc reads the same."""
    source = tmp_path / "in.bib"
    source.write_text("@article{gaul2020,\n  author = {Gaul, Anna},\n  title = {Alkaloids of "
                      "\\emph{{Mitragyna} speciosa} in {Kuala Lumpur}: 10\\textsuperscript{3} cases},\n"
                      "  journal = {Journal of Tests},\n  year = {2020}\n}\n", encoding="utf-8")
    first = json.loads(run("--to", "csl-json", str(source)))[0]
    assert "<i>Mitragyna speciosa</i>" in first["title"] and "<sup>3</sup>" in first["title"]
    middle = tmp_path / "middle.json"
    middle.write_text(json.dumps([first]), encoding="utf-8")
    again = tmp_path / "again.bib"
    again.write_text(run("--to", "bibtex", str(middle)), encoding="utf-8")
    second = json.loads(run("--to", "csl-json", str(again)))[0]
    assert second["title"] == first["title"]
