"""PDF manuscripts read as text drafts: each page's lines rebuilt from its text layer, then read like plain text.

The text layer is extracted with pypdf (BSD). Lines are rebuilt so that the plain-text reader finds what it finds in a
draft: running headers, footers and page numbers that repeat on most pages are dropped, a word hyphenated at a line's
end and a URL broken at one are joined, ligatures (ﬁ, ﬂ) become letters, a vertical gap between lines becomes a blank
line, and a reference list's hanging indent and its end are written the way a text draft shows them. Every line of
the rebuilt text keeps the page it came from and its line on that page (`page_of`, `describe`), which
Document.meta["pdf-pages"] records; the Document's own line numbers are those of the rebuilt text, so that the rules
that compare lines (a paragraph is consecutive lines) work on a PDF as on any draft.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import itertools
import logging
import math
import os
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kratomref import lazy
from kratomref.model import Document, Location, Problem
from kratomref.readers.text import REFERENCE_HEADING_RE, read_draft

MAX_PDF_BYTES = 64 * 1024 * 1024  # as any input (readers.MAX_INPUT_BYTES): pypdf holds the whole file in memory
MAX_PAGES = 1000  # a long thesis has 300; the reference list is at the end, so a longer file is refused, not cut
MAX_TEXT_CHARS = 8 * 1024 * 1024  # extracted characters (a 1,000-page book: about 3 million)
# Decompression bounds handed to pypdf (its defaults are 75 MB a stream): a page's content stream is a few hundred KB.
MAX_STREAM_BYTES = 32 * 1024 * 1024
MAX_DECODING_WORK = 128 * 1024 * 1024  # bytes decoded for one stream, all its filters together
MAX_PARSING_WORK = 2_000_000  # operands and operators of one content stream (pypdf's default)
MAX_FORM_INVOCATIONS = 2_000  # form XObjects drawn while extracting one page
# Time: pypdf cannot be interrupted inside a page, so the parsing and decoding budgets above bound one page's work,
# and the clock is read between pages: a file that is still being read after TOTAL_SECONDS is refused.
TOTAL_SECONDS = 120.0
PAGE_SECONDS = 20.0  # one page that took this long is reported with its number
# A text layer with fewer visible characters than this per page is no text layer: a scan, or figures only.
MIN_CHARS_PER_PAGE = 20

RUNNING_LINES = 3  # lines at the top and the bottom of a page that may be a running header or footer
RUNNING_SHARE = 0.4  # a header repeats on this share of the pages at least (odd and even pages alternate)
PARAGRAPH_GAP = 1.6  # a gap between baselines this many times the page's usual line spacing opens a paragraph
ITEM_GAP = 1.25  # in a reference list, a smaller gap parts two items (pandoc and natbib space items by 1.3-1.5 lines)
HEADING_SIZE = 1.15  # a line in a font this much larger than a reference list's ends the list
INDENT = 2.0  # points: a line that starts this far right of its item's first line continues the item
SPACED_LOOKAHEAD = 12  # lines of a reference list looked at to tell items parted by space from a hanging indent
COLUMN = 60.0  # points: a line that starts this far from the item's first line is in another column

_MARKER_RE = lazy.regex(r"^\s*(?:\[\d{1,4}\]|\(\d{1,4}\)|\d{1,4}[.)])(?=\s|\S)")
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st",
              "\ufb06": "st"}
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\ufeff"))  # soft hyphen, zero-width characters
_HYPHENATED_RE = lazy.regex(r"([A-Za-zÀ-ÿ]{2,})-$")
_NEXT_WORD_RE = lazy.regex(r"^([a-zà-ÿ][A-Za-zÀ-ÿ]*)([.,;:!?)\]’'\"]*)(\s|$)")
_URL_END_RE = lazy.regex(r"(?:https?://|www\.|doi:\s?|\b10\.\d{4,9}/)\S*$", re.IGNORECASE)
_URL_BREAKS = tuple("/-._=?&#~:")  # where LaTeX's url package breaks a URL, and where a DOI is broken
_URL_PIECE_RE = lazy.regex(r"^[\w./\-=?&#~:%+@]+")


@dataclass
class PdfLine:
    """One line of a page's text layer: its text, where it is, and where its first character stands."""

    page: int  # 1-based
    number: int  # its line on the page, 1-based, counting every line of the text layer
    text: str
    x: float | None = None  # points from the page's left edge
    y: float | None = None  # points from the page's bottom edge (the baseline)
    size: float | None = None  # the font size in points


@dataclass(frozen=True)
class Extraction:
    """The text layer of a PDF, line by line, or why there is none to read."""

    lines: tuple[PdfLine, ...] = ()
    pages: int = 0
    problem: str | None = None  # why the file was not read (a KR002 message)
    suggestion: str | None = None


class _Refused(Exception):
    """A bound was reached: the file is not read further."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.suggestion = suggestion


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pypdf logs a warning for every font it cannot fully parse; a damaged font is not the user's concern here."""
    logger = logging.getLogger("pypdf")
    level, logger.level = logger.level, logging.ERROR
    try:
        yield
    finally:
        logger.level = level


def _limits() -> dict[str, Any]:
    return {
        "maximum_declared_stream_length": MAX_STREAM_BYTES,
        "zlib_maximum_output_length": MAX_STREAM_BYTES,
        "lzw_maximum_output_length": MAX_STREAM_BYTES,
        "run_length_maximum_output_length": MAX_STREAM_BYTES,
        "array_based_stream_maximum_output_length": MAX_STREAM_BYTES,
        "brotli_maximum_output_length": MAX_STREAM_BYTES,
        "stream_decoding_work_maximum_length": MAX_DECODING_WORK,
        "stream_parsing_work_maximum_count": MAX_PARSING_WORK,
        "xform_maximum_invocations_per_extraction": MAX_FORM_INVOCATIONS,
        "page_tree_maximum_entries": MAX_PAGES * 4,
        "jbig2dec_binary": None,  # never run an external decoder on a manuscript's images
    }


def _page_lines(page: Any, number: int) -> list[PdfLine]:
    """The lines of one page, in the order of its content stream, each with the position of its first fragment."""
    fragments: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: Any, size: float) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]) or 1.0
        fragments.append((text, x, y, float(size or 0) * scale))

    page.extract_text(visitor_text=visit)
    lines: list[PdfLine] = []
    current = PdfLine(number, 1, "")
    for text, x, y, size in fragments:
        for index, piece in enumerate(text.split("\n")):
            if index:
                lines.append(current)
                current = PdfLine(number, len(lines) + 1, "")
            if piece.strip() and current.x is None and not current.text.strip():
                current.x, current.y, current.size = x, y, size
            current.text += piece
    if current.text.strip():
        lines.append(current)
    return lines


def extract(path: str) -> Extraction:
    """The text layer of the PDF at path, or the reason it cannot be read (too large, encrypted, a bomb, a scan)."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    try:
        size = os.path.getsize(path)
    except OSError as exc:
        return Extraction(problem=f"the PDF cannot be opened ({exc.strerror or exc})")
    if size > MAX_PDF_BYTES:
        return Extraction(problem=f"the PDF is too large to read ({size / 2**20:.0f} MiB; the limit is "
                                  f"{MAX_PDF_BYTES // 2**20} MiB)", suggestion="check the manuscript's text on its own")
    lines: list[PdfLine] = []
    pages = 0
    try:
        with _quiet(), pypdf.apply_configuration(**_limits()):
            reader = pypdf.PdfReader(path)
            if reader.is_encrypted and not reader.decrypt(""):
                raise _Refused("the PDF is encrypted with a password, so its text cannot be read",
                               "check an unencrypted copy of the manuscript")
            pages = len(reader.pages)
            if pages > MAX_PAGES:
                raise _Refused(f"the PDF has {pages} pages (the limit is {MAX_PAGES})",
                               "check the part of the manuscript with the reference list on its own")
            started, chars = time.monotonic(), 0
            for number, page in enumerate(reader.pages, start=1):
                before = time.monotonic()
                page_lines = _page_lines(page, number)
                lines.extend(page_lines)
                chars += sum(len(line.text) for line in page_lines)
                now = time.monotonic()
                if chars > MAX_TEXT_CHARS:
                    raise _Refused(f"the PDF holds more than {MAX_TEXT_CHARS // 2**20} MiB of text (reading stopped "
                                   f"on page {number})", "check the part with the reference list on its own")
                if now - started > TOTAL_SECONDS or now - before > PAGE_SECONDS:
                    raise _Refused(f"reading the PDF's text was stopped on page {number}: it took longer than "
                                   f"{TOTAL_SECONDS:.0f} s" if now - started > TOTAL_SECONDS else
                                   f"reading page {number} of the PDF took longer than {PAGE_SECONDS:.0f} s; the "
                                   f"file was not read further", "check the manuscript's text on its own")
    except _Refused as refused:
        return Extraction(pages=pages, problem=str(refused), suggestion=refused.suggestion)
    except (FileNotDecryptedError, DependencyError) as exc:
        return Extraction(pages=pages, problem=f"the PDF is encrypted and could not be decrypted ({exc})",
                          suggestion="check an unencrypted copy of the manuscript")
    except LimitReachedError as exc:
        return Extraction(pages=pages, problem=f"the PDF was not read: it exceeds a safety limit ({exc}); a "
                                               "compressed stream this large is a decompression bomb, not a manuscript",
                          suggestion="export the manuscript to PDF again, or check its text on its own")
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError,
            AssertionError, ZeroDivisionError) as exc:
        # pypdf raises plain Python errors on some damaged files; a damaged file is an input problem, not a crash.
        return Extraction(pages=pages, problem=f"the file is not a readable PDF ({type(exc).__name__}: {exc})",
                          suggestion="export the manuscript to PDF again")
    visible = sum(len(line.text.strip()) for line in lines)
    if visible < MIN_CHARS_PER_PAGE * max(pages, 1):
        return Extraction(pages=pages, problem="the PDF has no text layer: scanned PDF? Its pages are images, so "
                                               "there is no text to check",
                          suggestion="run OCR on it first (for example ocrmypdf), or check the manuscript's source")
    return Extraction(tuple(lines), pages)


def _normalised(text: str) -> str:
    text = text.translate(_INVISIBLE).replace("\u00a0", " ")
    for ligature, letters in _LIGATURES.items():
        text = text.replace(ligature, letters)
    return unicodedata.normalize("NFC", text).rstrip()


def _running_form(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", text.lower())).strip()


def drop_running_lines(lines: Sequence[PdfLine], pages: int) -> list[PdfLine]:
    """The lines without running headers and footers: a line among the first or last few of its page whose text,
    digits aside (a page number), stands there on RUNNING_SHARE of the pages or more."""
    if pages < 2:
        return list(lines)
    by_page: dict[int, list[PdfLine]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    edges: dict[int, set[int]] = {}
    seen: Counter[str] = Counter()
    for page, page_lines in by_page.items():
        visible = [line for line in page_lines if line.text.strip()]
        ends = {id(line) for line in visible[:RUNNING_LINES] + visible[-RUNNING_LINES:]}
        edges[page] = ends
        seen.update({_running_form(line.text) for line in visible if id(line) in ends})
    needed = max(2, math.ceil(RUNNING_SHARE * pages))
    running = {form for form, count in seen.items() if count >= needed and form}
    return [line for line in lines
            if not (id(line) in edges[line.page] and _running_form(line.text) in running)]


def _join_broken_words(lines: list[PdfLine]) -> None:
    """A word hyphenated at a line's end is joined on that line ("work-" + "loads" -> "workloads"), keeping its
    hyphen when the document writes the word with one elsewhere ("architecture-independent"); a URL or DOI broken
    at a line's end gets its rest from the next line. The next line keeps what follows, so no line moves."""
    words = Counter(word.lower() for line in lines for word in re.findall(r"[A-Za-zÀ-ÿ]+(?:-[A-Za-zÀ-ÿ]+)*", line.text))
    for line, following in itertools.pairwise(lines):
        nxt = following.text.lstrip()
        if not nxt:
            continue
        url = _URL_END_RE.search(line.text)
        if url and line.text.endswith(_URL_BREAKS):
            piece = _URL_PIECE_RE.match(nxt)
            # After a full stop or a colon the URL may have ended with the sentence: only a piece that is plainly
            # the rest of an address (lower case or digits, with a dot or slash of its own) goes on.
            sentence_end = line.text.endswith((".", ":"))
            if piece and (not sentence_end or re.fullmatch(r"[a-z0-9][\w\-]*[./][^\s]*|\d+", piece.group(0))):
                line.text += piece.group(0)
                following.text = nxt[piece.end():].lstrip()
            continue
        hyphen = _HYPHENATED_RE.search(line.text)
        word = _NEXT_WORD_RE.match(nxt)
        if not hyphen or not word:
            continue
        head, tail = hyphen.group(1), word.group(1)
        compound = f"{head}-{tail}".lower()
        joined = compound if words[compound] > 0 and words[(head + tail).lower()] == 0 else head + tail
        if joined == compound:
            line.text = line.text[: hyphen.start()] + f"{head}-{tail}" + word.group(2)
        else:
            line.text = line.text[: hyphen.start()] + head + tail + word.group(2)
        following.text = nxt[word.end():].lstrip()


@dataclass
class _Row:
    """A line of the rebuilt text: a PDF line (None for a blank line put in at a gap) and its indent."""

    line: PdfLine | None
    indent: str = ""

    @property
    def text(self) -> str:
        return self.line.text if self.line is not None else ""


def _spacing(lines: Sequence[PdfLine]) -> dict[int, float]:
    """page -> the usual distance between the baselines of consecutive lines on it."""
    gaps: dict[int, list[float]] = {}
    for before, after in itertools.pairwise(lines):
        if before.page != after.page or before.y is None or after.y is None or not after.size:
            continue
        gap = before.y - after.y
        if 0 < gap <= 2.5 * after.size:
            gaps.setdefault(after.page, []).append(gap)
    return {page: statistics.median(values) for page, values in gaps.items()}


def _rows(lines: Sequence[PdfLine]) -> list[_Row]:
    """The lines with a blank row wherever a gap between two lines of one column is wider than a line's."""
    spacing = _spacing(lines)
    rows: list[_Row] = []
    gap = PARAGRAPH_GAP
    for index, line in enumerate(lines):
        before = lines[index - 1] if index else None
        usual = spacing.get(line.page)
        if (before is not None and before.page == line.page and usual and before.y is not None
                and line.y is not None and before.y - line.y > gap * usual and rows and rows[-1].line):
            rows.append(_Row(None))
        rows.append(_Row(line))
        if REFERENCE_HEADING_RE.fullmatch(line.text.strip()):
            gap = ITEM_GAP
    return rows


def _column_left(lines: Sequence[PdfLine], line: PdfLine) -> float | None:
    """The left edge of the column a line stands in: the smallest x of the lines of its page near its own."""
    if line.x is None:
        return None
    near = [other.x for other in lines if other.page == line.page and other.x is not None
            and abs(other.x - line.x) < COLUMN]
    return min(near, default=line.x)


def _shape_reference_list(rows: list[_Row]) -> None:
    """Write each reference list as a text draft shows one: a hanging indent's continuation lines indented, and a
    blank row where the list ends (a line at the list's left edge with no number in a numbered list, a larger
    font), so that an appendix after the references is not read as the last reference."""
    lines = [row.line for row in rows if row.line is not None]
    index = 0
    while index < len(rows):
        if not REFERENCE_HEADING_RE.fullmatch(rows[index].text.strip()):
            index += 1
            continue
        index += 1
        while index < len(rows) and not rows[index].text.strip():
            index += 1
        if index >= len(rows) or rows[index].line is None:
            return
        first = rows[index].line
        assert first is not None
        numbered = _MARKER_RE.match(first.text) is not None
        # Items parted by space rather than by a hanging indent: every line after an item's first continues it.
        spaced = not numbered and any(row.line is None for row in rows[index + 1: index + 1 + SPACED_LOOKAHEAD])
        start_x, size, previous = first.x, first.size, first
        index += 1
        while index < len(rows):
            row = rows[index]
            line = row.line
            if line is None:
                index += 1
                continue
            if (size and line.size and line.size > HEADING_SIZE * size) or REFERENCE_HEADING_RE.fullmatch(
                    line.text.strip()):
                break
            moved = (line.page != previous.page or (line.y is not None and previous.y is not None
                                                     and line.y > previous.y + 1))
            marker = _MARKER_RE.match(line.text) is not None
            if moved and line.x is not None:  # a new column or page: its items start at its left edge
                left = _column_left(lines, line)
                start_x = left if left is not None and (marker or line.x > left + INDENT) else line.x
            if spaced:
                row.indent = "" if rows[index - 1].line is None else "    "
            elif line.x is None or start_x is None:
                pass
            elif numbered and marker:
                start_x = line.x
            elif line.x > start_x + INDENT and abs(line.x - start_x) < COLUMN:
                if not numbered:
                    row.indent = "    "
            elif numbered or not (abs(line.x - start_x) < COLUMN):
                break  # a line at the list's edge with no number: the list has ended
            previous = line
            index += 1
        else:
            return
        if rows[index - 1].line is not None:
            rows.insert(index, _Row(None))
        index += 1


def layout(lines: Sequence[PdfLine], pages: int) -> tuple[str, list[tuple[int, int]]]:
    """The rebuilt text of a PDF's lines and, for each of its lines, (page, line on page). A blank line put in at
    a gap takes the place of the line after it."""
    kept = drop_running_lines(lines, pages)
    kept = [dataclasses.replace(line, text=_normalised(line.text)) for line in kept]
    kept = [line for line in kept if line.text.strip()]
    _join_broken_words(kept)
    rows = _rows(kept)
    _shape_reference_list(rows)
    origins: list[tuple[int, int]] = []
    for position, row in enumerate(rows):
        source = row.line or next((r.line for r in rows[position + 1:] if r.line is not None), None) or (
            next((r.line for r in reversed(rows[:position]) if r.line is not None), None))
        origins.append((source.page, source.number) if source is not None else (1, 1))
    text = "\n".join(row.indent + row.text for row in rows)
    return text, origins


def encode_pages(origins: Sequence[tuple[int, int]]) -> str:
    """Document.meta["pdf-pages"]: each text line's "page.line", comma-separated, in order."""
    return ",".join(f"{page}.{line}" for page, line in origins)


def decode_pages(meta_value: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for item in meta_value.split(","):
        page, _, line = item.partition(".")
        if page.isdigit() and line.isdigit():
            found.append((int(page), int(line)))
    return found


def page_of(meta_value: str, line: int | None) -> tuple[int, int] | None:
    """(page, line on the page) of a line of a PDF's rebuilt text, from Document.meta["pdf-pages"]; None when the
    line is unknown."""
    origins = decode_pages(meta_value)
    if line is None or not 1 <= line <= len(origins):
        return None
    return origins[line - 1]


def describe(location: Location, meta_value: str) -> str:
    """A location in a PDF as a reader of the PDF finds it: "paper.pdf:page 7, line 12"."""
    where = page_of(meta_value, location.line)
    if where is None:
        return str(location)
    return f"{location.file}:page {where[0]}, line {where[1]}"


def paged(location: Location, meta_value: str) -> Location:
    """The location with its page and line on the page, for a Location that has such fields (see the model)."""
    names = {f.name for f in dataclasses.fields(Location)}
    where = page_of(meta_value, location.line)
    if where is None or not {"page", "page_line"} <= names:
        return location
    fields: dict[str, Any] = {"page": where[0], "page_line": where[1]}
    return dataclasses.replace(location, **fields)


def line_on_page(meta_value: str, page: int, line: int) -> int | None:
    """The rebuilt text's line that holds the given line of the given page, or None (the inverse of page_of)."""
    origins = decode_pages(meta_value)
    position = bisect.bisect_left(origins, (page, line))
    if position < len(origins) and origins[position] == (page, line):
        return position + 1
    return None


def read(path: str, text: str = "") -> Document:
    """Read a PDF manuscript: its text layer rebuilt line by line, then read as a plain-text draft."""
    extraction = extract(path)
    if extraction.problem is not None:
        problem = Problem(Location(path), "KR002", extraction.problem, extraction.suggestion)
        return Document(path, "pdf", problems=(problem,))
    rebuilt, origins = layout(extraction.lines, extraction.pages)
    draft = read_draft(path, rebuilt, "text")
    meta = {**draft.meta, "pdf-pages": encode_pages(origins), "pdf-page-count": str(extraction.pages)}
    return dataclasses.replace(draft, format="pdf", meta=meta)


def pager(documents: Sequence[Document]) -> Callable[[Location], Location]:
    """A function that gives a location in one of the PDF documents its page and line on the page (`paged`), and
    returns any other location as it is: for the orchestrator to apply to findings and results once they are made."""
    maps = {doc.path: doc.meta["pdf-pages"] for doc in documents if doc.format == "pdf" and "pdf-pages" in doc.meta}

    def at_page(location: Location) -> Location:
        meta_value = maps.get(location.file)
        return location if meta_value is None else paged(location, meta_value)

    return at_page
