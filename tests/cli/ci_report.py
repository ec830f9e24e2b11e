"""One fixed, hand-built report that every CI output format is rendered from (see conftest.py)."""

from __future__ import annotations

from kratomref.model import (
    Document,
    Finding,
    Location,
    Reference,
    ReferenceResult,
    Report,
    Rule,
    Severity,
    Verdict,
)
from kratomref.selection import with_fingerprint

DOI_MISMATCH = Rule("KR203", "doi-mismatch", Severity.ERROR, "The DOI resolves to a different work.",
                    "What it does\n  Compares the cited work with the DOI's record.")
LINK_GENERIC = Rule("KR304", "link-generic", Severity.WARNING, "The link goes to a site's home page.",
                    "What it does\n  Flags links to a home page rather than the page cited.")
OLD_WEB = Rule("KR501", "old-web-source", Severity.INFO, "A web source is older than the age policy.")
PLACEHOLDER = Rule("KR101", "placeholder-citation", Severity.WARNING, "A placeholder is left in the text.")
UNREADABLE = Rule("KR002", "unreadable-input", Severity.ERROR, "The input file could not be read.")
FIXED_RULES = (UNREADABLE, PLACEHOLDER, DOI_MISMATCH, LINK_GENERIC, OLD_WEB)


def _ref(file: str, line: int, key: str, title: str) -> Reference:
    return Reference(Location(file, line, key), type="article", title=title, raw=f"@article{{{key}, ...}}")


SMITH = _ref("refs.bib", 3, "smith2019", "Kratom alkaloids")
WHO = _ref("refs.bib", 10, "who2023", "Fact sheet")
LEE = _ref("refs.bib", 20, "lee2020", "Mitragynine in mice")
REF1 = _ref("notes/draft paper.md", 30, "ref-1", "A cited book")

FINDINGS = (
    Finding(DOI_MISMATCH, Location("refs.bib", 4, "smith2019"),
            "DOI 10.1000/xyz123 resolves to \"Another title\" (similarity 0.31)",
            suggestion="use DOI 10.1000/abc456"),
    Finding(LINK_GENERIC, Location("refs.bib", 11, "who2023"),
            "link goes to the home page, 50% of the path: not the page cited",
            suggestion="Replace with:\n| the | specific page |\r\n100% <sure>, a:b"),
    Finding(OLD_WEB, Location("notes/draft paper.md", 30, "ref-1"), "web source from 2009 is 17 years old"),
    Finding(PLACEHOLDER, Location("notes/draft paper.md", 5, None), "placeholder \"[CITATION NEEDED]\" in the text"),
    Finding(UNREADABLE, Location("bad.bib"), "the file is binary, not text",
            suggestion="point kratomref at the bibliography itself"),
)


def build_report(fail_on: Severity | None = Severity.WARNING) -> Report:
    return Report(
        tool_version="0.1.0",
        documents=(
            Document("refs.bib", "bibtex", references=(SMITH, WHO, LEE)),
            Document("notes/draft paper.md", "markdown", references=(REF1,)),
            Document("bad.bib", "bibtex"),
        ),
        results=(
            ReferenceResult(SMITH, Verdict.PROBLEM, ("DOI resolves to a different work",)),
            ReferenceResult(WHO, Verdict.PROBLEM, ("generic link",)),
            ReferenceResult(LEE, Verdict.UNVERIFIED, ("Crossref timed out after 10 s",)),
            ReferenceResult(REF1, Verdict.VERIFIED),
        ),
        findings=tuple(with_fingerprint(f) for f in FINDINGS),
        fail_on=fail_on,
        unverified_checks=1,
    )
