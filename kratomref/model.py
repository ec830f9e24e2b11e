"""The data that flows through kratomref: references in, evidence, findings and a report out.

Everything here is plain, frozen data so that readers, services, rules and renderers can be
tested apart from one another.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kratomref.selectors import selector_matches


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


class Verdict(str, enum.Enum):
    """What kratomref concluded about one reference."""

    VERIFIED = "verified"  # an authority (Crossref, the DOI's agency, a working specific link) confirms it
    UNVERIFIED = "unverified"  # nothing confirmed it and nothing showed a problem (offline, service down...)
    PROBLEM = "problem"  # a finding of warning or error severity concerns it


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is in an input: file, line and key (and a PDF's page or a web page's section)."""

    file: str
    line: int | None = None
    key: str | None = None  # BibTeX key, or "ref-N" for the Nth item of an article's reference list
    column: int | None = None
    # A PDF's page and the line on that page (readers/pdf.py); `line` stays the line of the text read from it.
    page: int | None = None
    page_line: int | None = None
    # A page read from its address (issue 20): the nearest heading and the paragraph under it, "§ Effects,
    # paragraph 3", which a reader of the page can find; `line` stays the line of the fetched source.
    section: str | None = None

    def __str__(self) -> str:
        if self.page is not None:
            return f"{self.file}:page {self.page}, line {self.page_line}"
        if self.section is not None:
            return f"{self.file} ({self.section})"
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where


@dataclass(frozen=True, slots=True)
class Author:
    """One author of a reference as written: a person's names, or an organisation."""

    family: str  # surname, or the whole name of an organisation
    given: str = ""  # given names or initials as written
    literal: bool = False  # an organisation ("Food and Drug Administration"), not a person

    def __str__(self) -> str:
        if self.literal or not self.given:
            return self.family
        return f"{self.family}, {self.given}"


_V = TypeVar("_V")
# Field names in the order an entry gives them -> each name's position, shared by every entry written with the
# same fields (a .bib's articles mostly are); bounded, so that a hostile file's many shapes cannot grow it.
_SHAPES: dict[tuple[str, ...], dict[str, int]] = {}
_MAX_SHAPES = 4096
_MAX_SHAPE_NAMES = 64


def field_shape(names: tuple[str, ...]) -> dict[str, int]:
    """The shared position of each of names, for FieldTable and FieldLines."""
    index = _SHAPES.get(names)
    if index is None:
        index = {name: position for position, name in enumerate(names)}
        if len(_SHAPES) < _MAX_SHAPES and len(names) <= _MAX_SHAPE_NAMES:
            _SHAPES[names] = index
    return index


class FieldTable(Mapping[str, _V]):
    """A reference's fields (name -> value), read-only and compact: the names are shared with every entry that
    has the same fields in the same order, and only the values are the entry's own (a dict per entry took three
    times the memory of 100,000 entries' values). Behaves as the dict it replaces, in the order given."""

    __slots__ = ("_index", "_values")

    def __init__(self, items: Mapping[str, _V] | Iterable[tuple[str, _V]] = (),
                 shape: dict[str, int] | None = None) -> None:
        """shape: field_shape of the names, when the caller has it (the names must be those of items)."""
        pairs = dict(items)
        self._index = field_shape(tuple(pairs)) if shape is None else shape
        self._values = tuple(pairs.values())

    def __getitem__(self, name: str) -> _V:
        return self._values[self._index[name]]

    def get(self, name: str, default: Any = None) -> Any:
        position = self._index.get(name)
        return default if position is None else self._values[position]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return repr(dict(self))


class FieldLines(Mapping[str, int]):
    """A reference's field lines (name -> line number), read-only and compact: the shared names of FieldTable,
    the entry's first line and each field's distance from it in a byte (a field of a long entry past 255
    lines from its start keeps a tuple of lines instead)."""

    __slots__ = ("_index", "_offsets", "_start")

    def __init__(self, items: Mapping[str, int] | Iterable[tuple[str, int]] = (),
                 shape: dict[str, int] | None = None) -> None:
        pairs = dict(items)
        self._index = field_shape(tuple(pairs)) if shape is None else shape
        lines = tuple(pairs.values())
        self._start = min(lines, default=0)
        offsets = [line - self._start for line in lines]
        self._offsets: bytes | tuple[int, ...] = bytes(offsets) if all(o < 256 for o in offsets) else lines
        if isinstance(self._offsets, tuple):
            self._start = 0

    def __getitem__(self, name: str) -> int:
        return self._start + self._offsets[self._index[name]]

    def get(self, name: str, default: Any = None) -> Any:
        position = self._index.get(name)
        return default if position is None else self._start + self._offsets[position]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._offsets)

    def __repr__(self) -> str:
        return repr(dict(self))


# Entry types, normalised across BibTeX, CSL, RIS and free text.
SCHOLARLY_TYPES = frozenset(
    {"article", "inproceedings", "conference", "book", "inbook", "incollection", "phdthesis",
     "mastersthesis", "thesis", "techreport", "report", "proceedings", "preprint", "chapter"}
)


@dataclass(frozen=True, slots=True)
class Reference:
    """One entry of a bibliography or one item of an article's reference list."""

    location: Location  # where the entry starts; location.key is its key or "ref-N"
    type: str = "misc"  # lower-case BibTeX-style type: article, book, online, misc...
    title: str | None = None  # LaTeX decoded, braces removed
    authors: tuple[Author, ...] = ()
    et_al: bool = False  # the list was truncated ("et al.", "... &", "and others")
    year: str | None = None
    container: str | None = None  # journal, book or proceedings title, or the site/organisation
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    publisher: str | None = None
    doi: str | None = None  # as written (not yet normalised)
    urls: tuple[str, ...] = ()  # every URL the entry gives, as written, in order
    raw: str = ""  # the entry's source text (the whole @type{...} block, or the list item)
    fields: Mapping[str, str] = field(default_factory=dict)  # every field, LaTeX decoded
    field_lines: Mapping[str, int] = field(default_factory=dict)  # field name -> line number
    raw_fields: Mapping[str, str] = field(default_factory=dict)  # every field as written
    suppressed: frozenset[str] = frozenset()  # codes/names suppressed on this entry inline
    # Where a BibTeX entry and its fields are in the file's text, as the reader found them (readers.bibtex.spans_of
    # reads it; `kratomref fix` edits there); None when the reader could not say (an entry it failed on).
    spans: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return self.location.key or f"{self.location.file}:{self.location.line}"

    @property
    def is_scholarly(self) -> bool:
        return self.type in SCHOLARLY_TYPES

    def line_of(self, field_name: str) -> int | None:
        """Line of a field when the reader knows it, else the entry's own line."""
        return self.field_lines.get(field_name, self.location.line)

    def located(self, field_name: str | None = None) -> Location:
        line = self.line_of(field_name) if field_name else self.location.line
        return Location(self.location.file, line, self.location.key)


@dataclass(frozen=True, slots=True)
class TextLine:
    """A line of a document's body (outside its reference list), for placeholder and editor rules."""

    file: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Citation:
    """An in-text citation as written, and what it refers to."""

    location: Location
    text: str  # as written: "[2]", "(Smith, 2019)", "\\citep{key}"
    target: str  # a key, a number as a string, or "Surname Year"
    style: str  # "key", "numeric" or "author-year"
    resolved_key: str | None = None  # the entry it was tied to


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a reader found wrong with the input itself (a broken entry, an unreadable file)."""

    location: Location
    code: str  # a rule code, e.g. "KR001"
    message: str
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """What a reader returns for one input file."""

    path: str
    format: str  # bibtex, text, markdown, csljson, ris, latex, pandoc, docx
    references: tuple[Reference, ...] = ()
    body: tuple[TextLine, ...] = ()  # body lines (drafts only)
    body_links: tuple[tuple[Location, str], ...] = ()  # URLs found in the body (drafts only)
    citations: tuple[Citation, ...] = ()
    problems: tuple[Problem, ...] = ()
    # Directives read from the source, e.g. {"nocite-all": "1"}; reader-specific, used by rules.
    meta: Mapping[str, str] = field(default_factory=dict)
    # line -> codes suppressed by an inline comment on or directly above that line
    suppressions: Mapping[int, frozenset[str]] = field(default_factory=dict)
    # line -> selector -> line of the comment that names it, where that comment is alone on its own line and
    # applies to the line (or entry) below: an unused suppression (KR901) is reported on the comment itself
    suppression_comments: Mapping[int, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of the catalogue: its code, name, default severity and what `rules` and `explain` print."""

    code: str  # "KR203"
    name: str  # "doi-mismatch"
    severity: Severity
    summary: str  # one line for `kratomref rules`
    explanation: str = ""  # What it does / Why it matters / Example / How to fix
    # True: a finding of this rule is advice about a reference that is otherwise sound (a DOI to add, a
    # moved link); it does not by itself make the reference's verdict a problem.
    advisory: bool = False
    # True: the rule judges what a look-up answered (Crossref, a live link). Where the look-up could not be made
    # (an offline run, a timeout, a 429) it did not really run: a suppression of it cannot be called unused.
    needs_network: bool = False
    # True: a finding of this rule may carry a FieldFix that `kratomref fix` applies.
    fixable: bool = False
    # False: the rule runs only when --select (or the configuration's select) names it (KR506).
    default_on: bool = True

    def matches(self, selector: str) -> bool:
        """True for this rule's code, name, or a code prefix such as "KR2" or "KR"."""
        return selector_matches(self.code, self.name, selector)

    def specificity(self, selector: str) -> int:
        """How closely `selector` names this rule: -1 not at all, the prefix's length for "KR" or "KR2", more
        for the rule's own code or name."""
        if not self.matches(selector):
            return -1
        s = selector.strip()
        return 100 if s.lower() == self.name or s.upper() == self.code.upper() else len(s)

    def selected(self, select: Sequence[str], ignore: Sequence[str]) -> bool:
        """Whether --select/--ignore (or the configuration's) leave this rule on. The most specific selector
        wins, as in flake8 and ruff: `--select KR203 --ignore KR2` keeps KR203 and drops the rest of KR2;
        when both name the rule equally closely, --ignore wins."""
        chosen = max((self.specificity(s) for s in select), default=-1) if select else 0
        if chosen < 0:
            return False
        return max((self.specificity(s) for s in ignore), default=-1) < chosen


@dataclass(frozen=True, slots=True)
class FieldFix:
    """A mechanical edit `kratomref fix` may apply: set a field of the entry to a new value."""

    field: str  # "doi", "url"...
    old: str | None  # the value as written; None adds the field
    new: str
    # The field that holds `old` now, when the value moves ("url = {10.1145/1.2}" -> "doi = {10.1145/1.2}"):
    # that field is renamed to `field`, which the entry must not have yet.
    moved_from: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule found at one place, with the suggestion and the mechanical fix when there is one."""

    rule: Rule
    location: Location
    message: str
    suggestion: str | None = None
    fix: FieldFix | None = None  # set only for confident, mechanical fixes
    severity: Severity | None = None  # None: the rule's default; set by severity overrides
    fingerprint: str = ""  # content-based identity for baselines; filled by check if empty

    @property
    def level(self) -> Severity:
        return self.severity if self.severity is not None else self.rule.severity


@dataclass(frozen=True, slots=True)
class ReferenceResult:
    """One reference with what kratomref concluded about it."""

    reference: Reference
    verdict: Verdict
    reasons: tuple[str, ...] = ()  # why it is unverified or a problem, in words
    matched: Mapping[str, Any] | None = None  # summary of the record it was verified against
    record: Mapping[str, Any] | None = None  # the full Crossref work it matched, for export --enrich
    confirmed_by: str | None = None  # who verified it: "Crossref", "DataCite", "arXiv", "Open Library", "link"...


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of a check: the documents read, a verdict per reference and the findings kept."""

    tool_version: str
    documents: tuple[Document, ...]
    results: tuple[ReferenceResult, ...]
    findings: tuple[Finding, ...]
    fail_on: Severity | None = Severity.ERROR  # None: never fail
    unverified_checks: int = 0  # checks that could not be made (offline, network failure, 429...)
    allow_unverified: bool = False  # exit 0 rather than 3 when checks could not be made

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.level == severity)

    @property
    def failed(self) -> bool:
        return self.fail_on is not None and any(f.level >= self.fail_on for f in self.findings)

    @property
    def unverified(self) -> int:
        return sum(1 for r in self.results if r.verdict is Verdict.UNVERIFIED)

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings at or above fail_on, 3 nothing failed but some checks could not be made
        (0 with allow_unverified)."""
        if self.failed:
            return 1
        if (self.unverified_checks or self.unverified) and not self.allow_unverified:
            return 3
        return 0


# --- Evidence: what the resolve step learnt, handed to the pure rules --------------------------


class Lookup(str, enum.Enum):
    """Outcome of one look-up. UNVERIFIED is "could not check" and never means "broken" or "fake"."""

    FOUND = "found"
    NOT_FOUND = "not-found"
    UNVERIFIED = "unverified"

    def is_unverified(self) -> bool:
        """Could not check (offline, timeout, 429...): the look-up was not made, so it says nothing either way."""
        return self is Lookup.UNVERIFIED

    def answered(self) -> bool:
        """The service answered, whether it found the work or not."""
        return self is not Lookup.UNVERIFIED


@dataclass(frozen=True, slots=True)
class DoiResolution:
    """What looking a DOI up found: its record and registration agency, or why it could not be checked."""

    doi: str  # normalised, lower-case
    status: Lookup
    record: Mapping[str, Any] | None = None  # Crossref "message" of /works/{doi}, when Crossref has it
    agency: str | None = None  # "crossref", "datacite", "medra"... when known
    reason: str | None = None  # why UNVERIFIED (timeout, 503, 429, offline...)
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class SearchResolution:
    """A bibliographic search for a reference without a DOI."""

    query: str
    status: Lookup  # FOUND when the search ran (candidates may be empty), UNVERIFIED when it could not
    candidates: tuple[Mapping[str, Any], ...] = ()  # Crossref work items, best first
    reason: str | None = None
    from_cache: bool = False


class LinkStatus(str, enum.Enum):
    OK = "ok"  # 2xx, after any redirects
    BROKEN = "broken"  # 404, 410, other 4xx, persistent 5xx
    UNREACHABLE = "unreachable"  # DNS, refused, reset, TLS, timeout, redirect loop, too many redirects
    BLOCKED = "blocked"  # 401, 403, 429, 999, bot challenge: the site would not let a robot verify it
    UNVERIFIED = "unverified"  # could not check: offline, excluded, refused by policy (private address)
    UNSUPPORTED = "unsupported"  # not http(s), or malformed

    def is_unverified(self) -> bool:
        """Could not check: offline, excluded, refused by policy. Counted as a check that could not be made."""
        return self is LinkStatus.UNVERIFIED

    def is_blocked(self) -> bool:
        """The site would not let a robot verify it (401, 403, 429, 999, a bot challenge)."""
        return self is LinkStatus.BLOCKED

    def could_not_check(self) -> bool:
        """Unverified or blocked: the link may well work; it is never "broken" on this evidence."""
        return self is LinkStatus.UNVERIFIED or self is LinkStatus.BLOCKED

    def is_error(self) -> bool:
        """The link itself failed: broken (404, 410...) or unreachable (DNS, refused, timeout...)."""
        return self is LinkStatus.BROKEN or self is LinkStatus.UNREACHABLE


@dataclass(frozen=True, slots=True)
class Hop:
    """One response on the way to a link's final page: its URL and HTTP status."""

    url: str
    status: int


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What checking one link found: its status, the redirects and the final page, or why it was not checked."""

    url: str  # as checked (normalised)
    status: LinkStatus
    http_status: int | None = None  # of the final response
    final_url: str | None = None  # after redirects
    chain: tuple[Hop, ...] = ()  # every response in order, redirects included
    permanent_redirect: bool = False  # every redirect in the chain was 301/308
    title: str | None = None  # <title> or first heading of the final page, when read
    soft_404: bool = False  # a 200 page that says "not found"
    https_works: bool | None = None  # for http:// URLs, whether the https:// form answered
    archived: str | None = None  # closest Wayback Machine copy, for broken/unreachable links
    reason: str | None = None  # in words: "timeout after 10 s", "redirect loop", "HTTP 404"
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class AuthorityRecord:
    """A work as an authority other than Crossref holds it (OpenAlex, DataCite, arXiv, PubMed, DBLP, Open
    Library), normalised to the fields a reference is compared on."""

    authority: str  # the authority's name: "openalex", "arxiv"...
    title: str | None = None
    authors: tuple[str, ...] = ()  # family names, in order (an organisation's whole name)
    year: int | None = None
    years: tuple[int, ...] = ()  # every year it can honestly be cited with (editions, online and print)
    venue: str | None = None  # journal, proceedings, publisher's series, repository
    volume: str | None = None
    pages: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()  # ("doi", "10.1/x"), ("isbn", "9780262033848"), ("arxiv", ...)
    url: str | None = None  # the authority's page for the work
    kind: str | None = None  # the authority's own type: "journal-article", "book", "Software"...
    is_retracted: bool = False
    published_doi: str | None = None  # a preprint's published version, as the authority records it
    journal_ref: str | None = None  # a preprint's journal reference, as written by its authors
    # What the work is about, where the authority's answer holds it (KR506 compares it with the citing text):
    # the abstract in reading order, as the authority writes it (DataCite's may be HTML, as Crossref's is JATS),
    # and subject terms (OpenAlex's keywords, topics and concepts, DataCite's subjects, PubMed's MeSH
    # headings), the most telling first. PubMed's are fetched only when KR506 runs (check.py).
    abstract: str | None = None
    subjects: tuple[str, ...] = ()

    def ids(self, kind: str) -> tuple[str, ...]:
        return tuple(value for k, value in self.identifiers if k == kind)

    def as_work(self, cited_year: int | None = None) -> dict[str, Any]:
        """The record in Crossref's shape, so that matching.compare judges it like a Crossref work. Of the
        years it can be cited with, the one closest to the cited year is given as issued."""
        years = sorted(set(self.years) | ({self.year} if self.year else set()))
        year = min(years, key=lambda y: abs(y - cited_year)) if years and cited_year else self.year
        work: dict[str, Any] = {
            "title": [self.title] if self.title else [],
            "author": [{"family": name} for name in self.authors],
            "container-title": [self.venue] if self.venue else [],
        }
        if year:
            work["issued"] = {"date-parts": [[year]]}
        if self.volume:
            work["volume"] = self.volume
        if self.pages:
            work["page"] = self.pages
        doi = self.ids("doi")
        if doi:
            work["DOI"] = doi[0]
        return work


@dataclass(frozen=True, slots=True)
class AuthorityAnswer:
    """What one authority said about one reference. UNVERIFIED is "could not check", never "not found"."""

    authority: str  # "openalex", "datacite", "arxiv", "pubmed", "dblp", "openlibrary"
    status: Lookup  # FOUND: records came back; NOT_FOUND: it answered and holds nothing; UNVERIFIED
    records: tuple[AuthorityRecord, ...] = ()  # the work looked up by identifier, or search candidates
    asked: str = ""  # what was asked, in words: "arXiv:1706.03762", "ISBN 9780262033848", "a title search"
    identifier: str | None = None  # "arxiv", "isbn", "pmid", "pmcid", "doi" for a look-up by identifier
    reason: str | None = None  # why UNVERIFIED
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the resolve step learnt about one reference."""

    doi: DoiResolution | None = None
    search: SearchResolution | None = None
    links: Mapping[str, LinkResult] = field(default_factory=dict)  # keyed by the URL as written
    # authority name -> its answer, in the order they were asked (Crossref's answers are doi and search)
    authorities: Mapping[str, AuthorityAnswer] = field(default_factory=dict)

    def lookups_failed(self) -> bool:
        """True when a Crossref look-up of the reference, or a check of one of its links, could not be made: the
        rules that need the network (Rule.needs_network) could not judge it. Other authorities are not asked."""
        if self.doi is not None and self.doi.status.is_unverified():
            return True
        if self.search is not None and self.search.status.is_unverified():
            return True
        return any(link.status.could_not_check() for link in self.links.values())


NO_EVIDENCE = Evidence()


@dataclass(frozen=True)
class DocumentEvidence:
    """Everything the resolve step learnt for one document, as its document rules see it: each reference's
    evidence by its key, the checks of the links in its body (outside the reference list) by URL as written,
    and the searches for its placeholder sentences by placeholder id (rules.placeholder_candidates)."""

    references: Mapping[str, Evidence] = field(default_factory=dict)
    body_links: Mapping[str, LinkResult] = field(default_factory=dict)
    placeholders: Mapping[str, SearchResolution] = field(default_factory=dict)

    def of(self, key: str | None) -> Evidence:
        """The evidence of the reference with this key (none learnt: an empty Evidence)."""
        return self.references.get(key, NO_EVIDENCE) if key is not None else NO_EVIDENCE


NO_DOCUMENT_EVIDENCE = DocumentEvidence()
