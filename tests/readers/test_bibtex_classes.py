"""Classes of real .bib input that were false alarms: entries without a key, DOIs behind other resolvers,
journal macros, url fields without a scheme or holding a DOI."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from kratomref import fix
from kratomref.check import check
from kratomref.doi import is_doi_url, normalise_doi
from kratomref.model import Document
from kratomref.options import Options
from kratomref.readers import bibtex, read
from kratomref.readers.journal_macros import AAS_JOURNALS

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "realworld" / "corpus"
CITAVI = CORPUS / "bib/JabRef__jabref/jablib/src/test/resources/org/jabref/logic/importer/fileformat"


def _read(source: str, macros: Mapping[str, str] | None = None) -> Document:
    return bibtex.read("refs.bib", source, macros=macros)


def _check(path: Path) -> list[tuple[str, str | None, str]]:
    report = check(Options(paths=(str(path),), offline=True, use_cache=False, archive=False,
                           today=dt.date(2026, 11, 27)))
    return [(f.rule.code, f.location.key, f.message) for f in report.findings]


# --- entries without a key ----------------------------------------------------------------------

KEYLESS = """@Article{,
  author  = {Agbaraji, Emmanuel},
  title   = {Food and drug counterfeiting},
  journal = {Food Journal},
  year    = {2012},
}

@Book{,
  author    = {Allan, Barbara},
  title     = {E-learning},
  publisher = {Facet},
  year      = {2002},
}

@Book{allan2003,
  author    = {Allan, Barbara},
  title     = {Blended learning},
  publisher = {Facet},
  year      = {2003},
}

@misc{ ,
  title = "Third one",
  year  = 2011,
}
"""


def test_every_keyless_entry_is_its_own_reference_located_by_its_line() -> None:
    doc = _read(KEYLESS)
    assert [r.title for r in doc.references] == ["Food and drug counterfeiting", "E-learning", "Blended learning",
                                                 "Third one"]
    assert [r.location.line for r in doc.references] == [1, 8, 15, 22]
    assert [r.key for r in doc.references] == ["<no key, line 1>", "<no key, line 8>", "allan2003",
                                               "<no key, line 22>"]
    # the fields of a later keyless entry are read like any other's: no braces or quotes left
    assert doc.references[1].raw_fields["publisher"] == "Facet"
    assert doc.references[3].raw_fields["title"] == "Third one"


def test_each_keyless_entry_gets_one_no_key_problem_and_none_says_duplicate_key() -> None:
    doc = _read(KEYLESS)
    assert not any("duplicate" in p.message for p in doc.problems)
    no_key = [p for p in doc.problems if "no key" in p.message]
    assert [(p.code, p.location.line, p.location.key) for p in no_key] == [
        ("KR001", 1, "<no key, line 1>"), ("KR001", 8, "<no key, line 8>"), ("KR001", 22, "<no key, line 22>")]
    assert "\"@Book{\"" in (no_key[1].suggestion or "")  # says where the key goes, as the entry is written


def test_a_synthetic_key_cannot_be_a_real_key() -> None:
    # a real key that looks like one is impossible: BibTeX keys end at a comma or a space
    doc = _read("@article{<no,\n title = {A}}\n@article{,\n title = {B}}\n")
    keys = [r.key for r in doc.references]
    assert keys == ["<no", "<no key, line 3>"]
    assert bibtex.is_keyless(keys[1]) and not bibtex.is_keyless(keys[0])


def test_two_keyless_entries_on_one_line_keep_distinct_keys() -> None:
    doc = _read("@article{a, title={A}} @article{, title={B}} @article{, title={C}}\n")
    assert [r.key for r in doc.references] == ["a", "<no key, line 1>", "<no key, line 1 (2)>"]
    assert [r.title for r in doc.references] == ["A", "B", "C"]


def test_a_real_duplicate_key_is_still_reported() -> None:
    doc = _read("@article{a, title={A}}\n@article{,title={K}}\n@article{a, title={A2}}\n")
    assert [p.message for p in doc.problems if "duplicate" in p.message] == [
        "duplicate key 'a' (first used on line 1): only the first entry with this key is used"]


def test_a_keyless_entry_with_a_repeated_field_is_read_and_both_problems_are_reported() -> None:
    doc = _read("@article{,\n  doi = {10.1234/abc},\n  title = {A},\n  title = {B}\n}\n")
    assert [r.key for r in doc.references] == ["<no key, line 1>"]
    assert doc.references[0].doi == "10.1234/abc"  # its braces removed like any other entry's
    assert sorted(p.message.split(":")[0] for p in doc.problems) == ["entry repeats the field title",
                                                                      "the entry has no key"]


def test_fix_edits_a_keyless_entry_at_its_line(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{,\n  title = {A},\n  doi = {https://doi.org/10.1234/ABC}\n}\n"
                   "@article{,\n  title = {B},\n  doi = {doi:10.1234/def}\n}\n", encoding="utf-8")
    run = fix.fix(Options(paths=(str(bib),), offline=True, use_cache=False, archive=False))
    (plan,) = run.plans
    assert plan.new_text == ("@article{,\n  title = {A},\n  doi = {10.1234/ABC}\n}\n"
                             "@article{,\n  title = {B},\n  doi = {10.1234/def}\n}\n")


@pytest.mark.parametrize(("above", "reason"), [
    ("\n", "no entry without a key at line 1"),
    ("@misc{, title = {Another}}\n", "the entry at line 1 is not the one that was checked"),
], ids=["a blank line above", "another keyless entry above"])
def test_fix_declines_a_keyless_entry_whose_text_moved(tmp_path: Path, above: str, reason: str) -> None:
    source = "@article{,\n  title = {A},\n  doi = {https://doi.org/10.1234/abc}\n}\n"
    doc = read(str(_write(tmp_path, source)))
    report = check(Options(paths=(doc.path,), offline=True, use_cache=False, archive=False), documents=[doc])
    moved = (above + source).encode()  # the entry at line 1 is no longer the one read
    plan = fix.plan(doc.path, moved, doc.references, [f for f in report.findings if f.fix is not None])
    assert plan.fixes == ()
    assert [s.reason for s in plan.skipped] == [reason]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "refs.bib"
    path.write_text(text, encoding="utf-8")
    return path


def test_citavi_export_reads_every_entry() -> None:
    path = CITAVI / "CitaviXmlImporterTest1.bib"
    if not path.exists():
        pytest.skip("the real-world corpus (../shared/realworld) is not on this machine")
    text = path.read_text(encoding="utf-8")
    entries = len(re.findall(r"^@\w+\{", text, re.MULTILINE))
    doc = read(str(path))
    assert entries == 60  # 59 of them were "duplicate key ''" before
    assert len(doc.references) == entries
    assert len({r.key for r in doc.references}) == entries
    assert not any("duplicate" in p.message for p in doc.problems)
    assert sum("no key" in p.message for p in doc.problems) == entries


# --- DOIs behind other resolvers ------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "http://doi.acm.org/10.1145/1073001.1073004",
    "https://dx.doi.org/10.1145/1073001.1073004",
    "http://doi.org/10.1145/1073001.1073004",
    "http://doi.ieeecomputersociety.org/10.1145/1073001.1073004",
    "dx.doi.org/10.1145/1073001.1073004",
])
def test_a_doi_behind_a_known_resolver_is_that_doi(written: str) -> None:
    assert normalise_doi(written) == "10.1145/1073001.1073004"


@pytest.mark.parametrize("written", [
    "https://example.org/10.1145/1073001.1073004",
    "https://dl.acm.org/citation.cfm?id=10.1145/1073001.1073004",
    "http://doi.acm.org.evil.example/10.1145/1073001.1073004",
])
def test_another_url_with_a_doi_in_it_stays_a_url(written: str) -> None:
    assert normalise_doi(written) is None
    assert not is_doi_url(written)


# --- journal macros -------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "journal"), [
    (r"{\apjl}", "The Astrophysical Journal Letters"),
    (r"{\mnras}", "Monthly Notices of the Royal Astronomical Society"),
    (r"\aap", "Astronomy & Astrophysics"),
    (r"{\apj{}}", "The Astrophysical Journal"),
])
def test_aas_journal_macros_name_the_journal(written: str, journal: str) -> None:
    (ref,) = _read(f"@article{{a, author = {{A, B}}, title = {{T}}, year = 2020, journal = {written}}}").references
    assert ref.container == journal
    assert ref.raw_fields["journal"].startswith("\\")  # the value as written is kept, for `kratomref fix`


def test_the_aas_table_covers_the_standard_macros() -> None:
    names = ["aj", "actaa", "araa", "apj", "apjl", "apjs", "ao", "apss", "aap", "aapr", "aaps", "azh", "baas", "caa",
             "cjaa", "jcap", "jrasc", "memras", "mnras", "na", "pra", "prb", "prc", "prd", "pre", "prl", "pasa", "pasp",
             "pasj", "rmxaa", "qjras", "skytel", "solphys", "sovast", "ssr", "zap", "nat", "iaucirc", "aplett", "apspr",
             "bain", "fcp", "gca", "grl", "jcp", "jgr", "jqsrt", "memsai", "nphysa", "physrep", "physscr", "planss",
             "procspie"]
    assert [n for n in names if not AAS_JOURNALS.get(n)] == []


def test_an_aas_macro_outside_a_journal_field_is_not_a_journal() -> None:
    (ref,) = _read(r"@article{a, title = {On \na and \nat}, journal = {J}}").references
    assert "Nature" not in (ref.title or "")


def test_document_macros_take_precedence_and_apply_to_every_field() -> None:
    source = r"@article{a, title = {The \project survey}, journal = {\apjl}, year = 2020}"
    (ref,) = _read(source, macros={"apjl": "ApJL", "project": "SDSS"}).references
    assert (ref.container, ref.title) == ("ApJL", "The SDSS survey")
    (plain,) = _read(source).references
    assert plain.container == "The Astrophysical Journal Letters"


def test_a_macro_that_names_itself_stops() -> None:
    start = time.perf_counter()
    (ref,) = _read(r"@article{a, title = {\loop}}", macros={"loop": r"\loop\loop"}).references
    assert time.perf_counter() - start < 1
    assert len(ref.title or "") < 10_000


def test_string_definitions_of_the_file_name_the_journal() -> None:
    (ref,) = _read('@string{apj = "Astrophys. J."}\n@article{a, title={T}, journal = apj}').references
    assert ref.container == "Astrophys. J."


def test_a_journal_macro_is_no_longer_a_missing_journal(tmp_path: Path) -> None:
    bib = _write(tmp_path, "@article{a, author = {Smith, J.}, title = {Stars}, year = {2020}, journal = {\\apjl}}\n")
    assert [f for f in _check(bib) if f[0] == "KR105"] == []


# --- url fields ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "url"), [
    ("www.aldor.org/aldorug.pdf", "http://www.aldor.org/aldorug.pdf"),
    ("www.fda.gov", "http://www.fda.gov"),
    ("github.com/sympy/sympy", "http://github.com/sympy/sympy"),
    ("www.cecm.sfu.ca/~rpearcea/thesis.pdf", "http://www.cecm.sfu.ca/~rpearcea/thesis.pdf"),
])
def test_a_url_without_its_scheme_is_read_as_the_http_url_it_means(written: str, url: str) -> None:
    (ref,) = _read(f"@misc{{a, title = {{T}}, url = {{{written}}}}}").references
    assert ref.urls == (url,)


@pytest.mark.parametrize("written", ["paper.pdf", "see the appendix", "%E0%A4%A", "C:/papers/a.pdf"])
def test_text_that_is_not_an_address_stays_as_written(written: str) -> None:
    (ref,) = _read(f"@misc{{a, title = {{T}}, url = {{{written}}}}}").references
    assert ref.urls == (written,)


@pytest.mark.parametrize("written", ["10.1145/123.456", "doi:10.1145/123.456", "dx.doi.org/10.1145/123.456"])
def test_a_doi_in_the_url_field_is_the_entry_doi(written: str) -> None:
    (ref,) = _read(f"@misc{{a, title = {{T}}, url = {{{written}}}}}").references
    assert normalise_doi(ref.doi) == "10.1145/123.456"
    assert ref.urls == ()


def test_a_doi_field_wins_over_a_doi_in_the_url_field() -> None:
    (ref,) = _read("@misc{a, title = {T}, doi = {10.1145/1.2}, url = {10.1145/9.9}}").references
    assert ref.doi == "10.1145/1.2"
    assert ref.urls == ()


def test_long_url_values_are_read_in_linear_time() -> None:
    for value in ("a." * 20_000 + "b", "www." + "a-" * 20_000, "10." + "1" * 40_000):
        start = time.perf_counter()
        _read(f"@misc{{a, url = {{{value}}}}}")
        assert time.perf_counter() - start < 2, value[:20]


# --- URLs written with LaTeX escapes --------------------------------------------------------------

ESCAPED_URLS = {
    "an escaped underscore": ("url = {http://www.numpy.org/\\_downloads/manual.pdf}",
                              "http://www.numpy.org/_downloads/manual.pdf"),
    "a tilde written as math": ("note = {http://www.math2.rwth-aachen.de/{$\\sim$}koster/ComputeTW}",
                                "http://www.math2.rwth-aachen.de/~koster/ComputeTW"),
    "a tilde accent with a space": ("howpublished = {{\\tt http://www.math.tu-berlin.de/\\~{ }kant}}",
                                    "http://www.math.tu-berlin.de/~kant"),
    "a \\verb delimiter": ('note = "\\verb+(http://www.gap-system.org)+"', "http://www.gap-system.org"),
}


@pytest.mark.parametrize("name", list(ESCAPED_URLS), ids=list(ESCAPED_URLS))
def test_a_url_written_with_latex_escapes_is_the_url_a_reader_follows(name: str) -> None:
    field, url = ESCAPED_URLS[name]
    [ref] = _read(f"@misc{{a, title = {{T}}, year = {{2020}}, {field}}}\n").references
    assert ref.urls == (url,)


def test_a_lone_verb_in_a_long_note_is_read_in_linear_time() -> None:
    note = "\\verb|" * 20_000
    start = time.perf_counter()
    _read(f"@misc{{a, title = {{T}}, note = {{{note} http://x.org/a}}}}\n")
    assert time.perf_counter() - start < 2


# --- comments inside an entry, as biber accepts them ----------------------------------------------

def test_comments_after_a_field_or_on_their_own_line_inside_an_entry_are_comments() -> None:
    doc = _read("@misc{date6,\n  % uses the 'nodate' string\n  date = {1723-21},   % spring\n"
                "  note = {50% of cases, 20\\% more},\n  title = {T},\n}\n")
    assert not doc.problems
    [ref] = doc.references
    assert ref.fields["date"] == "1723-21" and ref.fields["note"].startswith("50% of cases, 20")
    assert ref.field_lines["title"] == 5, "lines stay where they were"
    last = _read("@misc{date8,\n  urldate = {-0379}     % otherwise 380 BCE\n}\n")
    assert not last.problems and last.references[0].fields["urldate"] == "-0379"


@pytest.mark.parametrize("value", [
    "url = {https://scholar.google.com/scholar?q=Smith,%20J}", "title = {Over half,% of cases}",
    "title = {A {B} %C}", "title = {A\n% of users}", 'title = "a,%20b"', "title = {50% of {X} cases}",
], ids=["an escaped comma in a URL", "a percent after a comma", "a percent after a brace", "a line opening with %",
        "a quoted value", "braces after a percent"])
def test_a_percent_sign_inside_a_value_is_text_and_the_next_entry_is_read(value: str) -> None:
    doc = _read(f"@misc{{k, {value}, year = {{2020}}}}\n@misc{{j, title = {{Next}}}}\n")
    assert not doc.problems and [r.key for r in doc.references] == ["k", "j"]
    assert "%" in next(v for name, v in doc.references[0].fields.items() if name in ("url", "title"))
