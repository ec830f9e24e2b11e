"""`kratomref fix` edits where the BibTeX reader found each entry and field: in every chunk of a large file, after a
byte-order mark, in keyless entries, beside biber comments; over real libraries, every other byte stays."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from kratomref import fix
from kratomref.model import FieldFix, Reference
from kratomref.readers import bibtex, read

REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "realworld" / "export"


def _plan(path: Path, wanted: dict[str, list[FieldFix]]) -> fix.FixPlan:
    doc = read(str(path))
    return fix.plan(str(path), path.read_bytes(), doc.references, [], wanted)


def _reread(tmp_path: Path, text: str) -> dict[str, Reference]:
    again = tmp_path / "again.bib"
    again.write_text(text, encoding="utf-8")
    return {r.key: r for r in read(str(again)).references}


def test_an_entry_in_a_later_chunk_after_keyless_entries_is_edited_in_place(tmp_path: Path) -> None:
    # enough entries that the reader parses the file in chunks, with keyless entries (whose placeholder keys
    # the reader inserts) before the edited one
    count = bibtex.CHUNK_ENTRIES * 2 + 10
    entries = [f"@misc{{k{i}, title = {{Title {i}}}, year = {{2001}}}}\n" for i in range(count)]
    entries[5] = "@misc{, title = {No key}}\n"
    entries[bibtex.CHUNK_ENTRIES + 3] = "@misc{, title = {No key either}}\n"
    path = tmp_path / "refs.bib"
    path.write_text("".join(entries), encoding="utf-8")
    last = f"k{count - 2}"
    plan = _plan(path, {last: [FieldFix("title", f"Title {count - 2}", "Changed"), FieldFix("note", None, "n")]})
    assert plan.skipped == ()
    expected = "".join(entries).replace(f"@misc{{{last}, title = {{Title {count - 2}}}, year = {{2001}}}}",
                                        f"@misc{{{last}, title = {{Changed}}, year = {{2001}}, note = {{n}}}}")
    assert plan.new_text == expected


def test_a_file_with_a_byte_order_mark_is_edited_at_the_right_place(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_bytes(codecs.BOM_UTF8 + b"@article{a,\r\n  title = {Old},\r\n  year = 2001\r\n}\r\n")
    plan = _plan(path, {"a": [FieldFix("title", "Old", "New"), FieldFix("year", "2001", "2002")]})
    assert plan.skipped == ()
    expected = codecs.BOM_UTF8 + b"@article{a,\r\n  title = {New},\r\n  year = 2002\r\n}\r\n"
    assert plan.new_text.encode("utf-8") == expected


def test_the_second_keyless_entry_on_a_line_is_edited_too(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@misc{, title = {A}} @misc{, title = {B}}\n", encoding="utf-8")
    keys = [r.key for r in read(str(path)).references]
    assert keys == ["<no key, line 1>", "<no key, line 1 (2)>"]
    plan = _plan(path, {keys[1]: [FieldFix("title", "B", "Bee")]})
    assert plan.new_text == "@misc{, title = {A}} @misc{, title = {Bee}}\n"


def test_a_field_is_not_inserted_before_a_biber_comment_but_values_are_edited(tmp_path: Path) -> None:
    source = "@book{b,\n  title = {T}, % the title\n  year = {2001}  % spring\n}\n"
    path = tmp_path / "refs.bib"
    path.write_text(source, encoding="utf-8")
    plan = _plan(path, {"b": [FieldFix("title", "T", "The title"), FieldFix("doi", None, "10.1/x")]})
    assert plan.new_text == source.replace("{T}", "{The title}")
    assert [(s.field, s.reason) for s in plan.skipped] == [
        ("doi", "a comment follows the entry's last field (add the field by hand)")]


def test_an_entry_the_reader_failed_on_is_not_edited(tmp_path: Path) -> None:
    source = "@misc{good, title = {A}}\n@misc{bad, title = {B}, note = {unclosed}\n@misc{after, title = {C}}\n"
    path = tmp_path / "refs.bib"
    path.write_text(source, encoding="utf-8")
    plan = _plan(path, {"bad": [FieldFix("title", "B", "Bee")], "after": [FieldFix("title", "C", "Sea")]})
    assert plan.new_text == source.replace("{C}", "{Sea}")
    assert [s.key for s in plan.skipped] == ["bad"]


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="the real-world exports (../shared/realworld/export) are absent")
@pytest.mark.parametrize("name", sorted(p.name for p in REALWORLD.glob("*.bib")) if REALWORLD.is_dir() else [])
def test_editing_every_entry_of_a_real_library_changes_only_those_values(tmp_path: Path, name: str) -> None:
    path = REALWORLD / name
    references = read(str(path)).references
    keys = [r.key for r in references]
    wanted = {}
    for ref in references:
        title = ref.raw_fields.get("title")
        if title and keys.count(ref.key) == 1 and "{" not in title and not bibtex.is_keyless(ref.key):
            wanted[ref.key] = [FieldFix("title", title, f"Replaced title of {ref.key}")]
    if not wanted:
        pytest.skip(f"{name} has no entry with a plain title")
    plan = fix.plan(str(path), path.read_bytes(), references, [], wanted)
    assert len(plan.fixes) >= 0.9 * len(wanted), plan.skipped[:3]
    after = _reread(tmp_path, plan.new_text)
    changed = {f.key for f in plan.fixes}
    for ref in references:
        if ref.key not in after:
            continue
        fields = dict(after[ref.key].raw_fields)
        if ref.key in changed:
            assert fields.pop("title") == f"Replaced title of {ref.key}"
            assert fields == {k: v for k, v in ref.raw_fields.items() if k != "title"}
        else:
            assert fields == dict(ref.raw_fields)
    # each edit replaces exactly the title's text as written, nothing around it
    for edit in plan.fixes:
        assert " ".join(plan.text[edit.span.start : edit.span.end].split()) == " ".join((edit.old or "").split())


def test_a_check_does_not_record_edit_spans_and_fix_does(tmp_path: Path) -> None:
    """Recording where each field is costs a check 15-20% of its reading: only `fix` asks for it."""
    import datetime as dt

    from kratomref.check import check
    from kratomref.options import Options

    bib = tmp_path / "refs.bib"
    bib.write_text("@article{k,\n  title = {A Title},\n  doi = {https://doi.org/10.1000/xyz},\n  year = {2020},\n}\n",
                   encoding="utf-8")
    options = Options(paths=(str(bib),), offline=True, use_cache=False, archive=False, today=dt.date(2026, 11, 27))
    report = check(options)
    assert [r.reference.spans for r in report.results] == [None]
    run = fix.fix(options)
    assert run.plans and run.plans[0].fixes, "fix located the entry and planned the DOI's form"
