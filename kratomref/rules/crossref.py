"""Rules that compare a reference with what Crossref (or the DOI's registration agency) knows about it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kratomref import lazy
from kratomref.doi import doi_url
from kratomref.matching import best_match, compare, describe, issued_year, normalise_text
from kratomref.model import Evidence, FieldFix, Finding, Lookup, Reference, Rule, Severity
from kratomref.rules import authorities as authority_rules

if TYPE_CHECKING:
    from kratomref.rules import Context

DOI_NOT_FOUND = Rule(
    "KR202",
    "doi-not-found",
    Severity.ERROR,
    "The DOI is not registered with Crossref, DataCite or any other agency.",
    """What it does
  Looks the DOI up in Crossref and, when Crossref has no record, asks doi.org's handle API and
  Crossref's agency endpoint whether any registration agency (DataCite, mEDRA, JaLC...) holds it.
  Reports the DOI only when every one of them says it does not exist.

Why it matters
  A DOI nobody registered leads readers nowhere. It is either a typo or an invented identifier, one of
  the most common marks of a fabricated reference.

Example
  doi = {10.1371/notarealdoi}

How to fix
  Copy the DOI from the publisher's page of the article, or search the title on search.crossref.org.
  A look-up that failed (timeout, outage, rate limit) is never reported here: it stays unverified.""",
    needs_network=True,
)

DOI_MISMATCH = Rule(
    "KR203",
    "doi-mismatch",
    Severity.ERROR,
    "The DOI belongs to a different work than the one cited.",
    """What it does
  Compares the cited title and authors with the record the DOI resolves to and reports the DOI when
  both clearly disagree, naming the work the DOI really identifies.

Why it matters
  A real DOI attached to the wrong paper is today's most common fabricated reference: a checker that only
  asks whether the DOI resolves lets it through. Readers who follow the DOI land on an unrelated paper.

Example
  Smith, J. (2020). Kratom alkaloids and opioid receptors. doi:10.1038/srep16696
  -> 10.1038/srep16696 is 'Accurate estimation of ...' by Tosatto et al., 2015

How to fix
  Find the cited work's own DOI (search its title on search.crossref.org), or, if the DOI is right,
  correct the title and authors to match the work it identifies.""",
    needs_network=True,
)

DOI_MISSING = Rule(
    "KR204",
    "doi-missing",
    Severity.WARNING,
    "No DOI is given, but Crossref has a confident match for the reference.",
    """What it does
  Searches Crossref with the citation of a scholarly reference that has no DOI and validates the
  candidates field by field (title, first author, year within one, volume, first page; at least three must
  agree and an author must be in common). Suggests the DOI of a confident match.

Why it matters
  A DOI is the stable way to find a work; many journals require one wherever it exists.

Example
  @article{lee2012, author = {Lee, Hyun Ju and ...}, title = {Human umbilical cord blood-derived ...}}

How to fix
  Add the suggested DOI (`kratomref fix` can do it), after checking it is the work you cite.""",
    advisory=True,
    needs_network=True,
    fixable=True,
)

REFERENCE_NOT_FOUND = Rule(
    "KR205",
    "reference-not-found",
    Severity.WARNING,
    "No DOI is given, and neither Crossref nor any other authority that covers the work has it.",
    """What it does
  Reports a scholarly reference without a DOI for which a Crossref search found no candidate that
  passes validation, and every other authority that covers its kind of work (OpenAlex, arXiv, PubMed,
  DBLP, Open Library) answered without one either; the message names them. An entry that names an arXiv
  id, PMID or ISBN the authority does not hold, or that belongs to another work, is reported too. When
  any of them could not be asked, the reference stays unverified instead.

Why it matters
  Journal articles, chapters and proceedings papers are nearly all in Crossref. A reference Crossref cannot
  find may be fabricated (a plausible title under real authors' names), or cited so inaccurately that
  readers will not find it either. Some genuine works are not indexed (older books, theses, local reports).

Example
  Hartley, P. (2019). Mitragynine and the aging brain. J. Ethnopharmacol., 12, 45-59.

How to fix
  Check the reference against the work itself and correct it, add its DOI, or, if it is a genuine work
  Crossref does not index, suppress the finding on that entry.""",
    needs_network=True,
)

RETRACTED = Rule(
    "KR206",
    "retracted",
    Severity.ERROR,
    "The cited work has been retracted or withdrawn.",
    """What it does
  Reads the work's update notices in its Crossref record (`updated-by`, from Crossmark and Retraction
  Watch) and reports a retraction, withdrawal or removal, naming the notice's DOI and date; a title that
  begins "RETRACTED" counts too.

Why it matters
  Citing retracted work as if it stood spreads findings that were found unreliable or fraudulent.

Example
  doi = {10.xxxx/retracted-paper}  -> retracted by notice 10.xxxx/notice on 2021-03-04

How to fix
  Remove the citation or replace it; if you cite the work for its retraction, say so in the text and
  suppress the finding on that entry.""",
    needs_network=True,
)

UPDATED = Rule(
    "KR207",
    "updated",
    Severity.WARNING,
    "The cited work has a correction, erratum or expression of concern.",
    """What it does
  Reads the work's update notices in its Crossref record (`updated-by`) and reports corrections, errata,
  corrigenda, addenda and expressions of concern, naming the notice's DOI and date.

Why it matters
  A correction may change the very result you cite; an expression of concern warns that the work is
  under investigation.

Example
  doi = {10.xxxx/paper}  -> corrected by notice 10.xxxx/erratum on 2019-02-01

How to fix
  Read the notice. Cite the corrected version or the notice alongside the work when it affects your claim.""",
    advisory=True,
    needs_network=True,
)

PREPRINT_PUBLISHED = Rule(
    "KR208",
    "preprint-published",
    Severity.WARNING,
    "The cited preprint has since been published: cite the published version.",
    """What it does
  Reports a cited preprint whose Crossref record links to a published version
  (`relation.is-preprint-of`) and suggests the published DOI.

Why it matters
  The published version has been peer reviewed and may differ from the preprint; most journals ask for it.

Example
  doi = {10.1101/2020.01.01.123456}  -> published as 10.xxxx/journal.123

How to fix
  Cite the published version (check that it still supports your statement).""",
    advisory=True,
    needs_network=True,
)

METADATA_DIFFERS = Rule(
    "KR209",
    "metadata-differs",
    Severity.INFO,
    "The cited work is right, but its year, volume, pages or journal differ from the record.",
    """What it does
  For a reference that matches its Crossref record (same title and authors), compares the year (allowing
  one year between online-first and print), volume, first page and journal (abbreviations allowed).

Why it matters
  Small errors make a reference harder to find and suggest it was copied from another citation rather
  than from the work.

Example
  volume = {32}  -> Crossref has volume 33

How to fix
  Correct the fields from the record (`kratomref export --enrich` writes them out).""",
    advisory=True,
    needs_network=True,
)

RULES = (
    DOI_NOT_FOUND, DOI_MISMATCH, DOI_MISSING, REFERENCE_NOT_FOUND, RETRACTED, UPDATED, PREPRINT_PUBLISHED,
    METADATA_DIFFERS,
)

RETRACTION_TYPES = frozenset({"retraction", "withdrawal", "removal"})
UPDATE_TYPES = frozenset(
    {"correction", "erratum", "corrigendum", "expression_of_concern", "expression-of-concern", "addendum",
     "clarification", "partial_retraction", "partial-retraction"}
)
_RETRACTED_TITLE = lazy.regex(r"^\s*(retracted|withdrawn)\b", re.IGNORECASE)
# Below this many characters (DOI and URLs removed) a free-text item says too little to call its DOI's
# record a different work.
MIN_CITATION_TEXT = 30
MAX_QUERY_LENGTH = 500  # characters of query.bibliographic; long raw items are mostly noise past this
_LIST_ITEM_KEY = lazy.regex(r"ref-\d+")
_NUMBERING = lazy.regex(r"^\s*(\[\d+\]|\d+[.)]|[-*•])\s*")
_URL_OR_DOI = lazy.regex(r"(https?://\S+|doi:\s*\S+|\b10\.\d{4,9}/\S+)", re.IGNORECASE)


def _date(notice: Mapping[str, Any]) -> str | None:
    parts = (notice.get("updated") or {}).get("date-parts") if isinstance(notice.get("updated"), dict) else None
    if parts and parts[0] and all(isinstance(p, int) for p in parts[0]):
        return "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts[0]))
    return None


def _notice_words(notice: Mapping[str, Any]) -> str:
    words = f"notice {notice.get('DOI')}" if notice.get("DOI") else "a notice"
    date = _date(notice)
    return words + (f" on {date}" if date else "")


def _update_findings(ref: Reference, record: Mapping[str, Any], doi: str) -> Iterator[Finding]:
    notices = [n for n in record.get("updated-by") or [] if isinstance(n, dict)]
    retractions = [n for n in notices if str(n.get("type", "")).lower() in RETRACTION_TYPES]
    where = ref.located("doi") if ref.doi else ref.located()
    titles = [str(t) for t in record.get("title") or []]
    if retractions:
        notice = retractions[0]
        kind = str(notice.get("type")).lower().replace("removal", "removed").replace("withdrawal", "withdrawn")
        kind = "retracted" if kind == "retraction" else kind
        yield Finding(
            RETRACTED, where, f"{doi} was {kind}: {_notice_words(notice)}",
            f"remove or replace the citation; see {doi_url(str(notice['DOI']))}" if notice.get("DOI")
            else "remove or replace the citation",
        )
    elif any(_RETRACTED_TITLE.match(t) for t in titles):
        yield Finding(RETRACTED, where, f"{doi} is marked retracted in its title", "remove or replace the citation")
    for notice in notices:
        kind = str(notice.get("type", "")).lower()
        if kind in UPDATE_TYPES:
            label = str(notice.get("label") or kind.replace("_", " ").replace("-", " ")).lower()
            yield Finding(
                UPDATED, where, f"{doi} has a {label}: {_notice_words(notice)}",
                "read the notice and cite the corrected version if it affects your claim",
            )


def _preprint_findings(ref: Reference, record: Mapping[str, Any], doi: str) -> Iterator[Finding]:
    relation = record.get("relation")
    published = relation.get("is-preprint-of") if isinstance(relation, dict) else None
    for link in published or []:
        if isinstance(link, dict) and link.get("id") and str(link.get("id-type", "doi")).lower() == "doi":
            target = str(link["id"]).lower()
            yield Finding(
                PREPRINT_PUBLISHED, ref.located("doi"), f"{doi} is a preprint, published since as {target}",
                f"cite the published version: doi = {{{target}}}",
            )
            return


def _has_citation(ref: Reference) -> bool:
    if ref.title:
        return True
    return len(normalise_text(_URL_OR_DOI.sub(" ", ref.raw))) >= MIN_CITATION_TEXT


def _differences(ref: Reference, record: Mapping[str, Any], fields: tuple[str, ...]) -> list[str]:
    said = {
        "year": (ref.year, issued_year(record)),
        "volume": (ref.volume, record.get("volume")),
        "pages": (ref.pages, record.get("page") or record.get("article-number")),
        "journal": (ref.container, (record.get("container-title") or [None])[0]),
    }
    return [f"{name} cited as {said[name][0]!s}, Crossref has {said[name][1]!s}" for name in fields]


def _authority_findings(ref: Reference, evidence: Evidence) -> Iterator[Finding]:
    """What the record of another authority that confirms the reference says: retracted (OpenAlex, PubMed),
    or a preprint published since (arXiv)."""
    retraction = authority_rules.retraction(ref, evidence)
    if retraction is not None:
        yield Finding(RETRACTED, ref.located(), retraction, "remove or replace the citation")
    published = authority_rules.published_version(ref, evidence)
    if published is not None:
        message, doi = published
        yield Finding(PREPRINT_PUBLISHED, ref.located(), message, f"cite the published version: doi = {{{doi}}}")


def judge(ref: Reference, evidence: Evidence, ctx: Context) -> Iterator[Finding]:
    resolution = evidence.doi
    if resolution is not None:
        if resolution.status is Lookup.NOT_FOUND:
            yield Finding(
                DOI_NOT_FOUND, ref.located("doi"),
                f"{resolution.doi} is not registered: Crossref and doi.org have no such DOI",
                "copy the DOI from the publisher's page, or search the title on search.crossref.org",
            )
        elif resolution.status is Lookup.FOUND and resolution.record:
            record = resolution.record
            comparison = compare(ref, record)
            if comparison.different_work and _has_citation(ref):
                yield Finding(
                    DOI_MISMATCH, ref.located("doi"),
                    f"{resolution.doi} is {describe(record)}, not the cited work",
                    "find the cited work's own DOI, or correct the entry to match the work the DOI identifies",
                )
                return
            yield from _update_findings(ref, record, resolution.doi)
            yield from _preprint_findings(ref, record, resolution.doi)
            if ref.title and comparison.differing:
                yield Finding(
                    METADATA_DIFFERS, ref.located(),
                    f"{resolution.doi}: " + "; ".join(_differences(ref, record, comparison.differing)),
                    "correct the entry from the Crossref record",
                )
        return
    search = evidence.search
    if search is None or search.status is not Lookup.FOUND:
        if search is None and (message := authority_rules.not_found_message(ref, evidence, crossref=False)):
            yield Finding(REFERENCE_NOT_FOUND, ref.located(), message, "check the reference against the work itself")
        yield from _authority_findings(ref, evidence)
        return
    match = best_match(ref, search.candidates)
    if match is None:
        message = authority_rules.not_found_message(ref, evidence)
        if message is not None:
            yield Finding(
                REFERENCE_NOT_FOUND, ref.located(), message,
                "check the reference against the work itself and add its DOI",
            )
        yield from _authority_findings(ref, evidence)
        return
    yield Finding(
        DOI_MISSING, ref.located(),
        f"no DOI given; Crossref matches {match.doi} ({', '.join(match.comparison.supporting)} agree)",
        f"add doi = {{{match.doi}}}",
        fix=FieldFix("doi", ref.doi, match.doi),
    )
    yield from _update_findings(ref, match.record, match.doi)


def summary(record: Mapping[str, Any] | None, doi: str, agency: str | None) -> dict[str, Any]:
    """The fields of a confirming record the report shows."""
    if not record:
        return {"doi": doi, "title": None, "authors": [], "year": None, "container": None, "agency": agency}
    authors = [
        ", ".join(p for p in (str(a.get("family") or a.get("name") or ""), str(a.get("given") or "")) if p)
        for a in record.get("author") or [] if isinstance(a, dict)
    ]
    return {
        "doi": doi,
        "title": (record.get("title") or [None])[0],
        "authors": authors,
        "year": issued_year(record),
        "container": (record.get("container-title") or [None])[0],
        "agency": agency,
    }


def confirms(ref: Reference, evidence: Evidence, ctx: Context) -> Mapping[str, Any] | None:
    """The record confirming that the reference exists and is the cited work, else None."""
    resolution = evidence.doi
    if resolution is not None:
        if resolution.status is not Lookup.FOUND:
            return None
        if resolution.record and compare(ref, resolution.record).different_work and _has_citation(ref):
            return None
        return summary(resolution.record, resolution.doi, resolution.agency)
    search = evidence.search
    if search is not None and search.status is Lookup.FOUND:
        match = best_match(ref, search.candidates)
        if match is not None:
            return summary(match.record, match.doi, "crossref")
    return None


def search_query(ref: Reference) -> str | None:
    """The query.bibliographic string for a scholarly reference without a DOI, else None."""
    if not ref.is_scholarly:
        return None
    # An item of an article's reference list ("ref-N") is searched as written, as the issue asks: Crossref's
    # parser sees the volume and pages a heuristic parse may have missed (on 2,000 PMC references the raw
    # string found 97.9 % of gold DOIs against 94.5 % for the parsed fields; bench/RESULTS.md).
    if not ref.fields or (ref.raw and _LIST_ITEM_KEY.fullmatch(ref.location.key or "")):
        text = _URL_OR_DOI.sub(" ", _NUMBERING.sub("", ref.raw))
    else:
        names = " ".join(a.family for a in ref.authors[:3] if a.family)
        text = " ".join(p for p in (names, ref.title, ref.container, ref.year) if p)
    text = " ".join(text.split())[:MAX_QUERY_LENGTH]
    return text if len(text) >= 10 else None
