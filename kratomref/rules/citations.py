"""Editor rules: in-text citations against the reference list (KR501 undefined, KR502 uncited, KR503 mismatch).

The claim and quotation rules (KR504, KR505) are in kratomref.rules.claims; the Crossref searches for a
placeholder's sentence in kratomref.rules.placeholder_search.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from kratomref.model import (
    Citation,
    Document,
    DocumentEvidence,
    Finding,
    Location,
    Reference,
    Rule,
    Severity,
)
from kratomref.rules import has_citations

if TYPE_CHECKING:
    from kratomref.rules import Context

UNDEFINED_CITATION = Rule(
    "KR501", "undefined-citation", Severity.ERROR,
    "An in-text citation matches no entry of the bibliography or reference list.",
    """What it does
  Ties every in-text citation to an entry: a LaTeX or pandoc key to the entry with that key, a number
  ([5], (5), ⁵) to the Nth item of the reference list, an author-year citation (Smith, 2019) to the entry
  whose first author's surname and year match. Reports each citation that matches nothing.

Why it matters
  LaTeX prints "[?]", pandoc prints the bare key, and a reader of a draft cannot find the source at all.

Example
  ... as shown before [5].     (the reference list has four items)

How to fix
  Add the missing entry, or correct the key, number or year of the citation.""",
)
UNCITED_REFERENCE = Rule(
    "KR502", "uncited-reference", Severity.WARNING,
    "An entry of the reference list is never cited in the text.",
    """What it does
  Reports each entry of a document's own reference list (a Markdown, plain-text or Word list, a LaTeX
  thebibliography) that no in-text citation resolves to; LaTeX's \\nocite{*} turns it off. The entries
  of a .bib or CSL-JSON database that a LaTeX or pandoc document names are reported only with
  `uncited-bib = true`: BibTeX and pandoc print only the entries cited. When the text cites nothing at
  all, one finding on the list's heading names the whole list instead, database or not.

Why it matters
  An uncited entry is padding, or the citation to it was lost in an edit; journals ask for neither.

Example
  References
  1. Smith J. ...   (no [1] anywhere in the text)

How to fix
  Cite the entry where it supports the text, or remove it from the list.""",
    advisory=True,
)
CITATION_MISMATCH = Rule(
    "KR503", "citation-mismatch", Severity.WARNING,
    "An author-year citation most likely means an entry but disagrees with its year or surname.",
    """What it does
  For an author-year citation that matches no entry exactly, finds the entry it most likely means: same
  first-author surname with a year at most 2 apart, or the same year with a surname spelled almost the
  same. Names that entry.

Why it matters
  A wrong year sends readers to a different paper, and reviewers read it as carelessness.

Example
  (Hassan et al., 2014)   with the entry Hassan, Z. et al. (2013)

How to fix
  Correct the citation (or the entry) so that surname and year agree.""",
)
RULES = (UNDEFINED_CITATION, UNCITED_REFERENCE, CITATION_MISMATCH)

# --- KR503: how close a citation must be to an entry to be "most likely" it -------------------------
YEAR_SLIP = 2  # a year off by one or two is a typo or preprint/print year; further apart is another work
SURNAME_SIMILARITY = 0.8  # difflib ratio: "Hasan"/"Hassan" 0.91, "Smith"/"Smyth" 0.8, "Lee"/"Li" 0.4


def _citation_findings(doc: Document) -> Iterator[Finding]:
    references = doc.references
    with_authors = any(r.authors and r.year for r in references)
    # A bibliography the document names could not be read (KR002 says which): a key matching nothing may be in it.
    bibliography_missing = bool(doc.meta.get("bibliography-missing"))
    unparsed = set(doc.meta.get("unparsed-keys", "").split(","))  # entries there but broken: KR001 reports them
    for citation in doc.citations:
        if citation.resolved_key is not None:
            continue
        if citation.style == "key" and (bibliography_missing or citation.target in unparsed):
            continue
        if citation.style == "numeric" and not references:
            continue  # a bracketed number in a draft without a list is not known to be a citation
        if citation.style == "author-year":
            if not with_authors:
                continue
            likely = most_likely(citation, references)
            if likely is not None:
                yield Finding(CITATION_MISMATCH, citation.location,
                              f"{citation.text} most likely means {likely.key} ({_describe(likely)}), which "
                              f"disagrees with it", f"cite it as {_describe(likely)}, or correct the entry")
                continue
            what = f"no entry by {citation.target.rsplit(' ', 1)[0]} from {citation.target.rsplit(' ', 1)[1]}"
        elif citation.style == "numeric":
            what = f"the reference list has no item {citation.target} (it has {len(references)})"
        else:
            what = f"no entry has the key {citation.target!r}"
        yield Finding(UNDEFINED_CITATION, citation.location, f"citation {citation.text} matches no entry: {what}",
                      _undefined_suggestion(citation, references))


def _undefined_suggestion(citation: Citation, references: Sequence[Reference]) -> str | None:
    if citation.style == "key":
        from kratomref.readers.intext import nearest_key  # a draft's reader: loaded when a draft cites

        close = nearest_key(citation.target, [r.key for r in references])
        if close is not None and close.lower() == citation.target.lower():
            return f"did you mean {close!r}? (keys are case-sensitive)"
        if close is not None:
            return f"did you mean {close!r}?"
        return "add the entry to the bibliography, or correct the key"
    return "add the missing entry, or correct the citation"


def _describe(ref: Reference) -> str:
    surname = ref.authors[0].family if ref.authors else ref.key
    return f"{surname}{' et al.' if len(ref.authors) > 2 or ref.et_al else ''}, {ref.year or 'n.d.'}"


def most_likely(citation: Citation, references: Sequence[Reference]) -> Reference | None:
    """The entry an unresolved author-year citation most likely means, or None."""
    from kratomref.readers.intext import candidates  # a draft's reader: loaded when a draft cites

    surname, year_text = citation.target.rsplit(" ", 1)
    year = int(year_text[:4])
    best: tuple[int, Reference] | None = None
    for ref in candidates(citation, references):
        if ref.year and ref.year[:4].isdigit() and abs(int(ref.year[:4]) - year) <= YEAR_SLIP:
            distance = abs(int(ref.year[:4]) - year)
            if best is None or distance < best[0]:
                best = (distance, ref)
    if best is not None:
        return best[1]
    import difflib  # a draft whose citation matches no entry: a .bib-only run never gets here

    for ref in references:
        if ref.authors and ref.year and ref.year[:4] == year_text[:4]:
            ratio = difflib.SequenceMatcher(None, ref.authors[0].family.lower(), surname.lower()).ratio()
            if ratio >= SURNAME_SIMILARITY:
                return ref
    return None


def database_entries(doc: Document) -> frozenset[str]:
    """Keys of the entries that come from a database the document names (a .bib or CSL-JSON file of a LaTeX
    or pandoc document), as opposed to the document's own reference list: BibTeX and pandoc print only the
    entries cited, so an uncited database entry harms nobody."""
    from kratomref.readers.bibitem import is_bibitem
    from kratomref.readers.latex import database_files

    databases = set(database_files(doc))
    return frozenset(ref.key for ref in doc.references if ref.location.file in databases and not is_bibitem(ref))


def _uncited_findings(doc: Document, ctx: Context) -> Iterator[Finding]:
    from kratomref.readers.text import READING_LIST_FIELD

    listed = [ref for ref in doc.references if not ref.fields.get(READING_LIST_FIELD)]  # "Further reading" is not cited
    if doc.meta.get("nocite-all") == "1" or not listed:
        return
    cited = {c.resolved_key for c in doc.citations if c.resolved_key is not None}
    # An entry a mismatched citation most likely means (KR503) is cited, only wrongly: one finding is enough.
    for citation in doc.citations:
        if citation.resolved_key is None and citation.style == "author-year":
            likely = most_likely(citation, doc.references)
            if likely is not None:
                cited.add(likely.key)
    if not doc.citations:
        heading = doc.meta.get("references-heading-line")
        first = listed[0].location
        if heading and heading.isdigit():
            location = Location(doc.path, int(heading))
        else:
            location = Location(first.file, first.line)
        count = len(listed)
        message = (f"the text cites none of the {count} entries of the reference list" if count != 1
                   else "the text does not cite the only entry of the reference list")
        yield Finding(UNCITED_REFERENCE, location, message,
                      "cite each entry where it supports the text, or remove the list")
        return
    quiet = frozenset() if ctx.options.uncited_bib else database_entries(doc)
    for ref in listed:
        if ref.key not in cited and ref.key not in quiet:
            yield Finding(UNCITED_REFERENCE, ref.located(), f"entry {ref.key} is never cited in the text",
                          "cite it where it supports the text, or remove it")


def judge_document(doc: Document, evidence: DocumentEvidence, ctx: Context) -> Iterator[Finding]:
    if has_citations(doc):
        yield from _citation_findings(doc)
        yield from _uncited_findings(doc, ctx)
