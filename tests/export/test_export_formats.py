"""`kratomref export` as a user drives it: capitalised keys, given names, citation numbers, year suffixes, CSL-JSON
that validates, RIS that reads back, normalised BibTeX, markers, --verified-only and --enrich against a local
Crossref."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from pandoc_runs import remember_pandoc_runs

from kratomref.cli import main
from kratomref.export import ExportOptions, export, list_styles, resolve
from kratomref.options import Options
from kratomref.readers import read


@pytest.fixture(autouse=True)
def _pandoc_runs_once(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    remember_pandoc_runs(monkeypatch, tmp_path_factory)  # pandoc_runs.py: a run made is answered with its output


SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "csl-data.json").read_text("utf-8"))


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["export", "--offline", *args], catch_exceptions=False)


def csl_file(tmp_path: Path, items: list[dict[str, Any]]) -> str:
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return str(path)


GAUL = {"family": "Gaul", "given": "Anna Maria"}


def article(key: str, title: str, issued: dict[str, Any], author: dict[str, str] = GAUL) -> dict[str, Any]:
    return {"id": key, "type": "article-journal", "title": title, "author": [author],
            "container-title": "Journal of Tests", "volume": "3", "page": "10-19", "issued": issued}


@pytest.mark.parametrize("style", ["apa", "ieee", "mla", "chicago-author-date", "vancouver", "nature"])
def test_capitalised_keys_export_in_every_style(tmp_path: Path, style: str) -> None:
    path = csl_file(tmp_path, [article("Smith2019", "Capital letters", {"date-parts": [[2019]]}),
                               article("smith2019", "Same key in lower case", {"date-parts": [[2019]]})])
    result = run("--style", style, path)
    assert result.exit_code == 0, result.output
    assert "capital letters" in result.output.lower() and "same key in lower case" in result.output.lower()
    html = run("--style", style, "--to", "html", path).output
    assert 'id="Smith2019"' in html and 'id="smith2019"' in html, "each entry keeps its own key"


def test_mla_keeps_given_names_in_full(tmp_path: Path) -> None:
    path = csl_file(tmp_path, [article("a", "Alpha", {"date-parts": [[2019]]})])
    result = run("--style", "mla", path)
    assert result.output.startswith("Gaul, Anna Maria. “Alpha.” Journal of Tests")


def test_apa_still_initialises_given_names(tmp_path: Path) -> None:
    path = csl_file(tmp_path, [article("a", "Alpha", {"date-parts": [[2019]]})])
    assert run("--style", "apa", path).output.startswith("Gaul, A. M. (2019). Alpha.")


@pytest.mark.parametrize(("style", "start"), [("vancouver", "1. Gaul AM."), ("ieee", "[1] A. M. Gaul,")],
                         ids=["vancouver number then a space", "ieee bracketed number then a space"])
def test_numbered_styles_put_a_space_after_the_number(tmp_path: Path, style: str, start: str) -> None:
    path = csl_file(tmp_path, [article("a", "Alpha", {"date-parts": [[2019]]})])
    assert run("--style", style, path).output.startswith(start)


def test_same_author_same_year_gets_year_suffixes_in_title_order(tmp_path: Path) -> None:
    path = csl_file(tmp_path, [article("z", "Zeta", {"date-parts": [[2019]]}),
                               article("b", "Beta", {"date-parts": [[2019]]}),
                               article("c", "Gamma", {"date-parts": [[2018]]})])
    lines = run("--style", "apa", path).output.splitlines()
    assert [line.split(". ")[2].split(")")[0] for line in lines] == ["(2018", "(2019a", "(2019b"]
    assert "Beta" in lines[1] and "Zeta" in lines[2]


def test_raw_dates_are_not_dropped(tmp_path: Path) -> None:
    path = csl_file(tmp_path, [article("a", "Alpha", {"raw": "2018-05"})])
    assert "(2018)" in run("--style", "apa", path).output


def test_html_escapes_ampersands_and_markdown_italicises(bundled_bib: Path) -> None:
    html = run("--style", "apa", "--to", "html", str(bundled_bib)).output
    assert "<em>Neuroscience &amp; Biobehavioral Reviews</em>" in html
    assert html.startswith('<div class="csl-bib-body">')
    markdown = run("--style", "apa", "--to", "markdown", str(bundled_bib)).output
    assert "*Neuroscience & Biobehavioral Reviews*, *37*(2)" in markdown


def test_csl_json_validates_against_the_schema(bundled_bib: Path) -> None:
    data = json.loads(run("--to", "csl-json", str(bundled_bib)).output)
    jsonschema.validate(data, SCHEMA)
    hassan = next(item for item in data if item["id"] == "hassan2013kratom")
    assert hassan["DOI"] == "10.1016/j.neubiorev.2012.11.012"
    assert hassan["issued"] == {"date-parts": [[2013]]}
    assert hassan["page"] == "138-151"


def test_csl_json_with_markers_still_validates(bundled_bib: Path) -> None:
    data = json.loads(run("--to", "csl-json", "--mark-problems", str(bundled_bib)).output)
    jsonschema.validate(data, SCHEMA)
    assert all(item["note"].startswith("kratomref: [") for item in data)


def test_ris_follows_the_tag_rules_and_reads_back(bundled_bib: Path, tmp_path: Path) -> None:
    text = run("--to", "ris", str(bundled_bib)).output
    records = [r for r in text.split("\n\n") if r.strip()]
    assert len(records) == 8
    for record in records:
        lines = record.strip("\n").split("\n")
        assert lines[0].startswith("TY  - ") and lines[-1] == "ER  - "
        assert all(len(line) >= 6 and line[2:6] == "  - " for line in lines)
    assert "SP  - 138\nEP  - 151" in text
    ris = tmp_path / "out.ris"
    ris.write_text(text, encoding="utf-8")
    back = {r.key: r for r in read(str(ris)).references}
    original = {r.key: r for r in read(str(bundled_bib)).references}
    assert set(back) == set(original)
    for key, ref in original.items():
        again = back[key]
        assert (again.title, again.year, again.volume, again.issue, again.pages, again.container) == (
            ref.title, ref.year, ref.volume, ref.issue, ref.pages, ref.container), key
        assert [a.family for a in again.authors] == [a.family for a in ref.authors], key
        assert again.doi == (ref.doi or "").removeprefix("https://doi.org/") or again.doi is ref.doi


def test_bibtex_is_normalised_and_reads_back(bundled_bib: Path, tmp_path: Path) -> None:
    text = run("--to", "bibtex", str(bundled_bib)).output
    assert "  doi     = {10.1016/j.neubiorev.2012.11.012}" in text
    assert "journal = {Neuroscience \\& Biobehavioral Reviews}" in text
    assert "M{\\\"u}ller, C. P." in text
    assert "``the" in text  # quotes as TeX quotes (case protection is the BibTeX writer's own test)
    out = tmp_path / "out.bib"
    out.write_text(text, encoding="utf-8")
    again = {r.key: r for r in read(str(out)).references}
    for ref in read(str(bundled_bib)).references:
        other = again[ref.key]
        assert (other.title, other.authors, other.et_al, other.year, other.pages, other.container) == (
            ref.title, ref.authors, ref.et_al, ref.year, ref.pages, ref.container), ref.key
    # every entry lists its fields in one order
    order = ["author", "title", "journal", "organization", "year", "volume", "number", "pages", "doi", "url"]
    for block in text.split("\n\n"):
        names = [line.split("=")[0].strip() for line in block.splitlines()[1:-1]]
        assert names == sorted(names, key=order.index)


def test_mark_problems_marks_unverified_entries_and_verified_only_drops_them(bundled_bib: Path) -> None:
    plain = run(str(bundled_bib)).output
    assert "[unverified]" not in plain
    marked = run("--mark-problems", str(bundled_bib)).output
    assert all(line.startswith(("[unverified] ", "[problem] ")) for line in marked.splitlines())
    only = run("--verified-only", str(bundled_bib))
    assert only.stdout == "" and "left out 8 entries" in only.stderr


def test_styles_by_alias_id_or_file(tmp_path: Path) -> None:
    assert resolve("vancouver").path.stem == "nlm-citation-sequence"
    assert resolve("nature").title.startswith("Nature")
    own = tmp_path / "mine.csl"
    own.write_bytes(resolve("ieee").path.read_bytes())
    assert resolve(str(own)).id == "mine"
    assert ("harvard", "alias of harvard-cite-them-right") in list_styles("harvard")


def test_unknown_style_is_a_usage_error_with_a_hint(bundled_bib: Path) -> None:
    result = run("--style", "apa8", str(bundled_bib))
    assert result.exit_code == 2 and "apa" in result.output and "--list-styles" in result.output


def test_list_styles_filters(bundled_bib: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--list-styles", "chicago-author"])
    assert result.exit_code == 0
    assert "chicago-author-date " in result.output and "apa" not in result.output.split()


def test_output_file(bundled_bib: Path, tmp_path: Path) -> None:
    out = tmp_path / "bib.txt"
    result = run("--style", "ieee", "-o", str(out), str(bundled_bib))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text("utf-8").startswith("[1] Z. Hassan et al.")


# --- enrichment from the local Crossref -----------------------------------------------------------

LIEBER = r"""@article{lieber1997,
  author = {Lieber, Richard L. and Jacks, Thomas M. and others},
  title = {Growth hormone secretagogue increases muscle strength during remobilization after canine
           hindlimb immobilization},
  journal = {J. Orthop. Res.},
  year = {1997},
  doi = {10.1002/jor.1100150407}
}
"""


def enrich(tmp_path: Path, crossref: Any, *extra: str) -> dict[str, Any]:
    bib = tmp_path / "lieber.bib"
    bib.write_text(LIEBER, encoding="utf-8")
    result = CliRunner().invoke(main, ["export", "--crossref-url", crossref.url, "--doi-url", crossref.url,
                                       "--to", "csl-json", "--enrich", *extra, str(bib)])
    assert result.exit_code == 0, result.output
    item: dict[str, Any] = json.loads(result.stdout)[0]
    return item


def test_enrich_fills_missing_fields_and_keeps_what_the_user_wrote(tmp_path: Path, crossref: Any) -> None:
    item = enrich(tmp_path, crossref)
    assert (item["volume"], item["issue"], item["page"]) == ("15", "4", "519-527")
    assert item["container-title"] == "J. Orthop. Res."  # the user's own abbreviation stays
    assert len(item["author"]) == 12  # "and others" completed from Crossref
    assert item["author"][2] == {"family": "Mohler", "given": "Randall L."}


def test_prefer_crossref_replaces_the_users_values(tmp_path: Path, crossref: Any) -> None:
    item = enrich(tmp_path, crossref, "--prefer-crossref")
    assert item["container-title"] == "Journal of Orthopaedic Research"


def test_enrich_does_not_touch_an_unverified_entry(tmp_path: Path) -> None:
    bib = tmp_path / "lieber.bib"
    bib.write_text(LIEBER, encoding="utf-8")
    result = export(Options(paths=(str(bib),), offline=True), ExportOptions(to="csl-json", enrich=True))
    assert "volume" not in json.loads(result.text)[0]
    assert result.notes[-1] == "enriched 0 of 1 entry from their Crossref records"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        pytest.param(b"", "the file is empty", id="an empty file"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00" * 8, "binary", id="a binary file"),
    ],
)
def test_export_of_an_unreadable_input_says_why_and_exits_1(tmp_path: Path, content: bytes, said: str) -> None:
    path = tmp_path / "refs.bib"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["export", "--offline", str(path)])
    assert result.exit_code == 1, "an export with nothing in it must not look successful"
    assert "KR002 unreadable-input" in result.stderr and said in result.stderr
    assert "export incomplete" in result.stderr


def test_export_of_a_file_with_a_broken_entry_exports_the_rest_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@misc{good, title = {Kratom}, author = {Smith, J.}, year = {2020}}\n\n@article{bad,\n"
                    " title = {Broken\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["export", "--offline", "--to", "bibtex", str(path)])
    assert result.exit_code == 1
    assert "@misc{good" in result.stdout
    assert "KR001 parse-error" in result.stderr


def test_export_of_a_readable_file_exits_0_with_nothing_on_stderr(bundled_bib: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--offline", str(bundled_bib)])
    assert result.exit_code == 0 and result.stderr == ""


def test_bibtex_export_moves_others_to_the_end_as_documented(bundled_bib: Path) -> None:
    """BibTeX styles honour `others` only as the last name (mid-list it would print as a person called
    "others"), so a list truncated in the middle keeps every name and ends with "and others"."""
    out = run("--to", "bibtex", str(bundled_bib)).stdout
    hassan = next(line for line in out.splitlines() if "Hassan, Z." in line)
    assert hassan.rstrip(",").endswith("Vadivelu, R. and Jayabalan, N. and others}")


@pytest.mark.parametrize(
    ("author", "site", "same"),
    [
        pytest.param("Food and Drug Administration (FDA)", "U.S. Food and Drug Administration", True,
                     id="a country prefix on the site is the same organisation"),
        pytest.param("Food and Drug Administration (FDA)", "FDA", True, id="the site as the author's abbreviation"),
        pytest.param("National Institute on Drug Abuse", "The National Institute on Drug Abuse", True,
                     id="a leading The is ignored"),
        pytest.param("World Health Organization", "world health organization.", True, id="case and punctuation"),
        pytest.param("Department of Health", "Department of Health and Human Services", False,
                     id="a longer name is another organisation"),
        pytest.param("Food and Drug Administration", "European Medicines Agency", False, id="another name"),
    ],
)
def test_apa_site_name_that_is_the_author(author: str, site: str, same: bool) -> None:
    from kratomref.export.apa import same_organisation

    assert same_organisation(author, site) is same


def test_apa_omits_a_site_name_that_is_the_author_with_a_country_prefix(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@online{fda, author = {{Food and Drug Administration}}, title = {Kratom},\n"
                    "  organization = {U.S. Food and Drug Administration}, year = {2020}, url = {https://www.fda.gov}}\n",
                    encoding="utf-8")
    out = run(str(path)).stdout
    assert out.strip() == "Food and Drug Administration. (2020). Kratom. https://www.fda.gov"
