"""DOI and URL normalisation on arbitrary input: never raises, and normalising twice changes nothing
(cache keys and duplicate detection depend on one canonical form)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kratomref.doi import DOI_RE, find_dois, normalise_doi
from kratomref.urls import extract_urls, normalise_url, trim_url

# DOIs as people write them: prefixes, case, escapes, braces, percent-encoding, prose punctuation after.
DOI_PREFIX = st.sampled_from(["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/", "doi.org/", "urn:doi:",
                              "  ", "https://www.doi.org/"])
DOI_SUFFIX_CHARS = st.text(
    st.one_of(st.sampled_from(list("abcXYZ0189./-_;()[]<>:%\\{}'\"”’,")), st.characters(codec="utf-8")),
    min_size=1, max_size=30,
)
DOI_LIKE = st.tuples(
    DOI_PREFIX,
    st.integers(min_value=0, max_value=10**10).map(str),
    st.sampled_from(["", ".1", ".22.3"]),
    DOI_SUFFIX_CHARS,
    st.sampled_from(["", ".", ").", "%2F", "%", "%zz", "\\_", "}"]),
).map(lambda t: f"{t[0]}10.{t[1]}{t[2]}/{t[3]}{t[4]}")


@given(text=st.one_of(st.text(max_size=200), DOI_LIKE))
@example(text="10.1000/x%2Fy")
@example(text="doi:10.1000/doi:10.1000/x")
@example(text="10.1000/x%7D")
def test_normalise_doi_is_idempotent(text: str) -> None:
    once = normalise_doi(text)
    if once is not None:
        assert DOI_RE.match(once), once
        assert once == once.lower()
        assert normalise_doi(once) == once


@given(text=st.text(max_size=300))
def test_find_dois_returns_only_normalised_dois(text: str) -> None:
    for doi in find_dois(text):
        assert normalise_doi(doi) == doi


SCHEME = st.sampled_from(["http", "https", "HTTP", "HtTpS", "ftp", "mailto", "file", "javascript", "", "1http"])
HOST = st.one_of(
    st.sampled_from(["example.org", "EXAMPLE.org", "bücher.de", "xn--bcher-kva.de", "127.0.0.1", "[::1]",
                     "[fe80::1%25eth0]", "user:pass@host", "a..b", "", "-x-.com", "ex ample.org", "é" * 70]),
    st.text(max_size=20),
)
PORT = st.sampled_from(["", ":80", ":443", ":8080", ":", ":0", ":99999", ":abc"])
TAIL = st.text(
    st.one_of(st.sampled_from(list("/?#&=%.:@!$'()*+,;[]~ \t\"<>{}|\\^`")), st.characters(codec="utf-8")),
    max_size=40,
)


URL_LIKE = st.tuples(SCHEME, st.sampled_from(["://", ":", ":/", ":///"]), HOST, PORT, TAIL).map("".join)


@given(url=st.one_of(st.text(max_size=200), URL_LIKE))
@example(url="http://example.org/%")
@example(url="http://example.org/%%41")
@example(url="http://ü.example/ä b")
@example(url="HTTP://Example.ORG:80/a")
@example(url="http://[::1]:80/")
@example(url="http://a@b@c:80/")
def test_normalise_url_is_idempotent(url: str) -> None:
    once = normalise_url(url)
    assert normalise_url(once) == once


@given(text=st.one_of(st.text(max_size=300), URL_LIKE.map(lambda u: f"see {u}).")))
def test_urls_found_in_prose_are_trimmed_once_and_for_all(text: str) -> None:
    for url in extract_urls(text):
        assert trim_url(url) == url
        assert "://" in url


# Found by the properties above; each stays here until its fix lands (strict: a fix makes it fail loudly).
KNOWN_NOT_IDEMPOTENT_DOIS = {
    "a percent-escaped percent sign is decoded once per pass": "10.1000/%2525",
    "an escaped closing parenthesis is decoded, then stripped as prose": "10.1000/a%2529",
    "braces hide an escape that the second pass decodes": "10.1000/%{}41",
}


@pytest.mark.parametrize("text", list(KNOWN_NOT_IDEMPOTENT_DOIS.values()), ids=list(KNOWN_NOT_IDEMPOTENT_DOIS))
def test_normalise_doi_is_idempotent_on_escapes(text: str) -> None:
    once = normalise_doi(text)
    assert once is not None
    assert normalise_doi(once) == once


# Fixed: escapes in a host stay upper-case, and only a bracketed or colon-free host is split from its port.
KNOWN_NOT_IDEMPOTENT_URLS = {
    "a template placeholder in the host keeps the case of its escapes": "http://{domain}/path",
    "a second port is taken for the first on the next pass": "http://host:80:80/",
    "an empty port after a default port": "http://example.org:80:/x",
}


@pytest.mark.parametrize("url", list(KNOWN_NOT_IDEMPOTENT_URLS.values()), ids=list(KNOWN_NOT_IDEMPOTENT_URLS))
def test_normalise_url_is_idempotent_on_odd_hosts(url: str) -> None:
    once = normalise_url(url)
    assert normalise_url(once) == once
