"""Article drafts in plain text, Markdown or reStructuredText: the reference list under its heading, the body.

The body the rules see has no code and no math (kratomref.readers.intext.mask_lines). A reStructuredText
draft's footnotes and citations (`.. [1] …`, `.. [#note] …`, `.. [CIT2002] …`) under a reference heading are
its references, tied to `[1]_`, `[#note]_`, `[#]_` and `[CIT2002]_`. Works cited by identifier
(`[@doi:10.1/x]`, as Manubot writes) are references too (kratomref.readers.pandoc.identifier_references).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from kratomref import lazy
from kratomref.model import Citation, Document, Location, Reference, TextLine
from kratomref.readers import intext, pandoc, suppressions
from kratomref.readers.freetext import parse_citation
from kratomref.urls import find_urls

# Headings that open a reference list ("7. References", "REFERENCES:", "## Works Cited").
REFERENCE_HEADING_RE = lazy.regex(
    r"(?:\d+(?:\.\d+)*\.?\s+)?(?:references?(?:\s+list)?|bibliography|works\s+cited|sources(?:\s+cited)?"
    r"|literature\s+cited|cited\s+literature|literature|citations|notes\s+and\s+references"
    r"|references\s+and\s+notes|sources\s+and\s+references|(?:further|recommended|suggested|additional)\s+reading)\s*:?",
    re.IGNORECASE,
)
# Other section names that, written as a bare line, end a reference list in a plain-text draft.
SECTION_RE = lazy.regex(
    r"(?:\d+(?:\.\d+)*\.?\s+)?(?:appendix(?:\s+\w+)?|appendices|acknowledge?ments?|notes|footnotes|endnotes"
    r"|about\s+the\s+authors?|author\s+contributions|conflicts?\s+of\s+interest|competing\s+interests"
    r"|funding|disclosures?|tables?|figures?|glossary|index)\s*:?",
    re.IGNORECASE,
)
_ATX_RE = lazy.regex(r"^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$")
_SETEXT_RE = lazy.regex(r"^ {0,3}(=+|-+)\s*$")
_BOLD_RE = lazy.regex(r"^\s*(\*\*|__)(?P<text>[^*_].*?)\1\s*:?\s*$")
_NUMBERED_RE = lazy.regex(r"^\s{0,3}(?:\[(\d+)\]|\((\d+)\)|(\d+)[.)])\s*(?=\S)")
_BULLET_RE = lazy.regex(r"^\s{0,3}[-*+•‣◦]\s+(?=\S)")
_COMMENT_RE = lazy.regex(r"<!--(.*?)-->")
# A reStructuredText footnote or citation: ".. [1] text", ".. [#note] text", ".. [#] text", ".. [CIT2002] text".
_RST_TARGET_RE = lazy.regex(r"^(?P<indent> {0,3})\.\.\s+\[(?P<label>\d{1,4}|#[\w.:+-]{0,60}|\*"
                            r"|[A-Za-z_][\w.:+-]{0,60})\](?:\s+(?P<text>\S.*)|\s*)$")
# What gives a plain-text file away as reStructuredText: a footnote, a directive, a footnote reference.
_RST_SIGN_RE = lazy.regex(r"^\.\.\s+(?:\[[^\]\n]+\]\s|[\w-]+::)|\[(?:\d+|#[\w-]*)\]_", re.MULTILINE)
RST_EXTENSIONS = (".rst", ".rest")
BOLD_LEVEL = 7  # a line that is all bold: weaker than any Markdown heading
BARE_LEVEL = 8  # a bare "References" line


# A list of works to read, not of works cited: its items are references (checked like any), never "uncited".
READING_LIST_RE = lazy.regex(r"(?:\d+(?:\.\d+)*\.?\s+)?(?:further|recommended|suggested|additional)\s+reading\s*:?",
                             re.IGNORECASE)
READING_LIST_FIELD = "reading-list"  # Reference.fields key of an item of such a list
FOOTNOTE_FIELD = "rst-footnote"  # Reference.fields key of a reStructuredText footnote, where a bare link is idiomatic


@dataclass
class _Item:
    number: int | None
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, text without marker)
    reading: bool = False  # an item of a further-reading list
    footnote: bool = False  # a reStructuredText footnote or citation target (".. [1] http://...")


def _heading(lines: list[str], index: int) -> tuple[int, str, int] | None:
    """(level, text, lines it spans) of a heading starting at lines[index], or None."""
    line = lines[index]
    atx = _ATX_RE.match(line)
    if atx:
        return len(atx.group(1)), (atx.group(2) or "").strip(), 1
    if not line.strip():
        return None
    underlined = index + 1 < len(lines) and _SETEXT_RE.match(lines[index + 1]) and len(lines[index + 1].strip()) >= 2
    if underlined and not (_NUMBERED_RE.match(line) or _BULLET_RE.match(line) or line.startswith(("    ", "\t"))):
        return (1 if lines[index + 1].strip()[0] == "=" else 2), line.strip(), 2
    bold = _BOLD_RE.match(line)
    if bold and len(bold.group("text").split()) <= 8:
        return BOLD_LEVEL, bold.group("text").strip(" :"), 1
    stripped = line.strip()
    if REFERENCE_HEADING_RE.fullmatch(stripped) or SECTION_RE.fullmatch(stripped):
        return BARE_LEVEL, stripped, 1
    return None


# A reference heading that names more than the list: "References and FAQs", "Sources & further reading".
_COMBINED_HEADING_RE = lazy.regex(
    r"(?:\d+(?:\.\d+)*\.?\s+)?(?:references?|bibliography|works\s+cited|sources|citations)"
    r"\s*(?:,|&|\band\b)\s*[\w'’ ,&-]{1,40}:?", re.IGNORECASE)


def _is_reference_heading(text: str) -> bool:
    plain = re.sub(r"[*_]", "", text).strip()
    return REFERENCE_HEADING_RE.fullmatch(plain) is not None or _COMBINED_HEADING_RE.fullmatch(plain) is not None


def _is_other_section(text: str) -> bool:
    return SECTION_RE.fullmatch(re.sub(r"[*_]", "", text).strip()) is not None and not _is_reference_heading(text)


def _structure(lines: list[str], masked: Sequence[str | None]) -> list[tuple[int, int, int]]:
    """Reference sections as (heading line index, first content index, end index); a heading inside code
    or math (masked None) is none."""
    headings: list[tuple[int, int, str, int]] = []  # (index, level, text, span)
    front_matter = bool(lines) and lines[0].strip() == "---"
    index = 0
    while index < len(lines):
        line = lines[index]
        if front_matter:
            if index > 0 and line.strip() in ("---", "..."):
                front_matter = False
            index += 1
            continue
        if masked[index] is None:
            index += 1
            continue
        heading = _heading(lines, index)
        if heading:
            level, text, span = heading
            headings.append((index, level, text, span))
            index += span
            continue
        index += 1
    sections: list[tuple[int, int, int]] = []
    for position, (index, level, text, span) in enumerate(headings):
        if not _is_reference_heading(text):
            continue
        end = len(lines)
        for later_index, later_level, later_text, _ in headings[position + 1 :]:
            # A heading that names another section ends the list at any level: a draft may underline
            # "Works Cited" (level 1) and write "## Appendix" after it.
            if later_level <= level or _is_other_section(later_text):
                end = later_index
                break
        if not sections or index >= sections[-1][2]:
            sections.append((index, index + span, end))
    return sections


def _marker(line: str) -> tuple[int | None, str] | None:
    """(number, text after the marker) when line starts a list item, else None."""
    numbered = _NUMBERED_RE.match(line)
    if numbered:
        number = next(g for g in numbered.groups() if g is not None)
        return int(number), line[numbered.end() :]
    bullet = _BULLET_RE.match(line)
    if bullet:
        return None, line[bullet.end() :]
    return None


def _without_comments(line: str) -> str:
    return _COMMENT_RE.sub(" ", line)


def _split_items(lines: list[str], first: int, end: int) -> list[_Item]:
    """The list items of a reference section; its other lines (a note after the list) stay body text."""
    content = [(i, _without_comments(lines[i])) for i in range(first, end)]
    marked = any(_marker(text) for _, text in content if text.strip())
    items: list[_Item] = []
    current: _Item | None = None
    blank_before = False
    if marked:
        for index, text in content:
            if not text.strip():
                blank_before = True
                continue
            started = _marker(text)
            if started:
                current = _Item(started[0], [(index, started[1])])
                items.append(current)
            elif current is not None and (not blank_before or text[:1] in (" ", "\t")):
                current.lines.append((index, text))
            else:
                current = None
            blank_before = False
        return items
    paragraph: list[tuple[int, str]] = []
    for index, text in [*content, (end, "")]:
        if text.strip():
            paragraph.append((index, text))
            continue
        if paragraph:
            items.extend(_paragraph_items(paragraph))
            paragraph = []
    # A closing paragraph that names no author, link or DOI ("All links accessed in May 2024.") is a note
    # about the list, not an item of it.
    while len(items) > 1 and _is_note(items[-1]) and not all(_is_note(item) for item in items[:-1]):
        items.pop()
    return items


# What a reference has that an FAQ answer, a step or a tip has not. Strong: a link or DOI, a year in
# parentheses or before a volume, a volume(issue), pages. Weak: a bare year, a venue in italics, a statute or
# a case ("§ 7-108", "Granger v. Millbrook").
_STRONG_SIGN_RE = lazy.regex(r"https?://|www\.|\bdoi:|\b10\.\d{4,9}/|\((?:1[5-9]|20)\d\d[a-z]?\)|\b(?:1[5-9]|20)\d\d;"
                             r"|\b\d+\s?\(\d+\)|\bpp?\.\s?\d", re.IGNORECASE)
_WEAK_SIGN_RE = lazy.regex(
    r"\b(?:1[5-9]|20)[\dX?]{2}[a-z]?\b|n\.\s?d\.|\*[^*]+\*|\b_[^_]+_\b|§|\bU\.S\.C\.|\bC\.F\.R\."
    r"|\b[A-Z][\w.'’-]+\s+v\.\s+[A-Z]|\bet\s+al\b|\b\d+\s*:\s*\d+|\b(?:journal|review|proceedings|press)\b"
    r"|\bretrieved\b|\baccessed\b", re.IGNORECASE)
# An author as references name one: "Smith J.", "Smith, J.", "Doe, J. A.", "Hassan Z, Singh D."
_AUTHOR_SIGN_RE = lazy.regex(r"^[A-Z][\w'’-]+,?\s+(?:[A-Z]\.?\s?){1,3}(?:[,.&]|and\b)")
# An FAQ item: a question opened by a question word ("**Can my landlord charge for repainting?**",
# "How many long runs should I do?", "Q: ..."), not a title that happens to ask one.
_QUESTION_RE = lazy.regex(
    r"^(?:Q\s*\d*\s*[:.]|Question\b)|^(?:how|what|why|when|where|which|who|whom|whose|can|could|should|shall|is|are"
    r"|do|does|did|will|would|may|might|must|has|have)\b[^?]{0,200}\?", re.IGNORECASE)


def looks_like_reference(item: _Item) -> bool:
    """True for a list item that reads as a reference: not an FAQ's question, and a link or DOI, a year in
    parentheses, a volume and issue, a year, a venue in italics, an author as references write one, a statute
    or a case. A step, a tip or an answer has none of them."""
    first = item.lines[0][1].strip().lstrip("*_ ")
    if _QUESTION_RE.match(first):
        return False
    raw = " ".join(text.strip() for _, text in item.lines)
    return (_STRONG_SIGN_RE.search(raw) is not None or _WEAK_SIGN_RE.search(raw) is not None
            or _AUTHOR_SIGN_RE.match(first) is not None)


def reference_items(items: list[_Item]) -> list[_Item]:
    """The items of a list under a reference heading that are references: the list ends after its last item
    that looks like one (an FAQ numbered on from the references is text), and a list none of whose items is
    one (FAQs, steps, tips under a "Sources" heading) is no reference list at all. An undated agency page in
    the middle of a list stays a reference."""
    last = max((index for index, item in enumerate(items) if looks_like_reference(item)), default=-1)
    return items[: last + 1]


def _is_note(item: _Item) -> bool:
    raw = " ".join(text.strip() for _, text in item.lines)
    reference = parse_citation(raw, Location("", item.lines[0][0] + 1))
    return not (reference.authors or reference.doi or reference.urls)


_YEAR_RE = lazy.regex(r"\b(?:1[5-9]|20)\d\d\b|n\.\s?d\.")


def _paragraph_items(paragraph: list[tuple[int, str]]) -> list[_Item]:
    """A paragraph is one item, unless it is a hanging-indent list or one citation per line."""
    hanging = any(text[:1] in (" ", "\t") for _, text in paragraph[1:])
    one_per_line = len(paragraph) > 1 and all(_YEAR_RE.search(text) for _, text in paragraph)
    if hanging:
        items: list[_Item] = []
        for index, text in paragraph:
            if text[:1] in (" ", "\t") and items:
                items[-1].lines.append((index, text))
            else:
                items.append(_Item(None, [(index, text)]))
        return items
    if one_per_line and not hanging:
        return [_Item(None, [(index, text)]) for index, text in paragraph]
    return [_Item(None, list(paragraph))]


def _suppressions(lines: list[str]) -> tuple[dict[int, frozenset[str]], dict[int, dict[str, int]]]:
    """line -> selectors of `<!-- kratomref: ignore[...] -->` comments (1-based lines).

    A comment with text beside it applies to its own line; a comment alone on its line applies to
    the next non-blank line.
    Also line -> selector -> comment line for each comment alone on its line
    (Document.suppression_comments): where an unused one is reported.
    """
    found: dict[int, frozenset[str]] = {}
    origins: dict[int, dict[str, int]] = {}
    for index, line in enumerate(lines):
        if "kratomref" not in line:
            continue
        for comment in _COMMENT_RE.finditer(line):
            selectors = suppressions.directive(comment.group(1))
            if selectors is None:
                continue
            target = index
            if not _without_comments(line).strip():
                target = index + 1
                while target < len(lines) and not _without_comments(lines[target]).strip():
                    target += 1
            suppressions.merge(found, target + 1, selectors)
            suppressions.note_comment(origins, target + 1, index + 1, selectors)
    return found, origins


def _body_links(path: str, masked: Sequence[str | None], indexes: list[int]) -> list[tuple[Location, str]]:
    """The URLs of the body's prose: not those in code or math (examples, not links to check, as lychee
    does by default)."""
    links: list[tuple[Location, str]] = []
    for index in indexes:
        line = masked[index]
        if line is None or "://" not in line:
            continue
        for offset, url in find_urls(line):
            links.append((Location(path, index + 1, None, offset + 1), url))
    return links


def _reference(path: str, item: _Item, key: str, line_suppressions: dict[int, frozenset[str]]) -> Reference:
    raw = " ".join(text.strip() for _, text in item.lines).strip()
    first_line = item.lines[0][0] + 1
    last_line = item.lines[-1][0] + 1
    suppressed = suppressions.on_lines(line_suppressions, first_line, last_line)
    reference = parse_citation(raw, Location(path, first_line, key), suppressed)
    marks = {name: "1" for name, on in ((READING_LIST_FIELD, item.reading), (FOOTNOTE_FIELD, item.footnote)) if on}
    if marks:
        reference = dataclasses.replace(reference, fields={**reference.fields, **marks})
    field_lines = dict(reference.field_lines)
    for name, value in reference.fields.items():
        probe = value.split()[0] if name == "url" else value
        for index, text in item.lines:
            if probe and probe in text:
                field_lines[name] = index + 1
                break
    return dataclasses.replace(reference, field_lines=field_lines)


@dataclass
class _Footnote:
    """A reStructuredText footnote or citation: its label and its lines (the first without ".. [label]")."""

    label: str
    lines: list[tuple[int, str]]


def is_rst(path: str, text: str, fmt: str) -> bool:
    """True for reStructuredText: by its extension, or a plain-text file with rst footnotes or directives."""
    extension = os.path.splitext(path)[1].lower()
    return extension in RST_EXTENSIONS or (fmt == "text" and _RST_SIGN_RE.search(text) is not None)


def _footnotes(lines: list[str], masked: Sequence[str | None]) -> list[_Footnote]:
    """Every footnote and citation of a reStructuredText text, with its indented continuation lines."""
    found: list[_Footnote] = []
    current: _Footnote | None = None
    indent = 0
    for index, line in enumerate(lines):
        if masked[index] is None:
            current = None
            continue
        target = _RST_TARGET_RE.match(_without_comments(line))
        if target:
            current = _Footnote(target.group("label"), [(index, target.group("text") or "")])
            indent = len(target.group("indent"))
            found.append(current)
            continue
        if current is None:
            continue
        if line.strip() and len(line) - len(line.lstrip()) > indent:
            current.lines.append((index, line))
        elif line.strip():
            current = None
    return found


@dataclass
class _RstNotes:
    """How a reStructuredText text's footnote references are tied: label -> key (None: a note, not a
    reference), and the keys of the anonymous auto-numbered ([#]) and symbol ([*]) footnotes in order."""

    labels: dict[str, str | None] = field(default_factory=dict)
    anonymous: dict[str, list[str | None]] = field(default_factory=lambda: {"#": [], "*": []})


def _rst_items(footnotes: list[_Footnote], sections: list[tuple[int, int, int]]) -> tuple[list[tuple[str, _Item]],
                                                                                           _RstNotes]:
    """(key, item) of the footnotes that are references, and how references in the text tie to them.

    A footnote under a reference heading, and a citation ([CIT2002]) anywhere, is a reference; another
    footnote is a note. Keys follow the number docutils prints: [1] is ref-1, an auto-numbered footnote
    takes the next number no footnote has, a citation or symbol the next one after all of them.
    """
    manual = {int(f.label) for f in footnotes if f.label.isdigit()}
    numbers: list[int] = []
    taken = set(manual)
    next_auto = 1
    for footnote in footnotes:
        if footnote.label.isdigit():
            numbers.append(int(footnote.label))
            continue
        if footnote.label.startswith("#"):
            while next_auto in taken:
                next_auto += 1
            taken.add(next_auto)
            numbers.append(next_auto)
            continue
        numbers.append(0)  # numbered below, after every footnote
    after = max(taken, default=0)
    for position, number in enumerate(numbers):
        if number == 0:
            after += 1
            numbers[position] = after
    notes = _RstNotes()
    items: list[tuple[str, _Item]] = []
    for footnote, number in zip(footnotes, numbers, strict=True):
        first = footnote.lines[0][0]
        citation = not (footnote.label.isdigit() or footnote.label[0] in "#*")
        reference = citation or any(start <= first < end for _, start, end in sections)
        key = f"ref-{number}" if reference else None
        if footnote.label in ("#", "*"):
            notes.anonymous[footnote.label].append(key)
        else:
            notes.labels.setdefault(footnote.label, key)
        if key is not None:
            items.append((key, _Item(number, footnote.lines, footnote=True)))
    return items, notes


def _list_items(lines: list[str], sections: list[tuple[int, int, int]]) -> list[tuple[str, _Item]]:
    """(key, item) of every item of the reference lists: "ref-N" after its written number or its place."""
    found: list[tuple[str, _Item]] = []
    keys: set[str] = set()
    for heading_index, first, end in sections:
        heading = _heading(lines, heading_index)
        reading = heading is not None and READING_LIST_RE.fullmatch(re.sub(r"[*_]", "", heading[1]).strip()) is not None
        for position, item in enumerate(reference_items(_split_items(lines, first, end)), start=1):
            item.reading = reading
            number = item.number if item.number is not None else position
            key = f"ref-{number}"
            if key in keys:  # a second list numbered from 1 again
                key = f"ref-{len(found) + 1}"
                while key in keys:
                    key += "'"
            keys.add(key)
            found.append((key, item))
    return found


def read_draft(path: str, text: str, fmt: str) -> Document:
    """Read a draft: references from its reference list(s), every other non-blank line as body."""
    lines = text.splitlines()
    rst = is_rst(path, text, fmt)
    masked = intext.mask_lines(lines, rst=rst)
    sections = _structure(lines, masked)
    line_suppressions, suppression_comments = _suppressions(lines)
    notes: _RstNotes | None = None
    items: list[tuple[str, _Item]] = []
    if rst:
        footnotes = _footnotes(lines, masked)
        items, notes = _rst_items(footnotes, sections)
        with_footnotes = {index for index, start, end in sections
                          if any(start <= f.lines[0][0] < end for f in footnotes)}
        # A reference section written as a plain list rather than as footnotes is read as one.
        keys = {key for key, _ in items}
        for key, item in _list_items(lines, [s for s in sections if s[0] not in with_footnotes]):
            while key in keys:  # a list numbered like the footnotes
                key += "'"
            keys.add(key)
            items.append((key, item))
        items.sort(key=lambda pair: pair[1].lines[0][0])
    else:
        items = _list_items(lines, sections)
    references = [_reference(path, item, key, line_suppressions) for key, item in items]
    in_items = {index for _, item in items for index, _ in item.lines}
    body_indexes = [i for i, line in enumerate(masked) if i not in in_items and line is not None and line.strip()]
    body = tuple(TextLine(path, i + 1, masked[i] or "") for i in body_indexes)
    body_links = tuple(_body_links(path, masked, body_indexes))
    # In-text citations (issue 9) are filled here, from `body` and `references`.
    citations: tuple[Citation, ...] = intext.find_citations(
        body, references, rst_labels=notes.labels if notes else None, rst_anonymous=notes.anonymous if notes else None)
    # Works cited by identifier ([@doi:…]) are references of the draft, each tied to its citations.
    cited, by_identifier = pandoc.identifier_references(body)
    if cited:
        if not references:  # no numbered list: "10<sup>60</sup>" or "[3]" is not a citation of one
            citations = tuple(c for c in citations if c.style != "numeric")
        references += cited
        citations = tuple(sorted((*citations, *by_identifier),
                                 key=lambda c: (c.location.line or 0, c.location.column or 0)))
    return Document(
        path=path,
        format=fmt,
        references=tuple(references),
        body=body,
        body_links=body_links,
        citations=citations,
        suppressions=line_suppressions,
        suppression_comments=suppression_comments,
        meta={"references-heading-line": str(sections[0][0] + 1)} if sections else {},
    )


def read_text(path: str, text: str) -> Document:
    """Read a plain-text draft."""
    return read_draft(path, text, "text")


def read_markdown(path: str, text: str) -> Document:
    """Read a Markdown draft."""
    return read_draft(path, text, "markdown")
