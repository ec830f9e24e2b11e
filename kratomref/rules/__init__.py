"""The rule catalogue: every rule kratomref can report, gathered from one module per family.

`rules`, `explain`, SARIF's rule list and the README table all read RULES.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from kratomref.model import Document, Evidence, Finding, Reference, Rule
from kratomref.options import Options
from kratomref.rules import citations as citation_rules
from kratomref.rules import claims as claim_rules
from kratomref.rules import crossref as crossref_rules
from kratomref.rules import entries as entry_rules
from kratomref.rules import input as input_rules
from kratomref.rules import links as link_rules
from kratomref.rules import placeholders as placeholder_rules
from kratomref.rules import suppressions as suppression_rules

# Each family module defines RULES and any of:
#   judge(ref: Reference, evidence: Evidence, ctx: Context) -> Iterable[Finding]
#   judge_document(doc: Document, evidence: Mapping[str, Evidence], ctx: Context) -> Iterable[Finding]
# where the evidence mapping is keyed by Reference.key.
FAMILIES: tuple[ModuleType, ...] = (
    input_rules,
    placeholder_rules,
    entry_rules,
    crossref_rules,
    link_rules,
    citation_rules,
    claim_rules,
    suppression_rules,
)


@dataclass(frozen=True)
class Context:
    """What a rule may know besides the reference: the options (today's date among them)."""

    options: Options


def all_rules() -> tuple[Rule, ...]:
    seen: dict[str, Rule] = {}
    for family in FAMILIES:
        for rule in family.RULES:
            seen.setdefault(rule.code, rule)
    return tuple(sorted(seen.values(), key=lambda r: r.code))


RULES: tuple[Rule, ...] = all_rules()


def find_rule(selector: str) -> Rule | None:
    """A rule by its code (any case) or name."""
    s = selector.strip()
    for rule in RULES:
        if rule.code.lower() == s.lower() or rule.name == s.lower():
            return rule
    return None


def judge_reference(ref: Reference, evidence: Evidence, ctx: Context) -> Iterator[Finding]:
    for family in FAMILIES:
        judge = getattr(family, "judge", None)
        if judge is not None:
            yield from judge(ref, evidence, ctx)


def judge_document(doc: Document, evidence: Mapping[str, Evidence], ctx: Context) -> Iterator[Finding]:
    for family in FAMILIES:
        judge = getattr(family, "judge_document", None)
        if judge is not None:
            yield from judge(doc, evidence, ctx)


def confirmations(ref: Reference, evidence: Evidence, ctx: Context) -> Mapping[str, Any] | None:
    """What confirms the reference exists and is the cited work, from the first family that can say.

    Families expose `confirms(ref, evidence, ctx)`; Crossref (DOI or confident search match) comes
    before a working specific link because FAMILIES lists it first.
    """
    for family in FAMILIES:
        confirms = getattr(family, "confirms", None)
        if confirms is not None:
            found = confirms(ref, evidence, ctx)
            if found is not None:
                return dict(found)
    return None
