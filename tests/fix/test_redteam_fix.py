"""Red-team attacks on `fix` that the first write tests did not try: many fixable entries on one long line
behind a large first entry, keys with characters the first key index could not see, and `--write` through a
symbolic link and against a file replaced after it was read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from linear_time import assert_linear

from kratomref import fix
from kratomref.cli import main
from kratomref.model import FieldFix, Finding, Location, Rule, Severity
from kratomref.readers import read

CANONICAL = Rule("KR210", "doi-not-canonical", Severity.WARNING, "DOI not in canonical form")
ENTRY = "@article{KEY, author = {Smith, J.}, title = {T}, journal = {J}, year = {2019}, doi = {https://doi.org/10.1000/X}}"
URL_DOI_BIB = (
    "@article{s,\n  author = {Smith, J.},\n  title = {Kratom alkaloids},\n  journal = {J},\n  year = {2019},\n"
    "  doi = {https://doi.org/10.1000/XYZ}\n}\n"
)


def one_line_file(tmp_path: Path, n: int, key: str, first: int) -> tuple[str, bytes, list[Finding], list]:  # type: ignore[type-arg]
    """n fixable entries on one line, after a first entry `first` characters long."""
    bib = tmp_path / f"{key.replace('%', 'p')}{n}.bib"
    head = "@misc{big, title = {" + "x" * first + "}, year = {2019}}"
    body = "".join(ENTRY.replace("KEY", f"{key}{i}").replace("/X}", f"/X{i}}}") for i in range(n))
    bib.write_text(head + body + "\n", encoding="utf-8")
    refs = [r for r in read(str(bib)).references if r.key != "big"]
    findings = [Finding(CANONICAL, Location(str(bib), r.location.line, r.key), "fixable",
                        fix=FieldFix("doi", r.raw_fields["doi"], r.raw_fields["doi"].removeprefix("https://doi.org/")))
                for r in refs]
    return str(bib), bib.read_bytes(), findings, refs


def plan(file: tuple[str, bytes, list[Finding], list]) -> None:  # type: ignore[type-arg]
    """Plan the fixes of one file of one_line_file: every entry's DOI is fixed."""
    path, data, findings, refs = file
    planned = fix.plan(path, data, refs, findings)
    assert len(planned.fixes) == len(findings), planned.skipped[:3]
    assert planned.new_text.count("doi = {10.1000/X") == len(findings)


@pytest.mark.parametrize("key", ["k", "o'brien"])
def test_fixes_on_one_long_line_take_time_linear_in_their_number(tmp_path: Path, key: str) -> None:
    """Each entry's line is the long line, whose first "@" is the large first entry: parsing it once per fix
    was quadratic (200 KB first entry, 1,000 fixes: 33 s). Keys with a quote were found by a scan of the
    whole text per key. Four times the fixes, behind a first entry four times as long, take about four times as
    long (CPU time), not sixteen."""
    assert_linear(lambda n: one_line_file(tmp_path, n, key, first=200 * n // 3), plan, 400, what="planning the fixes")


def test_entries_that_share_a_line_are_each_fixed_in_place(tmp_path: Path) -> None:
    path, data, findings, refs = one_line_file(tmp_path, 3, "k", 10)
    plan = fix.plan(path, data, refs, findings)
    text = data.decode()
    assert plan.new_text == text.replace("https://doi.org/10.1000/X", "10.1000/X")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_write_through_a_symbolic_link_fixes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "x.bib"
    real.parent.mkdir()
    real.write_text(URL_DOI_BIB, encoding="utf-8")
    link = tmp_path / "refs.bib"
    try:
        link.symlink_to(real)
    except OSError:
        pytest.skip("cannot create a symbolic link here")
    result = CliRunner().invoke(main, ["fix", "--offline", "--no-cache", "--write", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "doi = {10.1000/XYZ}" in real.read_text(encoding="utf-8")


def test_a_file_replaced_after_it_was_read_is_not_written(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    refs = read(str(bib)).references
    findings = [Finding(CANONICAL, Location(str(bib), r.location.line, r.key), "fixable",
                        fix=FieldFix("doi", "https://doi.org/10.1000/XYZ", "10.1000/XYZ")) for r in refs]
    plan = fix.plan(str(bib), bib.read_bytes(), refs, findings)
    replacement = tmp_path / "other.bib"
    replacement.write_text(URL_DOI_BIB.replace("Kratom", "Replaced"), encoding="utf-8")
    os.replace(replacement, bib)
    with pytest.raises(fix.FixError, match="changed since"):
        fix.apply(plan)
    assert "Replaced" in bib.read_text(encoding="utf-8") and not (tmp_path / "refs.bib.bak").exists()


@pytest.mark.parametrize("links", [1, 2], ids=["renamed into place", "written in place (hard links)"])
def test_a_file_swapped_while_the_fix_is_written_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: int
) -> None:
    """The file is swapped for a symbolic link to another file (or for another file) after kratomref made its
    temporary copy and before it writes: nothing is written through the link or over the new file."""
    bib = tmp_path / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    if links == 2:
        os.link(bib, tmp_path / "second-name.bib")
    refs = read(str(bib)).references
    findings = [Finding(CANONICAL, Location(str(bib), r.location.line, r.key), "fixable",
                        fix=FieldFix("doi", "https://doi.org/10.1000/XYZ", "10.1000/XYZ")) for r in refs]
    plan = fix.plan(str(bib), bib.read_bytes(), refs, findings)
    victim = tmp_path / "victim.bib"
    victim.write_text(URL_DOI_BIB, encoding="utf-8")  # the same bytes: only the file's identity differs
    made_copy = fix._temporary_copy

    def copy_then_swap(path: Path, data: bytes, like: os.stat_result) -> str:
        temporary = made_copy(path, data, like)
        if path == bib.resolve():
            bib.unlink()
            bib.symlink_to(victim)
        return temporary

    monkeypatch.setattr(fix, "_temporary_copy", copy_then_swap)
    with pytest.raises(fix.FixError, match="replaced"):
        fix.apply(plan, backup=False)
    assert victim.read_text(encoding="utf-8") == URL_DOI_BIB, "written through the swapped-in link"
    assert bib.is_symlink(), "the swapped-in link was replaced"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [], "a temporary copy is left"
