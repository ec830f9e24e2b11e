"""`kratomref fix`: a dry-run diff by default, edits only at the located spans, an atomic write with a backup,
and a refusal when the file changed since it was read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kratomref import fix
from kratomref.cli import main
from kratomref.model import FieldFix, Finding, Location, Rule, Severity
from kratomref.options import Options
from kratomref.readers import read

LEE = "10.1016/j.neurobiolaging.2010.03.024"
# Comments, an @string, aligned fields, CRLF line endings and no final newline: all must survive.
LEE_BIB = (
    "% my library\r\n"
    "@string{aging = {Neurobiol. Aging}}\r\n"
    "\r\n"
    "@article{lee2012,\r\n"
    "  author  = {Lee, Hyun Ju and Lee, Jong Kil and Lee, Hyun and others},\r\n"
    "  title   = {Human umbilical cord blood-derived mesenchymal stem cells improve neuropathology and cognitive\r\n"
    "             impairment in an {Alzheimer's} disease mouse model through modulation of neuroinflammation},\r\n"
    "  journal = aging,\r\n"
    "  year    = {2012}, volume = {33}, number = {3},\r\n"
    "  pages   = {588--602}\r\n"
    "}\r\n"
    "@misc{other, title = {Untouched},   note = {keep   this}}"
)


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["fix", *args], catch_exceptions=False)


def with_search(crossref: Any) -> list[str]:
    crossref.search_results["umbilical"] = [LEE]
    return ["--crossref-url", crossref.url, "--doi-url", crossref.url, "--no-archive"]


def test_dry_run_prints_a_diff_and_changes_nothing(tmp_path: Path, crossref: Any) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_bytes(LEE_BIB.encode())
    result = cli(*with_search(crossref), str(bib))
    assert result.exit_code == 0, result.output
    assert f"+  doi     = {{{LEE}}}\r\n".encode() in result.stdout_bytes
    assert result.stdout.startswith(f"--- {bib}\n+++ {bib}\n")
    assert "run with --write" in result.stderr
    assert bib.read_bytes() == LEE_BIB.encode()


def test_write_adds_the_doi_of_a_confident_match_and_keeps_every_other_byte(tmp_path: Path, crossref: Any) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_bytes(LEE_BIB.encode())
    result = cli(*with_search(crossref), "--write", str(bib))
    assert result.exit_code == 0, result.output
    expected = LEE_BIB.replace("  pages   = {588--602}\r\n", f"  pages   = {{588--602}},\r\n  doi     = {{{LEE}}}\r\n")
    assert bib.read_bytes() == expected.encode()
    assert (tmp_path / "refs.bib.bak").read_bytes() == LEE_BIB.encode()
    assert read(str(bib)).references[0].doi == LEE


def test_no_backup(tmp_path: Path, crossref: Any) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_bytes(LEE_BIB.encode())
    assert cli(*with_search(crossref), "--write", "--no-backup", str(bib)).exit_code == 0
    assert not (tmp_path / "refs.bib.bak").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refs.bib"]  # no temporary file left either


def test_enrich_adds_missing_fields_from_the_verified_record(tmp_path: Path, crossref: Any) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{lee,\n  author = {Lee, Hyun Ju and others},\n  title = {Human umbilical cord "
                   "blood-derived mesenchymal stem cells improve neuropathology and cognitive impairment in an "
                   "Alzheimer's disease mouse model through modulation of neuroinflammation},\n"
                   "  journal = {Neurobiol. Aging},\n  year = {2012},\n  doi = {" + LEE + "}\n}\n", "utf-8")
    result = cli("--crossref-url", crossref.url, "--doi-url", crossref.url, "--enrich", str(bib))
    assert "+  doi = {" + LEE + "},\n+  volume = {33},\n+  number = {3},\n+  pages = {588--602}\n" in result.stdout


def test_other_formats_are_not_fixed_and_the_user_is_told(tmp_path: Path, crossref: Any) -> None:
    ris = tmp_path / "refs.ris"
    ris.write_text("TY  - JOUR\nTI  - Human umbilical cord blood-derived mesenchymal stem cells improve "
                   "neuropathology and cognitive impairment in an Alzheimer's disease mouse model through "
                   "modulation of neuroinflammation\nAU  - Lee, Hyun Ju\nJO  - Neurobiol. Aging\nPY  - 2012\n"
                   "VL  - 33\nSP  - 588\nEP  - 602\nER  - \n", "utf-8")
    result = cli(*with_search(crossref), "--write", str(ris))
    assert "kratomref fix edits BibTeX files only" in result.stderr
    assert "ris is not fixed" in result.stderr


# --- planning and applying, with the fixes rules offer --------------------------------------------

CANONICAL = Rule("KR210", "doi-not-canonical", Severity.WARNING, "DOI not in canonical form")
MOVED = Rule("KR303", "url-moved", Severity.INFO, "URL moved")


def finding(rule: Rule, path: str, key: str, fix_: FieldFix) -> Finding:
    return Finding(rule, Location(path, 1, key), "fixable", fix=fix_)


def test_replaces_a_value_in_place_in_braces_quotes_or_bare(tmp_path: Path) -> None:
    text = ('@article{a,\n  doi = "https://doi.org/10.1000/XYZ",\n  url={http://old.example/x} }\n'
            "@book{b, doi = 10.1000/abc}\n")
    path = tmp_path / "f.bib"
    path.write_text(text, "utf-8")
    doc = read(str(path))
    plan = fix.plan(str(path), text.encode(), doc.references, [
        finding(CANONICAL, str(path), "a", FieldFix("doi", "https://doi.org/10.1000/XYZ", "10.1000/xyz")),
        finding(MOVED, str(path), "a", FieldFix("url", "http://old.example/x", "https://new.example/x")),
        finding(CANONICAL, str(path), "b", FieldFix("doi", "10.1000/abc", "10.1000/abd")),
    ])
    assert plan.new_text == text.replace("https://doi.org/10.1000/XYZ", "10.1000/xyz").replace(
        "http://old.example/x", "https://new.example/x").replace("10.1000/abc", "{10.1000/abd}")
    assert [(f.key, f.field, f.line) for f in plan.fixes] == [("a", "doi", 2), ("a", "url", 3), ("b", "doi", 4)]


def test_a_value_that_changed_since_the_check_is_skipped(tmp_path: Path) -> None:
    text = "@article{a, doi = {10.1000/new}}\n"
    path = tmp_path / "f.bib"
    path.write_text(text, "utf-8")
    plan = fix.plan(str(path), text.encode(), read(str(path)).references,
                    [finding(CANONICAL, str(path), "a", FieldFix("doi", "doi:10.1000/OLD", "10.1000/old"))])
    assert plan.fixes == () and plan.new_text == text
    assert "no longer holds" in plan.skipped[0].reason


def test_refuses_to_write_a_file_that_changed_since_it_was_read(tmp_path: Path) -> None:
    text = "@article{a, doi = {DOI:10.1000/X}}\n"
    path = tmp_path / "f.bib"
    path.write_text(text, "utf-8")
    plan = fix.plan(str(path), text.encode(), read(str(path)).references,
                    [finding(CANONICAL, str(path), "a", FieldFix("doi", "DOI:10.1000/X", "10.1000/x"))])
    path.write_text(text + "% edited meanwhile\n", "utf-8")
    with pytest.raises(fix.FixError, match="changed since"):
        fix.apply(plan)
    assert path.read_text("utf-8") == text + "% edited meanwhile\n"


# --- properties -----------------------------------------------------------------------------------

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
_value = st.text(alphabet="abcdefghij KLMNOP0123456789.-,:", min_size=1, max_size=20)
_space = st.sampled_from([" ", "  ", "\t", ""])
_newline = st.sampled_from(["\n", "\r\n"])


@st.composite
def bibtex_files(draw: Any) -> tuple[str, list[str], dict[str, list[str]]]:
    """A BibTeX file with comments, @strings and entries laid out in varied ways; also its keys and fields."""
    nl = draw(_newline)
    parts: list[str] = []
    keys: list[str] = []
    fields_of: dict[str, list[str]] = {}
    for index in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            parts.append(f"% comment {draw(_value)}{nl}")
        if draw(st.booleans()):
            parts.append(f"@string{{s{index} = {{{draw(_value)}}}}}{nl}")
        key = f"k{index}{draw(_word)}"
        names = draw(st.lists(st.sampled_from(["title", "year", "volume", "note", "journal", "url"]),
                              min_size=1, max_size=4, unique=True))
        sep = draw(st.sampled_from([nl + "  ", " "]))
        body = ",".join(f"{sep}{n}{draw(_space)}={draw(_space)}{{{draw(_value)}}}" for n in names)
        trailing = draw(st.sampled_from(["", ","]))
        parts.append(f"@{draw(st.sampled_from(['article', 'misc', 'Book']))}{{{key},{body}{trailing}{nl}}}{nl}")
        keys.append(key)
        fields_of[key] = names
    return "".join(parts), keys, fields_of


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bibtex_files())
def test_fix_on_a_file_with_nothing_to_fix_is_byte_identical(tmp_path: Path, case: Any) -> None:
    text, _, _ = case
    path = tmp_path / "nothing.bib"
    path.write_bytes(text.encode())
    run = fix.fix(Options(paths=(str(path),), offline=True))
    assert all(plan.fixes == () and plan.new_text.encode() == path.read_bytes() for plan in run.plans)
    assert path.read_bytes() == text.encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bibtex_files(), st.data())
def test_a_fix_touches_only_the_spans_it_reports(tmp_path: Path, case: Any, data: Any) -> None:
    text, keys, fields_of = case
    path = tmp_path / "some.bib"
    path.write_bytes(text.encode())
    refs = {r.key: r for r in read(str(path)).references}
    findings = []
    for key in data.draw(st.lists(st.sampled_from(keys), unique=True, min_size=1)):
        name = data.draw(st.sampled_from([*fields_of[key], "doi"]))
        old = refs[key].raw_fields.get(name)
        findings.append(finding(CANONICAL, str(path), key, FieldFix(name, old, f"10.1000/{key}")))
    plan = fix.plan(str(path), text.encode(), list(refs.values()), findings)
    assert len(plan.fixes) == len(findings)
    # Outside the reported spans the file is unchanged: rebuilding it from the spans gives the same text.
    rebuilt, position = [], 0
    for f in sorted(plan.fixes, key=lambda f: f.span.start):
        assert position <= f.span.start
        rebuilt += [text[position : f.span.start], f.replacement]
        position = f.span.end
    assert "".join([*rebuilt, text[position:]]) == plan.new_text
    # and each fixed field now holds its new value while every other field is as it was.
    path.write_bytes(plan.new_text.encode())
    after = {r.key: r for r in read(str(path)).references}
    changed = {(f.key, f.field) for f in plan.fixes}
    for key, ref in refs.items():
        for name, value in ref.raw_fields.items():
            if (key, name) not in changed:
                assert after[key].raw_fields[name] == value
    for f in plan.fixes:
        assert after[f.key].raw_fields[f.field].strip() == f.new  # spacing inside the braces is kept


# An entry whose only fix is offline and mechanical: the canonical form of its DOI (KR210).
URL_DOI_BIB = (
    "@article{s,\n  author = {Smith, J.},\n  title = {Kratom alkaloids},\n  journal = {J},\n  year = {2019},\n"
    "  doi = {https://doi.org/10.1000/XYZ}\n}\n"
)


def test_write_through_a_symlink_fixes_the_real_file_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "library" / "refs.bib"
    real.parent.mkdir()
    real.write_text(URL_DOI_BIB, encoding="utf-8")
    link = tmp_path / "refs.bib"
    link.symlink_to(real)
    result = CliRunner().invoke(main, ["fix", "--offline", "--write", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink(), "the link is still a link"
    assert "doi = {10.1000/XYZ}" in real.read_text(encoding="utf-8"), "the file it points to is fixed (case kept)"
    assert (real.parent / "refs.bib.bak").read_text(encoding="utf-8") == URL_DOI_BIB, "backup next to the real file"
    assert not (tmp_path / "refs.bib.bak").exists()


def test_write_into_a_read_only_directory_is_exit_2_and_changes_nothing(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "ro"
    folder.mkdir()
    bib = folder / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        result = CliRunner().invoke(main, ["fix", "--offline", "--write", str(bib)])
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit), "a message, not a traceback"
    assert "cannot write" in result.stderr and "is unchanged" in result.stderr
    assert bib.read_text(encoding="utf-8") == URL_DOI_BIB


def test_write_where_the_backup_cannot_go_is_exit_2_not_a_traceback(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    (tmp_path / "refs.bib.bak").mkdir()  # a directory where the backup would go: not writable as a file
    result = CliRunner().invoke(main, ["fix", "--offline", "--write", str(bib)])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "cannot write" in result.stderr and "refs.bib.bak" in result.stderr
    assert bib.read_text(encoding="utf-8") == URL_DOI_BIB


@pytest.mark.parametrize(("write", "expected"), [
    pytest.param(False, "1 fix; run with --write to apply it", id="a dry run counts one fix in the singular"),
    pytest.param(True, "applied 1 fix (backup:", id="a write counts one fix in the singular"),
])
def test_one_fix_is_one_fix(tmp_path: Path, write: bool, expected: str) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    result = CliRunner().invoke(main, ["fix", "--offline", *(["--write"] if write else []), str(bib)])
    assert result.exit_code == 0
    assert expected in result.stderr
    assert "1 fixes" not in result.stderr
