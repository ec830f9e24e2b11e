"""Reading a page: its title and first heading from a bounded prefix, and what they say (soft 404, bot wall)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any

BODY_PREFIX = 64 * 1024  # decoded bytes of a page read at most: the title and first headings are in it
MAX_WIRE_BYTES = 512 * 1024  # compressed bytes read at most for that prefix
READ_CHUNK = 16 * 1024
ENCODINGS = ("gzip", "x-gzip", "deflate")  # the content encodings asked for (Accept-Encoding) and decoded

# A 200 page whose title or main heading says the document is not there ("soft 404"). "404" on its own is
# a form number, a statute's section or a page of a book: it counts only with an error's words around it,
# or as the whole title ("404", "Error 404", "404 - Page").
_SOFT_404 = re.compile(
    r"\b(?:page not found|not found|page (?:can ?not|could not|couldn't) be found|no longer (?:available|exists)"
    r"|(?:does not|doesn't) exist|page unavailable|content unavailable|seite nicht gefunden"
    r"|p[aá]gina no encontrada|page introuvable|pagina non trovata)\b"
    r"|\b404\b.*\b(?:error|page|fehler|erreur)\b|\b(?:error|page|fehler|erreur)\b.*\b404\b"
    r"|^\W*(?:http\W*)?404\W*$",
    re.IGNORECASE,
)
MAX_SOFT_404_TITLE = 120  # characters: a long title that mentions "not found" is an article, not an error page
# Pages that challenge the visitor before showing the site (Cloudflare, Akamai, DDoS-Guard, Imperva...).
_CHALLENGE_TITLE = re.compile(
    r"just a moment|attention required|checking your browser|are you a (?:robot|human)|access denied"
    r"|captcha|ddos-guard|verify you are human|pardon our interruption|request rejected|bot verification",
    re.IGNORECASE,
)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(rb"<h1[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def wants_body(content_type: str) -> bool:
    """Whether a page of this Content-Type may have a title to read (HTML, XML, or not said)."""
    return not content_type or "html" in content_type.lower() or "xml" in content_type.lower()


class PagePrefix:
    """The decoded start of a page, fed chunk by chunk as they come off the wire: at most BODY_PREFIX
    decoded bytes from at most MAX_WIRE_BYTES on the wire, and no more once the title and main heading are in."""

    def __init__(self, encoding: str) -> None:
        # An encoding we did not ask for: no title, but the status still counts.
        self.readable = not encoding or encoding in (*ENCODINGS, "identity")
        self.body = b""
        self._wire = 0
        self._inflater = _Inflater(encoding if encoding in ENCODINGS else "")

    def wants_more(self) -> bool:
        return self.readable and len(self.body) < BODY_PREFIX and self._wire < MAX_WIRE_BYTES

    def feed(self, chunk: bytes) -> bool:
        """Add a chunk read off the wire; False once the title and main heading are in."""
        self._wire += len(chunk)
        self.body += self._inflater.feed(chunk, BODY_PREFIX - len(self.body))
        lowered = self.body.lower()
        return not (b"</h1" in lowered or (b"</title" in lowered and b"<h1" not in lowered and len(self.body) > 16384))


class _Inflater:
    """gzip/deflate decoding with a bound on output per call (a gzip bomb never inflates past it)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._d: Any = zlib.decompressobj(self._wbits) if encoding else None
        self._raw_deflate_tried = False

    def feed(self, data: bytes, limit: int) -> bytes:
        if self._d is None:
            return data[:limit]
        out = b""
        while data and len(out) < limit:
            try:
                out += self._d.decompress(data, limit - len(out))
            except zlib.error:
                if self.encoding == "deflate" and not self._raw_deflate_tried and not out:
                    self._raw_deflate_tried = True  # some servers send raw deflate without the zlib header
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                break
            if self._d.eof and self._d.unused_data:  # another gzip member follows (RFC 1952, 2.2)
                data = self._d.unused_data
                self._d = zlib.decompressobj(self._wbits)
            else:
                break
        return out


def _clean(fragment: bytes, charset: str) -> str | None:
    import html  # only pages read need it: an offline run never loads it

    text = html.unescape(_TAGS.sub(" ", fragment.decode(charset, errors="replace")))
    text = " ".join(text.split())
    return text[:300] or None


def page_text(body: bytes, content_type: str) -> tuple[str | None, str | None]:
    """The <title> and first <h1> of an HTML prefix, decoded."""
    if body and (not content_type and b"<" not in body[:1024]):
        return None, None  # not said to be a page, and does not look like one
    charset = "utf-8"
    declared = re.search(r"charset=([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    meta = _META_CHARSET.search(body[:4096])
    for candidate in (declared.group(1) if declared else None, meta.group(1).decode("ascii") if meta else None):
        if candidate:
            try:
                "".encode(candidate)
            except LookupError:
                continue
            charset = candidate
            break
    title = _TITLE.search(body)
    heading = _H1.search(body)
    return (_clean(title.group(1), charset) if title else None, _clean(heading.group(1), charset) if heading else None)


def is_soft_404(title: str | None, heading: str | None) -> bool:
    return any(t and len(t) <= MAX_SOFT_404_TITLE and _SOFT_404.search(t) for t in (title, heading))


def is_challenge(status: int | None, headers: Mapping[str, str], title: str | None) -> bool:
    """A bot wall: Cloudflare's cf-mitigated header, or a challenge page's title."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("cf-mitigated", "").lower() == "challenge":
        return True
    if title and _CHALLENGE_TITLE.search(title):
        return True
    return status in (403, 503) and "cloudflare" in lowered.get("server", "").lower() and "cf-ray" in lowered
