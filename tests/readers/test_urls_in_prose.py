"""URLs found in prose as a reader sees them, and their comparable form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kratomref.urls import extract_urls, normalise_url


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("See https://www.fda.gov.", ["https://www.fda.gov"]),
        ("Sources: https://a.org/x, https://b.org/y; and https://c.org/z:", ["https://a.org/x", "https://b.org/y", "https://c.org/z"]),
        ("Retrieved from [https://www.who.int/kratom.pdf]", ["https://www.who.int/kratom.pdf"]),
        ("(see https://en.wikipedia.org/wiki/Kratom_(plant))", ["https://en.wikipedia.org/wiki/Kratom_(plant)"]),
        ("(see https://example.org/page)", ["https://example.org/page"]),
        ("[DEA](https://www.dea.gov/kratom) and <http://x.org/a?b=1&c=2>", ["https://www.dea.gov/kratom", "http://x.org/a?b=1&c=2"]),
        ("\\url{https://jaoa.org/article.aspx?articleid=2094342}", ["https://jaoa.org/article.aspx?articleid=2094342"]),
        ('“https://quoted.org/a”', ["https://quoted.org/a"]),
        ("*https://emphasis.org/a*", ["https://emphasis.org/a"]),
        ("twice https://a.org and https://a.org", ["https://a.org"]),
        ("https:// and http://", []),
        ("no links here, only www.example.org", []),
    ],
    ids=[
        "a full stop after a URL is prose", "commas, semicolons and colons after URLs", "square brackets",
        "a balanced parenthesis belongs to the URL", "an unbalanced one does not", "Markdown link and autolink",
        "a LaTeX url command", "curly quotes", "Markdown emphasis", "repeats are listed once",
        "a bare scheme is not a link", "a host without a scheme is not extracted",
    ],
)
def test_urls_are_extracted_without_prose_punctuation(text: str, urls: list[str]) -> None:
    assert extract_urls(text) == urls


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://WWW.FDA.GOV/Kratom", "https://www.fda.gov/Kratom"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("http://example.org:8080/a", "http://example.org:8080/a"),
        ("https://bücher.de/straße", "https://xn--bcher-kva.de/stra%C3%9Fe"),
        ("https://x.org/a b", "https://x.org/a%20b"),
        ("https://x.org/a%20b", "https://x.org/a%20b"),
        ("https://x.org/page#Section-2", "https://x.org/page#Section-2"),
        ("https://x.org/?q=a&b=c", "https://x.org/?q=a&b=c"),
    ],
    ids=[
        "scheme and host lower-case, path kept", "default https port dropped", "default http port dropped",
        "other ports kept", "IDN host to punycode and path encoded", "spaces encoded", "encoding kept as is",
        "fragment kept", "query kept",
    ],
)
def test_urls_are_normalised(url: str, normal: str) -> None:
    assert normalise_url(url) == normal


@given(st.text())
def test_normalising_is_idempotent_on_any_text(text: str) -> None:
    once = normalise_url(text)
    assert normalise_url(once) == once


URL_LIKE = r"https?://[a-zA-Z0-9.\u00e0-\u00ff-]{1,30}(:[0-9]{0,5})?(/[^\s#]{0,30})?(#\S{0,10})?"


@given(st.from_regex(URL_LIKE, fullmatch=True))
def test_normalising_is_idempotent_on_url_like_text(url: str) -> None:
    once = normalise_url(url)
    assert normalise_url(once) == once


@given(st.text())
def test_extracted_urls_are_in_the_text_and_end_cleanly(text: str) -> None:
    for url in extract_urls(text):
        assert url in text
        assert url[-1] not in ".,;:!?"
