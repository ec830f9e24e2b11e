"""The one choke point every finding passes before any renderer: fingerprints, inline suppressions,
--select/--ignore, severity overrides, and the report of suppressions that suppressed nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kratomref.model import Document, Finding, Location, Rule
from kratomref.options import Options
from kratomref.rules.suppressions import UNUSED_SUPPRESSION

# Line numbers in a message ("line 12", "refs.bib:12:3") change whenever the file is edited above the
# finding; a baseline must still recognise it, so they are left out of the fingerprint.
_LINE_MENTION_RE = re.compile(r"\blines?\s+\d+(?:\s*[-–]\s*\d+)?", re.IGNORECASE)
_COLON_NUMBERS_RE = re.compile(r"(?<=\S):\d+(?::\d+)?\b")
_SPACE_RE = re.compile(r"\s+")


def fingerprint(finding: Finding) -> str:
    """A content identity that survives edits elsewhere in the file: rule, file name, key and message."""
    message = _LINE_MENTION_RE.sub("line", finding.message)
    message = _COLON_NUMBERS_RE.sub("", message)
    message = _SPACE_RE.sub(" ", message).strip().lower()
    parts = (finding.rule.code, os.path.basename(finding.location.file), finding.location.key or "", message)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def with_fingerprint(finding: Finding) -> Finding:
    return finding if finding.fingerprint else dataclasses.replace(finding, fingerprint=fingerprint(finding))


def is_selected(rule: Rule, select: Sequence[str], ignore: Sequence[str]) -> bool:
    if select and not any(rule.matches(s) for s in select):
        return False
    return not any(rule.matches(s) for s in ignore)


def override(finding: Finding, options: Options) -> Finding:
    """Apply the last matching (code or name, severity) override, as a later config line wins."""
    for selector, severity in reversed(options.severity_overrides):
        if finding.rule.matches(selector):
            return dataclasses.replace(finding, severity=severity)
    return finding


def sort_key(finding: Finding) -> tuple[str, int, str, str, str]:
    loc = finding.location
    return (loc.file, loc.line if loc.line is not None else 0, finding.rule.code, loc.key or "", finding.message)


@dataclass
class _Site:
    """One selector of one suppression comment (or kratomref-ignore field) and whether it was used."""

    location: Location
    selector: str
    used: bool = False


class _Suppressions:
    """Every suppression of the documents, with reference-level and line-level views onto the same sites.

    A BibTeX comment above an entry appears both in Reference.suppressed and in Document.suppressions at
    the entry's first line; it is one site, so it is reported as unused at most once.
    """

    def __init__(self, documents: Iterable[Document]) -> None:
        self.sites: list[_Site] = []
        self._by_key: dict[tuple[str, str], list[_Site]] = {}
        self._by_line: dict[tuple[str, int], list[_Site]] = {}
        for doc in documents:
            spans: list[tuple[int, int, str, dict[str, _Site]]] = []
            for ref in doc.references:
                ref_sites = {sel: self._add(ref.location, sel) for sel in sorted(ref.suppressed)}
                self._by_key.setdefault((doc.path, ref.key), []).extend(ref_sites.values())
                if ref.location.line is not None:
                    last = ref.location.line + ref.raw.count("\n")
                    spans.append((ref.location.line, last, ref.key, ref_sites))
            for line, selectors in sorted(doc.suppressions.items()):
                for sel in sorted(selectors):
                    site = self._enclosing(spans, line, sel) or self._add(Location(doc.path, line), sel)
                    self._by_line.setdefault((doc.path, line), []).append(site)

    def _add(self, location: Location, selector: str) -> _Site:
        site = _Site(location, selector)
        self.sites.append(site)
        return site

    @staticmethod
    def _enclosing(spans: list[tuple[int, int, str, dict[str, _Site]]], line: int, sel: str) -> _Site | None:
        for first, last, _key, ref_sites in spans:
            # "directly above" the entry counts as the entry's own comment
            if first - 1 <= line <= last and sel in ref_sites:
                return ref_sites[sel]
        return None

    def suppress(self, finding: Finding) -> bool:
        """True when a suppression covers the finding; marks every covering site as used."""
        loc = finding.location
        candidates: list[_Site] = []
        if loc.key is not None:
            candidates += self._by_key.get((loc.file, loc.key), [])
        if loc.line is not None:
            candidates += self._by_line.get((loc.file, loc.line), [])
        hit = False
        for site in candidates:
            if finding.rule.matches(site.selector):
                site.used = True
                hit = True
        return hit

    def unused(self) -> list[Finding]:
        from kratomref.rules import find_rule

        findings = []
        for site in self.sites:
            if site.used:
                continue
            named = find_rule(site.selector)
            if named is None and not _is_prefix_of_a_rule(site.selector):
                message = f"suppression names an unknown rule {site.selector!r}"
            else:
                label = f"{named.code} ({named.name})" if named else site.selector
                message = f"unused suppression: {label} reported nothing here"
            findings.append(
                Finding(
                    UNUSED_SUPPRESSION,
                    site.location,
                    message,
                    suggestion=f"remove {site.selector} from the kratomref: ignore[...] comment",
                )
            )
        return findings


def _is_prefix_of_a_rule(selector: str) -> bool:
    from kratomref.rules import RULES

    return any(rule.matches(selector) for rule in RULES)


def select(findings: Sequence[Finding], documents: Sequence[Document], options: Options) -> list[Finding]:
    """The findings a user should see, in (file, line, code) order.

    Order: fingerprint -> inline suppression (reporting unused ones as KR901) -> select/ignore ->
    severity overrides -> sort. Suppression comes before select/ignore so that a suppression of a rule
    the configuration also ignores is not reported as unused.
    """
    suppressions = _Suppressions(documents)
    kept = [f for f in (with_fingerprint(f) for f in findings) if not suppressions.suppress(f)]
    kept += [with_fingerprint(f) for f in suppressions.unused()]
    kept = [f for f in kept if is_selected(f.rule, options.select, options.ignore)]
    kept = [override(f, options) for f in kept]
    return sorted(kept, key=sort_key)
