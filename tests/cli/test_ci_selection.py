"""selection.select: --select/--ignore, severity overrides, inline suppressions, KR901, fingerprints."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from ci_report import DOI_MISMATCH, LINK_GENERIC, OLD_WEB, PLACEHOLDER, UNREADABLE

from kratomref import readers
from kratomref.model import Document, DocumentEvidence, Finding, Location, Severity
from kratomref.options import Options
from kratomref.selection import fingerprint, select

# selection validates suppressions against the real catalogue; these test rules must be in it
pytestmark = pytest.mark.usefixtures("fixed_catalogue")

ALL = (
    Finding(DOI_MISMATCH, Location("refs.bib", 4, "smith2019"), "DOI resolves elsewhere"),
    Finding(LINK_GENERIC, Location("refs.bib", 11, "who2023"), "home page link"),
    Finding(OLD_WEB, Location("refs.bib", 21, "lee2020"), "old"),
    Finding(PLACEHOLDER, Location("draft.md", 5), "placeholder"),
    Finding(UNREADABLE, Location("bad.bib"), "binary"),
)


def codes(findings: list[Finding]) -> list[str]:
    return [f.rule.code for f in findings]


@pytest.mark.parametrize(
    ("select_", "ignore", "expected"),
    [
        pytest.param((), (), ["KR002", "KR203", "KR304", "KR501", "KR101"], id="everything by default"),
        pytest.param(("KR203",), (), ["KR203"], id="select by code"),
        pytest.param(("link-generic",), (), ["KR304"], id="select by name"),
        pytest.param(("KR3", "KR5"), (), ["KR304", "KR501"], id="select by code prefix"),
        pytest.param(("kr203",), (), ["KR203"], id="a code selects in any case"),
        pytest.param((), ("KR203", "old-web-source"), ["KR002", "KR304", "KR101"], id="ignore by code and name"),
        pytest.param(("KR",), ("KR2",), ["KR002", "KR304", "KR501", "KR101"], id="ignore a prefix of a selection"),
        pytest.param(("KR203", "KR3"), ("KR2",), ["KR203", "KR304"], id="a more specific select beats an ignore"),
        pytest.param(("KR2", "KR3"), ("KR203",), ["KR304"], id="a more specific ignore beats a select"),
        pytest.param(("doi-mismatch",), ("KR203",), [], id="equally specific: ignore wins"),
        pytest.param((), ("KR3", "link-generic"), ["KR002", "KR203", "KR501", "KR101"], id="ignore alone"),
    ],
)
def test_select_and_ignore(select_: tuple[str, ...], ignore: tuple[str, ...], expected: list[str]) -> None:
    kept = select(ALL, [], Options(select=select_, ignore=ignore))
    assert sorted(codes(kept)) == sorted(expected)


def test_output_is_sorted_by_file_line_and_code() -> None:
    kept = select(tuple(reversed(ALL)), [], Options())
    assert [(f.location.file, f.location.line) for f in kept] == [
        ("bad.bib", None), ("draft.md", 5), ("refs.bib", 4), ("refs.bib", 11), ("refs.bib", 21)
    ]


def test_severity_override_changes_the_level() -> None:
    kept = select(ALL, [], Options(severity_overrides=(("doi-mismatch", Severity.WARNING), ("KR5", Severity.ERROR))))
    levels = {f.rule.code: f.level for f in kept}
    assert levels["KR203"] is Severity.WARNING
    assert levels["KR501"] is Severity.ERROR
    assert levels["KR304"] is Severity.WARNING, "a rule no override names keeps its default"


def test_a_later_override_wins() -> None:
    kept = select(ALL[:1], [], Options(severity_overrides=(("KR2", Severity.INFO), ("KR203", Severity.WARNING))))
    assert kept[0].level is Severity.WARNING


def _read(tmp_path: Path, name: str, text: str) -> Document:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return readers.read(str(path))


BIB = """% kratomref: ignore[KR304]
@online{who2023,
  title = {Kratom fact sheet},
  url = {https://www.who.int/},
  year = {2023}
}

@article{smith2019,
  title = {Kratom alkaloids},
  doi = {10.1000/xyz},
  kratomref-ignore = {doi-mismatch},
  year = {2019}
}
"""


def test_a_bibtex_comment_above_an_entry_suppresses_that_entrys_finding(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", BIB)
    generic = Finding(LINK_GENERIC, Location(doc.path, 4, "who2023"), "home page link")
    other = Finding(OLD_WEB, Location(doc.path, 5, "who2023"), "old")
    mismatch = Finding(DOI_MISMATCH, Location(doc.path, 10, "smith2019"), "DOI resolves elsewhere")
    kept = select([generic, other, mismatch], [doc], Options())
    assert codes(kept) == ["KR501"], "KR304 by comment and doi-mismatch by field are suppressed, KR501 is not"


def test_the_same_finding_on_another_entry_is_not_suppressed(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", BIB)
    generic = Finding(LINK_GENERIC, Location(doc.path, 9, "smith2019"), "home page link")
    kept = select([generic], [doc], Options())
    assert "KR304" in codes(kept)


def test_unused_suppressions_are_reported_once_each_as_kr901(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", BIB)
    kept = select([], [doc], Options())
    unused = [(f.rule.code, f.rule.name, f.location.key, f.level) for f in kept]
    assert unused == [
        ("KR901", "unused-suppression", "who2023", Severity.INFO),
        ("KR901", "unused-suppression", "smith2019", Severity.INFO),
    ]
    assert "KR304" in kept[0].message and "doi-mismatch" in kept[1].message


def test_an_unused_suppression_can_itself_be_ignored(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", BIB)
    assert select([], [doc], Options(ignore=("unused-suppression",))) == []


def test_a_suppression_of_an_ignored_rule_is_not_unused(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", BIB)
    generic = Finding(LINK_GENERIC, Location(doc.path, 4, "who2023"), "home page link")
    mismatch = Finding(DOI_MISMATCH, Location(doc.path, 10, "smith2019"), "DOI resolves elsewhere")
    assert select([generic, mismatch], [doc], Options(ignore=("KR304",))) == []


MARKDOWN = """# Kratom and sleep

<!-- kratomref: ignore[KR101] -->
Kratom is widely used [CITATION NEEDED].

Another claim [CITATION NEEDED]. <!-- kratomref: ignore[placeholder-citation] -->

A third claim [TODO].

## References

1. Smith, J. (2019). Kratom alkaloids. Journal of Things, 1(2), 3-4.
"""


def test_a_markdown_comment_suppresses_findings_on_its_line_or_the_next(tmp_path: Path) -> None:
    doc = _read(tmp_path, "draft.md", MARKDOWN)
    findings = [Finding(PLACEHOLDER, Location(doc.path, line), "placeholder") for line in (4, 6, 8)]
    kept = select(findings, [doc], Options())
    assert [(f.rule.code, f.location.line) for f in kept] == [("KR101", 8)]


def test_a_markdown_suppression_with_nothing_to_suppress_is_reported(tmp_path: Path) -> None:
    doc = _read(tmp_path, "draft.md", MARKDOWN)
    kept = select([Finding(PLACEHOLDER, Location(doc.path, 4), "placeholder")], [doc], Options())
    assert [(f.rule.code, f.location.line) for f in kept] == [("KR901", 6)]


def test_a_suppression_naming_an_unknown_rule_is_reported(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", "% kratomref: ignore[KR999]\n@misc{a, title = {A}}\n")
    kept = select([], [doc], Options())
    assert codes(kept) == ["KR901"] and "unknown rule 'KR999'" in kept[0].message


def test_fingerprint_is_filled_and_stable_when_lines_move() -> None:
    finding = Finding(LINK_GENERIC, Location("refs.bib", 11, "who2023"), "home page link at line 11")
    moved = dataclasses.replace(
        finding, location=Location("refs.bib", 40, "who2023"), message="home page link at line 40"
    )
    (kept,) = select([finding], [], Options())
    assert kept.fingerprint == fingerprint(finding) == fingerprint(moved)
    assert len(kept.fingerprint) == 64


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"message": "a different problem"}, id="another message is another finding"),
        pytest.param({"location": Location("refs.bib", 11, "other2020")}, id="another key is another finding"),
        pytest.param({"rule": OLD_WEB}, id="another rule is another finding"),
        pytest.param({"location": Location("other.bib", 11, "who2023")}, id="another file is another finding"),
    ],
)
def test_fingerprint_changes_with_what_the_finding_is_about(change: dict[str, object]) -> None:
    finding = Finding(LINK_GENERIC, Location("refs.bib", 11, "who2023"), "home page link")
    assert fingerprint(finding) != fingerprint(dataclasses.replace(finding, **change))  # type: ignore[arg-type]


def test_an_existing_fingerprint_is_kept() -> None:
    finding = Finding(LINK_GENERIC, Location("refs.bib", 11, "who2023"), "x", fingerprint="given")
    assert select([finding], [], Options())[0].fingerprint == "given"


# --- which suppressions count as unused --------------------------------------------------------------


def test_an_offline_run_reports_no_unused_suppression_of_a_rule_that_needs_the_network(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", BIB)
    assert select([], [doc], Options(offline=True)) == [], "KR304 and doi-mismatch could not run offline"


def test_an_offline_run_still_reports_an_unused_suppression_of_an_offline_rule(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", "% kratomref: ignore[KR501]\n@misc{a, title = {A}}\n")
    kept = select([], [doc], Options(offline=True))
    assert codes(kept) == ["KR901"] and "KR501" in kept[0].message


@pytest.mark.parametrize(
    "ignore",
    [
        pytest.param(("KR304", "doi-mismatch"), id="ignored by code and name"),
        pytest.param(("KR2", "KR3"), id="ignored by prefix"),
    ],
)
def test_a_suppression_of_a_rule_the_configuration_ignores_is_never_unused(
    tmp_path: Path, ignore: tuple[str, ...]
) -> None:
    doc = _read(tmp_path, "refs.bib", BIB)
    assert select([], [doc], Options(ignore=ignore)) == []


def test_a_suppression_of_a_rule_outside_the_selection_is_never_unused(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", BIB)
    kept = select([], [doc], Options(select=("KR9", "KR3")))
    assert [(f.rule.code, f.location.key) for f in kept] == [("KR901", "who2023")], "doi-mismatch was not selected"


def test_an_entry_whose_look_up_could_not_be_made_has_no_unused_network_suppression(tmp_path: Path) -> None:
    from kratomref.model import DoiResolution, Evidence, Lookup

    doc = _read(tmp_path, "refs.bib", BIB)
    timed_out = Evidence(doi=DoiResolution("10.1000/xyz", Lookup.UNVERIFIED, reason="timeout"))
    kept = select([], [doc], Options(), {doc.path: DocumentEvidence({"smith2019": timed_out})})
    assert [(f.rule.code, f.location.key) for f in kept] == [("KR901", "who2023")], (
        "who2023 was looked up (no evidence says otherwise); smith2019's DOI could not be"
    )


# --- malformed suppressions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        pytest.param("refs.bib", "% kratomref: ignore[]\n@misc{a, title = {A}}\n", "names no rule",
                     id="an empty list in BibTeX"),
        pytest.param("refs.bib", "% kratomref: ignore\n@misc{a, title = {A}}\n", "names no rule",
                     id="no list at all in BibTeX"),
        pytest.param("refs.bib", "% kratomref: ignore[KR304\n@misc{a, title = {A}}\n", "not closed",
                     id="an unclosed list"),
        pytest.param("refs.bib", "% kratomref: ingore[KR304]\n@misc{a, title = {A}}\n", "not a directive",
                     id="a misspelt directive"),
        pytest.param("refs.bib", "@misc{a, title = {A}, kratomref-ignore = {}}\n", "names no rule",
                     id="an empty kratomref-ignore field"),
        pytest.param("draft.md", "Claim. <!-- kratomref: ignore -->\n", "names no rule",
                     id="no list in a Markdown comment"),
    ],
)
def test_a_malformed_suppression_is_reported(tmp_path: Path, name: str, text: str, words: str) -> None:
    doc = _read(tmp_path, name, text)
    kept = select([], [doc], Options(offline=True))
    assert codes(kept) == ["KR901"]
    assert kept[0].message.startswith("malformed suppression") and words in kept[0].message
    assert kept[0].suggestion is not None and "kratomref: ignore[KR304]" in kept[0].suggestion


def test_an_unknown_rule_in_a_markdown_suppression_is_reported(tmp_path: Path) -> None:
    doc = _read(tmp_path, "draft.md", "Claim. <!-- kratomref: ignore[KR999] -->\n")
    kept = select([], [doc], Options(offline=True))
    assert codes(kept) == ["KR901"] and "unknown rule 'KR999'" in kept[0].message


# --- order --------------------------------------------------------------------------------------------


def test_findings_on_one_line_are_in_column_order_not_code_order() -> None:
    later = Finding(DOI_MISMATCH, Location("refs.bib", 4, "smith2019", column=30), "second on the line")
    earlier = Finding(LINK_GENERIC, Location("refs.bib", 4, "smith2019", column=3), "first on the line")
    kept = select([later, earlier], [], Options())
    assert [f.message for f in kept] == ["first on the line", "second on the line"]


# --- where an unused suppression is reported ------------------------------------------------------------


def test_an_unused_markdown_comment_above_its_line_is_reported_on_the_comment(tmp_path: Path) -> None:
    doc = _read(tmp_path, "draft.md", MARKDOWN)
    kept = select([Finding(PLACEHOLDER, Location(doc.path, 6), "placeholder")], [doc], Options())
    assert [(f.rule.code, f.location.line) for f in kept] == [("KR901", 3)], "the comment is on line 3, not 4"


def test_an_unused_bibtex_comment_above_an_entry_is_reported_on_the_comment(tmp_path: Path) -> None:
    doc = _read(tmp_path, "refs.bib", "% kratomref: ignore[KR501]\n\n@misc{a,\n  title = {A}\n}\n")
    kept = select([], [doc], Options(offline=True))
    assert [(f.rule.code, f.location.line, f.location.key) for f in kept] == [("KR901", 1, "a")]


def test_unused_bibtex_comments_are_each_reported_on_their_own_line(tmp_path: Path) -> None:
    kept = select([], [_read(tmp_path, "refs.bib", BIB)], Options())
    assert [(f.location.line, f.location.key) for f in kept] == [(1, "who2023"), (8, "smith2019")], (
        "the comment above who2023 is on line 1; smith2019's kratomref-ignore field is in the entry"
    )
