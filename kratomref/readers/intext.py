"""In-text citations of a draft with its own reference list: numeric ([1], [2-4], (1), ¹) and author-year."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from kratomref.model import Citation, Location, Reference, TextLine

# [1], [1, 3], [2-4], [1–3, 7]: brackets holding only numbers, commas and ranges.
_BRACKET_RE = re.compile(r"(?<![\w\]!])\[(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\](?![(:\[])")
# (1), (2, 5), (3-4) directly after a word or punctuation: "shown (3)."; a bare "(1)" opening a line is a list.
# Followed by punctuation or the line's end: "two steps: (1) extract, (2) filter" is an enumeration.
_PAREN_RE = re.compile(r"(?<=[A-Za-z.,;)\]])\s?\((\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\)(?=[.,;:]|\s*$)")
# Superscript digits after a word: Unicode ¹²³, Markdown ^1^, HTML <sup>1</sup>.
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_UNICODE_SUP_RE = re.compile(r"(?<=[A-Za-z.,;:)])([" + _SUPERSCRIPTS + r"][" + _SUPERSCRIPTS + r"⁻,]*)")
_MARKDOWN_SUP_RE = re.compile(r"\^(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\^")
# A unit squared or cubed is not a citation: "5 km²", "12 m³/s", "10 cm²".
_UNIT_BEFORE_RE = re.compile(r"\d\s*[A-Za-zµ]{1,3}$")
_HTML_SUP_RE = re.compile(r"<sup>\s*\[?(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\]?\s*</sup>", re.IGNORECASE)
# A surname: capitalised, possibly with particles/hyphens ("van der Berg", "O'Neil", "Al-Hassan").
# The counts are bounded and a name starts a word: on a long run of capitals or of "Ab,Ab,..." a pattern
# that could start anywhere and run to the end would take quadratic time.
_NAME = r"(?:(?:van|von|de|der|den|la|le|du|da|di|al)\s+){0,3}[A-Z][\w'’\-]+"
_AUTHORS = (r"(?<![\w'’\-])" + _NAME + r"(?:\s+et\s+al\.?|\s*(?:&|and)\s*" + _NAME
            + r"|(?:,\s*" + _NAME + r"){1,20},?\s*(?:&|and)\s*" + _NAME + r")?")
_YEAR = r"(?:1[5-9]\d\d|20\d\d)[a-z]?"
# One author-year item inside parentheses: "Smith, 2019", "Smith & Jones 2019a", "see Lee et al., 2020".
_AY_ITEM_RE = re.compile(r"(?P<authors>" + _AUTHORS + r"),?\s+(?P<year>" + _YEAR + r")(?:,\s*(?:p|pp)\.\s*[\d\-–]+)?")
# More years of the same author after an item: "(Smith, 2019a, 2019b)", "(Smith 2019, 2021)".
_MORE_YEARS_RE = re.compile(r",\s*(?P<year>" + _YEAR + r")\b")
# A part that is only a year continues the previous part's author: "(Smith, 2019; 2020)".
_YEAR_ONLY_RE = re.compile(r"^\s*(?P<year>" + _YEAR + r")\s*$")
_PAREN_GROUP_RE = re.compile(r"\(([^()]*?\b" + _YEAR + r"\b[^()]*?)\)")
# Narrative form: "Smith (2019)", "Smith and Jones (2019)", "Lee et al. (2020a)".
_NARRATIVE_RE = re.compile(r"(?P<authors>" + _AUTHORS + r")\s+\((?P<year>" + _YEAR + r")\)")
_CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A URL of any scheme (RFC 3986: a letter, then letters, digits, "+", "-", "."). The scheme starts where a
# run of scheme characters starts, so a long run of non-space characters is scanned once, not once per
# character (kratomref.urls finds http(s) and ftp links to check; this blanks every URL out of prose).
URL_RE = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://\S+")
# Capitalised words that open a parenthesis but are not surnames ("(In 2019 ...", "(See 2020)").
NOT_SURNAMES = frozenset({
    "In", "See", "Since", "By", "From", "Until", "Before", "After", "During", "Circa", "Around", "As", "Of",
    "The", "A", "An", "Spring", "Summer", "Autumn", "Fall", "Winter", "January", "February", "March", "April",
    "May", "June", "July", "August", "September", "October", "November", "December", "Jan", "Feb", "Mar",
    "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Accessed", "Retrieved", "Updated",
    "Published", "Version", "Figure", "Fig", "Table", "Eq", "Section", "Chapter", "Vol", "No", "Est", "Founded",
})


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
    """Line numbers of body lines inside fenced or indented code blocks (with the fences)."""
    code: set[int] = set()
    fence: str | None = None
    previous_blank = True
    last_line = 0
    for line in body:
        blank_gap = line.line > last_line + 1
        last_line = line.line
        opening = _FENCE_RE.match(line.text)
        if fence is not None:
            code.add(line.line)
            if opening and opening.group(1)[0] == fence[0]:
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            code.add(line.line)
            continue
        if line.text.startswith(("    ", "\t")) and (previous_blank or blank_gap or line.line - 1 in code):
            code.add(line.line)
        previous_blank = False
    return code


def prose(text: str) -> str:
    """A line with code spans and URLs blanked out (same length, so columns still hold)."""
    text = _CODE_SPAN_RE.sub(lambda m: " " * len(m.group(0)), text)
    return URL_RE.sub(lambda m: " " * len(m.group(0)), text)


def _first_surname(authors: str) -> str:
    first = re.split(r"\s+et\s+al|\s*(?:&|and|,)\s*", authors)[0].strip()
    return first


def _author_year(file: str, line: int, text: str) -> Iterator[tuple[int, Citation]]:
    spans: list[tuple[int, int]] = []
    for match in _NARRATIVE_RE.finditer(text):
        surname = _first_surname(match.group("authors"))
        if surname.split()[-1] in NOT_SURNAMES:
            continue
        spans.append(match.span())
        target = f"{surname} {match.group('year')}"
        yield match.start(), Citation(Location(file, line, None, match.start() + 1), match.group(0), target,
                                      "author-year")
    for group in _PAREN_GROUP_RE.finditer(text):
        if any(start <= group.start() < end for start, end in spans):
            continue
        previous: str | None = None  # the surname a year-only part continues: "(Smith, 2019; 2020)"
        offset = 0
        for part in group.group(1).split(";"):
            part_start = group.start() + 1 + offset
            offset += len(part) + 1
            alone = _YEAR_ONLY_RE.match(part)
            if alone is not None and previous is not None:
                column = part_start + alone.start("year")
                yield column, Citation(Location(file, line, None, column + 1), alone.group("year"),
                                       f"{previous} {alone.group('year')}", "author-year")
                continue
            item = _AY_ITEM_RE.search(part)
            previous = None
            if item is None:
                continue
            surname = _first_surname(item.group("authors"))
            if surname.split()[-1] in NOT_SURNAMES:
                continue
            previous = surname
            written = f"({group.group(1).strip()})" if ";" not in group.group(1) else item.group(0)
            column = part_start + item.start()
            yield column, Citation(Location(file, line, None, column + 1), written,
                                   f"{surname} {item.group('year')}", "author-year")
            # "(Smith, 2019a, 2019b)": each further year is a citation of the same author
            rest = part[item.end():]
            while (more := _MORE_YEARS_RE.match(rest)) is not None:
                column = part_start + item.end() + (len(part) - item.end() - len(rest)) + more.start("year")
                yield column, Citation(Location(file, line, None, column + 1), more.group("year"),
                                       f"{surname} {more.group('year')}", "author-year")
                rest = rest[more.end():]


def _numeric(file: str, line: int, text: str) -> Iterator[tuple[int, Citation]]:
    for pattern in (_BRACKET_RE, _PAREN_RE, _MARKDOWN_SUP_RE, _HTML_SUP_RE):
        for match in pattern.finditer(text):
            for number in numbers(match.group(1)):
                yield match.start(), Citation(Location(file, line, None, match.start() + 1),
                                              match.group(0).strip(), str(number), "numeric")
    for match in _UNICODE_SUP_RE.finditer(text):
        if _UNIT_BEFORE_RE.search(text[: match.start()]):
            continue
        for number in numbers(_superscript_number(match.group(1))):
            yield match.start(), Citation(Location(file, line, None, match.start() + 1), match.group(1),
                                          str(number), "numeric")


def find_citations(body: Sequence[TextLine], references: Sequence[Reference] = ()) -> tuple[Citation, ...]:
    """Every numeric and author-year citation of the body, tied to its entry where one matches.

    Numeric citations are looked for only when the reference list is numbered (or when there is no list,
    so that a missing list still shows); author-year ones always.
    """
    code = code_lines(body)
    numeric = not references or all((r.location.key or "").startswith("ref-") for r in references)
    found: list[tuple[int, int, Citation]] = []
    for line in body:
        if line.line in code:
            continue
        text = prose(line.text)
        if numeric:
            found.extend((line.line, column, c) for column, c in _numeric(line.file, line.line, text))
        found.extend((line.line, column, c) for column, c in _author_year(line.file, line.line, text))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(resolve(c, references) for _, _, c in found)


def _year_of(ref: Reference) -> str:
    return (ref.year or "").strip()


def _surname_key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def candidates(citation: Citation, references: Sequence[Reference]) -> list[Reference]:
    """Entries whose first author's surname matches an author-year citation (any year)."""
    surname = _surname_key(citation.target.rsplit(" ", 1)[0].split()[-1])
    return [r for r in references if r.authors and _surname_key(r.authors[0].family.split()[-1]) == surname]


def resolve(citation: Citation, references: Sequence[Reference]) -> Citation:
    """citation with resolved_key set to the entry it names, when one does."""
    from dataclasses import replace

    if citation.style == "numeric":
        key = f"ref-{citation.target}"
        if any(r.location.key == key for r in references):
            return replace(citation, resolved_key=key)
        return citation
    if citation.style == "author-year":
        year = citation.target.rsplit(" ", 1)[1]
        for ref in candidates(citation, references):
            if _year_of(ref) and (year == _year_of(ref) or year.rstrip("abcdefghij") == _year_of(ref)):
                return replace(citation, resolved_key=ref.key)
        return citation
    if any(r.key == citation.target for r in references):
        return replace(citation, resolved_key=citation.target)
    return citation
