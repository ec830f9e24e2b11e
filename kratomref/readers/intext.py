"""In-text citations of a draft with its own reference list: numeric ([1], [2-4], (1), ¹) and author-year.

Also what never holds a citation, a placeholder or a claim, for every reader and rule of drafts: code
(fenced, indented, `spans`, <pre>, reStructuredText literal blocks) and math ($…$, $$…$$, \\(…\\), \\[…\\]).
`mask_lines` takes those out of a draft's lines once, so the body the rules see has none of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from kratomref import lazy
from kratomref.model import Citation, Location, Reference, TextLine
from kratomref.readers.blanking import blank_spans
from kratomref.urls import find_urls

# [1], [1, 3], [2-4], [1–3, 7]: brackets holding only numbers, commas and ranges.
_BRACKET_RE = lazy.regex(r"(?<![\w\]!])\[(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\](?![(:\[])")
# (1), (2, 5), (3-4) directly after a word or punctuation: "shown (3)."; a bare "(1)" opening a line is a list.
# Followed by punctuation or the line's end: "two steps: (1) extract, (2) filter" is an enumeration.
_PAREN_RE = lazy.regex(r"(?<=[A-Za-z.,;)\]])\s?\((\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\)(?=[.,;:]|\s*$)")
# Superscript digits after a word: Unicode ¹²³, Markdown ^1^, HTML <sup>1</sup>.
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_UNICODE_SUP_RE = lazy.regex(r"(?<=[A-Za-z.,;:)])([" + _SUPERSCRIPTS + r"][" + _SUPERSCRIPTS + r"⁻,]*)")
# Not after a digit: "10^6^" and "10<sup>60</sup>" are powers of ten.
_MARKDOWN_SUP_RE = lazy.regex(r"(?<!\d)\^(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\^")
# A unit squared or cubed is not a citation: "5 km²", "12 m³/s", "10 cm²".
_UNIT_BEFORE_RE = lazy.regex(r"\d\s*[A-Za-zµ]{1,3}$")
_HTML_SUP_RE = lazy.regex(r"(?<!\d)<sup>\s*\[?(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\]?\s*</sup>", re.IGNORECASE)
# reStructuredText footnote and citation references: [1]_, [#]_, [#note]_, [*]_, [CIT2002]_.
RST_REFERENCE_RE = lazy.regex(r"(?<![\w\]\\])\[(?P<label>\d{1,4}|#[\w.:+-]{0,60}|\*|[A-Za-z_][\w.:+-]{0,60})\]_(?!\w)")
# A surname: capitalised, possibly with particles/hyphens ("van der Berg", "O'Neil", "Al-Hassan").
# The counts are bounded and a name starts a word: on a long run of capitals or of "Ab,Ab,..." a pattern
# that could start anywhere and run to the end would take quadratic time.
_NAME = r"(?:(?:van|von|de|der|den|la|le|du|da|di|al)\s+){0,3}[A-Z][\w'’\-]+"
_ET_AL = r"(?:,?\s+et\s+al\b\.?)"  # "Lee et al.", "Lee, et al.", "Lee et al"
_AUTHORS = (r"(?<![\w'’\-])" + _NAME + r"(?:" + _ET_AL + r"|\s*(?:&|and)\s*" + _NAME + _ET_AL + r"?"
            + r"|(?:,\s*" + _NAME + r"){1,20},?\s*(?:&|and)\s*" + _NAME + _ET_AL + r"?)?")
_YEAR = r"(?:1[5-9]\d\d|20\d\d)[a-z]?"
# One author-year item inside parentheses: "Smith, 2019", "Smith & Jones 2019a", "see Lee et al., 2020".
_AY_ITEM_RE = lazy.regex(r"(?P<authors>" + _AUTHORS + r"),?\s+(?P<year>" + _YEAR + r")(?:,\s*(?:p|pp)\.\s*[\d\-–]+)?")
# More years of the same author after an item: "(Smith, 2019a, 2019b)", "(Smith 2019, 2021)".
_MORE_YEARS_RE = lazy.regex(r",\s*(?P<year>" + _YEAR + r")\b")
# A part that is only a year continues the previous part's author: "(Smith, 2019; 2020)".
_YEAR_ONLY_RE = lazy.regex(r"^\s*(?P<year>" + _YEAR + r")\s*$")
# A parenthesis with no parenthesis inside, read for author-year items when _HAS_YEAR_RE finds a year in it. One
# pattern for both ("(" ... year ... ")") scans to the end of the text again from every word of an unclosed
# parenthesis full of years (quadratic time).
_PAREN_GROUP_RE = lazy.regex(r"\(([^()]*)\)")
_HAS_YEAR_RE = lazy.regex(r"\b" + _YEAR + r"\b")
# Narrative form: "Smith (2019)", "Smith and Jones (2019)", "Lee et al. (2020a)".
_NARRATIVE_RE = lazy.regex(r"(?P<authors>" + _AUTHORS + r")\s+\(\s*(?P<year>" + _YEAR + r")\s*\)")
# The whole text of a link that is an author-year citation: "Kingma & Welling, 2014", "Vaswani, et al., 2017",
# "Junnan Li et al. 2020" (given names before the surname), "Zhang et al. (2017)", "Luong2015".
_LINK_AY_RE = lazy.regex(r"\s*\(?\s*(?:[A-Z][\w'’\-]*\.?\s+){0,2}?(?P<authors>" + _AUTHORS + r")\s*,?\s*\(?(?P<year>"
                         + _YEAR + r")\)?\s*\)?[.,;]?\s*")
# A Markdown link [text](target) or [text][label] (not an image). The text and target hold no brackets,
# so each scan stops at the next bracket and a long line is read in linear time.
_LINK_RE = lazy.regex(r"(?<![!\\])\[(?P<text>[^\[\]\n]{1,300})\]"
                      r"(?:\((?P<target>[^()\[\]\n]*(?:\([^()\[\]\n]*\)[^()\[\]\n]*)*)\)|\[(?P<label>[^\[\]\n]{0,100})\])")
_FENCE_RE = lazy.regex(r"^ {0,3}(`{3,}|~{3,})")
# A URL of any scheme (RFC 3986: a letter, then letters, digits, "+", "-", "."). The scheme starts where a
# run of scheme characters starts, so a long run of non-space characters is scanned once, not once per
# character (kratomref.urls finds http(s) and ftp links to check; this blanks every URL out of prose).
URL_RE = lazy.regex(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://\S+")
# Capitalised words that open a parenthesis but are not surnames ("(In 2019 ...", "(See 2020)"), and nouns
# that name a thing with its year ("the Hate Speech Dataset (2017)", "the Census (2020)").
NOT_SURNAMES = frozenset({
    "In", "See", "Since", "By", "From", "Until", "Before", "After", "During", "Circa", "Around", "As", "Of",
    "The", "A", "An", "Spring", "Summer", "Autumn", "Fall", "Winter", "January", "February", "March", "April",
    "May", "June", "July", "August", "September", "October", "November", "December", "Jan", "Feb", "Mar",
    "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Accessed", "Retrieved", "Updated",
    "Published", "Version", "Figure", "Fig", "Table", "Eq", "Section", "Chapter", "Vol", "No", "Est", "Founded",
    "Dataset", "Datasets", "Data", "Corpus", "Benchmark", "Challenge", "Competition", "Workshop", "Conference",
    "Symposium", "Edition", "Release", "Census", "Act", "Report", "Survey", "Update", "Prize", "Award", "Cup",
    "Olympics", "Games", "Championship", "Election", "War", "Classification", "Task", "Track",
})

# --- Code and math: what never holds a citation, a placeholder or a claim ------------------------------

# Inline: `code`, <code>…</code>, $$…$$, $…$ (pandoc's rule: no space inside the dollars, no digit after the
# closing one, so "$5 and $10" is money), \(…\) and \[…\]. No body may cross its own opening, so a line full
# of openings without closings is still scanned in linear time.
_INLINE_RE = lazy.regex(
    r"(?<!`)(`{1,16})(?!`)(?:(?!\1).)+?\1(?!`)"
    r"|<code\b[^<>]*>(?:[^<]|<(?!/?code\b))*</code>"
    r"|(?<![\\$])\$\$(?:[^$]|\$(?!\$))+?\$\$"
    r"|(?<![\\$\w])\$(?=[^\s$])(?:[^$\\\n]|\\[^\n])+?(?<=[^\s\\])\$(?![\d$])"
    r"|\\\((?:[^\\\n]|\\(?![()]))+?\\\)"
    r"|\\\[(?:[^\\\n]|\\(?![\[\]]))+?\\\]",
    re.IGNORECASE,
)
_DISPLAY_DOLLARS_RE = lazy.regex(r"(?<![\\$])\$\$(?!\$)")
_MATH_ENV_RE = lazy.regex(r"^\s*\\begin\{(?P<env>equation|align|alignat|gather|multline|eqnarray|displaymath"
                          r"|math)\*?\}")
_BRACKET_MATH_RE = lazy.regex(r"^\s*\\\[(?!.*\\\])")  # \[ opening display math that closes on a later line
_HTML_BLOCK_RE = lazy.regex(r"<(?P<tag>pre|script|style)(?=[\s>])(?![^<]*</(?P=tag)>)", re.IGNORECASE)
_LIQUID_RE = lazy.regex(r"\{%-?\s*(?P<tag>highlight|comment)\b")
# reStructuredText: a directive whose content is code or math, a comment, a doctest block.
_RST_LITERAL_DIRECTIVE_RE = lazy.regex(
    r"^(?P<indent>\s*)\.\.\s+(?:code-block|code|sourcecode|math|doctest|testcode|testoutput|testsetup"
    r"|productionlist|raw|parsed-literal|literalinclude|highlight|graphviz|csv-table)::", re.IGNORECASE)
_RST_COMMENT_RE = lazy.regex(r"^(?P<indent>\s*)\.\.(?:\s*$|\s+(?!\[|_|\||[\w:.+-]+::))")


_CLOSED_KINDS = frozenset({"dollars", "bracket", "env", "html", "liquid"})  # blocks that end at a mark
_END_ENV_RE = lazy.regex(r"\\end\{(\w+)")
_END_HTML_RE = lazy.regex(r"</(pre|script|style)\b", re.IGNORECASE)
_END_LIQUID_RE = lazy.regex(r"\{%-?\s*end(highlight|comment)\b")
# What a line must hold to open a block: indentation, a fence, a dollar, a backslash, a tag, an rst "..".
_MAY_OPEN_RE = lazy.regex(r"^[ \t]|[`~$\\<{>]|^\s*\.\.")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _blank(text: str, start: int, end: int) -> str:
    """text[start:end] blanked out. When that is where the line's text begins, its first character stays, so
    that the line does not turn into an indented code block ("`pkg` does x" is "`     does x", not "      ")."""
    if text[:start].strip() or not text[end:].strip():
        return text[:start] + " " * (end - start) + text[end:]
    return text[:start] + text[start] + " " * (end - start - 1) + text[end:]


def mask_inline(text: str) -> str:
    """text with code spans and inline math blanked out (same length, so columns still hold); a span that
    opens the line keeps its first character (see _blank)."""
    if not any(c in text for c in "`<$\\"):
        return text
    first = len(text) - len(text.lstrip())
    last = len(text.rstrip())

    def blanked(match: re.Match[str]) -> str:
        if match.start() == first and match.end() < last:
            return match.group(0)[0] + " " * (len(match.group(0)) - 1)
        return " " * len(match.group(0))

    return _INLINE_RE.sub(blanked, text)


@dataclass
class _Block:
    """The code or math block a line is in: how it ends."""

    kind: str  # "fence", "dollars", "bracket", "env", "html", "liquid", "indented", "rst"
    end: str = ""  # the fence, the environment or the tag that closes it
    indent: int = 0  # rst: a line indented this much or less (and not blank) ends the block


def _opening(line: str, inline: str, previous: str | None, previous_code: bool, rst: bool) -> _Block | None:
    """The block line opens (it is the block's first line), or None. inline: the line after mask_inline."""
    if not _MAY_OPEN_RE.search(line):
        return None
    fence = _FENCE_RE.match(line)
    if fence:
        return _Block("fence", fence.group(1))
    if "$$" in inline and len(_DISPLAY_DOLLARS_RE.findall(inline)) % 2 == 1:
        return _Block("dollars")
    env = _MATH_ENV_RE.match(line)
    if env and f"\\end{{{env.group('env')}" not in line:
        return _Block("env", env.group("env"))
    if _BRACKET_MATH_RE.match(line):
        return _Block("bracket")
    html = _HTML_BLOCK_RE.search(line)
    if html:
        return _Block("html", html.group("tag").lower())
    liquid = _LIQUID_RE.search(line)
    if liquid and not re.search(r"\{%-?\s*end" + liquid.group("tag") + r"\b", line):
        return _Block("liquid", liquid.group("tag"))
    if rst:
        directive = _RST_LITERAL_DIRECTIVE_RE.match(line) or _RST_COMMENT_RE.match(line)
        if directive:
            return _Block("rst", indent=len(directive.group("indent")))
        if line.lstrip().startswith(">>>") and (previous is None or not previous.strip()):
            return _Block("doctest")
    elif line.startswith(("    ", "\t")) and (previous is None or not previous.strip() or previous_code):
        return _Block("indented")
    return None


def _closes(block: _Block, line: str) -> bool:
    """True when line is the last line of block (it holds the closing fence, dollars, tag...)."""
    if block.kind == "fence":
        fence = _FENCE_RE.match(line)
        return fence is not None and fence.group(1)[0] == block.end[0] and len(fence.group(1)) >= len(block.end)
    if block.kind == "dollars":
        return len(_DISPLAY_DOLLARS_RE.findall(line)) % 2 == 1
    if block.kind == "env":
        return f"\\end{{{block.end}" in line
    if block.kind == "bracket":
        return "\\]" in line
    if block.kind == "html":
        return f"</{block.end}" in line.lower()
    if block.kind == "liquid":
        return re.search(r"\{%-?\s*end" + block.end + r"\b", line) is not None
    return False


def _continues(block: _Block, line: str) -> bool:
    """For blocks that end by indentation (indented code, rst literals, doctests): line is still inside."""
    if block.kind == "indented":
        return not line.strip() or line.startswith(("    ", "\t"))
    if block.kind == "doctest":
        return bool(line.strip())
    return not line.strip() or _indent(line) > block.indent


def _closing_key(block: _Block) -> str:
    return f"{block.kind}:{block.end}"


def _last_closings(lines: Sequence[str]) -> dict[str, int]:
    """For each kind of block that ends at a closing mark: the index of the last line holding that mark. A
    block opened after it never closes, and is then no block: a stray "$$" or "<pre" does not swallow the rest."""
    last: dict[str, int] = {}
    for index, line in enumerate(lines):
        if "$$" in line and len(_DISPLAY_DOLLARS_RE.findall(line)) % 2 == 1:
            last["dollars:"] = index
        if "\\]" in line:
            last["bracket:"] = index
        if "\\end" in line:
            for env in _END_ENV_RE.findall(line):
                last[f"env:{env}"] = index
        if "</" in line:
            for tag in _END_HTML_RE.findall(line):
                last[f"html:{tag.lower()}"] = index
        if "{%" in line:
            for tag in _END_LIQUID_RE.findall(line):
                last[f"liquid:{tag}"] = index
    return last


def mask_lines(lines: Sequence[str], rst: bool = False) -> list[str | None]:
    """Each line with its code spans and inline math blanked, or None when the whole line is code or math.

    None: a fenced code block with its fences, an indented code block (after a blank line), display math
    ($$ … $$ over several lines, \\[ … \\], \\begin{equation} … \\end{equation}), an HTML <pre>, <script> or
    <style> block, a Liquid {% highlight %} block; with rst, a literal block (an indented block after a
    paragraph ending in "::"), the content of a code, math or raw directive, a comment and a doctest block.
    """
    masked: list[str | None] = []
    block: _Block | None = None
    literal_after: int | None = None  # rst: the indent of a paragraph that ended in "::"
    last_closing = _last_closings(lines)
    for index, line in enumerate(lines):
        previous = lines[index - 1] if index else None
        previous_code = bool(masked) and masked[-1] is None
        if block is not None and block.kind in ("indented", "rst", "doctest"):
            if _continues(block, line):
                masked.append(None if line.strip() else "")
                continue
            block = None
        if block is not None:
            if not _closes(block, line):
                masked.append(None)
                continue
            if block.kind == "dollars":  # the text after the closing $$ is prose
                closing = _DISPLAY_DOLLARS_RE.search(line)
                end = closing.end() if closing else len(line)
                masked.append(_blank(line[:end] + mask_inline(line[end:]), 0, end))
            else:
                masked.append(None)
            block = None
            continue
        if rst and literal_after is not None:
            if not line.strip():
                masked.append("")
                continue
            if _indent(line) > literal_after:
                block = _Block("rst", indent=literal_after)
                masked.append(None)
                literal_after = None
                continue
            literal_after = None
        inline = mask_inline(line)
        block = _opening(line, inline, previous, previous_code, rst)
        if block is not None and block.kind in _CLOSED_KINDS and last_closing.get(_closing_key(block), -1) <= index:
            block = None  # it never closes
        if block is not None:
            if block.kind == "dollars":  # the text before the opening $$ is prose
                opening = list(_DISPLAY_DOLLARS_RE.finditer(inline))[-1].start()
                masked.append(inline[:opening] + " " * (len(line) - opening))
                continue
            masked.append(None)
            if block.kind == "html" and _closes(block, line):  # "<pre><code>x</code></pre>" on one line
                block = None
            continue
        if rst and line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            literal_after = _indent(line)
        masked.append(inline)
    return masked


def numbers(spec: str) -> list[int]:
    """The numbers of "1, 3-5": [1, 3, 4, 5]. A reversed or huge range is kept as its two ends."""
    found: list[int] = []
    for part in re.split(r"\s*,\s*", spec.strip()):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            found.extend(range(low, high + 1) if 0 < high - low <= 50 else (low, high))
        elif part.isdigit():
            found.append(int(part))
    return found


def _superscript_number(text: str) -> str:
    return text.translate(str.maketrans(_SUPERSCRIPTS + "⁻", "0123456789-"))


def code_lines(body: Sequence[TextLine]) -> set[int]:
    """Line numbers of body lines inside code or math blocks (see mask_lines), for a body read without it."""
    code: set[int] = set()
    last_line = 0
    numbered: list[tuple[int, str]] = []
    for line in body:  # the body keeps no blank lines: a gap in the numbers is one
        if line.line > last_line + 1 and numbered:
            numbered.append((last_line + 1, ""))
        numbered.append((line.line, line.text))
        last_line = line.line
    for (number, _), masked in zip(numbered, mask_lines([text for _, text in numbered]), strict=True):
        if masked is None:
            code.add(number)
    return code


def prose(text: str) -> str:
    """A line with code spans, inline math and URLs blanked out (same length, so columns still hold)."""
    return URL_RE.sub(lambda m: " " * len(m.group(0)), mask_inline(text))


@dataclass(frozen=True)
class _Link:
    start: int
    end: int
    text: str
    target: str


def _links(text: str) -> tuple[str, list[_Link]]:
    """text with each Markdown link replaced by its text (brackets and target blanked), and the links."""
    found: list[_Link] = []
    pieces: list[str] = []
    last = 0
    for match in _LINK_RE.finditer(text):
        found.append(_Link(match.start(), match.end(), match.group("text"), (match.group("target") or "").strip()))
        pieces.append(text[last : match.start()])
        pieces.append(" " + match.group("text") + " " * (match.end() - match.end("text")))
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces), found


def _first_surname(authors: str) -> str:
    first = re.split(r",?\s+et\s+al|\s*(?:&|\band\b|,)\s*", authors)[0].strip()
    return first


def _second_surname(authors: str) -> str | None:
    names = [n.strip() for n in re.split(r",?\s+et\s+al\b\.?|\s*(?:&|\band\b|,)\s*", authors) if n.strip()]
    return names[1] if len(names) > 1 else None


@dataclass(frozen=True)
class _Found:
    """An in-text citation with where it is and, for a citation written as (or next to) a link, that link."""

    column: int
    citation: Citation
    link: _Link | None = None
    second: str | None = None  # the second author's surname, when the citation names one ("Wang and Rudin")


def _link_near(links: Sequence[_Link], start: int, end: int, text: str) -> _Link | None:
    """The link that holds (or is held in) text[start:end], or that the citation directly follows: "[Lee et
    al., 2019](…)", "Lee et al. ([2019](…))", "[the paper](…) (Lee et al., 2019)"."""
    for link in links:
        if link.start < end and start < link.end:
            return link
        if link.end <= start and not text[link.end : start].strip(" ,;("):
            return link
    return None


def _link_citations(file: str, line: int, text: str, links: Sequence[_Link]) -> Iterator[_Found]:
    """Links whose whole text is an author-year citation: "[Vaswani et al., 2017](…)", "([Kingma & Welling,
    2014](…))"."""
    for link in links:
        match = _LINK_AY_RE.fullmatch(link.text)
        if match is None:
            continue
        surname = _first_surname(match.group("authors"))
        if surname.split()[-1] in NOT_SURNAMES:
            continue
        citation = Citation(Location(file, line, None, link.start + 1), link.text.strip(),
                            f"{surname} {match.group('year')}", "author-year")
        yield _Found(link.start, citation, link, _second_surname(match.group("authors")))


def _author_year(file: str, line: int, text: str, links: Sequence[_Link] = ()) -> Iterator[_Found]:
    spans: list[tuple[int, int]] = []
    for match in _NARRATIVE_RE.finditer(text):
        surname = _first_surname(match.group("authors"))
        if surname.split()[-1] in NOT_SURNAMES:
            continue
        spans.append(match.span())
        target = f"{surname} {match.group('year')}"
        written = re.sub(r"\(\s+|\s+\)", lambda m: m.group(0).strip(), " ".join(match.group(0).split()))
        yield _Found(match.start(), Citation(Location(file, line, None, match.start() + 1), written, target,
                                             "author-year"), _link_near(links, match.start(), match.end(), text),
                     _second_surname(match.group("authors")))
    for group in _PAREN_GROUP_RE.finditer(text):
        if _HAS_YEAR_RE.search(group.group(1)) is None:
            continue
        if any(start <= group.start() < end for start, end in spans):
            continue
        # a link right before the parenthesis is the source of a group with one part: "[FRL](…) (Wang, 2015)"
        before = _link_near(links, group.start(), group.start() + 1, text) if ";" not in group.group(1) else None
        previous: str | None = None  # the surname a year-only part continues: "(Smith, 2019; 2020)"
        offset = 0
        for part in group.group(1).split(";"):
            part_start = group.start() + 1 + offset
            offset += len(part) + 1
            link = before or next((k for k in links if k.start < part_start + len(part) and part_start < k.end), None)
            alone = _YEAR_ONLY_RE.match(part)
            if alone is not None and previous is not None:
                column = part_start + alone.start("year")
                yield _Found(column, Citation(Location(file, line, None, column + 1), alone.group("year"),
                                              f"{previous} {alone.group('year')}", "author-year"), link)
                continue
            item = _AY_ITEM_RE.search(part)
            previous = None
            if item is None:
                continue
            surname = _first_surname(item.group("authors"))
            if surname.split()[-1] in NOT_SURNAMES or _venue(part, item):
                continue
            previous = surname
            written = f"({' '.join(group.group(1).split())})" if ";" not in group.group(1) else item.group(0)
            column = part_start + item.start()
            yield _Found(column, Citation(Location(file, line, None, column + 1), written,
                                          f"{surname} {item.group('year')}", "author-year"), link,
                         _second_surname(item.group("authors")))
            # "(Smith, 2019a, 2019b)": each further year is a citation of the same author
            rest = part[item.end():]
            while (more := _MORE_YEARS_RE.match(rest)) is not None:
                column = part_start + item.end() + (len(part) - item.end() - len(rest)) + more.start("year")
                yield _Found(column, Citation(Location(file, line, None, column + 1), more.group("year"),
                                              f"{surname} {more.group('year')}", "author-year"), link)
                rest = rest[more.end():]


def _venue(part: str, item: re.Match[str]) -> bool:
    """True when an item in capitals follows other words: "(Nigam & Ghani CIKM 2000)", "(Kingma's NIPS 2015
    talk)" name a conference and its year; "(WHO, 2019)" or "(see FDA, 2020)" name an organisation."""
    authors = item.group("authors")
    before = re.sub(r"^\W*(?:see|e\.g\.|cf\.|also)?\W*", "", part[: item.start()], flags=re.IGNORECASE)
    return authors.isupper() and bool(before.strip())


def _is_citation_spec(spec: str) -> bool:
    """A bracket of numbers can be a citation: no 0 ("[0, 1]" is an interval, "(0)" a value) and no number
    twice ("[200, 200]" is a point)."""
    found = numbers(spec)
    return bool(found) and 0 not in found and len(set(found)) == len(found)


def _numeric(file: str, line: int, text: str) -> Iterator[_Found]:
    for pattern in (_BRACKET_RE, _PAREN_RE, _MARKDOWN_SUP_RE, _HTML_SUP_RE):
        for match in pattern.finditer(text):
            if not _is_citation_spec(match.group(1)):
                continue
            for number in numbers(match.group(1)):
                yield _Found(match.start(), Citation(Location(file, line, None, match.start() + 1),
                                                     match.group(0).strip(), str(number), "numeric"))
    for match in _UNICODE_SUP_RE.finditer(text):
        if _UNIT_BEFORE_RE.search(text[: match.start()]):
            continue
        spec = _superscript_number(match.group(1))
        if not _is_citation_spec(spec):
            continue
        for number in numbers(spec):
            yield _Found(match.start(), Citation(Location(file, line, None, match.start() + 1), match.group(1),
                                                 str(number), "numeric"))


def _rst_references(file: str, line: int, text: str, labels: Mapping[str, str | None],
                    anonymous: Mapping[str, list[str | None]]) -> Iterator[_Found]:
    """reStructuredText footnote and citation references ([1]_, [#]_, [#note]_, [CIT2002]_), each tied to
    the key its target has in labels; anonymous holds the keys of the [#] and of the [*] footnotes, each
    taken in order by the references of its kind.

    A label whose target is a note rather than a reference (labels[label] is None) is no citation."""
    for match in RST_REFERENCE_RE.finditer(text):
        label = match.group("label")
        location = Location(file, line, None, match.start() + 1)
        if label in ("#", "*"):
            waiting = anonymous.get(label)
            if not waiting:
                yield _Found(match.start(), Citation(location, match.group(0), label, "key"))
                continue
            key = waiting.pop(0)
            if key is not None:
                yield _Found(match.start(), Citation(location, match.group(0), label, "key", resolved_key=key))
            continue
        style = "numeric" if label.isdigit() else "key"
        if label in labels:
            key = labels[label]
            if key is not None:
                yield _Found(match.start(), Citation(location, match.group(0), label, style, resolved_key=key))
            continue
        yield _Found(match.start(), Citation(location, match.group(0), label, style))


def _quoted(text: str) -> bool:
    """A Markdown block quotation ("> ..."): its citations belong to the quoted text."""
    return text.lstrip().startswith(">")


def _by_url(references: Sequence[Reference]) -> dict[str, list[str]]:
    """same_work_url -> keys of the entries that link to (or have the DOI of) that work."""
    found: dict[str, list[str]] = {}
    for ref in references:
        for url in {same_work_url(u) for u in (*ref.urls, *([ref.doi] if ref.doi else []))}:
            found.setdefault(url, []).append(ref.key)
    return found


def _cited_by_link(file: str, line: int, text: str, links: Sequence[_Link], used: set[int],
                   by_url: Mapping[str, list[str]]) -> Iterator[_Found]:
    """Links in the text to the same work as exactly one list item, and bare URLs: each cites that item
    ("the [GAN paper](https://arxiv.org/abs/1406.2661)" with the item "[1] Goodfellow ... arxiv.org/abs/1406.2661")."""
    targets = [(link.start, link.target, text[link.start : link.end]) for link in links if link.start not in used]
    blanked = blank_spans(text, [(link.start, link.end) for link in links])
    targets += [(start, url, url) for start, url in find_urls(blanked)]
    for start, target, written in targets:
        key = _entry_at(target, by_url) if target else None
        if key is not None:
            yield _Found(start, Citation(Location(file, line, None, start + 1), written, target, "link",
                                         resolved_key=key))


def _entry_at(target: str, by_url: Mapping[str, list[str]]) -> str | None:
    """The one entry whose link is the same work as target, or a page under it ("…/api_docs/python/tf/gather"
    under the item "[Tensorflow API Docs](https://www.tensorflow.org/api_docs/)"); None when none or several."""
    wanted = same_work_url(target)
    keys = by_url.get(wanted)
    if keys is not None:
        return keys[0] if len(keys) == 1 else None
    # a page under an entry's link: only when that link names a path, not a bare site. The links that are
    # parents of `wanted` are its prefixes that end before one of its slashes, looked up one by one (not every
    # link of the list tried against every target, which made a long article quadratic)
    parents = [found for i, char in enumerate(wanted) if char == "/" and "/" in wanted[:i]
               and (found := by_url.get(wanted[:i])) is not None]
    if len(parents) == 1 and len(parents[0]) == 1:
        return parents[0][0]
    return None


def find_citations(
    body: Sequence[TextLine],
    references: Sequence[Reference] = (),
    rst_labels: Mapping[str, str | None] | None = None,
    rst_anonymous: Mapping[str, Sequence[str | None]] | None = None,
) -> tuple[Citation, ...]:
    """Every numeric and author-year citation of the body, tied to its entry where one matches.

    Numeric citations are looked for only when the reference list is numbered (or when there is no list,
    so that a missing list still shows); author-year ones always. A citation written as a link, or right
    after one ("[Smith et al., 2019](…)", "[the paper](…) (Smith, 2019)"), carries its own source: it is
    tied to the list item the link points to, or by surname and year; when no item has its first author (or
    every one links elsewhere) it is left out rather than reported as undefined. Any other link (or bare URL)
    to the same work as exactly one list item cites that item. In a block quotation, a citation that matches
    no entry is the quoted author's, and is left out too.

    rst_labels: a reStructuredText document's footnote and citation labels -> keys (rst_anonymous: the keys
    of its [#] and [*] footnotes in order); then only the rst forms ([1]_, [#]_, [#note]_, [CIT2002]_) are
    numeric or labelled citations, not a bare "[1]".
    """
    code = code_lines(body)
    numeric = rst_labels is None and (not references or all((r.location.key or "").startswith("ref-")
                                                            for r in references))
    anonymous = {label: list(keys) for label, keys in (rst_anonymous or {}).items()}
    by_url = _by_url(references)
    found: list[tuple[int, _Found]] = []
    for line in body:
        if line.line in code:
            continue
        text = mask_inline(line.text)
        if rst_labels is not None:
            found.extend((line.line, f) for f in _rst_references(line.file, line.line, text, rst_labels, anonymous))
        unlinked, links = _links(text)
        unlinked = URL_RE.sub(lambda m: " " * len(m.group(0)), unlinked)
        linked = list(_link_citations(line.file, line.line, text, links))
        # a link that is a citation is not read again as a parenthesised one
        unlinked = blank_spans(unlinked, [(f.link.start, f.link.end) for f in linked if f.link is not None])
        found.extend((line.line, f) for f in linked)
        if numeric:
            found.extend((line.line, f) for f in _numeric(line.file, line.line, unlinked))
        in_line = list(_author_year(line.file, line.line, unlinked, links))
        found.extend((line.line, f) for f in in_line)
        if by_url:
            used = {f.link.start for f in (*linked, *in_line) if f.link is not None}
            found.extend((line.line, f) for f in _cited_by_link(line.file, line.line, text, links, used, by_url))
    found.sort(key=lambda item: (item[0], item[1].column))
    quoted = {line.line for line in body if _quoted(line.text)}
    tied: list[Citation] = []
    for number, item in found:
        target = (item.link.target or "#") if item.link is not None else None
        citation = item.citation if item.citation.resolved_key else resolve(item.citation, references, target)
        if citation.resolved_key is None and citation.style != "key":
            if target is not None and _another_work(citation, target, item.second, candidates(citation, references)):
                continue  # a linked citation of a work the list does not hold: the link is its source
            if number in quoted:
                continue
        tied.append(citation)
    return tuple(tied)


def _year_of(ref: Reference) -> str:
    return (ref.year or "").strip()


def _surname_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.lower())
    return re.sub(r"[^a-z]", "", "".join(c for c in folded if not unicodedata.combining(c)))


def candidates(citation: Citation, references: Sequence[Reference]) -> list[Reference]:
    """Entries whose first author's surname matches an author-year citation (any year)."""
    if citation.style != "author-year":
        return []
    surname = _surname_key(citation.target.rsplit(" ", 1)[0].split()[-1])
    return list(_by_first_author(references).get(surname, ()))


# The last few reference lists' first-author index: a document's citations all look in the same list, so it is
# built once per list, not once per citation (which made a long article's reading quadratic). The list itself is
# kept in the entry, so that its id cannot be reused while the entry lives.
_FIRST_AUTHOR_INDEXES: dict[int, tuple[Sequence[Reference], int, dict[str, list[Reference]]]] = {}


def _by_first_author(references: Sequence[Reference]) -> dict[str, list[Reference]]:
    cached = _FIRST_AUTHOR_INDEXES.get(id(references))
    if cached is not None and cached[0] is references and cached[1] == len(references):
        return cached[2]
    index: dict[str, list[Reference]] = {}
    for r in references:
        if r.authors:
            index.setdefault(_surname_key(r.authors[0].family.split()[-1]), []).append(r)
    if len(_FIRST_AUTHOR_INDEXES) >= 4:
        _FIRST_AUTHOR_INDEXES.pop(next(iter(_FIRST_AUTHOR_INDEXES)))
    _FIRST_AUTHOR_INDEXES[id(references)] = (references, len(references), index)
    return index


_ARXIV_ID_RE = lazy.regex(r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5}|[a-z.-]+/\d{7})", re.IGNORECASE)


def same_work_url(url: str) -> str:
    """A URL reduced to what names the work: no scheme, "www.", trailing slash or ".pdf"; an arXiv link
    as its identifier (abs and pdf links, any version, are one work)."""
    arxiv = _ARXIV_ID_RE.search(url)
    if arxiv:
        return "arxiv:" + arxiv.group(1).lower()
    url = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip().lower())
    url = re.sub(r"^www\.", "", url).split("#")[0]
    return url.rstrip("/").removesuffix(".pdf")


def _by_link(target: str, references: Sequence[Reference]) -> Reference | None:
    """The entry whose link (or DOI) is the same work as target, when exactly one is."""
    wanted = same_work_url(target)
    if not wanted or target == "#":
        return None
    matches = [r for r in references
               if any(same_work_url(u) == wanted for u in (*r.urls, *([r.doi] if r.doi else [])))]
    return matches[0] if len(matches) == 1 else None


_DOI_LINK_RE = lazy.regex(r"(?:doi\.org/|doi:\s*)(10\.\d{4,9}/\S+)", re.IGNORECASE)
LINKED_YEAR_SLIP = 2  # as KR503: a year off by one or two may be the preprint's; further apart is another work


def _identity(url: str) -> str | None:
    """What identifies the work a link points to: its arXiv id or its DOI, when the link shows one."""
    arxiv = _ARXIV_ID_RE.search(url)
    if arxiv:
        return "arxiv:" + arxiv.group(1).lower()
    doi = _DOI_LINK_RE.search(url)
    return "doi:" + doi.group(1).lower().rstrip(".,;") if doi else None


def _another_work(citation: Citation, link: str, second: str | None, entries: Sequence[Reference]) -> bool:
    """True when a linked citation that matched no entry names a work of its own (its link is its source)
    rather than one of entries, the entries by its first author: each is years apart, has another arXiv id
    or DOI than the link, or lacks the citation's second author ("[Wang and Rudin, 2015](…)" is not "Wang,
    Raj and Xing, 2017")."""
    year = int(citation.target.rsplit(" ", 1)[1][:4])
    identity = _identity(link)
    for ref in entries:
        if ref.year and ref.year[:4].isdigit() and abs(int(ref.year[:4]) - year) > LINKED_YEAR_SLIP:
            continue
        theirs = {i for i in (_identity(u) for u in (*ref.urls, *([f"doi:{ref.doi}"] if ref.doi else []))) if i}
        if identity and theirs and identity not in theirs:
            continue
        if second and len(ref.authors) > 1 and _surname_key(second.split()[-1]) not in {
                _surname_key(a.family.split()[-1]) for a in ref.authors if a.family}:
            continue
        return False
    return True


def resolve(citation: Citation, references: Sequence[Reference], link: str | None = None) -> Citation:
    """citation with resolved_key set to the entry it names, when one does.

    link: the target of the link the citation is written as (or follows); an entry with the same link is the
    one it names, whatever the year says (a preprint's year against the published version's).
    """
    if citation.style == "numeric":
        key = f"ref-{citation.target}"
        if any(r.location.key == key for r in references):
            return replace(citation, resolved_key=key)
        return citation
    if citation.style == "author-year":
        if link is not None and (linked := _by_link(link, references)) is not None:
            return replace(citation, resolved_key=linked.key)
        year = citation.target.rsplit(" ", 1)[1]
        for ref in candidates(citation, references):
            if _year_of(ref) and (year == _year_of(ref) or year.rstrip("abcdefghij") == _year_of(ref)):
                return replace(citation, resolved_key=ref.key)
        return citation
    if any(r.key == citation.target for r in references):
        return replace(citation, resolved_key=citation.target)
    return citation


KEY_SIMILARITY = 85  # rapidfuzz ratio for a near-miss key: "hughes2018"/"hughs2018" 95, "smith2019"/"smyth2020" 67


def nearest_key(key: str, keys: Sequence[str]) -> str | None:
    """The key a citation of `key` most likely means: the same key in other case, else the most similar one."""
    folded = key.casefold()
    same = next((k for k in keys if k.casefold() == folded), None)
    if same is not None:
        return same
    best = process.extractOne(folded, keys, scorer=fuzz.ratio, processor=str.casefold, score_cutoff=KEY_SIMILARITY)
    return str(best[0]) if best is not None else None
