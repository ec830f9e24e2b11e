"""`fix --write` on the file as the user keeps it: a read-only file is refused, and its mode, owner and hard
links survive; planning, the diff and the write take time linear in the number of fixes."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from linear_time import assert_linear

from kratomref import fix
from kratomref.cli import main
from kratomref.fix import FixPlan, ResolvedFix, Span
from kratomref.model import FieldFix, Finding, Location, Reference, Rule, Severity
from kratomref.readers import read

# An entry whose only fix is offline and mechanical: the canonical form of its DOI (KR210).
URL_DOI_BIB = (
    "@article{s,\n  author = {Smith, J.},\n  title = {Kratom alkaloids},\n  journal = {J},\n  year = {2019},\n"
    "  doi = {https://doi.org/10.1000/XYZ}\n}\n"
)
FIXED = URL_DOI_BIB.replace("https://doi.org/10.1000/XYZ", "10.1000/XYZ")
CANONICAL = Rule("KR210", "doi-not-canonical", Severity.WARNING, "DOI not in canonical form")


def fix_write(*args: str) -> Any:
    return CliRunner().invoke(main, ["fix", "--offline", "--no-cache", "--write", *args])


def test_a_read_only_file_is_refused_with_exit_2_and_left_alone(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    bib.chmod(0o444)
    result = fix_write(str(bib))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), "a message, not a traceback"
    assert "read-only" in result.stderr and "nothing was written" in result.stderr
    assert bib.read_text(encoding="utf-8") == URL_DOI_BIB
    assert stat.S_IMODE(bib.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refs.bib"], "no backup, no temporary file"


def test_the_file_keeps_its_mode_and_the_backup_has_it_too(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    bib.chmod(0o640)
    result = fix_write(str(bib))
    assert result.exit_code == 0, result.output
    assert bib.read_text(encoding="utf-8") == FIXED
    assert stat.S_IMODE(bib.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "refs.bib.bak").stat().st_mode) == 0o640


def test_a_hard_linked_file_is_fixed_in_place_and_every_link_sees_it(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    other = tmp_path / "shared" / "library.bib"
    other.parent.mkdir()
    os.link(bib, other)
    inode = bib.stat().st_ino
    result = fix_write("--no-backup", str(bib))
    assert result.exit_code == 0, result.output
    assert bib.stat().st_ino == inode and bib.stat().st_nlink == 2, "still one file under two names"
    assert other.read_text(encoding="utf-8") == FIXED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refs.bib", "shared"], "no temporary file left"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_run_as_root_the_file_and_its_backup_keep_the_owner(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(URL_DOI_BIB, encoding="utf-8")
    os.chown(bib, 4242, 4343)
    result = fix_write(str(bib))
    assert result.exit_code == 0, result.output
    assert bib.read_text(encoding="utf-8") == FIXED
    assert (bib.stat().st_uid, bib.stat().st_gid) == (4242, 4343)
    backup = tmp_path / "refs.bib.bak"
    assert (backup.stat().st_uid, backup.stat().st_gid) == (4242, 4343)


def test_a_refused_file_among_several_is_reported_by_name(tmp_path: Path) -> None:
    good, locked = tmp_path / "a.bib", tmp_path / "b.bib"
    for bib in (good, locked):
        bib.write_text(URL_DOI_BIB, encoding="utf-8")
    locked.chmod(0o400)
    result = fix_write(str(good), str(locked))
    assert result.exit_code == 2
    assert f"{locked} is read-only" in result.stderr
    assert locked.read_text(encoding="utf-8") == URL_DOI_BIB


# --- the diff -------------------------------------------------------------------------------------

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_unified_diff(text: str, diff: str) -> str:
    """What `patch` makes of the text: the hunks replayed on its lines (a reader's check of the diff)."""
    lines = text.splitlines(keepends=True)
    rows = diff.splitlines(keepends=True)[2:]
    out: list[str] = []
    at = 0
    i = 0
    while i < len(rows):
        match = _HUNK.match(rows[i])
        assert match, rows[i]
        start = int(match.group(1)) - (1 if match.group(2) != "0" else 0)
        out += lines[at:start]
        at = start
        i += 1
        while i < len(rows) and not rows[i].startswith("@@"):
            row = rows[i]
            if i + 1 < len(rows) and rows[i + 1] == "\\ No newline at end of file\n":
                row = row[:-1]
                i += 1
            kind, body = row[0], row[1:]
            if kind in " -":
                assert lines[at] == body, (lines[at], body)
                at += 1
            if kind in " +":
                out.append(body)
            i += 1
    return "".join(out + lines[at:])


_piece = st.sampled_from(["alpha", "beta = {x}", "", "  doi = {1}", "@misc{k,"])


@st.composite
def texts_and_edits(draw: Any) -> tuple[str, tuple[ResolvedFix, ...]]:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(draw(st.lists(_piece, max_size=25))) + draw(st.sampled_from(["", newline]))
    edits, position = [], 0
    while position <= len(text) and draw(st.booleans()):
        start = draw(st.integers(position, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        if text[start - 1 : start + 1] == "\r\n" or text[end - 1 : end + 1] == "\r\n":
            break  # no edit splits a CRLF line break
        new = draw(st.sampled_from(["", "10.1000/x", f"{newline}  doi = {{1}},", f"a{newline}b"]))
        edits.append(ResolvedFix("k", "f", None, new, 1, Span(start, end), new, "test"))
        position = end + 1
    return text, tuple(edits)


@settings(max_examples=300, deadline=None)
@given(texts_and_edits())
def test_the_diff_replayed_on_the_file_gives_the_fixed_file(case: tuple[str, tuple[ResolvedFix, ...]]) -> None:
    text, edits = case
    plan = FixPlan("refs.bib", text.encode(), "utf-8", text, edits)
    diff = plan.diff()
    assert (diff == "") == (plan.new_text == text)
    if diff:
        assert diff.startswith("--- a/refs.bib\n+++ b/refs.bib\n@@ ")
        assert apply_unified_diff(text, diff) == plan.new_text


# --- linear in the number of fixes --------------------------------------------------------------


def _fixable(tmp_path: Path, n: int) -> tuple[Path, bytes, tuple[Reference, ...], list[Finding]]:
    """A file of n entries, its bytes, its references and a fix for each."""
    bib = tmp_path / f"n{n}.bib"
    bib.write_text("".join(URL_DOI_BIB.replace("{s,", f"{{s{i},").replace("XYZ", f"X{i}") for i in range(n)),
                   encoding="utf-8")
    refs = read(str(bib)).references
    findings = [Finding(CANONICAL, Location(str(bib), r.location.line, r.key), "fixable",
                        fix=FieldFix("doi", r.raw_fields["doi"], r.raw_fields["doi"].removeprefix("https://doi.org/")))
                for r in refs]
    return bib, bib.read_bytes(), refs, findings


def _plan_diff_apply(fixable: tuple[Path, bytes, tuple[Reference, ...], list[Finding]]) -> None:
    """Plan the fixes of one file, print their diff and write them."""
    bib, data, refs, findings = fixable
    bib.write_bytes(data)
    plan = fix.plan(str(bib), data, refs, findings)
    plan.diff()
    fix.apply(plan, backup=False)
    assert len(plan.fixes) == len(findings)


def test_four_times_the_fixes_take_about_four_times_as_long(tmp_path: Path) -> None:
    # linear work takes four times as long; the quadratic planning and difflib diff this replaced came near 16x
    assert_linear(lambda n: _fixable(tmp_path, n), _plan_diff_apply, 500, what="planning, printing and writing fixes")
