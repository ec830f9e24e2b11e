"""DOI syntax: find, normalise and validate DOIs as people write them."""

from __future__ import annotations

import re
import urllib.parse

from kratomref import lazy

# Crossref's recommended pattern for modern DOIs matches 74.4M of 74.9M DOIs; we accept any
# registrant prefix 10.NNNN(.NNNN)* and a suffix of printable characters without spaces.
# https://www.crossref.org/blog/dois-and-matching-regular-expressions/
DOI_RE = lazy.regex(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
# Where a DOI found in text may begin: not inside a run of digits and dots ("10.123410.1234...", "1.10.2.10.3")
# that a match starting earlier in the run already covered. Without it a search tries every "10." of such a
# run and each try scans to the run's end: quadratic time on a long one.
DOI_START = r"(?<!\d)(?<!\d\.)"
_FIND_RE = lazy.regex(r"\b" + DOI_START + r"(10\.\d{4,9}(?:\.\d+)*/[^\s\"<>{}]+)", re.IGNORECASE)
# Hosts that resolve any DOI written after them: the DOI Foundation's (doi.org, its old dx. and www. names),
# the Handle System's proxy (DOIs are handles), and publisher resolvers that older BibTeX exports wrote
# (ACM Digital Library, IEEE Computer Society, Wiley). Any other URL with "10." in it is a page, not a DOI.
DOI_RESOLVER_HOSTS = (
    "doi.org", "dx.doi.org", "www.doi.org", "hdl.handle.net", "doi.acm.org", "doi.ieeecomputersociety.org",
    "doi.wiley.com",
)
# A DOI resolver's address as written before a DOI: "https://doi.org/", "http://doi.acm.org/", "dx.doi.org/".
DOI_RESOLVER = (r"(?:https?://)?(?:" + "|".join(re.escape(host) for host in DOI_RESOLVER_HOSTS)
                + r")(?::(?:80|443))?/")
# The resolver address or label written before a DOI ("https://dx.doi.org/", "doi:", "urn:doi:").
DOI_PREFIX_RE = lazy.regex(r"^(?:" + DOI_RESOLVER + r"|doi:\s*|doi\s+|urn:doi:)", re.IGNORECASE)
_DOI_URL_RE = lazy.regex(r"^https?://(?:" + "|".join(re.escape(h) for h in DOI_RESOLVER_HOSTS)
                         + r")(?::(?:80|443))?/10\.", re.IGNORECASE)
# Characters that prose and BibTeX leave at the end of a DOI but that are almost never part of one.
_TRAILING = ".,;:)]}>'\"”’"


def strip_trailing(doi: str) -> str:
    """Drop punctuation that prose leaves after a DOI; keep a ')' that closes a '(' inside it."""
    while doi and doi[-1] in _TRAILING:
        if doi[-1] == ")" and doi.count("(") >= doi.count(")"):
            break
        doi = doi[:-1]
    return doi


def normalise_doi(text: str | None) -> str | None:
    """The canonical form of a DOI (bare, lower-case), or None when the text holds no valid DOI.

    DOIs are case-insensitive by definition (DOI Handbook 2.4), so lower case is canonical for
    comparison and cache keys. Idempotent: a pass is repeated until nothing changes, so an escape
    hidden behind braces or a doubly escaped "%2525" ends in the same form whichever pass meets it.
    """
    if not text:
        return None
    current = text
    for _ in range(_MAX_PASSES):
        s = _normalise_once(current)
        if s is None or s == current:
            return s
        current = s
    return current if DOI_RE.match(current) else None


_MAX_PASSES = 8


def _normalise_once(text: str) -> str | None:
    s = DOI_PREFIX_RE.sub("", text.strip()).strip()
    s = s.replace("\\_", "_").replace("{", "").replace("}", "")
    while "%" in s:
        decoded = urllib.parse.unquote(s)
        if decoded == s:
            break
        s = decoded
    s = strip_trailing(s.strip()).lower()
    return s if DOI_RE.match(s) else None


def written_doi(text: str | None) -> str | None:
    """The DOI a text holds, bare but in the case it was written ("doi:10.1002/ANIE.1" -> "10.1002/ANIE.1"):
    DOIs are case-insensitive and Crossref shows them as registered, so a fix keeps the writer's case. None
    when the text holds no valid DOI."""
    canonical = normalise_doi(text)
    if canonical is None or text is None:
        return None
    bare = DOI_PREFIX_RE.sub("", text.strip()).strip()
    bare = strip_trailing(bare.replace("\\_", "_").replace("{", "").replace("}", "").strip())
    return bare if bare.lower() == canonical else canonical


def find_dois(text: str) -> list[str]:
    """Every DOI in free text, normalised, in order, without repeats."""
    found: list[str] = []
    for match in _FIND_RE.finditer(text):
        doi = normalise_doi(match.group(1))
        if doi and doi not in found:
            found.append(doi)
    return found


def doi_url(doi: str) -> str:
    """The https://doi.org/ URL of a normalised DOI, escaped as the DOI Handbook asks."""
    return "https://doi.org/" + urllib.parse.quote(doi, safe="/:;()._-")


def is_doi_url(url: str) -> bool:
    """True for a DOI resolver's URL of a DOI: https://doi.org/10..., http://dx.doi.org/10..., http://doi.acm.org/10..."""
    return bool(_DOI_URL_RE.match(url.strip()))


def is_canonical_doi_url(url: str) -> bool:
    """True for the form Crossref's display guidelines ask for: https://doi.org/10..."""
    return bool(re.match(r"^\s*https://doi\.org/10\.", url, re.IGNORECASE))
