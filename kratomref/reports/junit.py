"""JUnit XML: one test suite per input file, one test case per reference, for CI test viewers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from kratomref.model import Finding, Report, Severity, Verdict
from kratomref.reports.sanitize import clean, xml_text

DOCUMENT_CASE = "document"  # the test case holding findings about the file rather than one reference
# Codes of the input family (unreadable file, parse error): the check could not run, a JUnit "error".
INPUT_CODE_PREFIX = "KR0"

# Characters XML 1.0 forbids even when escaped; a control byte in a title must not break the report.
_NOT_XML_RE = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """Text from an input as a CI test viewer should show it: cleaned (control characters shown as `\x1b`,
    secrets redacted), and whatever XML still forbids (a lone surrogate, U+FFFE) replaced by U+FFFD."""
    return _NOT_XML_RE.sub("\ufffd", clean(text, multiline=True))


def _describe(finding: Finding) -> str:
    lines = [f"{finding.location}: {finding.rule.code} {finding.rule.name} [{finding.level.label}]", finding.message]
    if finding.suggestion:
        lines.append(f"Suggestion: {finding.suggestion}")
    return _clean("\n".join(lines))


def _fails(finding: Finding, fail_on: Severity | None) -> bool:
    return fail_on is not None and finding.level >= fail_on


def render(report: Report) -> str:
    files = [d.path for d in report.documents]
    for f in report.findings:
        if f.location.file not in files:
            files.append(f.location.file)
    keys_by_file: dict[str, list[str]] = defaultdict(list)
    for doc in report.documents:
        keys_by_file[doc.path].extend(ref.key for ref in doc.references)
    for result in report.results:
        file, key = result.reference.location.file, result.reference.key
        if key not in keys_by_file[file]:
            keys_by_file[file].append(key)
    verdicts = {(r.reference.location.file, r.reference.key): r for r in report.results}

    findings_by_case: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in report.findings:
        owner = f.location.key
        case_of = owner if owner is not None and owner in keys_by_file[f.location.file] else DOCUMENT_CASE
        findings_by_case[(f.location.file, case_of)].append(f)

    root = ET.Element("testsuites", name="kratomref")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for file in files:
        suite = ET.SubElement(root, "testsuite", name=_clean(file))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case_name in [DOCUMENT_CASE, *keys_by_file[file]]:
            case = ET.SubElement(suite, "testcase", classname=_clean(file), name=_clean(case_name), time="0")
            counts["tests"] += 1
            findings = findings_by_case.get((file, case_name), [])
            failing = [f for f in findings if _fails(f, report.fail_on)]
            for f in failing:
                kind = "error" if f.rule.code.startswith(INPUT_CODE_PREFIX) else "failure"
                element = ET.SubElement(
                    case, kind, message=_clean(f.message), type=_clean(f"{f.rule.code} {f.rule.name}")
                )
                element.text = _describe(f)
                counts["errors" if kind == "error" else "failures"] += 1
            verdict = verdicts.get((file, case_name))
            if verdict is not None and verdict.verdict is Verdict.VERIFIED:
                properties = ET.SubElement(case, "properties")
                ET.SubElement(properties, "property", name="confirmed_by",
                              value=_clean(verdict.confirmed_by or "Crossref"))
            if not failing and verdict is not None and verdict.verdict is Verdict.UNVERIFIED:
                reason = "; ".join(verdict.reasons) or "not checked"
                ET.SubElement(case, "skipped", message=_clean(f"unverified: {reason}"))
                counts["skipped"] += 1
            quiet = [f for f in findings if not _fails(f, report.fail_on)]
            if quiet:
                out = ET.SubElement(case, "system-out")
                out.text = "\n\n".join(_describe(f) for f in quiet)
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
        suite.set("time", "0")
    for name, value in totals.items():
        root.set(name, str(value))
    ET.indent(root)
    return xml_text(ET.tostring(root, encoding="unicode", xml_declaration=True)) + "\n"
