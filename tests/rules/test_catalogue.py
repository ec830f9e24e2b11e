"""`kratomref rules` and `explain` read a generated catalogue: it must say what the rule modules declare."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kratomref.cli import main
from kratomref.model import Rule, Severity
from kratomref.rules import RULES, all_rules
from kratomref.rules import catalogue as generator


def test_the_catalogue_is_what_the_rule_modules_declare() -> None:
    shipped = generator.data_path().read_text(encoding="utf-8")
    assert shipped == generator.generate(), "stale: run `python -m kratomref.rules.catalogue`; commit data/rules.json"


def test_rules_lists_every_rule_with_its_metadata() -> None:
    out = CliRunner().invoke(main, ["rules", "--format", "json"]).output
    listed = {item["code"]: item for item in json.loads(out)}
    assert set(listed) == {r.code for r in RULES}
    kr203 = next(r for r in RULES if r.code == "KR203")
    assert listed["KR203"]["name"] == kr203.name
    assert listed["KR203"]["explanation"] == kr203.explanation
    assert listed["KR203"]["family"] == "crossref"


def test_explain_finds_a_rule_by_name_or_code() -> None:
    by_name = CliRunner().invoke(main, ["explain", "doi-not-found"])
    by_code = CliRunner().invoke(main, ["explain", "kr202"])
    assert by_name.exit_code == 0 and by_name.output == by_code.output
    assert by_name.output.startswith("KR202 doi-not-found (")
    assert CliRunner().invoke(main, ["explain", "KR999"]).exit_code != 0


def test_rules_and_explain_import_no_rule_module() -> None:
    code = ("import sys; sys.argv = ['kratomref', 'rules']\n"
            "from kratomref.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "loaded = [m for m in sys.modules if m.startswith(('kratomref.rules', 'kratomref.readers', 'requests'))]\n"
            "print(loaded, file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stderr.strip() == "[]"


def test_two_rules_with_one_code_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import kratomref.rules as rules

    class Family:
        __name__ = "kratomref.rules.twin"
        RULES = (Rule(RULES[0].code, "a-twin", Severity.INFO, "same code, another rule"),)

    monkeypatch.setattr(rules, "FAMILIES", (*rules.FAMILIES, Family))
    with pytest.raises(ValueError, match=RULES[0].code):
        all_rules()
