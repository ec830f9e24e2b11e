"""A report of n references built by hand for the report tests: every verdict, every kind of finding and text
that no report may pass on as it is (escape sequences, bidi controls, secrets in URLs, workflow commands)."""

from __future__ import annotations

from kratomref.model import (
    Author,
    Citation,
    Document,
    FieldFix,
    Finding,
    Location,
    Reference,
    ReferenceResult,
    Report,
    Rule,
    Severity,
    TextLine,
    Verdict,
)

PLACEHOLDER = Rule("KR101", "placeholder-text", Severity.ERROR, "Placeholder text.", "")
GENERIC = Rule("KR304", "link-generic", Severity.WARNING, "A home page cited as a document.", "")
FORM = Rule("KR210", "doi-form", Severity.INFO, "DOI written as a URL.", "", advisory=True)
UNREADABLE = Rule("KR001", "unreadable-file", Severity.ERROR, "A file that cannot be read.", "")
PLUGIN = Rule("XX900", "plug-in-rule", Severity.WARNING, "A rule from outside the catalogue.", "Its [explanation].")

# Text from an input that each format must clean: ESC and C1 controls, a bidi override, a zero width space,
# a tag character, a line and a paragraph separator, a URL with a password and a token, workflow commands,
# a mention, markup, and characters XML forbids.
HOSTILE = (
    "\x1b[31mred\x1b[0m \x9b2J \u202eevil\u202c \u200bzw \U000e0041tag \u2028ls\u2029ps "
    "https://user:pass@example.org/p?token=abc&x=1 ##[group]x ::error::y @someone #12 <b>&amp;</b> | $x$ \x00\ufffe"
)


def report(n: int = 12, *, fail_on: Severity | None = Severity.ERROR, hostile: bool = True) -> Report:
    """A .bib file of n entries, a second .bib with a key the first also has, a Markdown draft citing them, a
    PDF-read list, and findings on entries, on files and on a file with no document."""
    refs: list[Reference] = []
    for i in range(n):
        odd = hostile and i % 5 == 0
        refs.append(Reference(
            Location("refs.bib", 1 + 9 * i, f"key{i}" if not odd else f"key{i}\u202e{HOSTILE[:12]}"),
            ("article", "online", "book")[i % 3],
            f"Title {i}: {HOSTILE}" if odd else f"Title {i}\twith a tab and 全角 text" if i % 7 == 1 else f"Title {i}",
            authors=(Author("Müller", "H.-P."), Author("O'Brien", "K.")) if i % 2 else (),
            year=str(1990 + i % 30) if i % 4 else None,
            doi=f"https://doi.org/10.1000/x{i}" if i % 3 == 0 else None,
            urls=(f"https://example.org/{i}?api_key=secret{i}&page=2",) if i % 3 == 1 else (),
        ))
    twin = Reference(Location("more.bib", 3, "key1"), "misc", "Same key, other file", urls=("ftp://a:b@host/x",))
    page = Reference(Location("article.pdf", 40, "ref-1", page=3, page_line=7), "article", "Read from a PDF")
    bib = Document("refs.bib", "bibtex", tuple(refs))
    more = Document("more.bib", "bibtex", (twin,))
    pdf = Document("article.pdf", "pdf", (page,))
    draft = Document(
        "paper.md",
        "markdown",
        (),
        body=(TextLine("paper.md", 1, "Kratom [@key0] and [@nokey]."),),
        citations=(
            Citation(Location("paper.md", 1, column=8), "[@key0]", "key0", "key", "key0"),
            Citation(Location("paper.md", 1, column=20), "[@nokey]", "nokey", "key", None),
        ),
    )
    findings: list[Finding] = [
        Finding(PLACEHOLDER, Location("refs.bib", 1), "'TODO' left in the file", fingerprint="f0"),
        Finding(UNREADABLE, Location("missing.bib"), f"cannot read: {HOSTILE}" if hostile else "cannot read"),
        Finding(PLUGIN, Location("notes.txt", 4, column=2), "a plug-in's finding", "see [the docs](https://x.org)"),
        Finding(GENERIC, page.located(), "a page of a PDF", fingerprint="fp-pdf"),
    ]
    results: list[ReferenceResult] = []
    confirmers = ("Crossref", "arXiv", None, "DataCite", "Open Library")
    for i, ref in enumerate(refs):
        kind = i % 4
        if kind == 0:
            findings.append(Finding(
                PLACEHOLDER, ref.located("title"), f"placeholder \"XX\" in {ref.title}\r\nsecond line",
                "put in the missing fact\nor delete the marker", fingerprint=f"fp{i}",
            ))
            results.append(ReferenceResult(ref, Verdict.PROBLEM, ("a placeholder", HOSTILE if hostile else "x")))
        elif kind == 1:
            findings.append(Finding(GENERIC, Location("refs.bib", ref.location.line, ref.key, 4),
                                    "::warning file=x:: a home page", None, severity=Severity.ERROR))
            reasons = ("offline: Crossref was not asked",) if i % 8 else ()
            results.append(ReferenceResult(ref, Verdict.UNVERIFIED, reasons))
        elif kind == 2:
            matched = {"doi": f"10.1000/x{i}", "score": 0.5 + i, "title": ref.title}
            results.append(ReferenceResult(ref, Verdict.VERIFIED, (), matched, confirmed_by=confirmers[i % 5]))
        else:
            findings.append(Finding(
                FORM, ref.located(), "DOI written as a URL", "10.1000/x",
                fix=FieldFix("doi", f"https://doi.org/10.1000/x{i}", f"10.1000/x{i}"),
            ))
            results.append(ReferenceResult(ref, Verdict.VERIFIED, (), {}, confirmed_by="Crossref"))
    results.append(ReferenceResult(twin, Verdict.VERIFIED, (), None, confirmed_by="link"))
    results.append(ReferenceResult(page, Verdict.UNVERIFIED, ("timed out",)))
    findings.append(Finding(GENERIC, twin.located(), "a second entry with the key key1"))
    return Report("9.9.9", (bib, more, pdf, draft), tuple(results), tuple(findings), fail_on=fail_on,
                  unverified_checks=3)
