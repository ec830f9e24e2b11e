"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

import io
import urllib.parse
from itertools import chain
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from kratomref.model import Finding, ReferenceResult, Report, Rule, Severity, Verdict
from kratomref.reports.sanitize import clean, json_text
from kratomref.reports.stream import Fields, Items, Out, Pairs, materialise, pieces, write_lines

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/kratomref/"
# Named so a consumer can tell our fingerprint from one GitHub computes; bump if its recipe changes.
FINGERPRINT_KEY = "kratomref/v1"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.explanation or rule.summary},
        "help": {"text": rule.explanation or rule.summary},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"advisory": rule.advisory},
    }


def artifact_uri(path: str) -> dict[str, str]:
    """A relative path stays relative to the checkout (%SRCROOT%), percent-encoded as a URI reference."""
    if PureWindowsPath(path).is_absolute() and not path.startswith("/"):
        return {"uri": PureWindowsPath(path).as_uri()}
    posix = path.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return {"uri": PurePosixPath(posix).as_uri()}
    if posix.startswith("./"):
        posix = posix[2:]
    return {"uri": urllib.parse.quote(posix), "uriBaseId": "%SRCROOT%"}


def message_text(text: str) -> str:
    """A SARIF plain-text message from text that may come from an input: cleaned (see sanitize), and with
    `[` and `]` escaped, since `[text](target)` there is an embedded link (SARIF 2.1.0, 3.11.6)."""
    return clean(text, multiline=True).replace("[", "\\[").replace("]", "\\]")


def _message(finding: Finding) -> str:
    # GitHub shows the message and ignores "fixes", so the suggestion goes here too.
    if finding.suggestion:
        return message_text(f"{finding.message}\nSuggestion: {finding.suggestion}")
    return message_text(finding.message)


def _described_fix(finding: Finding, line: int) -> dict[str, Any]:
    """The suggestion as a SARIF fix description. A fix must list artifact changes, and a field-level
    suggestion has no byte-exact edit, so its one replacement is empty: an insertion point at the start of
    the finding's line with nothing inserted, which changes nothing if a tool applies it."""
    return {
        "description": {"text": finding.suggestion},
        "artifactChanges": [
            {
                "artifactLocation": artifact_uri(finding.location.file),
                "replacements": [{"deletedRegion": {"startLine": line, "startColumn": 1, "endColumn": 1}}],
            }
        ],
    }


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_uri(finding.location.file)}
    if finding.location.line is not None and finding.location.line >= 1:
        region: dict[str, int] = {"startLine": finding.location.line}
        if finding.location.column is not None and finding.location.column >= 1:
            region["startColumn"] = finding.location.column
        physical["region"] = region
    result: dict[str, Any] = {
        "ruleId": finding.rule.code,
        "level": LEVELS[finding.level],
        "message": {"text": _message(finding)},
        "locations": [{"physicalLocation": physical}],
    }
    if finding.rule.code in rule_index:
        result["ruleIndex"] = rule_index[finding.rule.code]
    if finding.location.key is not None:
        result["locations"][0]["logicalLocations"] = [{"name": finding.location.key, "kind": "object"}]
    if finding.suggestion and finding.location.line is not None and finding.location.line >= 1:
        result["fixes"] = [_described_fix(finding, finding.location.line)]
    if finding.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    properties: dict[str, Any] = {"name": finding.rule.name}
    if finding.location.key is not None:
        properties["key"] = finding.location.key
    if finding.suggestion:
        properties["suggestion"] = finding.suggestion
    if finding.fix is not None:
        properties["fix"] = {"field": finding.fix.field, "old": finding.fix.old, "new": finding.fix.new}
    result["properties"] = properties
    return result


def as_dict(report: Report) -> dict[str, Any]:
    """The SARIF log. SARIF viewers show its strings to people, so every one is cleaned (secrets redacted,
    control and bidi characters shown as escapes), as in the text report."""
    return dict(materialise(_document(report), _clean))


def _clean(text: str) -> str:
    return clean(text, multiline=True)


def _notification(result: ReferenceResult) -> dict[str, Any]:
    # "could not check" is not a finding, but a reader of the SARIF must learn of it
    return {
        "level": "note",
        "message": {
            "text": message_text(f"{result.reference.key}: unverified: {'; '.join(result.reasons) or 'not checked'}")
        },
        "locations": [{"physicalLocation": {"artifactLocation": artifact_uri(result.reference.location.file)}}],
    }


def _document(report: Report) -> Fields:
    """The SARIF log with its long lists (results, notifications, who confirmed what) as streams."""
    from kratomref.rules import RULES

    rules = list(RULES)
    codes = {r.code for r in rules}
    # A finding of a rule outside the catalogue (a plug-in's) still needs a rule entry to point at.
    for finding in report.findings:
        if finding.rule.code not in codes:
            rules.append(finding.rule)
            codes.add(finding.rule.code)
    rule_index = {rule.code: i for i, rule in enumerate(rules)}
    unverified = (r for r in report.results if r.verdict is Verdict.UNVERIFIED)
    return Fields({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": Items([
            Fields({
                "tool": {
                    "driver": {
                        "name": "kratomref",
                        "version": report.tool_version,
                        "semanticVersion": report.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "invocations": Items([
                    Fields({
                        "executionSuccessful": True,
                        "toolExecutionNotifications": Items(_notification(r) for r in unverified),
                    })
                ]),
                "results": Items(_result(f, rule_index) for f in report.findings),
                "properties": Fields({
                    "references": len(report.results),
                    "unverifiedReferences": report.unverified,
                    "unverifiedChecks": report.unverified_checks,
                    # who confirmed each verified reference: Crossref, DataCite, arXiv, Open Library...
                    "confirmedBy": Pairs(
                        (r.reference.key, r.confirmed_by or "Crossref")
                        for r in report.results if r.verdict is Verdict.VERIFIED
                    ),
                }),
            })
        ]),
    })


def write(report: Report, out: Out) -> None:
    """Write the log to out a result at a time: the bytes `render` returns."""
    write_lines(chain(pieces(_document(report), _clean), ["\n"]), out, json_text)


def render(report: Report) -> str:
    buffer = io.StringIO()
    write(report, buffer)
    return buffer.getvalue()
