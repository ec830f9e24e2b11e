"""Web pages: the article a person reads (not the navigation, comments or share buttons), read as a Markdown draft.

The page is parsed with lxml (libxml2's HTML parser, which recovers from any tag soup as browsers do, and keeps
each element's line in the file), the boilerplate is taken out by readability-style rules, and the main text is
written as Markdown: headings, paragraphs, lists, quotations, links as [text](address), emphasis. That text is
read by the Markdown reader (readers/text.py), so every check runs as on a draft, and every location is then
moved back to the line of the HTML file it came from.

What the Markdown reader cannot see in a page is supplied here: a footnote list (`<sup><a href="#fn1">`, a
Wikipedia "cite_note", a WordPress or Ghost footnotes section) becomes a reference list under a reference
heading, each footnote mark a numeric citation of it, and relative addresses are made absolute against the
page's address (a fetched page, `<base href>`).
"""

from __future__ import annotations

import bisect
import dataclasses
import importlib
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kratomref import lazy
from kratomref.model import Document, Location, Problem, Reference, TextLine

FORMAT = "html"
# Text written in place of a heading the page does not have, before a footnote list that is not under one.
SYNTHETIC_HEADING = "Notes and references"
# Never part of the text a reader reads.
_DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "form",
    "button", "input", "select", "textarea", "label", "nav", "dialog", "video", "audio", "picture", "img",
    "source", "track", "map", "area", "link", "meta", "title", "head",
})
# Roles and classes or ids of boilerplate (readability's "unlikely candidates", trafilatura's discard list).
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "menu",
                         "menubar", "toolbar", "alert", "alertdialog"})
_BOILERPLATE_RE = lazy.regex(
    r"(?:^|[\s_-])(?:comments?|comment-list|commentlist|disqus|respond|share|sharing|sharedaddy|social|related"
    r"|sidebar|widgets?|menu|navbar|nav|breadcrumbs?|cookies?|consent|newsletter|subscribe|subscription|promo"
    r"|advert\w*|ads?|sponsor\w*|banner|popup|modal|masthead|site-header|site-footer|footer|author-bio|authorbox"
    r"|byline|post-tags|tags|tag-links|pagination|pager|skip-link|screen-reader-text|sr-only|visually-hidden"
    r"|mw-editsection|navbox|vertical-navbox|catlinks|printfooter|mw-jump-link|toc|sistersitebox|noprint"
    r"|reading-time|read-more|more-stories|recommended|newsletter-signup|jp-relatedposts|post-navigation"
    r"|nav-links|entry-meta|post-meta|wp-block-buttons)(?:$|[\s_-])",
    re.IGNORECASE,
)
# A container that holds a reference list or footnotes is never boilerplate, whatever its other classes say.
_REFERENCE_CLASS_RE = lazy.regex(
    r"footnotes?|endnotes?|references?|reflist|bibliograph|citations?|works-cited|sources", re.IGNORECASE)
# The element that holds the article, most specific first.
_MIN_MAIN_CHARS = 200  # a candidate with less text than this is a teaser or an empty shell
# Footnote back-links: "↩", "^", Wikipedia's "^ a b", Pandoc's and WordPress's back-reference classes.
_BACKLINK_CLASS_RE = lazy.regex(r"backlink|backref|footnote-back|footnote-return|fn-back|reversefootnote|cite-backlink",
                                re.IGNORECASE)
_BACKLINK_TEXT_RE = lazy.regex(r"^\s*[\^↩↑⤴︎\u21a9\ufe0e\ufe0f]*\s*$|^\s*[a-z]\s*$|^\s*return\s+to\s+text\s*$"
                               r"|^\s*back\s*$",
                               re.IGNORECASE)

_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "header", "footer", "aside", "address", "details", "summary",
    "figure", "figcaption", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "caption", "hr",
    "center", "fieldset", "hgroup", "body", "html",
})
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACES_RE = lazy.regex(r"[ \t\r\n\f\u00a0]+")
# A line of text that Markdown would read as a list item, a heading, a quotation or a citation list: never
# the start of a continuation line.
_BLOCK_MARKER_RE = lazy.regex(r"\s*(?:[-*+•]\s|\d+[.)]\s|#{1,6}\s|>|\[\d+\]|\(\d+\)|=+\s*$|-+\s*$)")
_FOOTNOTE_NUMBER_RE = lazy.regex(r"^\s*\[?\s*(\d{1,3})\s*\]?\s*$")


@dataclass
class _Line:
    """One line of the Markdown text: its pieces as (text, line of the HTML file)."""

    pieces: list[tuple[str, int]] = field(default_factory=list)
    synthetic: bool = False  # a heading written here, not in the page

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.pieces)

    @property
    def first(self) -> int:
        return next((line for text, line in self.pieces if text.strip()), self.pieces[0][1] if self.pieces else 1)


@dataclass
class _Footnotes:
    """The page's footnote lists: id of a footnote target -> its number, and the lists (or blocks) holding them."""

    numbers: dict[str, int] = field(default_factory=dict)
    containers: set[Any] = field(default_factory=set)


def _lxml(name: str) -> Any:
    """lxml.etree or lxml.html, loaded when a page is first read (lxml ships no type stubs: its objects are Any)."""
    return importlib.import_module(f"lxml.{name}")


def read(path: str, text: str) -> Document:
    """Read a saved web page: its main text as a Markdown draft, located at the lines of the HTML file."""
    return read_page(path, text)


def read_page(path: str, text: str, base_url: str | None = None) -> Document:
    """Read a web page. base_url: the address the page was fetched from (relative links are resolved against
    it); for a saved file, the page's own <base href> if it has one."""
    etree, html = _lxml("etree"), _lxml("html")

    if not text.strip():
        return Document(path, FORMAT, problems=(Problem(Location(path), "KR002", "the page is empty"),))
    # lxml refuses a str that declares its encoding; the text is decoded already.
    source = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        parser = html.HTMLParser(remove_comments=False, remove_pis=True, recover=True, default_doctype=False,
                                 huge_tree=False)
        root = html.document_fromstring(source, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        problem = Problem(Location(path), "KR002", f"the page cannot be read as HTML: {exc}")
        return Document(path, FORMAT, problems=(problem,))
    base = base_url
    base_element = root.find(".//base[@href]")
    if base_element is not None:
        base = urllib.parse.urljoin(base or "", base_element.get("href", "").strip()) or base
    footnotes = _find_footnotes(root)
    _strip_boilerplate(root, footnotes)
    main = _main_element(root)
    lines = _Writer(base, footnotes).write(main, _outside(main, footnotes))
    return _read_lines(path, lines, source.count("\n") + 1)


# --- Finding the article ----------------------------------------------------------------------------------


def _classes(element: Any) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def _is_reference_container(element: Any) -> bool:
    return _REFERENCE_CLASS_RE.search(_classes(element)) is not None


def _hidden(element: Any) -> bool:
    style = element.get("style", "").replace(" ", "").lower()
    return (element.get("hidden") is not None or element.get("aria-hidden", "").lower() == "true"
            or "display:none" in style or "visibility:hidden" in style)


def _boilerplate(element: Any, footnotes: _Footnotes) -> bool:
    """Whether an element is no part of the article (it holds no footnote and no reference list)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _DROP_TAGS:
        return tag != "nav" or not _holds_references(element, footnotes)
    if _hidden(element) and not _holds_references(element, footnotes):
        return True
    parent = element.getparent()
    site_footer = tag == "footer" and parent is not None and parent.tag == "body"
    if element.get("role", "").lower() in _DROP_ROLES or tag == "aside" or site_footer:
        return not _holds_references(element, footnotes)
    names = _classes(element)
    if names.strip() and _BOILERPLATE_RE.search(names) and not _is_reference_container(element):
        return tag not in ("body", "html") and not _holds_references(element, footnotes)
    return False


def _strip_boilerplate(root: Any, footnotes: _Footnotes) -> None:
    """Take every boilerplate element out of the tree (the text that follows it stays)."""
    etree = _lxml("etree")
    doomed: list[Any] = []
    gone: set[Any] = set()
    for element in root.iter():
        if isinstance(element, etree._Comment) or not isinstance(element.tag, str):
            continue
        if any(a in gone for a in element.iterancestors()):
            continue
        if element.tag == "math" or (_hidden(element) and next(element.iter("math"), None) is not None):
            continue  # a formula's MathML is hidden behind its picture: it is written as $…$
        if _boilerplate(element, footnotes):
            doomed.append(element)
            gone.add(element)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()


def _holds_references(element: Any, footnotes: _Footnotes) -> bool:
    if element in footnotes.containers or _is_reference_container(element):
        return True
    return any(c in footnotes.containers for c in element.iterdescendants()) or any(
        _is_reference_container(c) for c in element.iterdescendants() if isinstance(c.tag, str))


def _text_length(element: Any) -> int:
    return sum(len(" ".join(p.text_content().split())) for p in element.iter("p", "li", "blockquote"))


_MAIN_XPATHS = (
    "//*[@itemprop='articleBody']", "//*[contains(concat(' ', normalize-space(@class), ' '), ' mw-parser-output ')]",
    "//*[@id='mw-content-text']",
    *(f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"
      for name in ("entry-content", "post-content", "gh-content", "article-content", "article-body", "article__body",
                   "post-body", "story-body", "c-entry-content", "post__content", "single-content")),
    "//article", "//main", "//*[@role='main']", "//*[@id='content']", "//*[@id='main']",
)


def _main_element(root: Any) -> Any:
    """The element that holds the article: the first of the usual containers with text in it (the longest of
    several), else the body."""
    for xpath in _MAIN_XPATHS:
        found = [e for e in root.xpath(xpath) if _text_length(e) >= _MIN_MAIN_CHARS]
        if found:
            # Outermost first: a longer nested match of the same selector is inside the chosen one.
            return max(found, key=_text_length)
    body = root.find(".//body")
    return body if body is not None else root


def _title_before(main: Any) -> Any | None:
    """The page's <h1> when the article's element does not hold it (a WordPress entry-content under its header)."""
    if next(main.iter("h1"), None) is not None:
        return None
    line = main.sourceline or 0
    titles = [h for h in main.getroottree().iter("h1") if (h.sourceline or 0) <= line]
    return titles[-1] if titles else None


def _outside(main: Any, footnotes: _Footnotes) -> list[Any]:
    """The footnote lists cited from the article that lie outside its element, in page order."""
    ancestors_of_main = set(main.iterancestors()) | {main}
    outside = []
    for container in footnotes.containers:
        if container in ancestors_of_main:
            continue
        if any(a is main for a in container.iterancestors()):
            continue
        outside.append(container)
    outside.sort(key=lambda e: e.sourceline or 0)
    # a list inside another chosen list is written with it
    return [c for c in outside if not any(a in outside for a in c.iterancestors())]


def _find_footnotes(root: Any) -> _Footnotes:
    """Footnote targets: elements with an id that a link of the page points to (href="#id") from a mark that
    is a number ("1", "[1]") or a <sup>, and that are (or are inside) an item of a list, or a block whose
    text starts with that number. Each gets its number: its place in its list, or the number it starts with."""
    ids: dict[str, Any] = {}
    for element in root.iter():
        if isinstance(element.tag, str):
            for name in ("id", "name"):
                value = element.get(name)
                if value and value not in ids:
                    ids[value] = element
    found = _Footnotes()
    places: dict[Any, dict[Any, int]] = {}
    for anchor in root.iter("a"):
        href = anchor.get("href", "")
        if not href.startswith("#") or len(href) < 2:
            continue
        mark = " ".join(anchor.text_content().split())
        in_sup = anchor.getparent() is not None and (anchor.getparent().tag == "sup" or any(
            c.tag == "sup" for c in anchor.iterchildren()))
        if not (_FOOTNOTE_NUMBER_RE.match(mark) and (in_sup or mark.startswith("["))):
            continue
        target = ids.get(urllib.parse.unquote(href[1:]))
        if target is None:
            continue
        item = target if target.tag == "li" else next((a for a in target.iterancestors("li")), None)
        if item is not None and item.getparent() is not None and item.getparent().tag in ("ol", "ul"):
            parent = item.getparent()
            if parent not in places:  # each list numbered once, however many marks cite it
                start = parent.get("start", "1")
                first = int(start) if start.strip().isdigit() else 1
                places[parent] = {li: first + n for n, li in enumerate(parent.iterchildren("li"))}
            found.numbers[href[1:]] = places[parent][item]
            found.containers.add(parent)
        elif target.tag in ("p", "div"):
            written = _FOOTNOTE_NUMBER_RE.match(" ".join(target.text_content().split()[:1]).strip(".:")) \
                or re.match(r"\s*\[?(\d{1,3})[\].)]?", target.text_content())
            if written:
                found.numbers[href[1:]] = int(written.group(1))
                found.containers.add(target)
    return found


# --- Writing the article as Markdown ----------------------------------------------------------------------


class _Writer:
    """Writes an element tree as Markdown lines, each piece with the line of the HTML file it came from."""

    def __init__(self, base: str | None, footnotes: _Footnotes) -> None:
        self.base = base
        self.footnotes = footnotes
        self.lines: list[_Line] = []
        self.current: _Line | None = None
        self.line = 1
        self.under_references = False  # the last heading written opens a reference list
        self.prefix = ""  # "> " inside a quotation
        self.marker_only = False  # the current line holds only a list item's marker so far
        self.comment = _lxml("etree")._Comment

    # the current paragraph
    def put(self, text: str, line: int | None = None) -> None:
        if not text:
            return
        if self.current is None:
            if not text.strip():
                return
            self.current = _Line()
            if self.prefix:
                self.current.pieces.append((self.prefix, line or self.line))
            text = text.lstrip()
        if text.strip():
            self.marker_only = False
        self.current.pieces.append((text, line or self.line))

    def flush(self) -> None:
        if self.current is not None and self.marker_only:
            return  # "1. " waits for the item's first paragraph: <li><p>Smith J...</p></li>
        if self.current is not None:
            text = self.current.text.rstrip()
            if text.strip() and text.strip() != self.prefix.strip():
                last_text, last_line = self.current.pieces[-1]
                self.current.pieces[-1] = (last_text.rstrip(), last_line)
                self.lines.append(self.current)
            self.current = None

    def blank(self) -> None:
        self.flush()
        if self.marker_only:
            return
        if self.lines and self.lines[-1].text:
            self.lines.append(_Line([("", self.line)]))

    def emit(self, text: str, line: int, synthetic: bool = False) -> None:
        self.flush()
        self.lines.append(_Line([(text, line)], synthetic))

    def write(self, main: Any, extra: Iterable[Any]) -> list[_Line]:
        title = _title_before(main)
        if title is not None:
            self.node(title)
        self.block(main)
        for element in extra:
            self.blank()
            self.block(element)
        self.flush()
        return self.lines

    def block(self, element: Any) -> None:
        for child in self._children(element):
            self.node(child)

    def _children(self, element: Any) -> Iterator[Any]:
        if element.text:
            yield _Text(element.text, element.sourceline or self.line)
        for child in element.iterchildren():
            yield child
            if child.tail:
                yield _Text(child.tail, None)  # it starts where the child ended: self.line once it is written

    def node(self, node: Any) -> None:
        if isinstance(node, _Text):
            self.text(node.text, node.line or self.line)
            return
        if node.sourceline:
            self.line = node.sourceline
        if isinstance(node, self.comment):
            comment = node.text or ""
            if "kratomref" in comment:
                self.put(f"<!--{comment}-->", node.sourceline)
            return
        if not isinstance(node.tag, str):
            return
        tag = node.tag.lower()
        if _BACKLINK_CLASS_RE.search(_classes(node)):
            return
        if tag == "math":
            formula = node.get("alttext") or " ".join(node.text_content().split())
            self.put(f"${formula.replace('$', '')}$", node.sourceline)
        elif tag in _HEADINGS:
            self.heading(node, _HEADINGS[tag])
        elif tag in ("ul", "ol"):
            self.list(node, ordered=tag == "ol")
        elif tag == "blockquote":
            self.blank()
            outer = self.prefix
            self.prefix = outer + "> "
            self.block(node)
            self.flush()
            self.prefix = outer
            self.blank()
        elif tag == "pre":
            self.blank()
            line = node.sourceline or self.line
            self.emit("```", line)
            for offset, text in enumerate(node.text_content().splitlines()):
                self.emit(text, line + offset)
            self.emit("```", line)
            self.blank()
        elif tag == "br":
            self.flush()
        elif tag in ("td", "th"):
            self.block(node)
            self.put(" | ")
        elif tag == "tr":
            self.flush()
            self.block(node)
            self.flush()
        elif tag in _BLOCK_TAGS or tag == "li":
            self.blank()
            if node in self.footnotes.containers and not self.under_references:
                self.reference_heading(node)
            self.block(node)
            self.blank()
        else:
            self.inline(node, tag)

    def text(self, text: str, line: int) -> None:
        """Text of the page, kept on the lines it has in the file: a paragraph of the body written over three
        lines of HTML is three lines of one Markdown paragraph, so that what a rule finds in it is located
        on its own line. A reference list's items stay whole (the Markdown reader splits a paragraph whose
        every line has a year into one reference a line)."""
        for offset, part in enumerate(text.split("\n")):
            self.line = line + offset
            if offset and self.current is not None and not self.marker_only and not self.under_references \
                    and part.strip() and not _BLOCK_MARKER_RE.match(part):
                self.flush()
            self.put(_SPACES_RE.sub(" ", part if not offset else " " + part), self.line)

    def heading(self, node: Any, level: int) -> None:
        from kratomref.readers.text import _is_reference_heading

        self.blank()
        text = " ".join(node.text_content().split())
        if text:
            self.emit(f"{'#' * level} {text}", node.sourceline or self.line)
            self.under_references = _is_reference_heading(text)
        self.blank()

    def reference_heading(self, node: Any) -> None:
        """A heading before a footnote list that is not under a reference heading of its own."""
        self.emit(f"## {SYNTHETIC_HEADING}", node.sourceline or self.line, synthetic=True)
        self.emit("", node.sourceline or self.line, synthetic=True)
        self.under_references = True

    def list(self, node: Any, ordered: bool) -> None:
        if node in self.footnotes.containers and not self.under_references:
            self.blank()
            self.reference_heading(node)
        self.flush()
        start = node.get("start", "1").strip()
        number = int(start) if ordered and start.isdigit() else 1
        outer = self.prefix
        for item in node.iterchildren():
            if not isinstance(item.tag, str) or item.tag != "li":
                continue
            value = item.get("value", "").strip()
            if ordered and value.isdigit():
                number = int(value)
            self.flush()
            marker = f"{number}. " if ordered else "- "
            self.current = _Line([(outer + marker, item.sourceline or self.line)])
            self.marker_only = True
            self.prefix = outer + "   "
            saved = self.prefix
            self.block(item)
            self.prefix = saved
            if self.marker_only:  # an empty item
                self.marker_only, self.current = False, None
            self.flush()
            self.prefix = outer
            number += 1
        self.blank()

    def inline(self, node: Any, tag: str) -> None:
        if tag == "a":
            self.link(node)
            return
        if tag == "sup":
            anchor = next(node.iter("a"), None)
            if anchor is not None and anchor.get("href", "").startswith("#"):
                self.link(anchor)
                return
        marks = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`", "kbd": "`", "samp": "`"}
        mark = marks.get(tag, "")
        text = " ".join(node.text_content().split())
        if mark and text and not any(isinstance(c.tag, str) and c.tag in ("a", "sup", "br") for c in node.iter()):
            self.put(f"{mark}{text}{mark}", node.sourceline)
            return
        self.block(node)

    def link(self, node: Any) -> None:
        href = (node.get("href") or "").strip()
        text = " ".join(node.text_content().split())
        line = node.sourceline or self.line
        if href.startswith("#"):
            number = self.footnotes.numbers.get(urllib.parse.unquote(href[1:]))
            if number is not None:
                # " [1]": a mark glued to a word ("receptors[1]") or to a link's ")" is no citation to Markdown
                previous = self.current.text[-1:] if self.current is not None else ""
                self.put(f"{'' if not previous or previous.isspace() else ' '}[{number}]", line)
            elif not _BACKLINK_TEXT_RE.match(text):
                self.put(text, line)
            return
        address = self.address(href)
        if not text:
            return  # a picture that links to itself, an icon: nothing a reader sees as a link
        if address is None:
            self.put(text, line)
        elif text in (address, href):
            self.put(f" {address} ", line)
        else:
            label = text.replace("[", "(").replace("]", ")")
            self.put(f"[{label}]({address})", line)

    def address(self, href: str) -> str | None:
        """The absolute http(s) address of a link, or None (mailto:, javascript:, a relative link with no base)."""
        if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "data:")):
            return None
        if href.startswith("//"):
            href = "https:" + href
        if not re.match(r"(?i)https?://", href):
            if not self.base:
                return None
            href = urllib.parse.urljoin(self.base, href)
        if not re.match(r"(?i)https?://", href):
            return None
        return href.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


@dataclass
class _Text:
    text: str
    line: int | None  # None: where the element before it ended


# --- Reading the Markdown, and moving every location back to the page ---------------------------------------


class _LineMap:
    """Markdown line (1-based) -> the HTML lines of its pieces, by column."""

    def __init__(self, lines: list[_Line]) -> None:
        self.starts: list[list[int]] = []
        self.html: list[list[int]] = []
        for line in lines:
            starts, html_lines, column = [], [], 0
            for text, html_line in line.pieces:
                starts.append(column)
                html_lines.append(html_line)
                column += len(text)
            self.starts.append(starts or [0])
            self.html.append(html_lines or [1])

    def line(self, line: int | None, column: int | None = None) -> int | None:
        if line is None or not 1 <= line <= len(self.html):
            return line
        html_lines = self.html[line - 1]
        if column is None:
            return min(html_lines) if html_lines else None
        index = max(0, bisect.bisect_right(self.starts[line - 1], column - 1) - 1)
        return html_lines[index]

    def span(self, line: int) -> range:
        if not 1 <= line <= len(self.html):
            return range(line, line + 1)
        html_lines = self.html[line - 1]
        return range(min(html_lines), max(html_lines) + 1)


def _read_lines(path: str, lines: list[_Line], html_line_count: int) -> Document:
    from kratomref.readers.text import read_draft

    markdown = "\n".join(line.text for line in lines)
    document = read_draft(path, markdown, "markdown")
    mapping = _LineMap(lines)
    synthetic = {index + 1 for index, line in enumerate(lines) if line.synthetic}
    return _moved(document, mapping, synthetic)


def _location(location: Location, mapping: _LineMap) -> Location:
    return dataclasses.replace(location, line=mapping.line(location.line, location.column), column=None)


def _reference(reference: Reference, mapping: _LineMap) -> Reference:
    field_lines = {name: mapping.line(line) or line for name, line in reference.field_lines.items()}
    return dataclasses.replace(reference, location=_location(reference.location, mapping), field_lines=field_lines)


def _moved(document: Document, mapping: _LineMap, synthetic: set[int]) -> Document:
    body = tuple(TextLine(t.file, mapping.line(t.line) or t.line, t.text) for t in document.body
                 if t.line not in synthetic)
    citations = tuple(dataclasses.replace(c, location=_location(c.location, mapping)) for c in document.citations)
    suppressed: dict[int, frozenset[str]] = {}
    for line, codes in document.suppressions.items():
        for html_line in mapping.span(line):
            suppressed[html_line] = suppressed.get(html_line, frozenset()) | codes
    comments: dict[int, dict[str, int]] = {}
    for line, selectors in document.suppression_comments.items():
        for html_line in mapping.span(line):
            for selector, comment_line in selectors.items():
                comments.setdefault(html_line, {})[selector] = mapping.line(comment_line) or comment_line
    meta: dict[str, str] = dict(document.meta)
    if "references-heading-line" in meta:
        meta["references-heading-line"] = str(mapping.line(int(meta["references-heading-line"])))
    return dataclasses.replace(
        document,
        format=FORMAT,
        references=tuple(_reference(r, mapping) for r in document.references),
        body=body,
        body_links=tuple((_location(loc, mapping), url) for loc, url in document.body_links),
        citations=citations,
        problems=tuple(dataclasses.replace(p, location=_location(p.location, mapping)) for p in document.problems),
        suppressions=suppressed,
        suppression_comments=comments,
        meta=meta,
    )


# --- Where a finding is, in words, for a page read from the web ---------------------------------------------


def sections(document: Document) -> list[tuple[int, str, int]]:
    """(HTML line, nearest heading, paragraph number under it) of each body line, for a page read from an
    address: a location a reader of the page can find without its source. From Document.meta["where"]."""
    value = document.meta.get("where")
    if not value:
        return []
    return [(int(line), heading, int(paragraph)) for line, heading, paragraph in json.loads(value)]


def with_sections(document: Document) -> Document:
    """The document with meta["where"]: for each body line, the nearest heading above it and the number of
    its paragraph under that heading ("Effects", 3)."""
    rows: list[tuple[int, str, int]] = []
    heading, paragraph = "", 0
    for text_line in document.body:
        stripped = text_line.text.lstrip()
        match = re.match(r"#{1,6}\s+(.*)", stripped)
        if match:
            heading, paragraph = match.group(1).strip(), 0
            continue
        paragraph += 1
        rows.append((text_line.line, heading, paragraph))
    return dataclasses.replace(document, meta={**document.meta, "where": json.dumps(rows)})


def where(document: Document, line: int | None) -> str | None:
    """"§ Effects, paragraph 3" for a line of a page read from an address, or None."""
    rows = sections(document)
    if not rows or line is None:
        return None
    best = None
    for row_line, heading, paragraph in rows:
        if row_line <= line:
            best = (heading, paragraph)
        else:
            break
    if best is None:
        return None
    heading, paragraph = best
    return f"§ {heading}, paragraph {paragraph}" if heading else f"paragraph {paragraph}"


def sectioner(documents: Sequence[Document]) -> Callable[[Location], Location]:
    """A function that gives a location in a page read from its address its heading and paragraph (`where`),
    and returns any other location as it is: for the orchestrator to apply to findings and results."""
    pages = {doc.path: doc for doc in documents if doc.meta.get("where")}

    def located(location: Location) -> Location:
        page = pages.get(location.file)
        section = None if page is None else where(page, location.line)
        return location if section is None else dataclasses.replace(location, section=section)

    return located
