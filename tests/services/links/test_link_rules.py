"""The link rules as pure functions: a reference and what its links answered in, findings out."""

from __future__ import annotations

from typing import Any

import pytest

from kratomref.model import (
    Author,
    Document,
    DocumentEvidence,
    Evidence,
    FieldFix,
    Hop,
    LinkResult,
    LinkStatus,
    Location,
    Reference,
)
from kratomref.options import Options
from kratomref.rules import Context, links

CTX = Context(Options())


def online(url: str, title: str | None = "FDA and Kratom", field: str = "url", **extra: Any) -> Reference:
    fields = {"title": title or "", field: url, **extra}
    return Reference(
        location=Location("refs.bib", 10, "fda2020"), type="online", title=title,
        authors=(Author("Food and Drug Administration", literal=True),), year="2020",
        container=extra.get("organization"), urls=(url,), fields=fields, raw_fields=fields,
        field_lines={"url": 15, "note": 14, "title": 12},
    )


def codes(ref: Reference, link: LinkResult | None = None) -> list[str]:
    evidence = Evidence(links={ref.urls[0]: link} if link else {})
    return [f.rule.code for f in links.judge(ref, evidence, CTX)]


def ok(url: str, final: str | None = None, codes_: tuple[int, ...] = (200,), **kw: Any) -> LinkResult:
    chain = [Hop(url, codes_[0])] + [Hop(final or url, c) for c in codes_[1:]]
    return LinkResult(url, LinkStatus.OK, codes_[-1], final or url, tuple(chain), **kw)


GENERIC = {
    "a bare domain cited for a specific statement": ("https://www.fda.gov", "FDA and Kratom", True),
    "a root slash": ("https://www.fda.gov/", "FDA and Kratom", True),
    "a root index page": ("https://www.dea.gov/index.html", "Kratom", True),
    "an IIS default page": ("http://example.org/Default.aspx", "Kratom report", True),
    "a deep page is specific": ("https://www.fda.gov/news-events/kratom", "FDA and Kratom", False),
    "a home page with a query selects a document": ("https://jaoa.org/?articleid=2094342", "Pharmacology", False),
    "an index page in a folder is a section, not the home page": ("https://x.org/kratom/index.html", "K", False),
    "a home page cited as the organisation itself": ("https://www.fda.gov", "U.S. Food and Drug Administration", False),
    "a home page whose title is the site's name": ("https://www.drugabuse.gov", "DrugAbuse.gov", False),
    "a project cited by name at its home page": ("https://www.scipy.org/", "SciPy: Open source tools", False),
    "a project name with a version": ("http://eigen.tuxfamily.org", "Eigen v3", False),
    "a project name set apart by a dash": ("https://www.gap-system.org", "GAP -- Groups, Algorithms", False),
    "a book named like its site": ("https://www.deeplearningbook.org/", "Deep Learning", False),
    "a binding named after its project": ("http://mc-stan.org", "PyStan: the Python interface to Stan", False),
    "a single-page site's route is a document": ("https://www.synapse.org/#!Synapse:syn6131484", "Challenge", False),
    "the site's name opening a statement's title is generic": ("https://www.fda.gov", "FDA warns on kratom", True),
    "a name that is not set apart is not the project": ("https://kratomscience.org", "Kratom: what to know", True),
}


@pytest.mark.parametrize("name", list(GENERIC), ids=list(GENERIC))
def test_link_generic_offline(name: str) -> None:
    url, title, expected = GENERIC[name]
    ref = online(url, title, organization="U.S. Food and Drug Administration")
    found = list(links.judge(ref, Evidence(), CTX))
    assert ("KR304" in [f.rule.code for f in found]) is expected, found
    if expected:
        finding = found[0]
        assert finding.location.line == 15, "points at the url field"
        assert finding.suggestion and "search the site" in finding.suggestion


STATUS_CASES = {
    "a 404 is link-broken": (LinkResult("https://x.org/a", LinkStatus.BROKEN, 404, reason="HTTP 404"), ["KR301"]),
    "a DNS failure is link-unreachable": (
        LinkResult("https://x.org/a", LinkStatus.UNREACHABLE, reason="DNS failure: the host name does not resolve"),
        ["KR302"]),
    "a bot wall is link-unverified, never broken": (
        LinkResult("https://x.org/a", LinkStatus.BLOCKED, 403, reason="HTTP 403: a bot challenge page"), ["KR306"]),
    "an ftp link is link-unverified": (
        LinkResult("ftp://x.org/a", LinkStatus.UNSUPPORTED, reason="ftp:// links are not checked"), ["KR306"]),
    "text that is not a URL is link-broken": (
        LinkResult("www.x.org", LinkStatus.UNSUPPORTED, reason="not a URL: no scheme (write https://...)"), ["KR301"]),
    "offline says nothing (the verdict says unverified)": (
        LinkResult("https://x.org/a", LinkStatus.UNVERIFIED, reason="offline"), []),
    "a working page says nothing": (ok("https://x.org/a"), []),
    "a soft 404 is link-soft-404": (ok("https://x.org/a", soft_404=True, title="Page not found"), ["KR307"]),
    "a deep link sent to its own home page is a soft 404": (
        ok("https://x.org/a/b", "https://www.x.org/", (301, 200)), ["KR307"]),
    "a short link to another site's home page is generic": (
        ok("https://sho.rt/xyz", "https://www.other.org/", (302, 200)), ["KR304"]),
    "a permanent redirect is link-moved": (
        ok("https://x.org/a", "https://x.org/b", (301, 200), permanent_redirect=True), ["KR303"]),
    "a temporary redirect to the same path is not moved": (
        ok("https://x.org/a", "https://x.org/a/", (302, 200)), []),
    "plain http where https works is link-insecure": (ok("http://x.org/a", https_works=True), ["KR305"]),
}


@pytest.mark.parametrize("name", list(STATUS_CASES), ids=list(STATUS_CASES))
def test_each_status_gets_its_rule(name: str) -> None:
    link, expected = STATUS_CASES[name]
    assert codes(online(link.url), link) == expected


def test_a_moved_link_in_a_url_field_gets_a_fix_and_an_archive_in_the_suggestion() -> None:
    link = ok("http://x.org/a", "https://x.org/b", (301, 200), permanent_redirect=True)
    [finding] = links.judge(online(link.url), Evidence(links={link.url: link}), CTX)
    assert finding.fix == FieldFix("url", "http://x.org/a", "https://x.org/b")
    in_note = online(link.url, field="note")
    [finding] = links.judge(in_note, Evidence(links={link.url: link}), CTX)
    assert finding.fix is None and finding.location.line == 14
    gone = LinkResult("https://x.org/a", LinkStatus.BROKEN, 404, reason="HTTP 404",
                      archived="https://web.archive.org/web/2020/https://x.org/a")
    [finding] = links.judge(online(gone.url), Evidence(links={gone.url: gone}), CTX)
    assert finding.suggestion and "web.archive.org" in finding.suggestion


def test_https_fix() -> None:
    link = ok("http://x.org/a", https_works=True)
    [finding] = links.judge(online(link.url), Evidence(links={link.url: link}), CTX)
    assert finding.fix == FieldFix("url", "http://x.org/a", "https://x.org/a")


def test_body_links_of_a_draft_are_judged_where_they_are() -> None:
    where = Location("draft.md", 5, None, 20)
    dead = LinkResult("https://x.org/dead", LinkStatus.BROKEN, 404, reason="HTTP 404")
    doc = Document("draft.md", "markdown", body_links=((where, dead.url),))
    evidence = DocumentEvidence(body_links={dead.url: dead})
    [finding] = links.judge_document(doc, evidence, CTX)
    assert finding.rule.code == "KR301" and finding.location == where


CONFIRMS = {
    "a working specific page verifies a reference without a DOI": (ok("https://x.org/a", title="FDA and Kratom"), True),
    "a soft 404 does not": (ok("https://x.org/a", soft_404=True), False),
    "a redirect to a home page does not": (ok("https://x.org/a", "https://x.org/", (301, 200)), False),
    "a broken link does not": (LinkResult("https://x.org/a", LinkStatus.BROKEN, 404), False),
    "a blocked link does not": (LinkResult("https://x.org/a", LinkStatus.BLOCKED, 403), False),
}


@pytest.mark.parametrize("name", list(CONFIRMS), ids=list(CONFIRMS))
def test_confirms(name: str) -> None:
    link, expected = CONFIRMS[name]
    found = links.confirms(online(link.url), Evidence(links={link.url: link}), CTX)
    assert (found is not None) is expected
    if found:
        assert found == {"source": "link", "url": link.final_url, "title": "FDA and Kratom"}


def test_a_home_page_never_verifies() -> None:
    link = ok("https://www.fda.gov")
    assert links.confirms(online(link.url), Evidence(links={link.url: link}), CTX) is None


PROJECTS = {
    "a software entry": ("software", {}),
    "a manual": ("manual", {}),
    "a note that says the link is where the software lives": ("misc", {"note": "Software available from x.org"}),
    "an entry whose DOI identifies the work": ("misc", {"doi": "10.1201/b12985"}),
}


@pytest.mark.parametrize("name", list(PROJECTS), ids=list(PROJECTS))
def test_a_home_page_is_the_right_link_for_a_project(name: str) -> None:
    entry_type, extra = PROJECTS[name]
    ref = online("https://www.x.org/", "High Performance Visualization")
    ref = Reference(location=ref.location, type=entry_type, title=ref.title, year="2020", urls=ref.urls,
                    doi=extra.get("doi"), fields={**ref.fields, **extra}, raw_fields={**ref.raw_fields, **extra})
    assert "KR304" not in [f.rule.code for f in links.judge(ref, Evidence(), CTX)]
    generic = Reference(location=ref.location, type="online", title=ref.title, year="2020", urls=ref.urls,
                        fields=dict(online("https://www.x.org/", "High Performance Visualization").fields))
    assert "KR304" in [f.rule.code for f in links.judge(generic, Evidence(), CTX)], "the same entry as a web page"


def test_a_structured_entry_with_only_a_link_cites_the_site() -> None:
    ref = Reference(location=Location("refs.bib", 3, "scolobb"), type="misc", urls=("https://scolobb.wordpress.com/",),
                    fields={"url": "https://scolobb.wordpress.com/"}, raw_fields={"url": "https://scolobb.wordpress.com/"})
    assert "KR304" not in [f.rule.code for f in links.judge(ref, Evidence(), CTX)]


MOVED_HOME_PAGES = {
    "a home page moved permanently to another site": (
        ok("https://www.drugabuse.gov/", "https://nida.nih.gov/", (301, 200), permanent_redirect=True),
        ["KR304", "KR303"]),
    "a home page moved permanently within its own site is only generic": (
        ok("http://www.fda.gov/", "https://www.fda.gov/", (301, 200), permanent_redirect=True), ["KR304"]),
    "a home page sent to another site for now is only generic": (
        ok("https://www.drugabuse.gov/", "https://nida.nih.gov/", (302, 200)), ["KR304"]),
    "a home page that moved to a page that is gone is only generic": (
        ok("https://www.drugabuse.gov/", "https://nida.nih.gov/", (301, 200), permanent_redirect=True,
           soft_404=True), ["KR304"]),
}


@pytest.mark.parametrize("name", list(MOVED_HOME_PAGES), ids=list(MOVED_HOME_PAGES))
def test_a_home_page_that_moved_to_another_site_is_also_moved(name: str) -> None:
    link, expected = MOVED_HOME_PAGES[name]
    ref = online(link.url, "Kratom and the brain")
    found = list(links.judge(ref, Evidence(links={link.url: link}), CTX))
    assert [f.rule.code for f in found] == expected, found
    if "KR303" in expected:
        moved = found[1]
        assert moved.suggestion and "https://nida.nih.gov/" in moved.suggestion
        assert moved.fix == FieldFix("url", link.url, "https://nida.nih.gov/")
        assert found[0].suggestion and "site:nida.nih.gov" in found[0].suggestion, "search the new site"
