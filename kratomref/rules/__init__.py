"""The rule catalogue: every rule kratomref can report, gathered from one module per family.

`rules`, `explain`, SARIF's rule list and the README table all read RULES. A family's module is imported when a
run first needs it: a bibliography alone loads none of the families that judge a draft's text (start-up).
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from kratomref.model import Document, DocumentEvidence, Evidence, Finding, Reference, Rule, Severity
from kratomref.options import Options

# Each family module defines RULES and any of:
#   judge(ref: Reference, evidence: Evidence, ctx: Context) -> Iterable[Finding]
#   judge_document(doc: Document, evidence: DocumentEvidence, ctx: Context) -> Iterable[Finding]
#   confirms(ref: Reference, evidence: Evidence, ctx: Context) -> Mapping[str, Any] | None
# (DocumentEvidence: the references' Evidence by Reference.key, body links, placeholder searches). In this order
# they run (and confirm).
FAMILY_NAMES: tuple[str, ...] = (
    "input", "placeholders", "entries", "crossref", "links", "citations", "claims", "offtopic", "suppressions",
)
# Families whose rules are opt-in: they run only when --select (or the configuration's select) names one of these
# codes or names itself, never for a prefix or by default (KR506 is slow to load and not precise enough to be on).
OPT_IN_FAMILIES: dict[str, tuple[str, ...]] = {"offtopic": ("KR506", "citation-off-topic")}

if TYPE_CHECKING:  # made at the first use (module __getattr__ below): they import every family
    FAMILIES: tuple[ModuleType, ...]
    RULES: tuple[Rule, ...]


def has_text(doc: Document) -> bool:
    """Whether a document has a text of its own (a draft), not only references."""
    return bool(doc.body)


def has_citations(doc: Document) -> bool:
    """Whether a document cites, or has both a text and references that it could cite."""
    return bool(doc.citations or (doc.references and doc.body))


def opted_in(name: str, select: Sequence[str]) -> bool:
    """Whether a family runs for this --select: every family but an opt-in one, which needs its rule named."""
    names = OPT_IN_FAMILIES.get(name)
    return names is None or any(s.strip().lower() in {n.lower() for n in names} for s in select)


# Families that define judge_document only, each with the test its judge_document begins with: for a document that
# fails it the family is neither imported nor asked (tests/cli/startup holds them to both).
DOCUMENT_FAMILIES: dict[str, Callable[[Document], bool]] = {"citations": has_citations, "claims": has_text,
                                                             "offtopic": has_citations}


@functools.cache
def family(name: str) -> ModuleType:
    """The family module of that name (`family("claims")` is kratomref.rules.claims), imported at the first call."""
    return importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    """FAMILIES and RULES, made (importing every family) when first read, then kept."""
    if name == "FAMILIES":
        value: Any = tuple(family(n) for n in FAMILY_NAMES)
    elif name == "RULES":
        value = _rules()
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


@dataclass(frozen=True)
class Context:
    """What a rule may know besides the reference: the options (today's date among them), and the families
    that run, by name (`for_options`: only those with a selected rule)."""

    options: Options
    family_names: tuple[str, ...] = FAMILY_NAMES

    @classmethod
    def for_options(cls, options: Options) -> Context:
        """A context that skips the families none of whose rules --select/--ignore leaves in: their findings
        would be dropped by the selection anyway (and a suppression naming them is never judged unused)."""
        opted = tuple(name for name in FAMILY_NAMES if opted_in(name, options.select))
        if not options.select and not options.ignore:  # every rule is selected, but the opt-in ones
            return cls(options, opted)
        from kratomref import catalogue  # the families' rules as data: the modules need not be imported for this

        running = {info.family for info in catalogue.load()
                   if Rule(info.code, info.name, Severity.ERROR, "").selected(options.select, options.ignore)}
        return cls(options, tuple(name for name in opted if name in running))

    @functools.cached_property
    def families(self) -> tuple[ModuleType, ...]:
        """The family modules that run, every one imported."""
        return tuple(family(name) for name in self.family_names)

    @functools.cached_property
    def reference_judges(self) -> tuple[Callable[[Reference, Evidence, Context], Iterator[Finding]], ...]:
        """The `judge` of each family that runs and has one (a document family has none)."""
        modules = (family(name) for name in self.family_names if name not in DOCUMENT_FAMILIES)
        return tuple(module.judge for module in modules if hasattr(module, "judge"))


def all_rules() -> tuple[Rule, ...]:
    """Every rule, by code; two rules that share a code or a name are an error, never one silently dropped."""
    seen: dict[str, Rule] = {}
    names: dict[str, str] = {}
    families: tuple[ModuleType, ...] = sys.modules[__name__].FAMILIES  # made at the first read, as from outside
    for module in families:
        for rule in module.RULES:
            if seen.get(rule.code, rule) is not rule or names.get(rule.name, rule.code) != rule.code:
                raise ValueError(f"two rules declare {rule.code} or {rule.name!r} ({module.__name__})")
            seen[rule.code] = rule
            names[rule.name] = rule.code
    return tuple(sorted(seen.values(), key=lambda r: r.code))


@functools.cache
def _rules() -> tuple[Rule, ...]:
    return all_rules()


def find_rule(selector: str) -> Rule | None:
    """A rule by its code (any case) or name."""
    s = selector.strip()
    for rule in _rules():
        if rule.code.lower() == s.lower() or rule.name == s.lower():
            return rule
    return None


def judge_reference(ref: Reference, evidence: Evidence, ctx: Context) -> Iterator[Finding]:
    for judge in ctx.reference_judges:
        yield from judge(ref, evidence, ctx)


def judge_document(doc: Document, evidence: DocumentEvidence, ctx: Context) -> Iterator[Finding]:
    for name in ctx.family_names:
        applies = DOCUMENT_FAMILIES.get(name)
        if applies is not None and not applies(doc):
            continue  # its judge_document would find nothing: not imported for this document
        judge = getattr(family(name), "judge_document", None)
        if judge is not None:
            yield from judge(doc, evidence, ctx)


def judge_all(doc: Document, evidence: DocumentEvidence, ctx: Context) -> list[Finding]:
    """Every finding of a document: its own (judge_document), then each reference's in turn. The references of a
    long bibliography are shared with a forked child on the second core (kratomref.forked), with the same
    findings in the same order; the document's own rules, which compare the references, run in the parent."""
    from kratomref.forked import split_map

    judges = ctx.reference_judges  # the families imported before the child is forked, not in each process
    shared = [rule for module in dict.fromkeys(sys.modules[judge.__module__] for judge in judges)
              for rule in getattr(module, "RULES", ())]

    def judged(item: Document | Reference) -> list[Finding]:
        if isinstance(item, Document):
            return list(judge_document(item, evidence, ctx))
        return list(judge_reference(item, evidence.of(item.key), ctx))

    items: list[Document | Reference] = [doc, *doc.references]
    return [finding for found in split_map(judged, items, shared=shared) for finding in found]


def confirmations(ref: Reference, evidence: Evidence, ctx: Context) -> Mapping[str, Any] | None:
    """What confirms the reference exists and is the cited work, from the first family that can say.

    Families expose `confirms(ref, evidence, ctx)`; Crossref (DOI or confident search match) comes
    before a working specific link because FAMILY_NAMES lists it first.
    """
    for name in FAMILY_NAMES:
        if name in DOCUMENT_FAMILIES:
            continue  # they define judge_document only
        confirms = getattr(family(name), "confirms", None)
        if confirms is not None:
            found = confirms(ref, evidence, ctx)
            if found is not None:
                return dict(found)
    return None
