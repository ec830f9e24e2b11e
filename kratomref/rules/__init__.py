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
    """What a rule may know besides the reference: the options (today's date among them), and the families
    that run (`for_options`: only those with a selected rule)."""

    options: Options
    families: tuple[ModuleType, ...] = FAMILIES

    @classmethod
    def for_options(cls, options: Options) -> Context:
        """A context that skips the families none of whose rules --select/--ignore leaves in: their findings
        would be dropped by the selection anyway (and a suppression naming them is never judged unused)."""
        running = tuple(
            family for family in FAMILIES if any(rule.selected(options.select, options.ignore) for rule in family.RULES)
        )
        return cls(options, running)


def all_rules() -> tuple[Rule, ...]:
    """Every rule, by code; two rules that share a code or a name are an error, never one silently dropped."""
    seen: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for family in FAMILIES:
        for rule in family.RULES:
            if seen.get(rule.code, rule) is not rule or names.get(rule.name, rule.code) != rule.code:
                raise ValueError(f"two rules declare {rule.code} or {rule.name!r} ({family.__name__})")
            seen[rule.code] = rule
            names[rule.name] = rule.code
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
    for family in ctx.families:
        judge = getattr(family, "judge", None)
        if judge is not None:
            yield from judge(ref, evidence, ctx)


def judge_document(doc: Document, evidence: Mapping[str, Evidence], ctx: Context) -> Iterator[Finding]:
    for family in ctx.families:
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
