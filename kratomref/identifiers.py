"""The identifiers a reference carries besides its DOI (arXiv id, ISBN, PMID, PMCID), read from its fields,
URLs and text; no I/O."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from kratomref import lazy
from kratomref.doi import normalise_doi
from kratomref.model import Reference

# DOI prefixes registered with DataCite whose metadata the DataCite REST API serves: arXiv, Zenodo,
# figshare and Dryad. Any other DOI goes to Crossref first; doi.org's agency answer sends DataCite ones on.
DATACITE_PREFIXES = ("10.48550/", "10.5281/", "10.6084/", "10.5061/")
ARXIV_DOI_PREFIX = "10.48550/arxiv."

# arXiv identifiers (https://info.arxiv.org/help/arxiv_identifier.html): YYMM.NNNNN since 2015, YYMM.NNNN
# from 2007, archive(.subject-class)/YYMMNNN before; an optional version.
_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID = lazy.regex(rf"^(?:{_NEW_ID}|{_OLD_ID})$")
_ARXIV_IN_TEXT = lazy.regex(rf"\barxiv\s*[:.]?\s*(?:abs/)?({_NEW_ID}|{_OLD_ID})(?:v\d+)?\b", re.IGNORECASE)
_ARXIV_URL = lazy.regex(rf"arxiv\.org/(?:abs|pdf|html)/({_NEW_ID}|{_OLD_ID})(?:v\d+)?", re.IGNORECASE)
_VERSION = lazy.regex(r"v\d+$")
_PMID_URL = lazy.regex(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})\b", re.IGNORECASE)
_PMID_TEXT = lazy.regex(r"\bPMID\s*:?\s*(\d{1,9})\b")
_PMCID = lazy.regex(r"\bPMC\s*(\d{1,9})\b", re.IGNORECASE)

_Found = TypeVar("_Found")


def _last_reference(read: Callable[[Reference], _Found]) -> Callable[[Reference], _Found]:
    """`read`, remembering its answer for the last reference it was given: authorities.plan asks each authority
    whether it covers a reference, and three of them read the same identifiers of it in turn, each a scan of the
    entry's text. The reference is held, so `is` cannot mistake another one for it; the pair is replaced as one
    tuple, so threads cannot mix two answers."""
    last: tuple[Reference, _Found] | None = None

    @functools.wraps(read)
    def remembered(ref: Reference) -> _Found:
        nonlocal last
        pair = last  # read once: another thread may replace it meanwhile
        if pair is None or pair[0] is not ref:
            pair = (ref, read(ref))
            last = pair
        return pair[1]

    return remembered


@_last_reference
def arxiv_id(ref: Reference) -> str | None:
    """The arXiv id the reference names, without its version: from eprint (with archivePrefix arXiv, or an id
    of arXiv's form), an arxiv field, an arXiv DOI, an arxiv.org URL, or "arXiv:…" in the journal or text."""
    f = ref.fields
    eprint = (f.get("eprint") or f.get("arxiv") or "").strip()
    prefix = (f.get("archiveprefix") or f.get("eprinttype") or "arxiv").strip().lower()
    if eprint and prefix == "arxiv":
        found = _clean(eprint.removeprefix("arXiv:").removeprefix("arxiv:"))
        if found:
            return found
    doi = normalise_doi(ref.doi)
    if doi and doi.startswith(ARXIV_DOI_PREFIX):
        return _clean(doi.removeprefix(ARXIV_DOI_PREFIX))
    for url in ref.urls:
        m = _may_hold(url, "arxiv.org") and _ARXIV_URL.search(url)
        if m:
            return m.group(1)
    for text in (ref.container or "", f.get("journal", ""), f.get("note", ""), ref.raw):
        m = _may_hold(text, "arxiv") and _ARXIV_IN_TEXT.search(text)
        if m:
            return m.group(1)
    return None


def _may_hold(text: str, word: str) -> bool:
    """False when an ASCII text cannot match a case-blind pattern that needs `word` (lower case): a look for a
    word instead of a scan by the pattern, position by position. Any other text goes to the pattern, whose
    case-blind matching also pairs letters outside ASCII ("ı" with "i")."""
    return not text.isascii() or word in text.lower()


def _clean(text: str) -> str | None:
    value = _VERSION.sub("", text.strip())
    return value if ARXIV_ID.match(value) else None


def is_arxiv_id(text: str) -> bool:
    return bool(ARXIV_ID.match(_VERSION.sub("", text.strip())))


def isbn13(text: str) -> str | None:
    """The ISBN-13 of a valid ISBN-10 or ISBN-13 as written (hyphens, spaces and "ISBN" allowed), else None."""
    digits = re.sub(r"[^0-9Xx]", "", text.upper().replace("ISBN", ""))
    if len(digits) == 10 and digits[:9].isdigit():
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        if total % 11 != 0:
            return None
        digits = "978" + digits[:9]
        return digits + _isbn13_check(digits)
    if len(digits) == 13 and digits.isdigit() and digits[:3] in ("978", "979"):
        return digits if _isbn13_check(digits[:12]) == digits[12] else None
    return None


def _isbn13_check(first12: str) -> str:
    total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


@_last_reference
def isbns(ref: Reference) -> tuple[str, ...]:
    """Every valid ISBN of the entry as ISBN-13, in order (a field may list several, print and electronic)."""
    text = ref.fields.get("isbn", "")
    found: list[str] = []
    for part in re.split(r"[,;/]|\s(?=(?:ISBN|97[89]|\d{9}[\dXx]\b))", text):
        value = isbn13(part)
        if value and value not in found:
            found.append(value)
    return tuple(found)


@_last_reference
def pmid(ref: Reference) -> str | None:
    value = ref.fields.get("pmid", "").strip()
    if value.isdigit():
        return value.lstrip("0") or None
    for url in ref.urls:
        m = _may_hold(url, "pubmed") and _PMID_URL.search(url)
        if m:
            return m.group(1)
    for text in (ref.raw, ref.fields.get("note", "")):
        m = "PMID" in text and _PMID_TEXT.search(text)
        if m:
            return m.group(1)
    return None


@_last_reference
def pmcid(ref: Reference) -> str | None:
    """The PMCID as "PMC" and its number."""
    for text in (ref.fields.get("pmcid", ""), *ref.urls, ref.fields.get("note", ""), ref.raw):
        m = _may_hold(text, "pmc") and _PMCID.search(text)
        if m:
            return f"PMC{m.group(1)}"
    return None


def is_datacite_doi(doi: str) -> bool:
    return doi.lower().startswith(DATACITE_PREFIXES)
