"""Article drafts in plain text or Markdown: the reference list under its heading, and the body around it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from kratomref.model import Citation, Document, Location, Reference, TextLine
from kratomref.readers import intext, suppressions
from kratomref.readers.freetext import parse_citation
from kratomref.urls import find_urls

# Headings that open a reference list ("7. References", "REFERENCES:", "## Works Cited").
REFERENCE_HEADING_RE = re.compile(
    r"(?:\d+(?:\.\d+)*\.?\s+)?(?:references?(?:\s+list)?|bibliography|works\s+cited|sources(?:\s+cited)?"
    r"|literature\s+cited|cited\s+literature|literature|citations|notes\s+and\s+references"
    r"|references\s+and\s+notes|sources\s+and\s+references)\s*:?",
    re.IGNORECASE,
)
# Other section names that, written as a bare line, end a reference list in a plain-text draft.
SECTION_RE = re.compile(
    r"(?:\d+(?:\.\d+)*\.?\s+)?(?:appendix(?:\s+\w+)?|appendices|acknowledge?ments?|notes|footnotes|endnotes"
    r"|about\s+the\s+authors?|author\s+contributions|conflicts?\s+of\s+interest|competing\s+interests"
    r"|funding|disclosures?|further\s+reading|tables?|figures?|glossary|index)\s*:?",
    re.IGNORECASE,
)
_ATX_RE = re.compile(r"^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$")
_SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)\s*$")
_BOLD_RE = re.compile(r"^\s*(\*\*|__)(?P<text>[^*_].*?)\1\s*:?\s*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NUMBERED_RE = re.compile(r"^\s{0,3}(?:\[(\d+)\]|\((\d+)\)|(\d+)[.)])\s*(?=\S)")
_BULLET_RE = re.compile(r"^\s{0,3}[-*+•‣◦]\s+(?=\S)")
_COMMENT_RE = re.compile(r"<!--(.*?)-->")
_CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")
BOLD_LEVEL = 7  # a line that is all bold: weaker than any Markdown heading
BARE_LEVEL = 8  # a bare "References" line


@dataclass
class _Item:
    number: int | None
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, text without marker)


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


def _is_reference_heading(text: str) -> bool:
    return REFERENCE_HEADING_RE.fullmatch(re.sub(r"[*_]", "", text).strip()) is not None


def _is_other_section(text: str) -> bool:
    return SECTION_RE.fullmatch(re.sub(r"[*_]", "", text).strip()) is not None and not _is_reference_heading(text)


def _structure(lines: list[str]) -> tuple[list[tuple[int, int, int]], set[int]]:
    """Reference sections as (heading line index, first content index, end index), and code-block lines."""
    headings: list[tuple[int, int, str, int]] = []  # (index, level, text, span)
    code: set[int] = set()
    fence: str | None = None
    front_matter = bool(lines) and lines[0].strip() == "---"
    index = 0
    while index < len(lines):
        line = lines[index]
        if front_matter:
            if index > 0 and line.strip() in ("---", "..."):
                front_matter = False
            index += 1
            continue
        opening = _FENCE_RE.match(line)
        if fence is not None:
            code.add(index)
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            index += 1
            continue
        if opening:
            fence = opening.group(1)
            code.add(index)
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
    return sections, code


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


def _is_note(item: _Item) -> bool:
    raw = " ".join(text.strip() for _, text in item.lines)
    reference = parse_citation(raw, Location("", item.lines[0][0] + 1))
    return not (reference.authors or reference.doi or reference.urls)


_YEAR_RE = re.compile(r"\b(?:1[5-9]|20)\d\d\b|n\.\s?d\.")


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


def _body_links(path: str, lines: list[str], indexes: list[int], code: set[int]) -> list[tuple[Location, str]]:
    links: list[tuple[Location, str]] = []
    for index in indexes:
        if index in code or "://" not in lines[index]:
            continue
        # URLs inside `code spans` are examples, not links to check (as lychee does by default).
        line = _CODE_SPAN_RE.sub(lambda m: " " * len(m.group(0)), lines[index])
        for offset, url in find_urls(line):
            links.append((Location(path, index + 1, None, offset + 1), url))
    return links


def _reference(path: str, item: _Item, key: str, line_suppressions: dict[int, frozenset[str]]) -> Reference:
    raw = " ".join(text.strip() for _, text in item.lines).strip()
    first_line = item.lines[0][0] + 1
    last_line = item.lines[-1][0] + 1
    suppressed = suppressions.on_lines(line_suppressions, first_line, last_line)
    reference = parse_citation(raw, Location(path, first_line, key), suppressed)
    field_lines = dict(reference.field_lines)
    for name, value in reference.fields.items():
        probe = value.split()[0] if name == "url" else value
        for index, text in item.lines:
            if probe and probe in text:
                field_lines[name] = index + 1
                break
    return dataclasses.replace(reference, field_lines=field_lines)


def read_draft(path: str, text: str, fmt: str) -> Document:
    """Read a draft: references from its reference list(s), every other non-blank line as body."""
    lines = text.splitlines()
    sections, code = _structure(lines)
    line_suppressions, suppression_comments = _suppressions(lines)
    references: list[Reference] = []
    in_items: set[int] = set()
    keys: set[str] = set()
    for _heading_index, first, end in sections:
        items = _split_items(lines, first, end)
        for position, item in enumerate(items, start=1):
            number = item.number if item.number is not None else position
            key = f"ref-{number}"
            if key in keys:  # a second list numbered from 1 again
                key = f"ref-{len(references) + 1}"
                while key in keys:
                    key += "'"
            keys.add(key)
            in_items.update(index for index, _ in item.lines)
            references.append(_reference(path, item, key, line_suppressions))
    body_indexes = [i for i, line in enumerate(lines) if i not in in_items and line.strip()]
    body = tuple(TextLine(path, i + 1, lines[i]) for i in body_indexes)
    body_links = tuple(_body_links(path, lines, body_indexes, code))
    # In-text citations (issue 9) are filled here, from `body` and `references`.
    citations: tuple[Citation, ...] = intext.find_citations(body, references)
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
