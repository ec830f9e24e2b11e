"""Rules about an entry on its own, offline: missing fields, DOI syntax and form, duplicates, age."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kratomref import lazy
from kratomref.doi import (
    DOI_PREFIX_RE,
    DOI_RE,
    DOI_RESOLVER_HOSTS,
    DOI_START,
    doi_url,
    is_canonical_doi_url,
    is_doi_url,
    normalise_doi,
    strip_trailing,
)
from kratomref.matching import normalise_text
from kratomref.model import (
    Document,
    DocumentEvidence,
    Evidence,
    FieldFix,
    Finding,
    LinkResult,
    Reference,
    Rule,
    Severity,
)
from kratomref.readers.bibtex import doi_in_url_field, schemeless_url
from kratomref.readers.pandoc import is_identifier_reference
from kratomref.rules.placeholders import find_placeholders, is_free_text_item
from kratomref.urls import normalise_url

if TYPE_CHECKING:
    from kratomref.rules import Context

MISSING_FIELD = Rule(
    "KR105",
    "missing-field",
    Severity.WARNING,
    "An entry lacks what a reader needs to find the work (author, title, year; journal for an article).",
    """What it does
  Reports an entry without an author (a person or an organisation: "Food and Drug Administration"
  counts; for a web page the site's owner does too), a title or a year, and a journal article without
  its journal. An item of a draft's reference list is reported only when it clearly lacks the field
  (no year anywhere in it, or nothing but a link), not when the free-text parser merely missed it.

Why it matters
  Without these, readers (and kratomref's Crossref search) cannot find the work, and a reference that
  cannot be found cannot support a claim.

Example
  @article{smith2020, author = {Smith, J.}, title = {Kratom and pain}, year = {2020}}   (no journal)

How to fix
  Complete the entry from the work itself. An undated web page is cited with "n.d.", which counts.""",
)

DOI_INVALID = Rule(
    "KR201",
    "doi-invalid",
    Severity.ERROR,
    "The DOI is not a syntactically valid DOI, even after removing prefixes and punctuation.",
    """What it does
  Normalises the DOI (drops "https://doi.org/", "doi:", trailing punctuation, braces) and reports it
  when what is left is not "10.", a registrant number, a slash and a suffix without spaces.

Why it matters
  An invalid DOI resolves to nothing: readers get an error page, and a broken DOI is a common mark of
  an invented reference.

Example
  doi = {10.1016/j. neubiorev.2012.11.012}
  doi = {N/A}

How to fix
  Copy the DOI from the publisher's page of the work; remove the field if the work has no DOI.""",
)

DOI_FORM = Rule(
    "KR210",
    "doi-form",
    Severity.INFO,
    "The DOI is valid but not written in its canonical form.",
    """What it does
  Reports a DOI field written as a URL (https://doi.org/..., dx.doi.org), with a "doi:" prefix, with
  stray punctuation, braces or percent-escapes, and gives the canonical form: the bare DOI, in the
  case it was written (DOIs are case-insensitive; Crossref shows them as registered). A DOI that only
  appears as a doi.org URL in the url field should move to a doi field. In a draft's reference list
  the https://doi.org/ form is the recommended display (Crossref's display guidelines, APA 7): only
  the old http:// and dx.doi.org forms are reported there.

Why it matters
  Bibliography styles add the resolver themselves: a URL in the doi field prints as
  "https://doi.org/https://doi.org/10...". Tools that compare or look up DOIs expect the bare form.

Example
  doi = {https://doi.org/10.1016/j.neubiorev.2012.11.012}  ->  doi = {10.1016/j.neubiorev.2012.11.012}

How to fix
  Write the bare DOI in the doi field (`kratomref fix` does it).""",
    advisory=True,
    fixable=True,
)

DUPLICATE = Rule(
    "KR211",
    "duplicate",
    Severity.WARNING,
    "Two entries cite the same work (same DOI, or same title and year).",
    """What it does
  Compares the entries of each input: two with the same DOI (after normalisation), or the same
  normalised title and year whose authors, sites and links do not tell them apart. The later entry is
  reported and the earlier one named with its line.

Why it matters
  A work listed twice inflates the reference list and splits the citations to it between two numbers
  or keys; it often means two versions of the entry drifted apart.

Example
  @article{hassan2013, doi = {10.1016/j.neubiorev.2012.11.012}, ...}
  @article{hassan2013kratom, doi = {https://doi.org/10.1016/j.neubiorev.2012.11.012}, ...}

How to fix
  Keep one entry, merge what the other adds, and point every citation at it.""",
)

URL_FORM = Rule(
    "KR212",
    "url-form",
    Severity.WARNING,
    "The url field holds an address without its scheme (https://), or a DOI instead of a link.",
    """What it does
  Reports a url field written without "https://" or "http://" ("www.example.org/report.pdf"), which
  kratomref reads and checks as the http:// address it means, and a url field that holds a DOI
  ("10.1145/1073001.1073004", "doi:10...") instead of a link, which it reads as the entry's DOI when
  the entry has no doi field. The fix writes the scheme (https:// when a live check found that https
  works, http:// otherwise) or moves the DOI into a doi field.

Why it matters
  Bibliography styles print the url field as a link: without its scheme, PDF viewers and browsers take
  "www.example.org/report.pdf" for a file next to the document, and a DOI in it links nowhere. A DOI
  belongs in the doi field, which styles print as a doi.org link and tools look up.

Example
  url = {www.aldor.org/aldorug.pdf}       ->  url = {http://www.aldor.org/aldorug.pdf}
  url = {10.1145/1073001.1073004}         ->  doi = {10.1145/1073001.1073004}

How to fix
  Write the full address, with https:// when the site supports it, and move a DOI into a doi field
  (`kratomref fix` does both).""",
    fixable=True,
)

SOURCE_OLD = Rule(
    "KR401",
    "source-old",
    Severity.INFO,
    "A web page, agency statement or report is older than the age policy (5 years by default).",
    """What it does
  Compares the entry's year with today's date: web pages, agency statements and other grey literature
  (reports, fact sheets, press releases, blog posts) older than `max-age-web` (default 5) years are
  reported. Scholarly works (articles, books, chapters, theses, proceedings) are judged by age only when
  `max-age-scholarly` is set in the configuration: age alone does not make a study outdated. Software,
  manuals and datasets are cited as the version used and are never judged by age. A work from exactly
  that many years ago is not reported.

Why it matters
  Health and regulatory information ages fast: an agency's 2016 statement may have been replaced, and a
  page written years ago may no longer say what you cite it for. Editors want to know which claims rest
  on such sources.

Example
  @online{dea2016kratom, year = {2016}, ...}   (checked in 2026: 10 years old, policy 5)

How to fix
  Look for a newer version or a more recent source; keep the old one when it is the point (a historical
  statement) and suppress the finding on that entry.""",
    advisory=True,
)

RULES = (MISSING_FIELD, DOI_INVALID, DOI_FORM, DUPLICATE, URL_FORM, SOURCE_OLD)

# --- KR105 ----------------------------------------------------------------------------------------

# Entry types whose "author" is rightly absent: laws, cases, standards, and works led by an editor.
AUTHORLESS_TYPES = frozenset(
    {"legislation", "legal", "jurisdiction", "legal_case", "legalcase", "bill", "statute", "treaty", "standard",
     "periodical", "proceedings", "collection", "mvcollection", "reference", "mvreference", "dataset", "software"}
)
# Pages and programs that live at a URL: an access date (urldate) dates them, and their site names them.
LIVING_TYPES = frozenset({"online", "webpage", "electronic", "www", "misc", "software", "manual", "dataset"})
_AUTHOR_FIELDS = ("author", "editor", "organization", "institution", "corporate-author", "a1", "au", "a2", "a3",
                  "editor-a", "bookauthor", "translator", "director")
_BODY_FIELDS = ("organization", "institution", "publisher", "howpublished", "journal")
# "n.d." is how an undated work is cited; "20XX" is a placeholder year, which KR101 reports.
_UNDATED_RE = lazy.regex(r"\bn\.\s?d\b|\bno\s+date\b|\bundated\b|\b(?:19|20)(?:xx|\?\?)|\byyyy\b", re.IGNORECASE)
_YEAR_RE = lazy.regex(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
_NUMBERING_RE = lazy.regex(r"^\s*(?:\[\d+\]|\(\d+\)|\d+[.)]|[-*•])\s*")
_URL_OR_DOI_RE = lazy.regex(r"(?:https?|ftp)://\S+|\bdoi:\s*\S+|\b10\.\d{4,9}/\S+|<[^>]*>|www\.\S+", re.IGNORECASE)


def _has(ref: Reference, *names: str) -> bool:
    return any(ref.fields.get(name, "").strip() for name in names)


def _missing_structured(ref: Reference) -> list[str]:
    missing: list[str] = []
    inherits = _has(ref, "crossref", "xdata")  # BibLaTeX fills these in from the parent entry
    has_author = bool(ref.authors) or _has(ref, *_AUTHOR_FIELDS)
    if not has_author and not ref.is_scholarly and (ref.container or _has(ref, *_BODY_FIELDS)):
        has_author = True  # a web page or statement: its site's owner is its author (APA 9.7)
    online = ref.type in LIVING_TYPES and bool(ref.urls)
    if not has_author and ref.type not in AUTHORLESS_TYPES and not inherits and not online:
        missing.append("author")  # a page or program at a URL is known by its title and site (APA 9.7, 10.10)
    if not (ref.title or "").strip() and not inherits:
        missing.append("title")
    undated = any(_UNDATED_RE.search(ref.fields.get(name, "")) for name in ("year", "date", "issued", "py", "y1", "da"))
    undated = undated or online  # a page or program at a URL is often undated (APA: "n.d.")
    if not ref.year and not undated and not inherits:
        missing.append("year")
    if ref.type == "article" and not (ref.container or "").strip() and not inherits:
        missing.append("journal")
    return missing


def _missing_free_text(ref: Reference) -> list[str]:
    """Only what the item clearly lacks: the heuristic parse missing a field is not the item lacking it."""
    text = _URL_OR_DOI_RE.sub(" ", _NUMBERING_RE.sub("", ref.raw))
    words = re.findall(r"[^\W\d_]{2,}", text)
    if len(words) < 2:
        from kratomref.readers.text import FOOTNOTE_FIELD  # a draft's reader: not loaded for a bibliography

        if ref.fields.get(FOOTNOTE_FIELD):
            return []  # ".. [1] http://...": a reStructuredText footnote is how a link is given there
        return ["author", "title", "year"]  # nothing but a link (or a number)
    missing: list[str] = []
    # A page on the web is often undated (APA: "n.d."); a work without a link and without a year is not.
    web_page = any(not is_doi_url(url) for url in ref.urls)
    if not ref.year and not _YEAR_RE.search(text) and not _UNDATED_RE.search(text) and not web_page:
        missing.append("year")
    if len(words) < 4 and not ref.title:
        missing.append("title")
    return missing


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _missing_field_findings(ref: Reference) -> Iterator[Finding]:
    if is_identifier_reference(ref):
        return  # [@doi:…] names the work by identifier: its record has the author, title and year
    missing = _missing_free_text(ref) if is_free_text_item(ref) else _missing_structured(ref)
    if not missing:
        return
    if is_free_text_item(ref) and missing == ["author", "title", "year"]:
        message = "the item is only a link: it gives no author, title or year"
    else:
        message = f"the entry has no {_join(missing)}"
    what = "the journal's name" if missing == ["journal"] else "the missing fields"
    yield Finding(MISSING_FIELD, ref.located(), message, f"add {what} from the work itself"
                  + (' (write "n.d." for an undated web page)' if "year" in missing and not ref.is_scholarly else ""))


# --- KR201 / KR210 --------------------------------------------------------------------------------

# A shortDOI (shortdoi.org), "10/bqhp9z": an alias of a DOI that doi.org resolves, not an invalid DOI.
SHORT_DOI_RE = lazy.regex(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?10/[a-z0-9]+$", re.IGNORECASE)

_DOI_FIELDS = ("doi", "do")
_SPACED_RE = lazy.regex(DOI_START + r"10\.\s*\d{4,9}(?:\.\d+)*\s*/\s*\S+(?:\s+\S+)?")


def _doi_field(ref: Reference) -> str | None:
    return next((name for name in _DOI_FIELDS if ref.raw_fields.get(name, "").strip()), None)


def _form_problems(written: str) -> tuple[list[str], str]:
    """What is not canonical about a DOI as written, in words, and the bare DOI in the case it was written:
    DOIs are case-insensitive (DOI Handbook 2.4) and Crossref displays them as registered, so the case is
    the writer's to keep."""
    problems: list[str] = []
    bare = written.strip()
    prefix = DOI_PREFIX_RE.match(bare)  # bare is a DOI normalise_doi accepted, so its prefix is this one
    if prefix:
        said = prefix.group(0).strip().lower()
        problems.append("written as a URL" if "://" in said or said.startswith(DOI_RESOLVER_HOSTS)
                        else f'with a "{prefix.group(0).strip()}" prefix')
        bare = bare[prefix.end() :]
    if "%" in bare:
        problems.append("percent-escaped")
        bare = urllib.parse.unquote(bare)
    if strip_trailing(bare) != bare or any(c in bare for c in "{}\\") or bare != bare.strip():
        problems.append("with stray punctuation")
        bare = strip_trailing(bare.strip()).replace("\\_", "_").replace("{", "").replace("}", "")
    return problems, bare.strip()


def _doi_findings(ref: Reference) -> Iterator[Finding]:
    if not ref.doi:
        return
    field = _doi_field(ref)
    written = ref.raw_fields[field] if field else ref.doi
    canonical = normalise_doi(written)
    where = ref.located(field or "doi") if field else ref.located(_field_holding(ref, ref.doi) or "url")
    if canonical is None:
        if find_placeholders(written) or SHORT_DOI_RE.match(written.strip()):
            return  # "doi = {TBD}": the placeholder rules report it; a shortDOI is an alias doi.org resolves
        spaced = _SPACED_RE.search(written)
        joined = normalise_doi(re.sub(r"\s+", "", spaced.group(0))) if spaced else None
        suggestion = (f"did you mean {joined}? Copy the DOI from the publisher's page" if joined
                      else "copy the DOI from the publisher's page (it starts with 10. and a slash), "
                           "or remove the field if the work has none")
        yield Finding(DOI_INVALID, where, f'"{" ".join(written.split())}" is not a valid DOI', suggestion)
        return
    if is_free_text_item(ref):
        # APA 7 and Crossref's display guidelines ask for https://doi.org/...; only the other resolver addresses
        # (http://, dx.doi.org, a publisher's resolver such as doi.acm.org) are reported.
        if re.match(r"^\s*https?://", written, re.IGNORECASE) and not is_canonical_doi_url(written):
            yield Finding(DOI_FORM, where, f"{written.strip()} uses an old DOI resolver address",
                          f"write it as {doi_url(canonical)}")
        return
    if field is None:
        holder = _field_holding(ref, ref.doi) or "url"
        if holder == "url" and doi_in_url_field(ref.raw_fields.get("url", "")) is not None:
            return  # "url = {10.1145/...}": not a link at all, which KR212 reports
        # No fix: the link works, and styles that print url but not doi (IEEEtran) would lose it.
        yield Finding(DOI_FORM, where, f"the DOI {canonical} is given only as a link in the {holder} field",
                      f"move it into a doi field: doi = {{{canonical}}}")
        return
    problems, bare = _form_problems(written)
    if normalise_doi(bare) != canonical:
        bare = canonical  # what was left is not the DOI itself (nested escapes): the canonical form is
    if problems or not DOI_RE.match(written):
        yield Finding(DOI_FORM, where, f"DOI {' and '.join(problems) or 'not in canonical form'}: {written.strip()}",
                      f"write doi = {{{bare}}}", fix=FieldFix("doi", written, bare))


def _field_holding(ref: Reference, text: str) -> str | None:
    """The field a DOI was found in, by its common name when the reader keeps two ("ur" and "url")."""
    holders = [name for name, value in ref.raw_fields.items() if text in value]
    return next((name for name in ("url", "note", "howpublished") if name in holders), holders[0] if holders else None)


# --- KR212 ----------------------------------------------------------------------------------------


def _https_works(link: LinkResult | None, url: str) -> bool:
    """True when a live check of the http:// URL found that its https:// form works: https_works, or a
    redirect to the same address over https."""
    if link is None:
        return False
    if link.https_works:
        return True
    final = (link.final_url or "").rstrip("/").lower()
    return final == "https://" + url.removeprefix("http://").rstrip("/").lower()


def _url_form_findings(ref: Reference, evidence: Evidence) -> Iterator[Finding]:
    written = ref.raw_fields.get("url", "").strip()
    if not written or not ref.raw.lstrip().startswith("@"):
        return  # the BibTeX reader reads these forms (a draft's list item or a CSL-JSON URL is read as written)
    where = ref.located("url")
    doi = doi_in_url_field(written)
    if doi is not None:
        field = _doi_field(ref)
        if field is None:
            yield Finding(URL_FORM, where, f"the url field holds the DOI {doi}, not a link",
                          f"move it into a doi field: doi = {{{doi}}}",
                          fix=FieldFix("doi", written, doi, moved_from="url"))
            return
        given = normalise_doi(ref.raw_fields[field])
        if given == doi:
            yield Finding(URL_FORM, where,
                          f"the url field repeats the DOI {doi} of the {field} field: it is not a link",
                          "remove the url field (styles print the DOI as a link)")
        else:
            yield Finding(URL_FORM, where, f"the url field holds the DOI {doi}, not a link; the {field} field gives "
                          f"{ref.raw_fields[field].strip()}",
                          f"keep the work's DOI in the {field} field and remove the url field")
        return
    url = schemeless_url(written)
    if url is None or url not in ref.urls:
        return
    secure = "https://" + url.removeprefix("http://")
    if _https_works(evidence.links.get(url), url):
        yield Finding(URL_FORM, where,
                      f"the url {url.removeprefix('http://')} has no scheme (it was checked as {url}; https works)",
                      f"write url = {{{secure}}}", fix=FieldFix("url", written, secure))
        return
    yield Finding(URL_FORM, where, f"the url {url.removeprefix('http://')} has no scheme: it was read as {url}",
                  f"write url = {{{url}}} (or {secure} if the site supports it)", fix=FieldFix("url", written, url))


# --- KR401 ----------------------------------------------------------------------------------------


# Cited as the version used, not as a claim about the world: never judged by age.
AGELESS_TYPES = frozenset({"software", "manual", "dataset", "codemeta", "patent", "legislation", "legal_case",
                           "standard"})
# Grey literature: reports and the like, which age like web pages even when a reader calls them scholarly.
GREY_TYPES = frozenset({"report", "techreport"})


def _age_findings(ref: Reference, ctx: Context) -> Iterator[Finding]:
    if not ref.year or not ref.year.isdigit() or ref.type in AGELESS_TYPES:
        return
    options = ctx.options
    age = options.today.year - int(ref.year)
    scholarly = ref.is_scholarly and ref.type not in GREY_TYPES
    limit = options.max_age_scholarly if scholarly else options.max_age_web
    if limit is None or age <= limit:
        return
    agency = not scholarly and any(a.literal for a in ref.authors)
    kind = "scholarly works" if scholarly else "web pages, reports and agency statements"
    advice = ("check the agency's current page for a newer statement" if agency
              else "look for a newer version or a more recent source" if not scholarly
              else "check for newer evidence (a recent review or study) and cite it alongside or instead")
    yield Finding(SOURCE_OLD, ref.located("year"),
                  f"published {ref.year}, {age} years ago: older than the {limit}-year policy for {kind}", advice)


def judge(ref: Reference, evidence: Evidence, ctx: Context) -> Iterator[Finding]:
    yield from _missing_field_findings(ref)
    yield from _doi_findings(ref)
    yield from _url_form_findings(ref, evidence)
    yield from _age_findings(ref, ctx)


# --- KR211 ----------------------------------------------------------------------------------------

MIN_TITLE_CHARS = 10  # shorter normalised titles ("kratom") say too little to call two entries one work


def _distinct(a: Reference, b: Reference) -> bool:
    """True when something other than the title tells two same-title, same-year entries apart."""
    first_a = normalise_text(a.authors[0].family) if a.authors else ""
    first_b = normalise_text(b.authors[0].family) if b.authors else ""
    if first_a and first_b and first_a != first_b:
        return True
    if a.container and b.container and normalise_text(a.container) != normalise_text(b.container):
        return True
    urls_a = {normalise_url(u).rstrip("/") for u in a.urls if not is_doi_url(u)}
    urls_b = {normalise_url(u).rstrip("/") for u in b.urls if not is_doi_url(u)}
    if urls_a and urls_b and not urls_a & urls_b:
        return True
    doi_a, doi_b = normalise_doi(a.doi), normalise_doi(b.doi)
    return bool(doi_a and doi_b and doi_a != doi_b)


def _earlier(ref: Reference) -> str:
    line = f" (line {ref.location.line})" if ref.location.line is not None else ""
    return f"{ref.key}{line}"


def judge_document(doc: Document, evidence: DocumentEvidence, ctx: Context) -> Iterator[Finding]:
    by_doi: dict[str, Reference] = {}
    by_title: dict[tuple[str, str], list[Reference]] = {}
    for ref in doc.references:
        doi = normalise_doi(ref.doi)
        if doi and doi in by_doi:
            yield Finding(DUPLICATE, ref.located(), f"same DOI ({doi}) as {_earlier(by_doi[doi])}",
                          f"keep one entry and cite {by_doi[doi].key} everywhere")
            continue
        title = normalise_text(ref.title)
        if ref.year and len(title) >= MIN_TITLE_CHARS:
            earlier = next((e for e in by_title.get((title, ref.year), []) if not _distinct(e, ref)), None)
            if earlier is not None:
                yield Finding(DUPLICATE, ref.located(), f"same title and year ({ref.year}) as {_earlier(earlier)}",
                              f"keep one entry and cite {earlier.key} everywhere")
                continue
            by_title.setdefault((title, ref.year), []).append(ref)
        if doi:
            by_doi[doi] = ref

