"""KR212 url-form (a url field without its scheme, or holding a DOI) and KR210 for DOIs behind other resolvers:
what is reported, what is fixed, and what the link rules no longer call broken."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from kratomref.cli import main
from kratomref.model import NO_EVIDENCE, Evidence, FieldFix, Finding, Hop, LinkResult, LinkStatus, Severity
from kratomref.options import Options
from kratomref.readers.bibtex import read as read_bibtex
from kratomref.rules import RULES, Context, entries, links

CTX = Context(Options(today=dt.date(2026, 11, 25)))
WWW = "@misc{aldor, title = {Aldor User Guide}, year = {2000},\n  url = {www.aldor.org/aldorug.pdf}\n}\n"
HTTP = "http://www.aldor.org/aldorug.pdf"


# The rules about a DOI's or a link's form and state; the others (missing fields, age) are beside the point here.
CODES = {"KR201", "KR210", "KR212", "KR301", "KR302", "KR303", "KR304", "KR305", "KR306", "KR307"}


def _findings(source: str, evidence: Evidence = NO_EVIDENCE) -> list[Finding]:
    doc = read_bibtex("refs.bib", source)
    return [f for ref in doc.references
            for family in (entries, links) for f in family.judge(ref, evidence, CTX) if f.rule.code in CODES]


def _codes(findings: list[Finding]) -> list[str]:
    return [f.rule.code for f in findings]


def test_kr212_is_in_the_catalogue_as_a_warning() -> None:
    rule = next(r for r in RULES if r.code == "KR212")
    assert (rule.name, rule.severity) == ("url-form", Severity.WARNING)
    assert "What it does" in rule.explanation and "How to fix" in rule.explanation


# --- a url without its scheme -------------------------------------------------------------------


def test_a_url_without_a_scheme_is_a_form_warning_not_a_broken_link() -> None:
    findings = _findings(WWW, Evidence(links={HTTP: LinkResult(HTTP, LinkStatus.UNVERIFIED, reason="offline")}))
    assert _codes(findings) == ["KR212"]
    (finding,) = findings
    assert finding.location.line == 2  # the url field's line
    assert finding.message == f"the url www.aldor.org/aldorug.pdf has no scheme: it was read as {HTTP}"
    assert finding.fix == FieldFix("url", "www.aldor.org/aldorug.pdf", HTTP)


def test_the_fix_writes_https_when_a_live_check_found_that_it_works() -> None:
    checked = LinkResult(HTTP, LinkStatus.OK, 200, final_url=HTTP, chain=(Hop(HTTP, 200),), https_works=True)
    findings = _findings(WWW, Evidence(links={HTTP: checked}))
    assert _codes(findings) == ["KR212"]  # not KR305 as well: the user never wrote http://
    assert findings[0].fix == FieldFix("url", "www.aldor.org/aldorug.pdf", "https://www.aldor.org/aldorug.pdf")


def test_a_redirect_to_https_is_only_the_form_finding() -> None:
    secure = "https://www.aldor.org/aldorug.pdf"
    checked = LinkResult(HTTP, LinkStatus.OK, 200, final_url=secure, chain=(Hop(HTTP, 301), Hop(secure, 200)),
                         permanent_redirect=True)
    findings = _findings(WWW, Evidence(links={HTTP: checked}))
    assert _codes(findings) == ["KR212"]  # not KR303 "moved permanently" as well
    assert findings[0].fix == FieldFix("url", "www.aldor.org/aldorug.pdf", secure)


def test_a_url_without_a_scheme_that_is_gone_is_still_broken() -> None:
    checked = LinkResult(HTTP, LinkStatus.BROKEN, 404, final_url=HTTP, chain=(Hop(HTTP, 404),), reason="HTTP 404")
    findings = _findings(WWW, Evidence(links={HTTP: checked}))
    assert _codes(findings) == ["KR212", "KR301"]
    assert findings[1].location.line == 2  # located at the url field it came from


def test_text_that_is_no_address_is_still_reported_as_not_a_url() -> None:
    source = "@misc{a, title = {T}, url = {%E0%A4%A}}"
    result = LinkResult("%E0%A4%A", LinkStatus.UNSUPPORTED, reason="not a URL: no scheme (write https://...)")
    assert _codes(_findings(source, Evidence(links={"%E0%A4%A": result}))) == ["KR301"]


def test_a_double_braced_url_without_a_scheme_is_read_and_fixed_too() -> None:
    findings = _findings("@misc{a, title = {T}, url = {{www.aldor.org/aldorug.pdf}}}")
    assert _codes(findings) == ["KR212"]
    assert findings[0].fix == FieldFix("url", "{www.aldor.org/aldorug.pdf}", HTTP)


def test_a_url_with_its_scheme_is_no_form_finding() -> None:
    assert _findings("@misc{a, title = {T}, year = 2020, url = {https://www.aldor.org/aldorug.pdf}}") == []


# --- a DOI in the url field -----------------------------------------------------------------------


@pytest.mark.parametrize("written", ["10.1145/123.456", "doi:10.1145/123.456"])
def test_a_doi_in_the_url_field_moves_to_a_doi_field(written: str) -> None:
    findings = _findings(f"@article{{a, author = {{A, B}}, title = {{T}}, journal = {{J}}, year = 2020,\n"
                         f"  url = {{{written}}}}}")
    assert _codes(findings) == ["KR212"]
    assert findings[0].message == "the url field holds the DOI 10.1145/123.456, not a link"
    assert findings[0].fix == FieldFix("doi", written, "10.1145/123.456", moved_from="url")


def test_a_doi_in_the_url_field_that_repeats_the_doi_field_is_reported_without_a_fix() -> None:
    findings = _findings("@article{a, author = {A, B}, title = {T}, journal = {J}, year = 2020,\n"
                         "  doi = {10.1038/s41467-017-02342-1}, url = {10.1038/s41467-017-02342-1}}")
    assert _codes(findings) == ["KR212"]
    assert "repeats the DOI" in findings[0].message and findings[0].fix is None


def test_fix_moves_the_doi_and_adds_the_scheme(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a,\n  author = {A, B},\n  title  = {T},\n  journal = {J},\n  year = {2020},\n"
                   "  url    = {10.1145/123.456},\n}\n" + WWW, encoding="utf-8")
    result = CliRunner().invoke(main, ["fix", "--offline", "--write", "--no-backup", str(bib)])
    assert result.exit_code == 0, result.output
    text = bib.read_text(encoding="utf-8")
    assert "  doi    = {10.1145/123.456},\n" in text and "url    =" not in text
    assert f"url = {{{HTTP}}}" in text


# --- KR210: DOIs behind other resolvers -----------------------------------------------------------


@pytest.mark.parametrize("written", [
    "http://doi.acm.org/10.1145/1073001.1073004",
    "http://dx.doi.org/10.1145/1073001.1073004",
    "http://doi.org/10.1145/1073001.1073004",
    "http://doi.ieeecomputersociety.org/10.1145/1073001.1073004",
])
def test_a_doi_written_as_another_resolver_url_is_a_form_finding_with_a_fix(written: str) -> None:
    findings = _findings(f"@article{{a, author = {{A, B}}, title = {{T}}, journal = {{J}}, year = 2020,"
                         f" doi = {{{written}}}}}")
    assert _codes(findings) == ["KR210"]
    assert findings[0].message == f"DOI written as a URL: {written}"
    assert findings[0].fix == FieldFix("doi", written, "10.1145/1073001.1073004")


def test_an_arbitrary_url_with_a_doi_in_it_is_still_not_a_doi() -> None:
    findings = _findings("@article{a, author = {A, B}, title = {T}, journal = {J}, year = 2020,"
                         " doi = {https://dl.acm.org/doi/10.1145/1073001.1073004}}")
    assert _codes(findings) == ["KR201"]


def test_a_doi_url_of_another_resolver_in_the_url_field_is_the_doi_and_no_link() -> None:
    findings = _findings("@article{a, author = {A, B}, title = {T}, journal = {J}, year = 2020,"
                         " url = {http://doi.acm.org/10.1145/1073001.1073004}}")
    assert _codes(findings) == ["KR210"]
    assert findings[0].message == "the DOI 10.1145/1073001.1073004 is given only as a link in the url field"
    assert findings[0].fix is None  # the link works; a style that prints url but not doi would lose it


def test_a_doi_moved_out_of_the_url_field_keeps_its_case() -> None:
    [finding] = [f for f in _findings("@article{a, author = {S, J}, title = {T}, journal = {J}, year = {2020},\n"
                                      "  url = {10.1002/ANIE.201915678}}") if f.rule.code == "KR212"]
    assert finding.fix is not None and finding.fix.new == "10.1002/ANIE.201915678"
