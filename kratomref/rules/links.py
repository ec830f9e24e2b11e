"""Rules that judge a reference's links as citations: does the link answer, and is it still the right,
specific source (not a home page, not a "page not found" that answers 200)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kratomref import lazy
from kratomref.doi import normalise_doi
from kratomref.matching import normalise_text
from kratomref.model import (
    Document,
    DocumentEvidence,
    Evidence,
    FieldFix,
    Finding,
    LinkResult,
    LinkStatus,
    Location,
    Reference,
    Rule,
    Severity,
)
from kratomref.rules.placeholders import is_free_text_item

if TYPE_CHECKING:
    from kratomref.rules import Context

LINK_BROKEN = Rule(
    "KR301",
    "link-broken",
    Severity.ERROR,
    "The link answers with an error: 404, 410, another 4xx, or a 5xx that persists.",
    """What it does
  Fetches the link (HEAD, then GET when HEAD is refused) and reports it when the site answers 404 Not
  Found, 410 Gone, another client error, or a server error that is still there after retries. A text
  in a URL field that is not a URL at all ("www.example.org" without a scheme) is reported here too.
  Walls that keep robots out (401, 403, 429, 999, challenge pages) are never reported as broken: they
  are link-unverified.

Why it matters
  A reader who follows a dead link cannot check the source; a dead link in a reference list also
  suggests the reference was never looked at.

Example
  url = {https://www.example.org/reports/2019/kratom.pdf}  -> HTTP 404

How to fix
  Find the page's new address on the site, or cite the archived copy kratomref suggests (Wayback
  Machine, closest to the reference's year). `--no-archive` turns the archive look-up off.""",
    needs_network=True,
)

LINK_UNREACHABLE = Rule(
    "KR302",
    "link-unreachable",
    Severity.ERROR,
    "The link cannot be reached: DNS failure, refused or reset connection, TLS failure, timeout or loop.",
    """What it does
  Reports a link whose host name does not resolve, whose server refuses or resets the connection, fails
  the TLS handshake, does not answer within `--timeout`, or redirects in a loop or more than 10 times.
  The message says which. Behind a proxy (HTTP_PROXY, HTTPS_PROXY), the proxy's own "cannot reach this
  host" counts too (a 502, 503 or 504 to CONNECT or to a request it forwards, a tunnel it resets) when
  the proxy reached other hosts in the same run. Failures of your own side (no network at all, a proxy
  that gets nothing through, `--offline`) are not reported here: the link stays unverified.

Why it matters
  A domain that no longer resolves usually means the site is gone for good; a loop means no reader's
  browser will get to the page either.

Example
  url = {https://kratom-study.invalid/report}  -> DNS failure: the name does not resolve

How to fix
  Look for the document elsewhere (the publisher, the author's page) or cite the archived copy
  kratomref suggests.""",
    needs_network=True,
)

LINK_MOVED = Rule(
    "KR303",
    "link-moved",
    Severity.WARNING,
    "The link permanently redirects to another address: cite the final one.",
    """What it does
  Follows redirects by hand and reports a link whose redirects are permanent (301, 308) or whose chain
  ends on another host or path, when the final page works. Suggests the final URL; `kratomref fix`
  can write it into a `url` field. A home page that moves permanently to another site
  (drugabuse.gov -> nida.nih.gov) is reported here as well as under link-generic.

Why it matters
  Redirects are kept for a while and then dropped. Citing the final address makes the link last
  longer and shows readers where they will land.

Example
  url = {http://www.who.int/news-room/fact-sheets/detail/kratom}
  -> moved permanently to https://www.who.int/news-room/fact-sheets/detail/kratom-2

How to fix
  Replace the URL with the suggested one after checking that it is still the page you cite.""",
    advisory=True,
    needs_network=True,
    fixable=True,
)

LINK_GENERIC = Rule(
    "KR304",
    "link-generic",
    Severity.WARNING,
    "The link goes to a site's home page, not to the document cited.",
    """What it does
  Reports a reference that cites a specific document (it has a title that is not just the site's
  name) but whose URL is a site's home page: no path, "/", or an index page (index.html, index.php,
  default.aspx...) without a query. When links are checked live it also reports a link that redirects
  to the home page of another site. When the home page has moved permanently to another site, the
  suggestion says to search the new one (and link-moved names its address).

Why it matters
  "FDA and Kratom" at https://www.fda.gov leaves readers to search a large site for the statement you
  relied on, and they may find a different or newer one. It is also a common trait of references
  written from memory or generated without a source at hand.

Example
  title = {FDA and Kratom}, url = {https://www.fda.gov}

How to fix
  Search the site for the document (site:fda.gov kratom) and cite its own page, or its archived copy
  of the time.""",
    # a home-page URL is judged as written, offline too, but a link that redirects to a home page only online
    needs_network=True,
)

LINK_INSECURE = Rule(
    "KR305",
    "link-insecure",
    Severity.INFO,
    "The link uses http:// although the https:// form answers.",
    """What it does
  For an http:// link, tries the same address with https:// and reports the link when that works.

Why it matters
  Browsers warn about plain http, and a page fetched over http may be altered on the way.

Example
  url = {http://www.example.org/report}  -> https://www.example.org/report works

How to fix
  Use the https:// address (`kratomref fix` can write it into a `url` field).""",
    advisory=True,
    needs_network=True,
    fixable=True,
)

LINK_UNVERIFIED = Rule(
    "KR306",
    "link-unverified",
    Severity.INFO,
    "The link could not be verified: the site keeps robots out, or it was not checked.",
    """What it does
  Reports a link kratomref could not check: the site answered 401, 403, 429, 999 or a bot challenge
  page (Cloudflare and the like), asked to retry later for longer than kratomref waits, the address is
  private and `--allow-private` was not given, the URL matches `--exclude`, the scheme is not http or
  https, or the run was `--offline` with nothing in the cache.

Why it matters
  "Could not check" is not "broken": many publishers block robots. The reference is reported as
  unverified (exit code 3 when nothing else fails) so that a person can look at it.

Example
  url = {https://www.sciencedirect.com/science/article/pii/S0376871614001355}  -> HTTP 403 (bot wall)

How to fix
  Open the link in a browser. If it works, nothing needs fixing: prefer a DOI for scholarly works,
  which kratomref checks through Crossref instead.""",
    needs_network=True,
)

LINK_SOFT_404 = Rule(
    "KR307",
    "link-soft-404",
    Severity.ERROR,
    "The link answers 200 but the page says it was not found, or it sends readers to the home page.",
    """What it does
  Reads the title and main heading of the page a link lands on and reports it when they say "page not
  found", "Error 404" or the like although the server answered 200 ("404" alone counts only as the whole
  title or next to "error" or "page": "Form 404 instructions" is a document); also a deep link that
  redirects to the home page of its own site, the usual way sites retire pages.

Why it matters
  A plain status check says these links work. For a reader the document is gone just as surely as
  behind a 404.

Example
  url = {https://www.example.gov/news/kratom-warning}  -> redirects to https://www.example.gov/

How to fix
  Find the document's new address (search the site for its title) or cite the archived copy
  kratomref suggests.""",
    needs_network=True,
)

RULES = (LINK_BROKEN, LINK_UNREACHABLE, LINK_MOVED, LINK_GENERIC, LINK_INSECURE, LINK_UNVERIFIED, LINK_SOFT_404)

# Index pages that stand for a site's (or a directory's) home page; only at the root do they make a link
# generic. Taken from the default documents of Apache, nginx and IIS.
HOME_PAGE_FILES = frozenset(
    {"index.html", "index.htm", "index.php", "index.shtml", "index.asp", "index.aspx", "index.jsp",
     "default.aspx", "default.asp", "default.htm", "default.html"}
)
_BIBTEX_URL_FIELDS = ("url", "howpublished", "note", "addendum", "urldate", "eprint")
_WORDS = lazy.regex(r"[a-z0-9]+")


def _split(url: str) -> urllib.parse.SplitResult | None:
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts


def is_home_page(url: str) -> bool:
    """True for an http(s) URL that is a site's home page: empty path, "/", or a root index page, and
    no query (a query usually selects a specific document: /article.aspx?id=1, /?p=123)."""
    parts = _split(url)
    if parts is None or parts.query or parts.fragment.startswith(("!", "/")):
        return False  # a query or a single-page site's route (#!/wiki/123) selects a document
    path = urllib.parse.unquote(parts.path).strip("/").lower()
    return path == "" or path in HOME_PAGE_FILES


def site_of(url: str) -> str | None:
    """The host without a leading "www.", lower-case; None for anything but an http(s) URL."""
    parts = _split(url)
    if parts is None or parts.hostname is None:
        return None
    host = parts.hostname.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def same_site(a: str, b: str) -> bool:
    """www.fda.gov and fda.gov, or a host and its subdomain (nida.nih.gov, nih.gov), are one site."""
    site_a, site_b = site_of(a), site_of(b)
    if site_a is None or site_b is None:
        return False
    return site_a == site_b or site_a.endswith("." + site_b) or site_b.endswith("." + site_a)


def _words(text: str | None) -> str:
    return " ".join(_WORDS.findall(normalise_text(text or "")))


# Entry types whose home page is the right link: a program, its manual, a dataset's site.
PROJECT_TYPES = frozenset({"software", "manual", "dataset", "codemeta"})
# A note that says the link is where a program lives: "Software available from wandb.com".
_SOFTWARE_NOTE_RE = lazy.regex(r"\b(?:software|source\s+code|program|package|library|toolbox|toolkit)\b", re.IGNORECASE)
# Where the name a title opens with ends: "SciPy: Open source...", "GAP -- Groups...", "SageMath, the Sage...",
# "CAMEO - Continuous...", "Eigen v3", "PARI/GP (version 2.3)".
_TITLE_LEAD_END = lazy.regex(r":|--|[—–(,/]|\s-\s|\bv?\d+(?:\.\d+)*\b")
_LEAD_FILLERS = frozenset({"the", "a", "an"})
# What a site's name may add to the project's: deeplearningbook.org for "Deep Learning", cameo3d.org.
_SITE_NAME_SUFFIXES = frozenset({"book", "project", "lab", "app", "hq", "js", "py", "3d", "online", "system"})


def _site_names(url: str) -> set[str]:
    """The names a site goes by: its first label and its registered label, with and without hyphens."""
    labels = [label for label in (site_of(url) or "").split(".") if label]
    if len(labels) < 2:
        return set()
    names = {labels[0], labels[-2]}
    for label in list(names):
        names.add(label.replace("-", ""))
        names.update(label.split("-"))
    return {name for name in names if len(name) >= 3}


def title_names_project(title: str | None, url: str) -> bool:
    """True when the title opens with the name of the site's project, "SciPy: Open source scientific tools"
    at scipy.org: the home page is then the project cited. "FDA and Kratom" at fda.gov names a document on the
    site, not the site: only a name the title sets apart (a colon, a dash, a comma, a version) counts, or a
    title that is the name alone."""
    raw = (title or "").strip().lower()
    end = _TITLE_LEAD_END.search(raw)
    lead = raw[: end.start()] if end else raw
    words = [w for w in _WORDS.findall(normalise_text(lead)) if w not in _LEAD_FILLERS]
    joined = "".join(words)
    if not joined:
        return False
    # where each word starts and ends in `joined`: a name made of a run of whole words starts at a word's start
    # and ends at a word's end (one test per word, not one joined string per run of words: cubic time)
    starts: list[int] = []
    offset = 0
    for word in words:
        starts.append(offset)
        offset += len(word)
    ends = frozenset(start + len(word) for start, word in zip(starts, words, strict=True))
    for name in _site_names(url):
        suffix = name[len(joined):] if name.startswith(joined) else None
        if joined == name or (len(joined) >= 4 and suffix in _SITE_NAME_SUFFIXES):
            return True
        if end is not None and name and any(joined.startswith(name, start) and start + len(name) in ends
                                            for start in starts):
            return True
        if end is not None and len(name) >= 4 and any(w.endswith(name) for w in words):
            return True  # "PyStan: the Python interface to Stan" at mc-stan.org
    return False


def cites_project(ref: Reference, url: str) -> bool:
    """True when a home page is the right link for the entry: software, a manual or a dataset; an entry whose
    note says the link is where a program lives; an entry whose DOI identifies the document (the home page is
    extra); a structured entry with no title; a title that opens with the site's name."""
    if ref.type in PROJECT_TYPES:
        return True
    notes = " ".join(ref.fields.get(name, "") for name in ("note", "howpublished", "type", "addendum"))
    if _SOFTWARE_NOTE_RE.search(notes) or normalise_doi(ref.doi):
        return True
    if not (ref.title or "").strip():
        return not is_free_text_item(ref)
    return title_names_project(ref.title, url)


def cites_specific_document(ref: Reference, url: str) -> bool:
    """False when the reference cites the site itself: its title is the site's or organisation's name
    (or its host's name), or it cites the project the site is the home of (software, "SciPy: ..."), so a
    home page is the right link for it."""
    if cites_project(ref, url):
        return False
    title = _words(ref.title)
    if not title:
        # No title to compare: a list item as written still cites something more than a site unless
        # the text is little more than the organisation and the link.
        return True
    names = {_words(ref.container), _words(ref.publisher), _words(ref.fields.get("organization"))}
    names |= {_words(a.family) for a in ref.authors if a.literal}
    names.discard("")
    if title in names or any(title in n and len(title) > 3 for n in names):
        return False
    site = site_of(url) or ""
    labels = [label for label in site.split(".") if label]
    host_name = labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")
    return not (host_name and title.replace(" ", "") in (host_name, site.replace(".", "")))


def url_field(ref: Reference, url: str) -> str | None:
    """The field of the entry that gives `url` (url first), or None when the reader kept no fields."""
    for name in (*_BIBTEX_URL_FIELDS, *ref.raw_fields):
        if url in ref.raw_fields.get(name, "") or url in ref.fields.get(name, ""):
            return name
    return "url" if written_without_scheme(ref, url) else None


def written_without_scheme(ref: Reference | None, url: str) -> bool:
    """True for the http:// URL a reader made of a url field written without its scheme ("www.x.org/a.pdf"):
    KR212 reports the form, and says whether https works."""
    written = ref.raw_fields.get("url", "") if ref is not None and url.startswith("http://") else ""
    if not written:
        return False
    from kratomref.readers.bibtex import schemeless_url  # a draft's links need neither BibTeX's reader nor bibtexparser

    return schemeless_url(written) == url


def _where(ref: Reference, url: str) -> Location:
    name = url_field(ref, url)
    return ref.located(name) if name else ref.located()


def _fix(ref: Reference, url: str, new: str) -> FieldFix | None:
    """A mechanical edit only when the URL is the whole value of a `url` field."""
    value = ref.raw_fields.get("url")
    if value is not None and value.strip() == url:
        return FieldFix("url", url, new)
    return None


def _archive_hint(link: LinkResult) -> str:
    return f"; an archived copy: {link.archived}" if link.archived else ""


def _generic_finding(ref: Reference, url: str, moved_to: str | None = None) -> Finding:
    """KR304 for a home page cited for a document; `moved_to` is the new site's address when the home
    page has moved to another site (then that is the site to search)."""
    site = site_of(url) or url
    where = site_of(moved_to) if moved_to else None
    search = where or site
    return Finding(
        LINK_GENERIC, _where(ref, url),
        f"{url} is the home page of {site}, not the document cited"
        + (f" ({ref.title})" if ref.title else "") + (f"; the site is now {moved_to}" if moved_to else ""),
        f"search {'the new site' if where else 'the site'} for the specific page (site:{search}"
        + (f" {ref.title}" if ref.title else "") + ") and cite its own URL",
    )


def _site_moved(url: str, link: LinkResult | None) -> str | None:
    """The new address of a home page that moves permanently to another site (drugabuse.gov ->
    nida.nih.gov), when that page works; None otherwise."""
    if link is None or link.status is not LinkStatus.OK or link.soft_404 or not link.permanent_redirect:
        return None
    final = link.final_url
    if not final or len(link.chain) < 2 or same_site(url, final):
        return None
    return final


def judge_link(url: str, link: LinkResult | None, where: Location, *, ref: Reference | None = None,
               specific: bool = True) -> Iterator[Finding]:
    """Findings for one link: `ref` is the entry that gives it (None for a link in a draft's body);
    `specific` says whether the entry cites a specific document (for redirects to a home page)."""
    if link is None:
        return
    status = link.status
    final = link.final_url or url
    if status is LinkStatus.BROKEN:
        code = f"HTTP {link.http_status}" if link.http_status else (link.reason or "broken")
        reason = link.reason if link.reason and link.reason != code else None
        yield Finding(
            LINK_BROKEN, where, f"{url} is broken: {code}" + (f" ({reason})" if reason else ""),
            ("find the page's new address or cite the archived copy" + _archive_hint(link))
            if link.archived else "find the page's new address, or remove the link",
        )
        return
    if status is LinkStatus.UNREACHABLE:
        yield Finding(
            LINK_UNREACHABLE, where, f"{url} is unreachable: {link.reason or 'no answer'}",
            ("cite the archived copy" + _archive_hint(link)) if link.archived
            else "look for the document elsewhere, or remove the link",
        )
        return
    if status.is_unverified():
        # Our side could not check (offline, excluded, a private address): the reference's verdict and
        # exit code 3 say so; a finding per link would only repeat it.
        return
    if status is LinkStatus.UNSUPPORTED and link.reason and link.reason.lower().startswith("not a url"):
        yield Finding(
            LINK_BROKEN, where, f"{url} is not a link a reader can follow: {link.reason}",
            "write the full address, with https://",
        )
        return
    if status in (LinkStatus.BLOCKED, LinkStatus.UNSUPPORTED):
        what = "the site would not let a robot verify it" if status.is_blocked() else "not checked"
        yield Finding(
            LINK_UNVERIFIED, where, f"{url} could not be verified: {link.reason or what}",
            "open the link in a browser to check it",
        )
        return
    # OK from here on.
    if link.soft_404:
        yield Finding(
            LINK_SOFT_404, where,
            f"{url} answers but the page says it was not found"
            + (f" (title: {link.title!r})" if link.title else ""),
            "find the document's new address, or cite an archived copy",
        )
        return
    landed_home = bool(link.chain) and len(link.chain) > 1 and is_home_page(final) and not is_home_page(url)
    if landed_home and same_site(url, final):
        yield Finding(
            LINK_SOFT_404, where, f"{url} redirects to the home page {final}: the page is gone",
            "search the site for the document's new address, or cite an archived copy",
        )
        return
    if landed_home and ref is not None and specific:
        site = site_of(final) or final
        yield Finding(
            LINK_GENERIC, where, f"{url} redirects to the home page of {site}, not to the document cited",
            f"search {site} for the specific page and cite its own URL",
        )
        return
    moved = link.final_url is not None and link.final_url != url and len(link.chain) > 1
    if moved and written_without_scheme(ref, url) and not _elsewhere(url, final):
        return  # "www.x.org/a" that only redirects to https: KR212 gives the https:// address
    if moved and (link.permanent_redirect or _elsewhere(url, final)):
        kind = "moved permanently" if link.permanent_redirect else "redirects"
        yield Finding(
            LINK_MOVED, where, f"{url} {kind} to {final}",
            f"cite {final}", fix=_fix(ref, url, final) if ref is not None else None,
        )
        return
    if link.https_works and url.lower().startswith("http://") and not written_without_scheme(ref, url):
        secure = "https://" + url[len("http://"):]
        yield Finding(
            LINK_INSECURE, where, f"{url} uses plain http; {secure} works",
            f"use {secure}", fix=_fix(ref, url, secure) if ref is not None else None,
        )


def _elsewhere(url: str, final: str) -> bool:
    """A redirect that ends on another host or another path (not only http -> https or a slash)."""
    a, b = _split(url), _split(final)
    if a is None or b is None:
        return False
    host_a, host_b = (a.hostname or "").removeprefix("www."), (b.hostname or "").removeprefix("www.")
    return host_a != host_b or a.path.rstrip("/") != b.path.rstrip("/") or a.query != b.query


def judge(ref: Reference, evidence: Evidence, ctx: Context) -> Iterator[Finding]:
    for url in ref.urls:
        specific = cites_specific_document(ref, url)
        if is_home_page(url) and specific:
            link = evidence.links.get(url)
            moved_to = _site_moved(url, link)
            yield _generic_finding(ref, url, moved_to)
            if moved_to is not None:
                # The site itself has moved: whatever page is cited, it is on the new site now.
                yield Finding(
                    LINK_MOVED, _where(ref, url), f"{url} moved permanently to another site: {moved_to}",
                    f"cite {moved_to} (better, the document's own page there)", fix=_fix(ref, url, moved_to),
                )
            # A generic link that is also dead says so; anything else about it is noise.
            if link is not None and link.status.is_error():
                yield from judge_link(url, link, _where(ref, url), ref=ref, specific=specific)
            continue
        yield from judge_link(url, evidence.links.get(url), _where(ref, url), ref=ref, specific=specific)


def judge_document(doc: Document, evidence: DocumentEvidence, ctx: Context) -> Iterator[Finding]:
    """Links in a draft's body (outside its reference list)."""

    if not evidence.body_links:
        return
    seen: set[tuple[Location, str]] = set()
    for location, url in doc.body_links:
        if (location, url) in seen:
            continue
        seen.add((location, url))
        yield from judge_link(url, evidence.body_links.get(url), location)


def confirms(ref: Reference, evidence: Evidence, ctx: Context) -> Mapping[str, Any] | None:
    """A reference without a DOI is verified by a link that works and is specific: not a home page,
    not a soft 404, not a redirect to a home page."""
    if ref.doi:
        return None
    for url in ref.urls:
        link = evidence.links.get(url)
        if link is None or link.status is not LinkStatus.OK or link.soft_404:
            continue
        final = link.final_url or url
        if is_home_page(url) or is_home_page(final):
            continue
        return {"source": "link", "url": final, "title": link.title}
    return None
