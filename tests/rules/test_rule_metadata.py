"""What each rule declares about itself (needs the network, fixable, on by default) agrees with what it does, and
`kratomref rules --format json` says it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from kratomref.cli import main
from kratomref.model import (
    Evidence,
    Finding,
    Hop,
    LinkResult,
    LinkStatus,
    Lookup,
    SearchResolution,
)
from kratomref.options import Options
from kratomref.readers.bibtex import read as read_bibtex
from kratomref.rules import OPT_IN_FAMILIES, RULES, Context, crossref, entries, links
from kratomref.selection import select

CTX = Context(Options(today=dt.date(2026, 11, 25)))
OLD = "http://example.org/old/report.pdf"
NEW = "https://example.org/reports/report.pdf"
PLAIN = "http://example.org/plain.pdf"
TITLE = "Kratom alkaloids and their effects on opioid receptors in a mouse model of pain"
WORK = {"DOI": "10.5555/kratom.2019.1", "title": [TITLE], "author": [{"family": "Smith", "given": "Jane"}],
        "issued": {"date-parts": [[2019]]}, "container-title": ["Journal of Pain Research"], "volume": "12",
        "page": "100-110", "type": "journal-article"}
# Each entry draws a finding with a fix from one place that makes FieldFixes (KR210, KR212, KR303, KR305, KR204).
BIB = f"""@article{{doiform, author = {{Smith, Jane}}, title = {{A}}, journal = {{J}}, year = {{2019}},
  doi = {{https://doi.org/10.5555/a.1}}}}
@misc{{noscheme, title = {{B}}, year = {{2019}}, url = {{www.example.org/b.pdf}}}}
@misc{{moved, title = {{C}}, year = {{2019}}, url = {{{OLD}}}}}
@misc{{plain, title = {{D}}, year = {{2019}}, url = {{{PLAIN}}}}}
@article{{nodoi, author = {{Smith, Jane}}, title = {{{TITLE}}}, journal = {{Journal of Pain Research}},
  year = {{2019}}, volume = {{12}}, pages = {{100--110}}}}
"""
EVIDENCE = {
    "moved": Evidence(links={OLD: LinkResult(OLD, LinkStatus.OK, 200, final_url=NEW,
                                             chain=(Hop(OLD, 301), Hop(NEW, 200)), permanent_redirect=True)}),
    "plain": Evidence(links={PLAIN: LinkResult(PLAIN, LinkStatus.OK, 200, final_url=PLAIN,
                                               chain=(Hop(PLAIN, 200),), https_works=True)}),
    "nodoi": Evidence(search=SearchResolution("q", Lookup.FOUND, (WORK,))),
}


def _findings() -> list[Finding]:
    doc = read_bibtex("refs.bib", BIB)
    return [f for ref in doc.references for family in (entries, crossref, links)
            for f in family.judge(ref, EVIDENCE.get(ref.key, Evidence()), CTX)]


def test_every_finding_with_a_fix_is_of_a_rule_declared_fixable() -> None:
    fixed = {f.rule.code for f in _findings() if f.fix is not None}
    assert fixed == {"KR204", "KR210", "KR212", "KR303", "KR305"}, "each entry above draws one fix"
    assert fixed == {r.code for r in RULES if r.fixable}


def test_rules_lists_whether_a_rule_needs_the_network_is_fixable_and_is_on_by_default() -> None:
    out = CliRunner().invoke(main, ["rules", "--format", "json"]).output
    listed = {item["code"]: item for item in json.loads(out)}
    assert (listed["KR202"]["needs_network"], listed["KR202"]["fixable"], listed["KR202"]["default_on"]) == (
        True, False, True)
    assert (listed["KR210"]["needs_network"], listed["KR210"]["fixable"]) == (False, True)
    assert listed["KR506"]["default_on"] is False
    assert {code for code, item in listed.items() if item["needs_network"]} == {r.code for r in RULES
                                                                                   if r.needs_network}


def test_a_rule_off_by_default_runs_only_when_selected_by_its_code() -> None:
    off = [r for r in RULES if not r.default_on]
    assert [r.code for r in off] == ["KR506"]
    for rule in off:
        family = next(name for name, names in OPT_IN_FAMILIES.items() if rule.code in names)
        assert rule.name in OPT_IN_FAMILIES[family]
        assert family not in Context.for_options(Options()).family_names
        assert family in Context.for_options(Options(select=(rule.code,))).family_names


def test_a_suppression_of_each_network_rule_is_not_unused_offline_but_of_an_offline_rule_is(tmp_path: Path) -> None:
    for rule in RULES:
        if not rule.default_on or rule.code == "KR901":
            continue
        bib = tmp_path / "refs.bib"
        bib.write_text(f"% kratomref: ignore[{rule.code}]\n@misc{{a, title = {{T}}, year = {{2020}}}}\n",
                       encoding="utf-8")
        kept = select([], [read_bibtex(str(bib), bib.read_text(encoding="utf-8"))], Options(offline=True))
        assert bool(kept) is not rule.needs_network, rule.code
