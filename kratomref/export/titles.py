"""Title capitals: which of a writer's capitals a style must keep, and the subtitle rule of Citing Medicine.

pandoc's biblatex reader turns an English title into sentence case, the form CSL expects: it keeps words in
braces, all-capital words (FDA) and words with an inner capital (BioMed, mRNA), capitalises the first word after
a colon, and lower-cases every other capitalised word. A .bib that follows BibTeX's convention (`{Malaysia}`)
loses nothing; one that does not loses its proper nouns in every sentence-case style (APA, Vancouver, IEEE).
kratomref gives back what the writer's own text says, and only that:

- a title written in sentence case (of its words that tell, at least a third lower-case): a capital mid-title
  is the writer's proper noun ("Kratom (Mitragyna speciosa) dependence"), kept;
- a title written in title case: its capitals say nothing about proper nouns, so they are left to the reader
  (brace them in the .bib to keep them);
- a capital letter on its own ("U.S.", "vitamin D") is kept, in either case;
- a word in italics (`\\emph{Mitragyna speciosa}`, a species or a work's title) or in a brace group of several
  words (`{Mitragyna speciosa}`; not the braces around a whole title) keeps the case it is written in, in every
  style, the lower-case species epithet too (Chicago 8.121).

A kept word is wrapped in CSL-JSON's `<span class="nocase">`, which no text-case of a style changes.
"""

from __future__ import annotations

import re

NOCASE_OPEN = '<span class="nocase">'
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w+")
# A new sentence or a subtitle starts after these: its first word is capitalised in either case style.
_BREAKS = frozenset(":?!.—")
# Words a headline-style title leaves in lower case: they say nothing about which style a title is in.
_STOPWORDS = (
    "a an the and but or nor for so yet as at by in of off on per to up via vs from into onto over upon with "
    "without within about among according after against along amid around before behind below beneath "
    "between beyond during except inside like near outside past since than through toward towards under "
    "unlike until versus its their his her our your is are was were be been"
)
STOPWORDS = frozenset(_STOPWORDS.split())


def _capitalised(word: str) -> bool:
    """"Kratom": a capital and then lower case letters only (what the reader lower-cases)."""
    return word[:1].isupper() and word[1:].islower()


def is_sentence_case(title: str, ignore: frozenset[str] = frozenset()) -> bool:
    """The title is written in sentence case: of its words that tell (not the first word, not the first word
    of a subtitle or sentence, not a stop word, not an acronym), some are lower-case, and at least a third
    of them (a title in title case has a lower-case word only for a species epithet). Words in `ignore`
    (casefolded: the writer's italics and braces, kept as written anyway) do not tell."""
    text = _TAG.sub("", title)
    capitals = lowers = 0
    for n, match in enumerate(_WORD.finditer(text)):
        word = match.group(0)
        if (n == 0 or not word.isalpha() or word.lower() in STOPWORDS or word.casefold() in ignore
                or _after_break(text, match.start())):
            continue
        if _capitalised(word):
            capitals += 1
        elif word.islower():
            lowers += 1
    return lowers > 0 and 2 * lowers >= capitals


def _after_break(text: str, start: int) -> bool:
    """The word at `start` begins a sentence or a subtitle (only the white space before it is looked at)."""
    position = start - 1
    while position >= 0 and text[position].isspace():
        position -= 1
    return position >= 0 and text[position] in _BREAKS


def _segments(title: str) -> list[tuple[str, bool, bool]]:
    """(text, is_tag, in_italics_or_nocase) pieces of a CSL-JSON title with its HTML-like markup."""
    pieces: list[tuple[str, bool, bool]] = []
    spans: list[bool] = []  # per open <span>: is it a nocase span
    italic = 0
    position = 0
    for match in _TAG.finditer(title):
        if match.start() > position:
            pieces.append((title[position : match.start()], False, italic > 0 or any(spans)))
        tag = match.group(0).lower()
        if tag in ("<i>", "<em>"):
            italic += 1
        elif tag in ("</i>", "</em>"):
            italic = max(0, italic - 1)
        elif tag.startswith("<span"):
            spans.append("nocase" in tag)
        elif tag == "</span>" and spans:
            spans.pop()
        pieces.append((match.group(0), True, False))
        position = match.end()
    if position < len(title):
        pieces.append((title[position:], False, italic > 0 or any(spans)))
    return pieces


def keep_written_case(converted: str, written: str, braced: frozenset[str] = frozenset()) -> str:
    """pandoc's sentence-case `converted` title with the writer's capitals given back (see the module's rules).

    `written` is the title as the .bib gives it, LaTeX decoded; `braced`, the words of its multi-word brace
    groups ("{Mitragyna speciosa}": pandoc keeps their case but does not mark them, so a title-case style would
    still capitalise the epithet; a braced word that is not capitalised is marked). Nothing changes unless the
    two titles have the same words (ignoring case): the case is all the reader may have changed."""
    pieces = _segments(converted)
    theirs = [w.casefold() for text, tag, _ in pieces if not tag for w in _WORD.findall(text)]
    found = list(_WORD.finditer(written))
    mine = [m.group(0) for m in found]
    if theirs != [w.casefold() for w in mine]:
        return converted
    # a capital letter on its own ("U.S.", "vitamin D", "T cells") is not a headline capital; "A" is one
    # unless an abbreviation's period follows it
    letters = {n for n, m in enumerate(found) if len(m.group(0)) == 1 and m.group(0).isupper()
               and (m.group(0) != "A" or written[m.end() : m.end() + 1] == ".")}
    marked = {w.casefold() for text, tag, protected in pieces if protected and not tag for w in _WORD.findall(text)}
    sentence = is_sentence_case(written, frozenset(marked | {w.casefold() for w in braced}))
    out: list[str] = []
    index = 0
    for text, tag, protected in pieces:
        if tag:
            out.append(text)
            continue
        rebuilt: list[str] = []
        position = 0
        for match in _WORD.finditer(text):
            word, own = match.group(0), mine[index]
            index += 1
            rebuilt.append(text[position : match.start()])
            position = match.end()
            if protected:
                rebuilt.append(own)  # in italics or a nocase span: the word as written
            elif index - 1 in letters and word != own:
                rebuilt.append(f"{NOCASE_OPEN}{own}</span>")
            elif own in braced and own[:1].islower():
                # a braced lower-case word ("{Mitragyna speciosa}"): a title-case style would capitalise it
                rebuilt.append(f"{NOCASE_OPEN}{own}</span>")
            elif sentence and _capitalised(own) and word.islower():
                rebuilt.append(f"{NOCASE_OPEN}{own}</span>")
            else:
                rebuilt.append(word)
        rebuilt.append(text[position:])
        # one span for a run of kept words ("U.S.", not a span per letter); a text piece holds no other tag
        out.append(_NOCASE_SEAM.sub(r"\1", "".join(rebuilt)))
    return _protect_italics("".join(out))


_NOCASE_SEAM = re.compile(r'</span>([^\w<>]*)<span class="nocase">')
_ITALIC_RUN = re.compile(r"(<i>)(.*?)(</i>)", re.DOTALL)


def _protect_italics(title: str) -> str:
    """The text of each italic run in a nocase span (once): a style's text-case leaves it as written."""
    def wrap(match: re.Match[str]) -> str:
        inner = match.group(2)
        if inner.startswith(NOCASE_OPEN) and inner.endswith("</span>") and inner.count("<span") == 1:
            return match.group(0)
        return f"{match.group(1)}{NOCASE_OPEN}{inner}</span>{match.group(3)}"

    return _ITALIC_RUN.sub(wrap, title)


_SUBTITLE_WORD = re.compile(r"(:\s+)(\w+)")


def lowercase_subtitles(title: str) -> str:
    """Citing Medicine (NLM): a subtitle starts in lower case ("...: a randomized trial"), unless its first word
    is a proper noun, an acronym or kept by a nocase span. Only a title in sentence case is changed (a title
    in title case is the writer's own form, which the NLM styles print as given)."""
    if not is_sentence_case(_TAG.sub("", title)):
        return title
    pieces = _segments(title)
    out: list[str] = []
    for text, tag, protected in pieces:
        if tag or protected:
            out.append(text)
            continue
        out.append(_SUBTITLE_WORD.sub(lambda m: m.group(1) + (m.group(2).lower() if _capitalised(m.group(2))
                                                               else m.group(2)), text))
    return "".join(out)
