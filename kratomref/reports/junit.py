"""JUnit XML: one test suite per input file, one test case per reference, for CI test viewers."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from itertools import chain

from kratomref.model import Finding, Report, Severity, Verdict
from kratomref.reports.sanitize import clean, xml_text
from kratomref.reports.stream import Out, write_lines

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


class _Plan:
    """Which test cases each file has and which findings each case holds: references to the report's objects,
    no rendered text."""

    def __init__(self, report: Report) -> None:
        self.files = [d.path for d in report.documents]
        known = set(self.files)
        for f in report.findings:
            if f.location.file not in known:
                self.files.append(f.location.file)
                known.add(f.location.file)
        self.keys_by_file: dict[str, list[str]] = defaultdict(list)
        key_sets: dict[str, set[str]] = defaultdict(set)
        for doc in report.documents:
            self.keys_by_file[doc.path].extend(ref.key for ref in doc.references)
            key_sets[doc.path].update(ref.key for ref in doc.references)
        for result in report.results:
            file, key = result.reference.location.file, result.reference.key
            if key not in key_sets[file]:
                self.keys_by_file[file].append(key)
                key_sets[file].add(key)
        self.verdicts = {(r.reference.location.file, r.reference.key): r for r in report.results}
        self.findings_by_case: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for f in report.findings:
            owner = f.location.key
            case_of = owner if owner is not None and owner in key_sets[f.location.file] else DOCUMENT_CASE
            self.findings_by_case[(f.location.file, case_of)].append(f)

    def cases(self, file: str) -> list[str]:
        return [DOCUMENT_CASE, *self.keys_by_file[file]]

    def counts(self, file: str, fail_on: Severity | None) -> dict[str, int]:
        """The testsuite's tests, failures, errors and skipped, as `_case` adds them up."""
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case_name in self.cases(file):
            counts["tests"] += 1
            failing = [f for f in self.findings_by_case.get((file, case_name), ()) if _fails(f, fail_on)]
            for f in failing:
                counts["errors" if f.rule.code.startswith(INPUT_CODE_PREFIX) else "failures"] += 1
            verdict = self.verdicts.get((file, case_name))
            if not failing and verdict is not None and verdict.verdict is Verdict.UNVERIFIED:
                counts["skipped"] += 1
        return counts


def _case(plan: _Plan, file: str, case_name: str, fail_on: Severity | None) -> ET.Element:
    case = ET.Element("testcase", classname=_clean(file), name=_clean(case_name), time="0")
    findings = plan.findings_by_case.get((file, case_name), [])
    failing = [f for f in findings if _fails(f, fail_on)]
    for f in failing:
        kind = "error" if f.rule.code.startswith(INPUT_CODE_PREFIX) else "failure"
        element = ET.SubElement(case, kind, message=_clean(f.message), type=_clean(f"{f.rule.code} {f.rule.name}"))
        element.text = _describe(f)
    verdict = plan.verdicts.get((file, case_name))
    if verdict is not None and verdict.verdict is Verdict.VERIFIED:
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="confirmed_by", value=_clean(verdict.confirmed_by or "Crossref"))
    if not failing and verdict is not None and verdict.verdict is Verdict.UNVERIFIED:
        reason = "; ".join(verdict.reasons) or "not checked"
        ET.SubElement(case, "skipped", message=_clean(f"unverified: {reason}"))
    quiet = [f for f in findings if not _fails(f, fail_on)]
    if quiet:
        out = ET.SubElement(case, "system-out")
        out.text = "\n\n".join(_describe(f) for f in quiet)
    return case


def _start_tag(element: ET.Element) -> str:
    """`<name attributes>`, as ElementTree writes it for an element with content."""
    element.text = "-"
    written = ET.tostring(element, encoding="unicode")
    return written[: written.index(">") + 1]  # a ">" in a value is written as "&gt;"


def _pieces(report: Report) -> Iterator[str]:
    """The document ElementTree would write for the whole tree indented (ET.indent), one test case at a time."""
    plan = _Plan(report)
    counts = {file: plan.counts(file, report.fail_on) for file in plan.files}
    root = ET.Element("testsuites", name="kratomref")
    for name in ("tests", "failures", "errors", "skipped"):
        root.set(name, str(sum(c[name] for c in counts.values())))
    declaration = ET.tostring(root, encoding="unicode", xml_declaration=True).partition("\n")[0]
    yield declaration + "\n"
    if not plan.files:
        yield ET.tostring(root, encoding="unicode")
        return
    yield _start_tag(root)
    for file in plan.files:
        suite = ET.Element("testsuite", name=_clean(file))
        for name, value in counts[file].items():
            suite.set(name, str(value))
        suite.set("time", "0")
        yield "\n  " + _start_tag(suite)
        for case_name in plan.cases(file):
            case = _case(plan, file, case_name, report.fail_on)
            ET.indent(case, level=2)
            yield "\n    " + ET.tostring(case, encoding="unicode")
        yield "\n  </testsuite>"
    yield "\n</testsuites>"


def write(report: Report, out: Out) -> None:
    """Write the report to out a test case at a time: the bytes `render` returns."""
    write_lines(chain(_pieces(report), ["\n"]), out, xml_text)


def render(report: Report) -> str:
    buffer = io.StringIO()
    write(report, buffer)
    return buffer.getvalue()
