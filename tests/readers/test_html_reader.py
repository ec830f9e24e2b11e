"""A saved web page is read as a person reads it: the article's text, its reference list or footnotes, its links,
every location a line of the HTML file; and every check runs on it as on a Markdown draft."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kratomref import readers
from kratomref.check import check
from kratomref.cli import main
from kratomref.model import Document
from kratomref.options import Options
from kratomref.readers import html

PAGES = Path(__file__).parents[1] / "fixtures" / "web"
SHARED_WEB = Path(__file__).resolve().parents[3] / "shared" / "web"


def line_of(path: Path, needle: str) -> int:
    """The line of the file where needle first occurs (1-based)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def read(name: str) -> Document:
    return readers.read(str(PAGES / name))


def body_text(document: Document) -> str:
    return "\n".join(line.text for line in document.body)


def test_a_page_is_detected_by_its_extension_or_its_doctype(tmp_path: Path) -> None:
    assert readers.read(str(PAGES / "wordpress-post.html")).format == "html"
    no_extension = tmp_path / "article"
    no_extension.write_text((PAGES / "wordpress-post.html").read_text(encoding="utf-8"), encoding="utf-8")
    assert readers.read(str(no_extension)).format == "html"
    htm = tmp_path / "page.htm"
    htm.write_text("<p>Kratom is a tree.</p>", encoding="utf-8")
    assert readers.read(str(htm)).format == "html"
    assert readers.format_name("htm") == "html"


def test_wordpress_post_main_text_without_navigation_sharing_comments_or_footer() -> None:
    document = read("wordpress-post.html")
    text = body_text(document)
    assert "opioid receptors" in text and "controlled substance" in text
    for boilerplate in ("Home", "Share on Twitter", "Great post", "spam.example.com", "© 2024"):
        assert boilerplate not in text
    assert "spam.example.com" not in {url for _, url in document.body_links}


def test_wordpress_post_reference_list_and_its_citations_at_their_html_lines() -> None:
    path = PAGES / "wordpress-post.html"
    document = read("wordpress-post.html")
    first, second = document.references
    assert (first.key, second.key) == ("ref-1", "ref-2")
    assert first.doi and "10.1016/j.neuropharm.2017.08.026" in first.doi
    assert first.location.line == line_of(path, 'id="fn1"')
    assert second.urls == ("https://www.fda.gov/news-events/public-health-focus/fda-and-kratom",)
    assert "↩" not in first.raw  # the back-link is no part of the reference
    cited = {c.resolved_key: c.location.line for c in document.citations}
    assert cited == {"ref-1": line_of(path, 'href="#fn1"'), "ref-2": line_of(path, 'href="#fn2"')}


def test_links_of_the_text_with_the_line_of_the_link() -> None:
    path = PAGES / "wordpress-post.html"
    links = dict((url, location.line) for location, url in read("wordpress-post.html").body_links)
    assert links == {"https://www.example.com/survey": line_of(path, "www.example.com/survey"),
                     "https://www.fda.gov/news-events/kratom": line_of(path, "news-events/kratom\"")}


def test_ghost_footnotes_without_a_heading_are_the_reference_list() -> None:
    path = PAGES / "ghost-footnotes.html"
    document = read("ghost-footnotes.html")
    assert [r.key for r in document.references] == ["ref-1", "ref-2"]
    assert document.references[0].title and document.references[0].title.startswith("Kratom (Mitragyna speciosa)")
    assert document.references[1].doi and "10.1111/liv.14727" in document.references[1].doi
    assert [c.resolved_key for c in document.citations] == ["ref-1", "ref-2", "ref-1"]
    assert document.references[0].location.line == line_of(path, 'id="fn1"')
    text = body_text(document)
    assert html.SYNTHETIC_HEADING not in text  # written for the Markdown reader, not a line of the page
    assert "Sign in to comment" not in text and "TODO" not in text  # the comments section


def test_wikipedia_footnotes_headings_without_edit_links_and_no_navigation() -> None:
    path = PAGES / "wikipedia-article.html"
    document = read("wikipedia-article.html")
    assert len(document.references) == 3
    takayama = document.references[0]
    assert takayama.title and takayama.title.startswith("Chemistry and pharmacology")
    assert takayama.doi and "cpb.52.916" in takayama.doi.replace("%2F", "/")
    assert takayama.location.line == line_of(path, 'id="cite_note-Takayama-1"')
    assert sorted(c.resolved_key or "" for c in document.citations) == ["ref-1", "ref-1", "ref-2", "ref-3"]
    text = body_text(document)
    assert "## Pharmacology" in text and "[edit]" not in text and "edit]" not in text
    for boilerplate in ("Jump to content", "Navigation menu", "Main page", "Contents", "Alkaloids", "last edited",
                        "TODO"):
        assert boilerplate not in text


def test_news_page_sources_paragraph_relative_links_and_base_href() -> None:
    document = read("news-sources.html")
    assert [r.year for r in document.references] == ["2020", "2019"]
    links = {url for _, url in document.body_links}
    # a relative link resolved against <base href>; the CDC link as written
    assert links == {"https://news.example.net/health/2023/gas-station-supplements",
                     "https://www.cdc.gov/mmwr/volumes/68/wr/mm6814a2.htm"}
    text = body_text(document)
    assert "cookies" not in text and "CBD explained" not in text and "Tweet" not in text and "address" not in text
    assert "window.dataLayer" not in text and ".x{" not in text


def test_a_relative_link_without_a_base_is_text_not_a_link(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text('<html><body><p>See <a href="/about">about us</a> and <a href="mailto:a@b.org">mail</a>.'
                    "</p></body></html>", encoding="utf-8")
    document = readers.read(str(page))
    assert document.body_links == ()
    assert "about us" in body_text(document)


def run_check(path: Path, **changes: object) -> list[tuple[str, int | None]]:
    options = Options(paths=(str(path),), offline=True, use_cache=False, **changes)  # type: ignore[arg-type]
    report = check(options)
    return [(f.rule.code, f.location.line) for f in report.findings]


def test_placeholders_found_at_their_line_and_an_html_comment_suppresses_one() -> None:
    wordpress = PAGES / "wordpress-post.html"
    found = run_check(wordpress)
    assert ("KR101", line_of(wordpress, "[CITATION NEEDED]")) in found
    news = PAGES / "news-sources.html"
    assert not [code for code, _ in run_check(news) if code == "KR101"]  # <!-- kratomref: ignore[KR101] -->


def test_the_command_line_checks_a_page(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--offline", "--no-cache", "--format", "json",
                                       str(PAGES / "wordpress-post.html")])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert {r["key"] for r in data["references"]} == {"ref-1", "ref-2"}
    assert any(f["code"] == "KR101" for f in data["findings"])


def test_a_hostile_page_is_read_not_a_crash(tmp_path: Path) -> None:
    """Nesting deeper than libxml2 follows (256) and thousands of footnote marks: read, not a crash."""
    deep = tmp_path / "deep.html"
    deep.write_text("<html><body><p>first text</p>" + "<div>" * 3000 + "<p>deep text</p>" + "</div>" * 3000
                    + "</body></html>", encoding="utf-8")
    assert "first text" in body_text(readers.read(str(deep)))
    marks = tmp_path / "marks.html"
    marks.write_text("<html><body><p>Claim" + '<sup><a href="#n1">1</a></sup>' * 5000 + "</p>"
                     + '<h2>References</h2><ol><li id="n1">Smith J. A title. 2020.</li></ol></body></html>',
                     encoding="utf-8")
    document = readers.read(str(marks))
    assert len(document.references) == 1
    assert len(document.citations) == 5000 and all(c.resolved_key == "ref-1" for c in document.citations)


def test_an_empty_page_is_reported_not_read(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text("   \n", encoding="utf-8")
    document = readers.read(str(page))
    assert document.problems and document.problems[0].code == "KR002"


# --- Real saved pages (../shared/web, see its SOURCES.md) -----------------------------------------------------

needs_shared = pytest.mark.skipif(not SHARED_WEB.is_dir(), reason="the shared directory's web/ pages are absent "
                                  "(saved pages of real sites; see shared/web/SOURCES.md)")


def _shared(name: str) -> tuple[Path, Document]:
    path = SHARED_WEB / name
    if not path.is_file():
        pytest.skip(f"{name} is not in the shared directory's web/")
    return path, readers.read(str(path))


@needs_shared
@pytest.mark.parametrize("name", ["readability-wikipedia.html", "trafilatura-en.wikipedia.org.tsne.html"])
def test_real_wikipedia_every_footnote_is_a_reference_and_every_mark_resolves(name: str) -> None:
    path, document = _shared(name)
    source = path.read_text(encoding="utf-8")
    footnotes = source.count('<li id="cite_note-')
    assert len(document.references) == footnotes > 0
    assert document.citations and all(c.resolved_key for c in document.citations)
    text = body_text(document)
    assert "[edit]" not in text
    lines = source.splitlines()
    for reference in document.references:  # each reference is located on its own <li>
        assert reference.location.line is not None
        assert 'id="cite_note-' in lines[reference.location.line - 1]


@needs_shared
@pytest.mark.parametrize(("name", "article", "boilerplate"), [
    ("readability-wordpress.html", "Stack Overflow", "Subscribe to Blog via Email"),
    ("trafilatura-github.blog.spiceland.html", "first job in tech", "Powering community-led innovation"),
    ("readability-medium-1.html", "Open Journalism", "Sign in / Sign up"),
    ("readability-guardian-1.html", "whale", "Share on Facebook"),
    ("readability-medicalnewstoday.html", "unconscious", "Newsletter"),
])
def test_real_pages_main_text_without_boilerplate(name: str, article: str, boilerplate: str) -> None:
    path, document = _shared(name)
    text = body_text(document)
    assert article.lower() in text.lower()
    assert boilerplate.lower() not in text.lower()
    assert boilerplate.lower() in path.read_text(encoding="utf-8", errors="replace").lower()
    assert text.lstrip().startswith("#")  # the text opens with the article's title, not the site's menu
