"""Field-by-field comparison of a cited reference with a Crossref record, robust to how people cite.

Used to validate search candidates (the way Crossref's search-based matching validates them) and to tell
a DOI pointing at another work from a citation with a wrong volume or year.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kratomref import lazy
from kratomref.model import Reference


def _ratio(a: str, b: str) -> float:
    """rapidfuzz's ratio (0-100), imported at the first comparison: an offline run with nothing to compare never
    loads rapidfuzz (about 20 ms of start-up)."""
    from rapidfuzz import fuzz

    return float(fuzz.ratio(a, b))


def _partial_ratio(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    return float(fuzz.partial_ratio(a, b))


# Thresholds follow Crossref's search-based matching with validation (SBMV, Tkaczyk 2021,
# https://www.crossref.org/blog/dont-take-it-for-granted-matching-references-to-dois/): a candidate needs
# several independent fields to agree, and a title is "similar" well below exact equality because citations
# drop subtitles, punctuation and markup.
TITLE_MATCH = 0.85  # similarity at or above which a title supports a match
TITLE_MISMATCH = 0.6  # below this a title clearly belongs to another work
MIN_SUPPORTING_FIELDS = 3  # of title, author, year, volume, first page (SBMV)
YEAR_TOLERANCE = 1  # online-first vs print, and citations of the accepted-manuscript year
SURNAME_MATCH = 90  # rapidfuzz ratio for a surname with a typo or a transliteration variant

STOP_WORDS = frozenset({"and", "of", "the", "for", "in", "on", "a", "an", "de", "la", "und", "fur"})
_LATEX_COMMAND = lazy.regex(r"\\[a-zA-Z]+\*?\s*")
_LATEX_ACCENT = lazy.regex(r"\\[`'^\"~=.uvHtcdbkr]\s*\{?([a-zA-Z])\}?")
_NON_WORD = lazy.regex(r"[^\w\s]+")
_RETRACTION_PREFIX = lazy.regex(r"^\s*(retracted|withdrawn)\s*(?:(article)\s*)?[:.\-]\s*", re.IGNORECASE)
_PAGE_SPLIT = lazy.regex(r"\s*(?:-{1,3}|[–—‐‑−]|\bto\b)\s*")


def normalise_text(text: str | None) -> str:
    """Lower-case words without accents, LaTeX markup, punctuation or "&"/"and" differences."""
    if not text:
        return ""
    s = _LATEX_ACCENT.sub(lambda m: m.group(1), text)
    s = re.sub(r"<[^>]+>", " ", s)  # JATS/MathML tags in Crossref titles: <i>, <sub>, <mml:math>...
    s = _LATEX_COMMAND.sub(" ", s).replace("{", "").replace("}", "").replace("$", "")
    s = s.replace("&amp;", " and ").replace("&", " and ").replace("ß", "ss")
    if not s.isascii():  # an ASCII text has no accents to take off (and is its own NFKD form)
        s = unicodedata.normalize("NFKD", s)
        s = "".join(c for c in s if not unicodedata.combining(c))
    s = _NON_WORD.sub(" ", s.lower()).replace("_", " ")
    return " ".join(s.split())


def title_similarity(cited: str | None, record_titles: Sequence[str]) -> float | None:
    """0..1; a cited title matches a record title alone, or with its subtitle, whichever is closer."""
    a = normalise_text(_RETRACTION_PREFIX.sub("", cited or ""))
    if not a or not record_titles:
        return None
    best = 0.0
    for title in record_titles:
        b = normalise_text(_RETRACTION_PREFIX.sub("", title))
        if not b:
            continue
        best = max(best, _ratio(a, b) / 100)
        # A citation that drops the subtitle (or the record that lacks it): compare the shorter with the
        # start of the longer, but only when the shorter is a substantial title in its own right.
        short, long_ = sorted((a, b), key=len)
        if len(short.split()) >= 4:
            best = max(best, _ratio(short, long_[: len(short)]) / 100)
    return best


def title_in_text(raw: str, record_titles: Sequence[str]) -> float | None:
    """0..1: how well a record title appears inside a free-text citation."""
    text = normalise_text(raw)
    best: float | None = None
    for title in record_titles:
        t = normalise_text(title)
        if t and text:
            best = max(best or 0.0, _partial_ratio(t, text) / 100 if len(t) <= len(text) else 0.0)
    return best


def surname(name: str) -> str:
    return normalise_text(name)


def record_surnames(record: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for author in record.get("author") or []:
        if isinstance(author, dict):
            name = author.get("family") or author.get("name") or ""
            if name:
                names.append(surname(str(name)))
    return names


def _same_surname(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    # Compound and particle names: "van der Berg" vs "Berg", "Garcia Lopez" vs "Garcia".
    if set(a.split()) & set(b.split()) - STOP_WORDS - {"van", "von", "der", "den", "da", "di", "le"}:
        return True
    return _ratio(a, b) >= SURNAME_MATCH


def _year_of(record: Mapping[str, Any], key: str) -> int | None:
    value = record.get(key)
    parts = value.get("date-parts") if isinstance(value, dict) else None
    if parts and parts[0] and isinstance(parts[0][0], int):
        return int(parts[0][0])
    return None


def record_years(record: Mapping[str, Any]) -> set[int]:
    """Every year the work can honestly be cited with: issued, print, and online-first.

    An online or deposit date after the issue date is a back-file digitisation (a 1997 paper with a DOI
    created in 2005), not a year anyone cites, so it only counts when it comes first.
    """
    years = {y for y in (_year_of(record, k) for k in ("issued", "published", "published-print")) if y}
    first = min(years) if years else None
    for key in ("published-online", "created"):
        y = _year_of(record, key)
        if y is not None and (first is None or y <= first):
            years.add(y)
    return years


def issued_year(record: Mapping[str, Any]) -> int | None:
    for key in ("issued", "published", "published-print", "published-online", "created"):
        year = _year_of(record, key)
        if year is not None:
            return year
    return None


def first_page(pages: str | None) -> str | None:
    """"138" from "138-151", "138–151", "138--151", "pp. 138 to 151"; "e0033693" stays as it is."""
    if not pages:
        return None
    s = re.sub(r"^\s*(pp?\.?|pages?)\s*", "", str(pages).strip(), flags=re.IGNORECASE)
    head = _PAGE_SPLIT.split(s, maxsplit=1)[0].strip().lower()
    return head or None


def _journal_tokens(name: str) -> list[str]:
    return [t for t in normalise_text(name).split() if t not in STOP_WORDS]


def journal_matches(cited: str, full: str) -> bool:
    """"Drug Alcohol Depend" or "J. Ethnopharmacol." against "Drug and Alcohol Dependence"."""
    a, b = _journal_tokens(cited), _journal_tokens(full)
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len) if len(a) != len(b) else (a, b)
    if len(short) == len(long_):
        return all(x.startswith(y) or y.startswith(x) for x, y in zip(a, b, strict=True))
    # ISO 4 abbreviations may drop words; each abbreviated word must begin a later word, in order.
    i = 0
    for word in short:
        while i < len(long_) and not long_[i].startswith(word):
            i += 1
        if i == len(long_):
            return False
        i += 1
    return True


def _year(text: str | None) -> int | None:
    m = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", text or "")
    return int(m.group(1)) if m else None


def _year_agrees(cited: int | None, theirs: set[int]) -> bool | None:
    if cited is None or not theirs:
        return None
    return any(abs(cited - y) <= YEAR_TOLERANCE for y in theirs)


@dataclass(frozen=True)
class Comparison:
    """Which cited fields agree with a record (True), disagree (False) or could not be compared (None)."""

    title: float | None  # similarity 0..1
    authors_in_common: int | None  # cited surnames found among the record's authors
    first_author: bool | None
    year: bool | None  # within YEAR_TOLERANCE of one of the record's years
    volume: bool | None
    first_page: bool | None
    journal: bool | None

    @property
    def title_agrees(self) -> bool | None:
        return None if self.title is None else self.title >= TITLE_MATCH

    @property
    def author_agrees(self) -> bool | None:
        return None if self.authors_in_common is None else self.authors_in_common > 0

    @property
    def supporting(self) -> tuple[str, ...]:
        """The fields that support a match (SBMV): title, author, year, volume, first page."""
        fields = {
            "title": self.title_agrees,
            "author": self.author_agrees,
            "year": self.year,
            "volume": self.volume,
            "first page": self.first_page,
        }
        return tuple(name for name, ok in fields.items() if ok)

    @property
    def different_work(self) -> bool:
        """Title AND authors clearly disagree: the record is another work, not a sloppy citation."""
        if self.title is None or self.title >= TITLE_MISMATCH:
            return False
        if self.authors_in_common is not None:
            return self.authors_in_common == 0
        return self.year is False  # no authors to compare: a different title and year decide

    @property
    def differing(self) -> tuple[str, ...]:
        """Cited fields that disagree although the work is the same (for metadata-differs)."""
        fields = {"year": self.year, "volume": self.volume, "pages": self.first_page, "journal": self.journal}
        return tuple(name for name, ok in fields.items() if ok is False)


def _first_string(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value else None


def record_titles(record: Mapping[str, Any]) -> list[str]:
    """A record's titles a citation may give: title, title with subtitle, short title."""
    titles = [str(t) for t in record.get("title") or [] if t]
    subtitles = [str(s) for s in record.get("subtitle") or [] if s]
    if titles and subtitles:
        titles.append(f"{titles[0]}: {subtitles[0]}")
    titles += [str(t) for t in record.get("short-title") or [] if t]
    return titles


def _number(value: Any) -> str | None:
    s = normalise_text(str(value)) if value not in (None, "") else ""
    return s or None


def compare(ref: Reference, record: Mapping[str, Any]) -> Comparison:
    """Compare a cited reference with a record, field by field and with the entry's text as written.

    Parsed fields alone miss what a parser did not recognise ("Neuron 55, 25-36" leaves no volume), so a field
    the parsed entry leaves undecided, or that the text as written supports, is taken from the raw text;
    an item without a title is compared with its raw text only.
    """
    if not ref.title:
        return _compare_raw(ref.raw, record)
    fields = _compare_fields(ref, record)
    if not ref.raw:
        return fields
    raw = _compare_raw(ref.raw, record)

    def either(a: bool | None, b: bool | None) -> bool | None:
        return True if a or b else (a if a is not None else b)

    return Comparison(
        title=max(fields.title or 0.0, raw.title or 0.0) if fields.title is not None else raw.title,
        authors_in_common=fields.authors_in_common if fields.authors_in_common else
        (raw.authors_in_common or fields.authors_in_common),
        first_author=either(fields.first_author, raw.first_author),
        year=either(fields.year, raw.year),
        volume=either(fields.volume, raw.volume),
        first_page=either(fields.first_page, raw.first_page),
        journal=fields.journal,
    )


def _compare_fields(ref: Reference, record: Mapping[str, Any]) -> Comparison:
    theirs = record_surnames(record)
    ours = [surname(a.family) for a in ref.authors if a.family]
    in_common = None
    first_author = None
    if ours and theirs:
        in_common = sum(1 for s in ours if any(_same_surname(s, t) for t in theirs))
        first_author = _same_surname(ours[0], theirs[0])
    year = _year_agrees(_year(ref.year), record_years(record))
    volume = None
    if ref.volume and record.get("volume"):
        volume = _number(ref.volume) == _number(record.get("volume"))
    page = None
    cited_page, their_page = first_page(ref.pages), first_page(record.get("page") or record.get("article-number"))
    if cited_page and their_page:
        page = cited_page == their_page or cited_page == first_page(record.get("article-number"))
    journal = None
    containers = [str(c) for c in (record.get("container-title") or []) + (record.get("short-container-title") or [])]
    if ref.container and containers and ref.type in ("article", "inproceedings", "conference"):
        journal = any(journal_matches(ref.container, c) for c in containers)
    return Comparison(
        title=title_similarity(ref.title, record_titles(record)),
        authors_in_common=in_common,
        first_author=first_author,
        year=year,
        volume=volume,
        first_page=page,
        journal=journal,
    )


def _compare_raw(raw: str, record: Mapping[str, Any]) -> Comparison:
    text = normalise_text(raw)
    words = set(text.split())
    theirs = record_surnames(record)
    in_common = None
    first_author = None
    if theirs and text:
        in_common = sum(1 for s in theirs if s and (s in words or f" {s} " in f" {text} "))
        first_author = bool(theirs[0]) and f" {theirs[0]} " in f" {text} "
    year = _year_agrees(_year(raw), record_years(record))
    volume = None
    vol = _number(record.get("volume"))
    if vol:
        volume = vol in words
    page = None
    their_page = first_page(record.get("page") or record.get("article-number"))
    if their_page:
        page = their_page in words
    return Comparison(
        title=title_in_text(raw, record_titles(record)),
        authors_in_common=in_common,
        first_author=first_author,
        year=year,
        volume=volume,
        first_page=page,
        journal=None,
    )


@dataclass(frozen=True)
class Match:
    """A candidate record that matches a reference, with the comparison that says how well."""

    record: Mapping[str, Any]
    comparison: Comparison

    @property
    def doi(self) -> str:
        return str(self.record.get("DOI", "")).lower()


def best_match(ref: Reference, candidates: Sequence[Mapping[str, Any]]) -> Match | None:
    """The candidate at least MIN_SUPPORTING_FIELDS fields support, with an author in common; best first."""
    best: tuple[tuple[int, float, int], Match] | None = None
    for rank, candidate in enumerate(candidates):
        comparison = compare(ref, candidate)
        if not comparison.author_agrees:
            continue  # SBMV: never a candidate with no author in common
        if comparison.title is not None and comparison.title < TITLE_MISMATCH:
            continue  # another work by the same authors in the same year and volume
        support = comparison.supporting
        if len(support) < MIN_SUPPORTING_FIELDS:
            continue
        score = (len(support), comparison.title or 0.0, -rank)
        if best is None or score > best[0]:
            best = (score, Match(candidate, comparison))
    return best[1] if best else None


def describe(record: Mapping[str, Any]) -> str:
    """"'Title' by Surname et al., 2014" for messages."""
    title = _first_string(record.get("title")) or "an untitled work"
    names = [str(a.get("family") or a.get("name")) for a in record.get("author") or []
             if isinstance(a, dict) and (a.get("family") or a.get("name"))]
    who = ""
    if names:
        who = f" by {names[0]}" + (" et al." if len(names) > 2 else f" and {names[1]}" if len(names) == 2 else "")
    year = issued_year(record)
    return f"'{title}'{who}" + (f", {year}" if year else "")
