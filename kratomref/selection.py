"""The one choke point every finding passes before any renderer: fingerprints, inline suppressions,
--select/--ignore, severity overrides, and the report of suppressions that suppressed nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kratomref import lazy
from kratomref.model import NO_DOCUMENT_EVIDENCE, Document, DocumentEvidence, Evidence, Finding, Location
from kratomref.options import Options
from kratomref.readers import suppressions
from kratomref.rules.suppressions import UNUSED_SUPPRESSION

# Line numbers in a message ("line 12", "refs.bib:12:3") change whenever the file is edited above the
# finding; a baseline must still recognise it, so they are left out of the fingerprint.
_LINE_MENTION_RE = lazy.regex(r"\blines?\s+\d+(?:\s*[-–]\s*\d+)?", re.IGNORECASE)
_COLON_NUMBERS_RE = lazy.regex(r"(?<=\S):\d+(?::\d+)?\b")
_SPACE_RE = lazy.regex(r"\s+")


def fingerprint(finding: Finding) -> str:
    """A content identity that survives edits elsewhere in the file: rule, file name, key and message."""
    message = _LINE_MENTION_RE.sub("line", finding.message)
    message = _COLON_NUMBERS_RE.sub("", message)
    message = _SPACE_RE.sub(" ", message).strip().lower()
    parts = (finding.rule.code, os.path.basename(finding.location.file), finding.location.key or "", message)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def with_fingerprint(finding: Finding) -> Finding:
    return finding if finding.fingerprint else dataclasses.replace(finding, fingerprint=fingerprint(finding))


def override(finding: Finding, options: Options) -> Finding:
    """Apply the last matching (code or name, severity) override, as a later config line wins."""
    for selector, severity in reversed(options.severity_overrides):
        if finding.rule.matches(selector):
            return dataclasses.replace(finding, severity=severity)
    return finding


def sort_key(finding: Finding) -> tuple[str, int, int, str, str, str]:
    """File, line, column, then code: findings read in the order of the text they are about."""
    loc = finding.location
    return (
        loc.file,
        loc.line if loc.line is not None else 0,
        loc.column if loc.column is not None else 0,
        finding.rule.code,
        loc.key or "",
        finding.message,
    )


def _lookups_failed(evidence: Evidence | None) -> bool:
    """True when a look-up of the entry could not be made: its network rules could not judge it."""
    return evidence is not None and evidence.lookups_failed()


@dataclass
class _Site:
    """One selector of one suppression comment (or kratomref-ignore field) and whether it was used."""

    location: Location
    selector: str
    used: bool = False


class _Suppressions:
    """Every suppression of the documents, with reference-level and line-level views onto the same sites.

    A BibTeX comment above an entry appears both in Reference.suppressed and in Document.suppressions at
    the entry's first line; it is one site, so it is reported as unused at most once. A site is located
    on its comment's own line (Document.suppression_comments), not on the line or entry it applies to.
    """

    def __init__(self, documents: Iterable[Document]) -> None:
        self.sites: list[_Site] = []
        self._by_key: dict[tuple[str, str], list[_Site]] = {}
        self._by_line: dict[tuple[str, int], list[_Site]] = {}
        for doc in documents:
            spans: list[tuple[int, int, str, dict[str, _Site]]] = []
            for ref in doc.references:
                comments = doc.suppression_comments.get(ref.location.line or 0, {})
                ref_sites = {
                    sel: self._add(dataclasses.replace(ref.location, line=comments.get(sel, ref.location.line)), sel)
                    for sel in sorted(ref.suppressed)
                }
                self._by_key.setdefault((doc.path, ref.key), []).extend(ref_sites.values())
                if ref.location.line is not None:
                    last = ref.location.line + ref.raw.count("\n")
                    spans.append((ref.location.line, last, ref.key, ref_sites))
            for line, selectors in sorted(doc.suppressions.items()):
                for sel in sorted(selectors):
                    comment_line = doc.suppression_comments.get(line, {}).get(sel, line)
                    site = self._enclosing(spans, line, sel) or self._add(Location(doc.path, comment_line), sel)
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

    def unused(
        self, options: Options, evidence_by_doc: Mapping[str, DocumentEvidence] | None = None
    ) -> list[Finding]:
        """KR901 for each site that is malformed, names an unknown rule, or suppressed nothing although a
        rule it names ran there. A rule ran unless --select/--ignore left it out, or it needs a look-up and
        the run was offline or the look-up of that entry could not be made (evidence_by_doc, when given)."""
        findings: list[Finding] = []
        if all(site.used for site in self.sites):
            return findings  # every suppression was used, or there is none: no rule need be looked up
        from kratomref.rules import RULES, find_rule

        for site in self.sites:
            if site.used:
                continue
            problem = suppressions.malformed(site.selector)
            if problem is not None:
                findings.append(Finding(UNUSED_SUPPRESSION, site.location, f"malformed suppression: {problem}",
                                        suggestion=suppressions.MALFORMED_FIX))
                continue
            named = find_rule(site.selector)
            covered = [named] if named is not None else [r for r in RULES if r.matches(site.selector)]
            if not covered:
                message = f"suppression names an unknown rule {site.selector!r}"
            else:
                evidence = None
                if evidence_by_doc is not None and site.location.key is not None:
                    evidence = evidence_by_doc.get(site.location.file, NO_DOCUMENT_EVIDENCE).references.get(
                        site.location.key)
                could_not_look_up = options.offline or _lookups_failed(evidence)
                if not any(
                    rule.selected(options.select, options.ignore)
                    and not (rule.needs_network and could_not_look_up)
                    for rule in covered
                ):
                    continue  # nothing it names ran here, so nothing can be said about it
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


def select(
    findings: Sequence[Finding],
    documents: Sequence[Document],
    options: Options,
    evidence_by_doc: Mapping[str, DocumentEvidence] | None = None,
) -> list[Finding]:
    """The findings a user should see, in (file, line, column, code) order.

    Order: fingerprint -> inline suppression (reporting unused and malformed ones as KR901) ->
    select/ignore -> severity overrides -> sort. A suppression counts as unused only when a rule it names
    ran on that entry or line and reported nothing: not for a rule --select/--ignore leaves out, and not
    for a rule that needs a look-up (Rule.needs_network) in an offline run or where the entry's look-up could
    not be made (pass the run's evidence, document path -> DocumentEvidence, for the latter).
    """
    sites = _Suppressions(documents)
    kept = [f for f in (with_fingerprint(f) for f in findings) if not sites.suppress(f)]
    kept += [with_fingerprint(f) for f in sites.unused(options, evidence_by_doc)]
    kept = [f for f in kept if f.rule.selected(options.select, options.ignore)]
    kept = [override(f, options) for f in kept]
    return sorted(kept, key=sort_key)
