"""URLs in prose: find them as a reader would see them, and put them in one comparable form."""

from __future__ import annotations

import re
import urllib.parse

from kratomref import lazy

# A URL runs until whitespace or a character that cannot appear unescaped in one (RFC 3986 excludes
# <>"{}|\^` and spaces); prose punctuation after it is trimmed afterwards.
_URL_RE = lazy.regex(r"""(?:https?|ftp)://[^\s<>"{}|\\^`]+""", re.IGNORECASE)
# Punctuation that prose, Markdown emphasis and quotes leave after a URL.
_TRAILING = ".,;:!?'*_”’»…"
_CLOSERS = {")": "(", "]": "[", ">": "<"}
_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21"}
# Characters left as they are when percent-encoding a path, query or fragment: the RFC 3986
# reserved and unreserved sets, and "%" so that an already encoded URL stays as it is.
_SAFE = "/:@!$&'()*+,;=-._~%?#[]"


def trim_url(url: str) -> str:
    """Drop the punctuation prose leaves after a URL; keep a ')' or ']' that closes one inside it."""
    end = len(url)
    counts: dict[str, int] | None = None  # brackets in url[:end], counted once (a count per character was quadratic)
    while end:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
            continue
        if last not in _CLOSERS:
            break
        if counts is None:
            counts = {char: url.count(char, 0, end) for pair in _CLOSERS.items() for char in pair}
        if counts[last] <= counts[_CLOSERS[last]]:
            break
        counts[last] -= 1
        end -= 1
    return url[:end]


def find_urls(text: str) -> list[tuple[int, str]]:
    """(offset, url) of every URL in text, trimmed, in order (repeats kept)."""
    found: list[tuple[int, str]] = []
    for match in _URL_RE.finditer(text):
        url = trim_url(match.group(0))
        # "https://" alone, or a scheme followed only by punctuation, is not a link.
        if len(url) > url.index("://") + 3:
            found.append((match.start(), url))
    return found


def extract_urls(text: str) -> list[str]:
    """Every URL in text, as written but with trailing prose punctuation trimmed, in order, no repeats."""
    urls: list[str] = []
    for _, url in find_urls(text):
        if url not in urls:
            urls.append(url)
    return urls


_ESCAPE = lazy.regex(r"%[0-9a-fA-F]{2}")
# host:port, where the host is a bracketed IPv6 literal or has no colon: "a:80:80" is not split at all
# (splitting at the last colon would leave "a:80" to be split again on the next pass).
_HOST_PORT = lazy.regex(r"(\[[^\]]*\]|[^:\[\]]*):(\d*)")


def _host(host: str) -> str:
    """Lower-case, IDN labels in punycode; percent escapes upper-case (RFC 3986 6.2.2.1), so that a second
    pass finds nothing to change."""
    host = host.lower()
    if not (host.startswith("[") or host.isascii()):
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:  # a label too long or empty: leave it for the link checker to report
            host = _quote(host)
    return _ESCAPE.sub(lambda m: m.group(0).upper(), host)


def normalise_url(url: str) -> str:
    """One comparable form of a URL: lower-case scheme and host, IDN host in punycode, default port
    dropped, spaces and non-ASCII characters percent-encoded, fragment kept. Idempotent."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return _quote(url)
    scheme = scheme.lower()
    split = re.match(r"([^/?#]*)(.*)", rest, re.DOTALL)
    assert split is not None  # the pattern matches any string
    netloc, tail = split.group(1), split.group(2)
    userinfo, at, hostport = netloc.rpartition("@")
    host, port = hostport, ""
    port_match = _HOST_PORT.fullmatch(hostport)
    if port_match:
        host, port = port_match.group(1), port_match.group(2)
    if port in ("", _DEFAULT_PORTS.get(scheme)):
        port = ""
    host = _host(host)
    netloc = f"{userinfo}{at}{host}" + (f":{port}" if port else "")
    return f"{scheme}://{_quote(netloc)}{_quote(tail)}"


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe=_SAFE)
