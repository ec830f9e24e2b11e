"""Placeholders left in a draft or a bibliography: citation markers, fake links, stock names, notes to self.

`find_placeholders(text)` is the one detector, reused by the editor rules (placeholder suggestions);
`judge` runs it on every field of a reference, `judge_document` on every body line of a draft.
"""

from __future__ import annotations

import array
import bisect
import functools
import json
import os
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from kratomref import lazy
from kratomref.model import Document, DocumentEvidence, Evidence, Finding, Location, Reference, Rule, Severity, TextLine
from kratomref.readers.bibitem import is_bibitem
from kratomref.rules.placeholder_candidates import placeholder_candidates
from kratomref.urls import find_urls

if TYPE_CHECKING:
    from kratomref.rules import Context

PLACEHOLDER_TEXT = Rule(
    "KR101",
    "placeholder-text",
    Severity.ERROR,
    "A placeholder stands where a citation, a date or a fact should be.",
    """What it does
  Reports the markers drafts leave where a source is still missing: "(reference needed)",
  "[citation needed]", "[source?]", TODO/TBD/FIXME/XXX written as markers, LaTeX's "[?]" for an
  undefined citation, "(Author, Year)", a year written "20XX", "[insert citation]" and template text
  such as "Journal Name". It looks at every line of a draft's text and every field of every reference.

Why it matters
  A placeholder that reaches publication tells readers the claim next to it has no source, and is one of
  the plainest marks of an unfinished or machine-written text.

Example
  Kratom is used for pain (reference needed).
  Smith, J. (20XX). Title of the article.

How to fix
  Find the source and cite it, or remove or soften the claim. "Defined acronyms" are left alone:
  "tick-borne disease (TBD)" is not a placeholder.""",
)

PLACEHOLDER_LINK = Rule(
    "KR102",
    "placeholder-link",
    Severity.ERROR,
    "A description or a dummy address stands where a link should be.",
    """What it does
  Reports "[Link to ...]", "[URL]", "(link here)", "[insert link]", Markdown links with an empty or
  dummy target ("[text]()", "[text](#)", "[text](URL)"), and addresses on hosts reserved for examples
  or for one's own machine (example.com, example.org, *.test, localhost, 127.0.0.1). A real address that
  merely has "example" in its path is fine.

Why it matters
  Readers cannot follow a link that is not there; a link to example.com or localhost goes nowhere for
  anybody but the writer.

Example
  The FDA has warned against it [Link to FDA statement].
  url = {https://example.com/kratom-study}

How to fix
  Put in the address of the page you mean (the specific document, not the site's home page).""",
)

PLACEHOLDER_NAME = Rule(
    "KR103",
    "placeholder-name",
    Severity.WARNING,
    "A stock or invented name stands for a source, an author or an expert.",
    """What it does
  Reports names that stand in for a real one: John Doe, Jane Doe (and "Doe, J." in an author list), Joe
  Bloggs, Max Mustermann, Fred Nurk, Joe Schmo, "Dr. X", "Professor Y", "A. N. Other", "Author Name",
  "Firstname Lastname", "[Name]", and Lorem ipsum filler text; John Smith and Jane Smith when presented
  as an expert ("Dr. John Smith", "Jane Smith, a senior recruiter, says: “...”"), whatever the form of the
  quotation. Real names that merely begin the same way (Jane Austen, Dr. Xavier), a court's pseudonym
  ("Jane Doe v. Roe", "In re John Doe") and a John Smith who is not quoted as an expert are not reported.

Why it matters
  A quote from "Dr. X" or a study by "Jane Doe" cannot be checked: it is a template nobody filled in, or
  an invented source.

Example
  "Kratom is safe," says Dr. X, a leading pharmacologist.
  author = {Doe, Jane}

How to fix
  Name the real person or organisation and cite where they said it, or remove the passage.""",
)

DRAFTING_NOTE = Rule(
    "KR104",
    "drafting-note",
    Severity.WARNING,
    "An instruction to the writer was left in the text.",
    """What it does
  Reports notes written for the author rather than the reader: "remember to update the statistics",
  "[for illustrative purposes only]", "(hypothetical example)", "replace with actual data", "note to
  self", "verify these links", "[add source here]", "[Insert statistic here]", "do not publish".
  Reports an assistant's leftovers, with a message saying it reads as an assistant's note to the writer:
  "Certainly! Here's...", "Here's a draft of...", "Here is a revised version", "As an AI language model",
  "I hope this helps", "Let me know if you'd like...", "Feel free to adjust ... to match your audience",
  "You can expand this section...", "This article is about 800 words", "Creating a meta title and
  FAQs requires...", "(Add a helpline relevant to the reader's country here.)", "Please note that the
  references below should be checked before this goes live", "Note: always ensure that the links provided
  are from reputable sources". A sentence announcing invented material ("Below are hypothetical examples
  that...", "Below is a sample bibliography", "Below is an example of how doctors might advise...", "The
  following case studies are fictional") is reported once, and its message names what it covers up to
  the next heading ("the 2 quotes and 2 case studies that follow"): illustrative material that must not
  be published as evidence. Ordinary advice to readers ("remember to update your software", "consider a
  hypothetical example", "Note: prices change; check the operator's site", "Here's how to...", "feel free
  to adjust the recipe to your taste", "Below is an example configuration file") is left alone.

Why it matters
  A note to self that reaches readers is embarrassing; one that says the example is hypothetical or
  the data is to be replaced means the passage is not true as it stands.

Example
  A 2019 survey found that 40% of users... [hypothetical example - replace with actual data]
  I hope this helps! Let me know if you'd like a meta description.

How to fix
  Do what the note asks, then delete it.""",
)

RULES = (PLACEHOLDER_TEXT, PLACEHOLDER_LINK, PLACEHOLDER_NAME, DRAFTING_NOTE)

SUGGESTIONS = {  # by Placeholder.kind
    "citation": "cite the source here, or remove or soften the claim",
    "marker": "put in the missing fact or source, then delete the marker",
    "template": "fill in the real value from the work itself",
    "link": "replace it with the address of the specific page you mean",
    "name": "name the real person or organisation and cite where they said it",
    "note": "do what the note asks, then delete it",
    "assistant": "delete it: it was written to the person who asked for the text, not to its readers",
    "announcement": "delete the announcement, and the invented quotes, cases or sources it introduces, or replace them"
                    " with real, cited ones",
}


class Placeholder(NamedTuple):
    """One placeholder in a text: what it is, the text as written and where it is in the string."""

    rule: Rule
    text: str
    start: int
    end: int
    kind: str  # "citation", "marker", "template", "link", "name", "note", "assistant", "announcement"


@dataclass(frozen=True)
class _Pattern:
    rule: Rule
    kind: str
    regex: re.Pattern[str]
    accept: Callable[[str, re.Match[str], frozenset[str]], bool] | None = None


# --- the pre-filter --------------------------------------------------------------------------------
# Most fields of a bibliography hold no placeholder, and 40 regex scans per field made placeholder checking a
# third of an offline check. Each pattern's matches all begin with one of a few literal strings ("replace",
# "[", "19xx"...), read from the compiled pattern: a field that holds none of them is not scanned with it.

# The pre-filter's data are read once from data/placeholder_triggers.json, which `python -m
# kratomref.rules.placeholder_triggers` writes from PATTERNS (reading each pattern with re's own parser takes longer
# than the rest of an offline check); tests/cli/startup fails when it is stale, and a pattern the file does not hold as
# written is read at run time, so a stale file never changes what is found.

# A pattern's pre-filter: one or more ways to match (its top-level alternatives), each a list of sets of strings
# of which a text holds one string each; lower-cased, 1 to 3 characters.
_Ways = list[list[frozenset[str]]]
TRIGGERS_FILE = "placeholder_triggers.json"


# Characters that re's case-insensitive matching equates with an ASCII letter although str.lower() does not
# (dotless i, long s, Kelvin sign, dotted capital I): a text that holds one is scanned with every pattern.
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")


# --- helpers deciding a match from its context ------------------------------------------------------

_SMALL_WORDS = frozenset({"of", "and", "the", "for", "in", "on", "to", "a", "an", "&", "with", "by"})


_ACRONYM_WINDOW = 300  # characters before "(ABC)" that hold its 12 spelt-out words (a long line stays linear)


def _defines_acronym(text: str, start: int, end: int, acronym: str) -> bool:
    """True when text[start:end] is "(ABC)" (or "ABC" inside brackets) right after words whose initials
    spell ABC: "tick-borne disease (TBD)", "uniform resource locator (URL)"."""
    before = text[max(0, start - _ACRONYM_WINDOW) : start].rstrip()
    if not before.endswith("(") and not text[start:end].startswith("("):
        return False
    before = before.rstrip("( ")
    words = [w for w in re.findall(r"[A-Za-z]+", before)[-12:] if w.lower() not in _SMALL_WORDS]
    letters = acronym.lower()
    initials = "".join(w[0].lower() for w in words)
    # Hyphenated words ("tick-borne") give one initial per part: the split above already does that.
    return initials.endswith(letters)


def defined_acronyms(lines: Iterable[str]) -> frozenset[str]:
    """Acronyms a text defines in brackets after their spelt-out words ("tick-borne disease (TBD)")."""
    found: set[str] = set()
    for line in lines:
        for match in re.finditer(r"\(([A-Z]{2,6})s?\)", line):
            if _defines_acronym(line, match.start(), match.end(), match.group(1)):
                found.add(match.group(1))
    return frozenset(found)


_BRACKET_PAIRS = (("[", "]"), ("(", ")"), ("{", "}"), ("<!--", "-->"))


@functools.lru_cache(maxsize=2)  # find_placeholders reads a text and its copy with URLs blanked
def _bracket_positions(text: str) -> dict[str, array.array[int]]:
    """Where each bracket of _BRACKET_PAIRS ends (opening) or starts (closing) in text, in order: found once per
    text, so that judging every match of a long line does not read the line again (quadratic time)."""
    positions: dict[str, array.array[int]] = {}
    for opening, closing in _BRACKET_PAIRS:
        positions[opening] = array.array("q", (m.end() for m in re.finditer(re.escape(opening), text)))
        positions[closing] = array.array("q", (m.start() for m in re.finditer(re.escape(closing), text)))
    return positions


def _last_before(ends: array.array[int], limit: int) -> int:
    """The greatest of the sorted ends that is at most limit, or -1."""
    at = bisect.bisect_right(ends, limit)
    return ends[at - 1] if at else -1


def _bracketed(text: str, match: re.Match[str]) -> bool:
    """True when the match lies inside [...], (...), {...} or <!-- --> on its line, or is all capitals."""
    positions = _bracket_positions(text)
    for opening, closing in _BRACKET_PAIRS:
        # before.rfind(opening) > before.rfind(closing) and closing in after, with before = text[:start]
        opened = _last_before(positions[opening], match.start())
        closes = positions[closing]
        # a closing bracket wholly inside before: it starts at most start - len(closing)
        closed = _last_before(closes, match.start() - len(closing))
        if opened >= 0 and (closed < 0 or opened - len(opening) > closed) and \
                bisect.bisect_left(closes, match.end()) < len(closes):
            return True
    letters = [c for c in match.group(0) if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(letters) > 3


def _marker_ok(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    word = match.group("marker")
    start = match.start()
    if word.rstrip("X") == "" and len(word) == 3:
        # "Super Bowl XXX", "Louis XXX": a Roman numeral after a name, not a marker ("Dr. XXX" is a name
        # placeholder and is found by its own pattern).
        previous = _PREVIOUS_WORD_RE.search(text, max(0, start - _SENTENCE), start)
        if previous and previous.group(1)[0].isupper() and not previous.group(2):
            sentence_start = re.compile(r"(?:^|[.!?:]\s+)" + re.escape(previous.group(1)) + r"\s+$").search(
                text, max(0, start - _SENTENCE), start)
            if not sentence_start:
                return False
    if word in defined or _defines_acronym(text, start, match.end(), word):
        return False
    # Spanish and Portuguese headings in capitals: "TODO EL MUNDO".
    return not (word == "TODO" and _SPANISH_HEADING_RE.match(text, match.end()))


# Searched in a window before a match (pattern.search(text, pos, endpos): "$" is the match's start, "^" only the
# text's): a look back over the whole line for every match of a long line was quadratic.
_PREVIOUS_WORD_RE = lazy.regex(r"([A-Za-z]+)(\.?)\s+$")
_SPANISH_HEADING_RE = lazy.regex(r"\s+(?:EL|LA|LO|LOS|LAS|UN|UNA|O|OS|AS|MUNDO|BIEN)\b")


def _not_acronym(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    word = re.sub(r"[^A-Za-z]", "", match.group(0))
    return word.upper() not in defined and not _defines_acronym(text, match.start(), match.end(), word)


def _in_brackets(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    return _bracketed(text, match)


def _not_a_markdown_link(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """"[Link to the study]" alone is a placeholder; "[link to the study](https://...)", a reference-style
    "[link][1]" and a link definition "[url]: https://..." are not."""
    end = match.end()
    if _LINK_TARGET_RE.match(text, end) and not _EMPTY_TARGET_RE.match(text, end):
        return False
    return not _REFERENCE_LINK_RE.match(text, end) and _not_acronym(text, match, defined)


_LINK_TARGET_RE = lazy.regex(r"\(\s*[^\s)]")
_REFERENCE_LINK_RE = lazy.regex(r"\[[^\]]*\]|:\s*\S")


# What a note to the writer is about: the text itself. "this/these" point at the draft; "the" only with nouns a
# reader's own life rarely has (the links, the citations), so "remember to check the label" stays prose.
_NOTE_CONTEXT_RE = lazy.regex(
    r"\b(?:this|these|that|those)\s+(?:\w+\s+){0,2}?(?:links?|urls?|sources?|references?|citations?|refs?|stats?"
    r"|statistics|numbers|figures?|data|dates?|quotes?|quotations?|sections?|paragraphs?|tables?|captions?|images?"
    r"|headings?|drafts?|articles?|posts?|facts?|claims?|examples?|footnotes?|dois?)\b"
    r"|\b(?:the|all\s+the|all)\s+(?:\w+\s+)?(?:links|urls|references|citations|refs|stats|statistics|sections?"
    r"|paragraphs?|captions?|headings?|draft|bibliography|footnotes|dois)\b"
    r"|\bbefore\s+(?:we\s+|you\s+)?(?:publish\w*|going\s+live|it\s+goes\s+live)\b"
    # "update the placeholders with actual research links", "the laws of the reader's jurisdiction"
    r"|\bplaceholders?\b|\bactual\s+(?:[\w-]+\s+)?(?:links?|urls?|sources?|references?|citations?|data|figures"
    r"|numbers|statistics|studies|research|quotes?)\b|\bthe\s+(?:reader|client)(?:'s|’s|s)?\b|\btarget\s+audience\b",
    re.IGNORECASE,
)


def _note_ok(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """A "remember to update..." or "verify the..." phrase is a note to the writer when it is set off
    (brackets, capitals, a comment) or is about the text itself (this link, the statistics, before
    publishing), not when it is advice to the reader ("remember to update your software")."""
    if _bracketed(text, match):
        return True
    clause = re.split(r"[.;!?](?:\s|$)", text[match.end() : match.end() + _CLAUSE], maxsplit=1)[0]
    return bool(_NOTE_CONTEXT_RE.search(clause)) or bool(
        _NOTE_LABEL_RE.search(text, max(0, match.start() - _SENTENCE), match.start()))


_CLAUSE = 1000  # characters after a note that hold the rest of its clause
_NOTE_LABEL_RE = lazy.regex(r"\b(?:note|n\.?b\.?|todo|editor)\s*:\s*$", re.IGNORECASE)


def _illustrative_ok(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """"Photo for illustrative purposes only" is a usual caption; about data or a study it is a note."""
    sentence = re.split(r"[.!?]\s", text[max(0, match.start() - _CLAUSE) : match.start()])[-1]
    return not re.search(r"\b(?:photo|photograph|image|picture|illustration|stock|graphic|video|footage)s?\b",
                         sentence, re.IGNORECASE)


def _hypothetical_ok(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """"(hypothetical example)", "This is a hypothetical example" and "Hypothetical example:" are notes;
    "consider a hypothetical example" or "as a hypothetical example, ..." is how a writer explains."""
    if _bracketed(text, match):
        return True
    start, end = match.start(), match.end()
    window = max(0, start - _SENTENCE)
    if _EXPLAINS_RE.search(text, window, start):
        return False
    if re.compile(r"\s*(?:only\b|[:\-–—])").match(text, end):
        return True
    # "This is a hypothetical example." as a sentence of its own; "... is a hypothetical example of how" is prose.
    return bool(_IS_A_RE.search(text, window, start) and re.compile(r"\s*(?:[.!;)\]]|$)").match(text, end))


_EXPLAINS_RE = lazy.regex(r"\b(?:consider|take|imagine|as|for|in|with|using|use|gives?|offers?|here'?s|here\s+is"
                          r"|let'?s\s+\w+|let\s+us\s+\w+)\s+(?:a|an|one|another|this|the|our)\s+$", re.IGNORECASE)
_IS_A_RE = lazy.regex(r"\b(?:is|was|are|were)\s+(?:a|an|just\s+an?|only\s+an?)?\s*$", re.IGNORECASE)


def _source_question_ok(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """"(source?)", "Source?" standing alone, "source??": a query to the writer. "What is the source?" and
    "a good protein source?" are questions in prose."""
    if _bracketed(text, match) or match.group(0).endswith("??") or match.group(0)[0] in "[(":
        return True
    return bool(_STANDS_ALONE_RE.search(text, max(0, match.start() - _SENTENCE), match.start()))


_STANDS_ALONE_RE = lazy.regex(r"(?:^|[.!?:;\-–—]\s*|\s[-–—]\s*)$")


_NEAR = 20  # characters around a name that hold its title or "v." (a long line stays linear)
_SENTENCE = 300  # characters around a match that hold its sentence


def _not_a_case_name(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """"Jane Doe v. Roe", "Doe v. Bolton", "In re John Doe": a court's pseudonym for a real party."""
    before = text[max(0, match.start() - _NEAR) : match.start()]
    return not (re.match(r"\s*,?\s+v(?:s)?\.?\s", text[match.end() : match.end() + _NEAR])
                or re.search(r"\bv(?:s)?\.?\s+$|\b[Ii]n\s+re\s+$", before))


# How an invented expert is presented: "Dr. John Smith", "John Smith, a licensed plumber, says: “...”".
_EXPERT_TITLE_RE = lazy.regex(r"\b(?:Dr|Prof|Professor|Mr|Mrs|Ms|Mx)\.?\s+$")
_EXPERT_AFTER_RE = lazy.regex(
    r"(?:\s*,\s*[^,:“\"\n]{2,80})?\s*:(?:\*\*|__)?\s*[“\"]"  # a label and a colon before the quotation
    r"|\s*,\s*(?:a|an|the|our|senior|chief|head|lead|certified|licensed|registered|board-certified|PhD|MD|RN|CEO"
    r"|\d{1,3})\b")
_SPEECH_RE = lazy.regex(r"[“”\"]|\b(?:says|said|explains|explained|notes|noted|told|recommends|advises|warns|adds)\b")


def _stock_expert(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """"John Smith" and "Jane Smith" are real people's names too: a stock name only when presented as an
    expert: with a title, as the label of a quotation, or with a role and a quotation or "says"."""
    if _EXPERT_TITLE_RE.search(text[max(0, match.start() - _NEAR) : match.start()]):
        return True
    after = _EXPERT_AFTER_RE.match(text, match.end())
    around = text[max(0, match.start() - _SENTENCE) : match.end() + _SENTENCE]
    return after is not None and (after.group(0).rstrip().endswith(("“", '"')) or bool(_SPEECH_RE.search(around)))


def _writer_context(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """An offer or instruction about the text itself ("this section", "the client", "your audience"), not
    advice to the reader ("feel free to adjust the recipe to your taste")."""
    sentence = re.split(r"(?<=[.!?])\s", text[match.start() : match.start() + _SENTENCE], maxsplit=1)[0]
    return _WRITER_CONTEXT_RE.search(sentence) is not None


def _announced_text(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """"Here is a revised version" is an assistant's; "here is a story" needs a word that it was asked for."""
    if re.search(r"\b(?:draft|version|rewrite|revision|revised|rewritten|updated)\b", match.group(0), re.IGNORECASE):
        return True
    sentence = re.split(r"(?<=[.!?])\s", text[match.start() : match.start() + _SENTENCE], maxsplit=1)[0]
    if "outline" in match.group(0).lower() and re.search(
            r"\b(?:full|complete|whole)\s+(?:article|post|draft|essay|guide|piece)\b", sentence, re.IGNORECASE):
        return True  # "Here's an outline, followed by the full article:", not "Here is the algorithm outline"
    return _ASKED_FOR_RE.search(sentence) is not None or bool(
        re.match(r"\W*(?:certainly|sure|of\s+course|absolutely)\b", text[:_CLAUSE], re.IGNORECASE))


def _about_the_text(text: str, match: re.Match[str], defined: frozenset[str]) -> bool:
    """"the references below should be checked ... before this goes live": about this text's sources."""
    window = text[max(0, match.start() - _SENTENCE) : match.end() + _SENTENCE]
    at = match.start() - max(0, match.start() - _SENTENCE)
    begin = max((m.end() for m in re.finditer(r"[.!?]\s", window[:at])), default=0)
    end = next((m.start() + 1 for m in re.finditer(r"[.!?](?:\s|$)", window[at + len(match.group(0)) :])), None)
    here = window[begin : len(window) if end is None else at + len(match.group(0)) + end]
    return _SOURCES_OF_THE_TEXT_RE.search(here) is not None


# "your audience", "the client", "this section": the text is the object, its writer the one addressed.
_WRITER_CONTEXT_RE = lazy.regex(
    r"\byour\s+(?:audience|readers|readership|brand|blog|website|site|publication|client|voice|editor)\b"
    r"|\bthe\s+(?:client|target\s+audience|reader(?:'s|’s|s)?)\b|\btarget\s+audience\b"
    r"|\b(?:this|the)\s+(?:section|article|post|draft|piece|outline|intro|introduction|conclusion|text|content|tone"
    r"|wording|headings?|examples?)\b", re.IGNORECASE)
_ASKED_FOR_RE = lazy.regex(
    r"\byou\s+(?:requested|asked|wanted|can\s+(?:publish|use|post|adapt))\b|\byour\s+(?:prompt|request|brief"
    r"|instructions|outline|notes)\b|\bSEO\b|\bas\s+(?:requested|you\s+asked)\b", re.IGNORECASE)
# What marks a sentence about this text's own sources: where they are, or when they must be checked by.
_SOURCES_OF_THE_TEXT_RE = lazy.regex(
    r"\b(?:above|below|listed|provided|cited|in\s+this\s+(?:article|post|piece|draft|text|guide))\b"
    r"|\bbefore\s+(?:publication|publishing|going\s+live|(?:this|it)\s+goes\s+live|you\s+publish)\b"
    r"|\b(?:primary|original)\s+(?:sources|publications|documents)\b"
    r"|\bactual\s+(?:documents|links|urls|sources|references|citations|studies|papers|data|figures|statistics)\b",
    re.IGNORECASE)


# --- the patterns ---------------------------------------------------------------------------------

_CITE_NOUN = r"(?:citations?|references?|refs?|sources?|cites?|cit\.)"
_LINK_NOUN = r"(?:links?|urls?|hyperlinks?|web\s?links?|web\s?address|address)"
_OPEN, _CLOSE = r"[\[({]", r"[\])}]"
_EMPTY_TARGET_RE = lazy.regex(
    # "\s*(?:...)?\s*" would try every split of a long run of spaces between its two "\s*" (quadratic)
    r"\(\s*(?:(?:<\s*>|#|url|link|https?://|https?:|www|xxx|todo|tbd|tk|\.\.\.|…)\s*)?\)", re.IGNORECASE
)

_P = _Pattern
PATTERNS: tuple[_Pattern, ...] = (
    # --- KR102: links ---
    _P(PLACEHOLDER_LINK, "link", lazy.regex(r"(?<!!)\[[^\[\]\n]{1,200}\]" + _EMPTY_TARGET_RE.pattern, re.IGNORECASE)),
    _P(PLACEHOLDER_LINK, "link", lazy.regex(
        r"\[\s*(?:insert\s+|add\s+|paste\s+|include\s+)?(?:the\s+|a\s+)?" + _LINK_NOUN
        + r"(?:\s+(?:to|for|of|here|needed|missing|tbd|tbc|tk|to\s+come|goes\s+here)\b[^\[\]\n]{0,120})?\s*\]",
        re.IGNORECASE), _not_a_markdown_link),
    _P(PLACEHOLDER_LINK, "link", lazy.regex(
        r"\(\s*(?:insert\s+|add\s+|paste\s+)?(?:the\s+|a\s+)?" + _LINK_NOUN
        + r"\s+(?:here|needed|missing|tbd|tbc|tk|to\s+come|goes\s+here|to\s+follow)\s*\)"
        r"|\(\s*(?:insert\s+|add\s+)?(?:the\s+|a\s+)?link\s+to\s+[^()\n]{1,80}\)",
        re.IGNORECASE)),
    _P(PLACEHOLDER_LINK, "link", lazy.regex(
        r"<\s*(?:url|link|insert\s+(?:link|url))\s*>|\b(?:insert|add|paste)\s+(?:the\s+|a\s+)?(?:link|url)\s+here\b"
        # "link here" alone is prose ("the link here is broken"); "(link here)" and "[link here]" are above
        r"|\b(?:link|url)\s+(?:goes\s+here|to\s+come|tbd)\b", re.IGNORECASE)),
    _P(PLACEHOLDER_LINK, "link", lazy.regex(r'href\s*=\s*["\'](?:#?|https?://)["\']', re.IGNORECASE)),
    # --- KR101: citation markers ---
    _P(PLACEHOLDER_TEXT, "citation", lazy.regex(
        _OPEN + r"\s*" + _CITE_NOUN + r"\s+(?:needed|required|missing|here|to\s+come|to\s+follow|tbd|tbc|tk|pending)"
        + r"\s*(?:[.!?]+\s*)?" + _CLOSE, re.IGNORECASE)),
    _P(PLACEHOLDER_TEXT, "citation", lazy.regex(r"(?<![\w-])(?:citation|cite)\s+needed\b", re.IGNORECASE)),
    _P(PLACEHOLDER_TEXT, "citation", lazy.regex(r"\b(?:REFERENCE|SOURCE|REF)S?\s+NEEDED\b")),
    _P(PLACEHOLDER_TEXT, "citation", lazy.regex(
        r"\[\s*(?:" + _CITE_NOUN + r"|cite\s+this|cite\s+source|add\s+(?:a\s+)?" + _CITE_NOUN + r"|ref#?|\d*\?+)\s*\]"
        r"|\[\s*(?:citation|reference|ref|cite)[:\s]+(?:tbd|tbc|tk|todo|xxx|\?+)\s*\]", re.IGNORECASE),
       _not_a_markdown_link),  # "[reference](https://...)" is a link whose text is a common word
    _P(PLACEHOLDER_TEXT, "citation", lazy.regex(
        r"[\[(]\s*" + _CITE_NOUN + r"\s*\?+\s*[\])]|\b(?:source|citation|reference)s?\s*\?+(?![\w?])",
        re.IGNORECASE), _source_question_ok),
    _P(PLACEHOLDER_TEXT, "citation", lazy.regex(
        r"[\[(]\s*(?:Authors?|AUTHORS?|Author\s+et\s+al\.?|Surname|Last\s?name|Name)(?:\s+et\s+al\.?)?,?\s+"
        r"(?:Year|YEAR|YYYY|XXXX|n\.d\.|Date|date|year)\s*[\])]"
        r"|\b(?:Author|Authors|Surname)\s+(?:et\s+al\.\s+)?\((?:Year|YYYY|XXXX)\)")),
    _P(PLACEHOLDER_TEXT, "citation", lazy.regex(
        r"\b(?:insert|add)\s+(?:a\s+|the\s+)?(?:citation|reference|source|ref)s?\s+here\b"
        r"|\binsert\s+(?:a\s+|the\s+)?(?:citation|reference|ref)s?\b"
        r"|\[\s*(?:insert|add|include|cite|need|needs)\b[^\[\]\n]{0,60}\b" + _CITE_NOUN + r"[^\[\]\n]{0,60}\]",
        re.IGNORECASE)),
    # a marker that asks for a source: "TODO: cite", "TODO cite Smith", "[TODO add source]", "FIXME: references"
    _P(PLACEHOLDER_TEXT, "citation", lazy.regex(
        r"(?<![\w/#.@-])(?P<marker>TODO|TBD|TBC|TBA|FIXME|XXX+)(?![\w/-])"
        r"(?i:\s*:?\s*(?:add|insert|find|need|needs)?\s*(?:a\s+|the\s+)?(?:cite|citations?|references?|sources?|refs?))\b"),
       _marker_ok),
    _P(PLACEHOLDER_TEXT, "marker", lazy.regex(r"(?<![\w./#-])(?:19|20)(?:XX|xx|\?\?)(?![\w-])|\bYYYY\b")),
    _P(PLACEHOLDER_TEXT, "marker", lazy.regex(
        r"(?<![\w/#.@-])(?P<marker>TODO|TBD|TBC|TBA|FIXME|XXX+)(?![\w/-])(?!\s+(?:list|lists|app|apps)\b)"),
        _marker_ok),
    _P(PLACEHOLDER_TEXT, "marker", lazy.regex(r"(?<![\w.])X{2,3}(?:\.X+)?\s?%|\[\s*\?{2,}\s*\]|\(\s*\?{2,}\s*\)")),
    _P(PLACEHOLDER_TEXT, "template", lazy.regex(
        r"\b(?:Journal\s+Name|Name\s+of\s+(?:the\s+)?Journal|Article\s+Title|Title\s+of\s+(?:the\s+)?(?:Article|Work"
        r"|Page|Book|Paper|Report)|Publisher\s+Name|Website\s+Name|Site\s+Name|Page\s+Title|Book\s+Title)\b"
        r"|\[\s*(?:title|journal|publisher|year|date|volume|pages?|doi)\s*\]")),
    # --- KR103: names ---
    _P(PLACEHOLDER_NAME, "name", lazy.regex(
        r"\b(?:John|Jane|J\.|Baby|Richard|Mary)\s+(?:Q\.\s+)?Doe\b|\bDoe,\s*(?:John|Jane|J\.?)(?![\w])"
        r"|\bDoe\s+J\b|\b(?:Jo(?:e|hn)|Jane)\s+Bloggs\b|\bJohn\s+Q\.?\s+Public\b|\bA\.\s?N\.\s?Other\b"
        r"|\b(?:Max|Erika)\s+Mustermann\b|\bFred\s+Nurk\b|\bJoe\s+Schmoe?\b|\bJoe\s+Sixpack\b"),
       _not_a_case_name),
    # the commonest English name, when an invented expert wears it
    _P(PLACEHOLDER_NAME, "name", lazy.regex(r"\b(?:John|Jane)\s+Smith\b"), _stock_expert),
    _P(PLACEHOLDER_NAME, "name", lazy.regex(
        r"\b(?:Dr|Mr|Mrs|Ms|Prof|Professor|Doctor)\.?\s+(?:X{1,3}|Y|Z|XYZ|ABC|So-and-So|\[[^\]\n]{1,30}\])"
        r"(?![\w'’-])(?!\.?\s+[A-Z][a-z])")),
    _P(PLACEHOLDER_NAME, "name", lazy.regex(
        r"\b(?:Author(?:'s)?\s+Name|AUTHOR\s+NAME|Firstname\s+Lastname|First\s?[Nn]ame\s+Last\s?[Nn]ame|First\s+Last"
        r"|Name\s+Surname|Your\s+Name|Expert\s+Name|Lastname,\s*(?:Firstname|F\.)|Surname,\s*(?:Initials|Forename|F\.))\b")),
    _P(PLACEHOLDER_NAME, "name", lazy.regex(
        # not after a word or a bracket: "cls.__dict__[name]", "row[author]" index a value
        r"(?<![\w\])])\[\s*(?:name|author|author\s+name|expert|expert\s+name|surname|first\s+name|last\s+name)\s*\]",
        re.IGNORECASE), _not_a_markdown_link),
    _P(PLACEHOLDER_NAME, "name", lazy.regex(r"\blorem\s+ipsum\b|\bdolor\s+sit\s+amet\b", re.IGNORECASE)),
    # --- KR104: notes to the writer ---
    _P(DRAFTING_NOTE, "note", lazy.regex(
        r"\bremember\s+to\s+(?:update|check|verify|add|replace|fix|insert|cite|confirm|double[- ]check|change"
        r"|remove|delete|link|include|rewrite|revise|expand|find)\b", re.IGNORECASE), _note_ok),
    _P(DRAFTING_NOTE, "note", lazy.regex(
        r"\b(?:verify|double[- ]check|fact[- ]check|confirm)\s+(?:these|this|those|that|all\s+(?:the\s+)?)"
        r"\s*(?:\w+\s+)?(?:links?|urls?|sources?|references?|citations?|stats?|statistics|numbers|figures|data|dates?"
        r"|quotes?|claims?|facts?|dois?)\b", re.IGNORECASE)),
    _P(DRAFTING_NOTE, "note", lazy.regex(
        r"\b(?:verify|check|double[- ]check|fact[- ]check|confirm)\s+(?:the|all)\s+(?:\w+\s+)?"
        r"(?:links?|urls?|sources?|references?|citations?|stats?|statistics|numbers|figures|data|dates?|quotes?|dois?)\b",
        re.IGNORECASE), _in_brackets),
    _P(DRAFTING_NOTE, "note", lazy.regex(r"\bfor\s+illustrat(?:ive|ion)\s+purposes\s+only\b", re.IGNORECASE),
       _illustrative_ok),
    _P(DRAFTING_NOTE, "note", lazy.regex(
        r"\bhypothetical\s+(?:example|study|data|figures?|quote|scenario|statistics?)\b", re.IGNORECASE),
       _hypothetical_ok),
    _P(DRAFTING_NOTE, "note", lazy.regex(
        r"\breplace\s+(?:this\s+|these\s+|it\s+)?with\s+(?:the\s+|an?\s+)?(?:actual|real|correct|proper|accurate"
        r"|current|updated|final|genuine|verified)\b"
        r"|\bnote\s+to\s+(?:self|editor|writer|author)\b(?!s)|\bdo\s+not\s+publish\b|\bnot\s+for\s+publication\b"
        r"|\b(?:this\s+is\s+(?:a|just\s+a)\s+)?placeholder\s+(?:text|link|url|quote|statistic|stats?|data|image"
        r"|reference|citation|source|number|name|figure)s?\b"
        # "This is a placeholder." or "... a placeholder for the real figure"; not "a placeholder for the fence"
        r"|\bthis\s+is\s+(?:a|just\s+a)\s+placeholder\b(?=\s*(?:[.!;:,)\]\-–—]|$)|\s+(?:for|until)\s+(?:the\s+|an?\s+)?"
        r"(?:real|actual|final|correct|proper|right|missing|link|url|source|reference|citation|quote|statistic|data"
        r"|figure|number|image|text)\b)"
        r"|\[\s*placeholder[^\]\n]{0,60}\]|\bdummy\s+(?:text|data|link|url|reference|citation)\b", re.IGNORECASE)),
    # An instruction about the text itself: "Replace the example figures with this year's brackets before
    # publishing", "Remember to localise the protocol before publishing", "Replace these tips with the client's
    # own", "Note: Make sure to double-check the figures in the table against a database".
    _P(DRAFTING_NOTE, "note", lazy.regex(
        r"^\W*(?:note\s*:\s*)?(?:please\s+)?(?:replace|update|add|insert|check|verify|locali[sz]e|confirm|swap|fill\s+in"
        r"|include|remove|adjust|tailor|double[- ]check|(?:remember|make\s+sure|be\s+sure)\s+to\s+[a-z-]+)\b"
        r"[^.!?\n]{0,160}?\bbefore\s+(?:publishing|publication|posting|(?:it|this)\s+goes\s+live|going\s+live"
        r"|you\s+publish|sending\s+it)\b"
        r"|^\W*(?:note\s*:\s*)?(?:please\s+)?(?:replace|swap)\s+(?:the|these|this|those|any|all)\s+(?:[\w'’-]+\s+){0,3}?"
        r"(?:examples?|samples?|figures|tips|quotes|quotations|names|numbers|statistics|links|placeholders?|details"
        r"|testimonials|recommendations|case\s+studies)\b[^.!?\n]{0,80}?\bwith\b"
        r"|\b(?:make|be)\s+sure\s+to\s+(?:double[- ]check|verify|fact[- ]check|confirm|check)\s+"
        r"(?:the|these|all\s+the)\s+(?:[\w-]+\s+){0,2}?(?:figures|numbers|statistics|stats|data|facts|links|sources|quotes)\b[^.!?\n]{0,60}?"
        r"\b(?:in|of)\s+(?:the|this)\s+(?:table|article|post|draft|piece|section|guide|list|text)\b",
        re.IGNORECASE)),
    # --- KR104: what an assistant wrote to the person who asked, not to the reader ---
    _P(DRAFTING_NOTE, "assistant", lazy.regex(
        r"\bas\s+an\s+AI(?:\s+(?:language\s+)?model|\s+assistant)?\b|\bas\s+a\s+(?:large\s+)?language\s+model\b"
        r"|\bI(?:'m|’m|\s+am)\s+an\s+AI\b|\bmy\s+(?:knowledge\s+cut-?off|training\s+data)\b"
        r"|\bI\s+(?:cannot|can't|can’t|don't|don’t|do\s+not)\s+(?:browse|access)\s+(?:the\s+internet|the\s+web"
        r"|real-time|external)"
        r"|\bI\s+hope\s+(?:this|that)\s+(?:helps|was\s+helpful|is\s+helpful|meets|works\s+for\s+you|fits)\b"
        r"|\bI\s+hope\s+(?:this|that|these|it|you|your\s+(?:readers|audience|team|clients?))\s+(?:[\w'’-]+\s+){0,5}?"
        r"(?:starting\s+point|useful|helpful|find\s+(?:it|this|these)|enjoy\s+(?:it|this|the))\b"
        # the assistant asks the person who asked: "Would you like me to add a table?", "Shall I expand ...?"
        r"|\b(?:would\s+you\s+like\s+me\s+to|do\s+you\s+want\s+me\s+to|shall\s+I|should\s+I)\s+(?:also\s+)?"
        r"(?:add|write|include|expand|create|make|revise|adjust|draft|provide|turn|prepare|generate|shorten)\b[^?\n]{0,120}\?"
        r"|\bI\s+hope\s+you\s+(?:enjoy|like|find)\s+(?:the|this|my)\s+(?:story|draft|poem|essay|article|post|piece"
        r"|version|rewrite|outline)\b"
        r"|\blet\s+me\s+know\s+if\s+(?:you(?:'d|’d|\s+would)\s+like|you\s+(?:want|need)\s+me\s+to"
        r"|there(?:'s|’s|\s+is)\s+anything\s+else|you\s+have\s+any\s+(?:other\s+)?(?:changes|edits|revisions"
        r"|adjustments|feedback))"
        r"|^\W*(?:certainly|sure|of\s+course|absolutely)[!,.]\s+(?:here(?:'s|’s|\s+is|\s+are)|below\s+(?:is|are))"
        r"|\b(?:this|the)\s+(?:article|post|piece|draft|essay|blog\s+post|text|story)\s+is\s+(?:approximately|about"
        r"|around|roughly|exactly|just\s+(?:over|under)|under|over)?\s*\d[\d,]*\s+words\b|\bword\s+count\s*:\s*\d"
        r"|\b(?:creating|writing|crafting|generating|drafting|producing)\s+(?:a|an|the)\s+(?:[\w-]+,?\s+){0,4}?"
        r"(?:meta\s+titles?|meta\s+descriptions?|FAQs?|articles?|blog\s+posts?|posts?|essays?|bibliograph(?:y|ies)"
        r"|reference\s+lists?|content|outlines?|summar(?:y|ies)|captions?|headlines?|guides?|overviews?|plans?"
        r"|templates?|reports?)\b[^.!?\n]{0,80}?"
        r"\b(?:requires|involves|would\s+require|needs)\b", re.IGNORECASE)),
    _P(DRAFTING_NOTE, "assistant", lazy.regex(
        r"\bhere(?:'s|’s|\s+is|\s+are)\s+(?:a|an|the|your|my)\s+(?:[\w-]+,?\s+){0,4}?(?:draft|version|rewrite"
        r"|revision|article|blog\s+post|post|essay|story|outline|summary|piece|copy|meta\s+description|meta\s+title"
        r"|bibliography|reference\s+list)\b", re.IGNORECASE), _announced_text),
    _P(DRAFTING_NOTE, "assistant", lazy.regex(
        r"\bfeel\s+free\s+to\s+(?:adjust|modify|customi[sz]e|tweak|edit|tailor|rewrite|rephrase|shorten|expand"
        r"|change|adapt|use)\b"
        r"|\byou\s+(?:can|could|may|might)\s+(?:also\s+)?(?:want\s+to\s+)?(?:expand|add|include|insert|replace"
        r"|adjust|tailor|customi[sz]e|modify|rewrite|shorten|lengthen|update)\b", re.IGNORECASE), _writer_context),
    # "Please note that the references below should be checked against the original publications"
    _P(DRAFTING_NOTE, "assistant", lazy.regex(
        r"\b(?:links?|urls?|sources?|references?|citations?|statistics|stats|figures|numbers|dates|studies|documents"
        r"|quotes?|quotations|facts|data)\b[^.!?\n]{0,120}?\b(?:should|must|would\s+need\s+to|will\s+need\s+to"
        r"|need\s+to|needs\s+to|have\s+to|has\s+to)\s+be\s+(?:\w+\s+)?(?:checked|double[- ]checked|verified"
        r"|fact[- ]checked|confirmed|accessed|located|updated|replaced|added|reviewed|cross[- ]checked|found)\b"
        r"|\b(?:ensure|make\s+sure)\s+(?:that\s+)?(?:all\s+)?(?:the|these|any|all)\s+(?:links|urls|sources|references"
        r"|citations|statistics|figures|quotes|facts|data)\b", re.IGNORECASE), _about_the_text),
    # SEO fields an assistant adds for the writer: "**Meta description:** ...", "Focus keyword: ..."
    _P(DRAFTING_NOTE, "assistant", lazy.regex(
        r"^\W*(?:meta\s+(?:title|description)|seo\s+(?:title|description)|focus\s+keywords?|target\s+keywords?"
        r"|url\s+slug)\s*(?:\*\*|__)?\s*:", re.IGNORECASE)),
    # "Note: the statistics and quotes in this article are illustrative": the evidence is invented
    _P(DRAFTING_NOTE, "assistant", lazy.regex(
        r"\b(?:statistics|figures|numbers|data|quotes|quotations|testimonials|case\s+studies|examples|studies"
        r"|sources|references|citations|names|experts|interviews)\b[^.!?\n]{0,80}?\b(?:is|are)\s+(?:purely\s+|only\s+"
        r"|entirely\s+)?(?:illustrative|hypothetical|fictional|fictitious|made[- ]up|invented|placeholders?)\b",
        re.IGNORECASE)),
    _P(DRAFTING_NOTE, "assistant", lazy.regex(
        r"\(\s*(?:add|insert|include|expand|replace|update|mention|link)\b[^()\n]{0,100}?\b(?:here|the\s+reader(?:'s|’s)?"
        r"|your\s+audience|before\s+publishing)\s*[.!]?\s*\)", re.IGNORECASE)),
    # "Below are hypothetical examples ...", "The following case studies are fictional": invented evidence ahead
    _P(DRAFTING_NOTE, "announcement", lazy.regex(
        r"\b(?:below|here|the\s+following)\s+(?:is|are)\s+(?:(?:a|an|some|a\s+few|two|three|several)\s+)?"
        r"(?:[\w-]+\s+)?(?:hypothetical|fictional|fictitious|illustrative|imaginary|invented|made-up|composite)\b"
        r"|\b(?:below|here)\s+(?:is|are)\s+(?:(?:a|an|some|a\s+few|two|three|several)\s+)?(?:sample|example|mock|dummy)"
        r"\s+(?:[\w-]+\s+){0,2}?"
        r"(?:bibliograph(?:y|ies)|references?|reference\s+list|citations?|sources|quotes?|quotations?|testimonials?"
        r"|case\s+stud(?:y|ies)|interviews?|statistics|studies|reviews)\b"
        r"|\b(?:below|here)\s+(?:is|are)\s+(?:an?\s+|some\s+)?examples?\s+of\s+(?:how|what)\s+(?:[\w'’-]+\s+){1,5}?"
        r"(?:might|could|would|may)\b"
        r"|\bthe\s+following\s+(?:[\w-]+\s+){0,2}?(?:examples?|case\s+stud(?:y|ies)|cases|quotes?|quotations?"
        r"|testimonials?|scenarios?|stories|interviews?|profiles?|statistics|figures|data)\s+(?:is|are)\s+(?:\w+\s+)?"
        r"(?:hypothetical|fictional|fictitious|illustrative|imaginary|invented|made[- ]up|composites?"
        r"|for\s+illustration)\b", re.IGNORECASE)),
    _P(DRAFTING_NOTE, "note", lazy.regex(
        r"\[\s*(?:add|insert|include|expand|write|fill\s+in|rewrite|update|check|verify|confirm|double[- ]check"
        r"|fact[- ]check|replace|find|tk|to\s+be\s+(?:confirmed|added|updated|verified|determined|written))\b"
        r"[^\[\]\n]{0,100}\]"
        r"|\(\s*(?:to\s+be\s+(?:confirmed|added|updated|verified|determined|written)|tk|more\s+to\s+come"
        r"|add\s+(?:more\s+)?(?:details|data|stats|statistics|numbers)\s+here)\s*\)",
        re.IGNORECASE), _not_a_markdown_link),
)

# URL hosts reserved for documentation and tests (RFC 2606, RFC 6761) or one's own machine, and the
# "your site" stand-ins of templates.
_EXAMPLE_HOST_RE = lazy.regex(
    r"(?:^|\.)(?:example\.(?:com|org|net|edu)|example|test|invalid|localhost|local|"
    r"yourwebsite\.com|yoursite\.com|yourdomain\.com|your-website\.com|website\.com|domain\.com|url\.com"
    r"|xxx|xxx\.com|link|url)$",
    re.IGNORECASE,
)
_LOOPBACK_RE = lazy.regex(r"^(?:127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[?::1\]?)$")
_BARE_EXAMPLE_RE = lazy.regex(
    r"(?<![\w@/.:-])(?:www\.)?example\.(?:com|org|net|edu)\b(?!\.?[\w-])|(?<![\w@/.:-])localhost:\d+\b", re.IGNORECASE
)


def placeholder_host(url: str) -> bool:
    """True for a URL on a host reserved for examples or for one's own machine (example.com, *.test,
    localhost, 127.0.0.1), whatever its path says."""
    try:
        host = urllib.parse.urlsplit(url).hostname or ""
    except ValueError:
        return False
    host = host.rstrip(".")
    return bool(host) and (_EXAMPLE_HOST_RE.search(host) is not None or _LOOPBACK_RE.match(host) is not None)


# URLs are blanked with NUL rather than spaces: "[text](https://...)" must still read as a link with a target,
# not "[text]( )".
_BLANK = "\0"


def _stored_triggers() -> list[Any]:
    """What data/placeholder_triggers.json holds for each pattern (an empty list when it cannot be read)."""
    try:
        with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", TRIGGERS_FILE), "rb") as handle:
            stored = json.load(handle)
        return list(stored["patterns"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


@functools.cache
def _prefilter() -> tuple[tuple[int, ...], dict[str, frozenset[int]], dict[str, frozenset[int]], tuple[_Ways, ...]]:
    """The patterns scanned on every text; the patterns each string of a way's first set lets through, for the
    patterns that ignore case (looked for in the lower-cased text) and for those that do not (looked for as
    written); each pattern's ways (read at the first use from the data file; a pattern it does not hold as
    written is read with re's parser)."""
    always: list[int] = []
    letting: tuple[dict[str, set[int]], dict[str, set[int]]] = ({}, {})
    required: list[_Ways] = []
    stored = _stored_triggers()
    for index, pattern in enumerate(PATTERNS):
        entry = stored[index] if index < len(stored) else None
        if isinstance(entry, dict) and entry.get("pattern") == pattern.regex.pattern:
            exact = bool(entry["exact"])
            ways: _Ways | None = None if entry["ways"] is None else \
                [[frozenset(texts) for texts in sets] for sets in entry["ways"]]
        else:  # the file is stale (tests/cli/startup says so): read the pattern as the generator would
            from kratomref.rules import literals

            exact, ways = literals.exact(pattern.regex), literals.triggers(pattern.regex)
        required.append(ways or [])
        if ways is None:
            always.append(index)
        for text in (text for sets in ways or () for text in sets[0]):
            letting[exact].setdefault(text, set()).add(index)
    lowered, exact_table = ({text: frozenset(indexes) for text, indexes in table.items()} for table in letting)
    return tuple(always), lowered, exact_table, tuple(required)


def _scanned(text: str) -> list[int]:
    """The patterns (their indexes, in order) that may match text: those one of whose ways it holds."""
    always, lowered, exact, required = _prefilter()
    if _FOLDS_TO_ASCII.intersection(text):
        return list(range(len(PATTERNS)))
    low = text.lower()
    candidates: dict[int, str] = {}  # pattern -> the text its triggers are looked for in
    for table, written in ((lowered, low), (exact, text)):
        for trigger in [trigger for trigger in table if trigger in written]:
            candidates.update(dict.fromkeys(table[trigger], written))
    scanned = list(always)
    for index, written in candidates.items():
        for sets in required[index]:  # a way matches when the text holds a string of each of its sets
            for texts in sets:
                for trigger in texts:
                    if trigger in written:
                        break
                else:
                    break  # no string of this set: not this way
            else:
                scanned.append(index)
                break
    return sorted(scanned)


_CACHE_CHARS = 400  # field values up to this long are remembered: journals, publishers, years recur


def find_placeholders(text: str, defined: frozenset[str] = frozenset()) -> list[Placeholder]:
    """Every placeholder in text, in order, without overlaps (the longest match at a place wins).

    `defined` holds acronyms the surrounding document defines ("TBD" for tick-borne disease), which are
    then not taken for markers.
    """
    if not defined and len(text) <= _CACHE_CHARS:
        return list(_remembered(text))
    return _find_placeholders(text, defined)


@functools.lru_cache(maxsize=4096)
def _remembered(text: str) -> tuple[Placeholder, ...]:
    return tuple(_find_placeholders(text, frozenset()))


def _find_placeholders(text: str, defined: frozenset[str]) -> list[Placeholder]:
    scanned = _scanned(text)
    if not scanned and "://" not in text:  # no pattern can match, no URL: nothing but a bare example host
        lowered = text.lower()
        if "example" not in lowered and "localhost" not in lowered:
            return []
    defined = defined | defined_acronyms([text])
    found: list[Placeholder] = []
    # Links first: a dummy host is a KR102 whatever its path, and a real URL's path ("/example/XXX-2")
    # is not prose, so URLs are blanked before the text patterns run.
    pieces: list[str] = []
    last = 0
    for offset, url in find_urls(text):
        if placeholder_host(url):
            found.append(Placeholder(PLACEHOLDER_LINK, url, offset, offset + len(url), "link"))
        pieces += (text[last:offset], _BLANK * len(url))
        last = offset + len(url)
    prose_text = "".join(pieces) + text[last:]  # one copy: blanking URL by URL was quadratic in the URLs
    for match in _BARE_EXAMPLE_RE.finditer(prose_text):
        found.append(Placeholder(PLACEHOLDER_LINK, match.group(0), match.start(), match.end(), "link"))
    candidates: list[Placeholder] = []
    for index in scanned:
        pattern = PATTERNS[index]
        source = text if pattern.kind == "link" else prose_text
        for match in pattern.regex.finditer(source):
            if pattern.accept is not None and not pattern.accept(source, match, defined):
                continue
            candidates.append(Placeholder(pattern.rule, text[match.start() : match.end()], match.start(),
                                          match.end(), pattern.kind))
    # Longest first, then earliest; a match overlapping one already taken is the same placeholder. The characters
    # of the taken spans are marked: a candidate is checked against its own characters only, and the taken spans
    # do not overlap, so marking them all is linear (inserting into sorted lists was quadratic in the matches).
    taken: list[Placeholder] = []
    covered = bytearray(len(text))
    for candidate in sorted(found + candidates, key=lambda p: (-(p.end - p.start), p.start)):
        if candidate.end > candidate.start and covered.find(1, candidate.start, candidate.end) >= 0:
            continue
        if candidate.end == candidate.start and any(t.start < candidate.start < t.end for t in taken):
            continue
        covered[candidate.start : candidate.end] = b"\1" * (candidate.end - candidate.start)
        taken.append(candidate)
    return sorted(taken, key=lambda p: p.start)


# The kinds of placeholder that stand where a source should be (rules.placeholder_search searches their sentences).
SEARCHED_KINDS = frozenset({"citation", "link"})


def placeholder_spans(text: str, kinds: frozenset[str] | None = SEARCHED_KINDS) -> list[tuple[int, int]]:
    """Where text holds a placeholder for a source: "(reference needed)", "[?]", "[Link to FDA statement]"...

    kinds=None: every kind of placeholder ("XX%", "TODO" too). The placeholder rules (KR101/KR102) own
    the detector, which takes a marker that asks for a source ("TODO: cite", "[TODO add source]") for a
    citation placeholder.
    """
    return [(hit.start, hit.end) for hit in find_placeholders(text) if kinds is None or hit.kind in kinds]


def citation_placeholders(text: str) -> list[Placeholder]:
    """The placeholders in text that stand where a citation should be ("(reference needed)", "[?]",
    "(Author, Year)", "[insert citation]"): what the editor rules search Crossref for."""
    return [p for p in find_placeholders(text) if p.kind == "citation"]


# --- judging ------------------------------------------------------------------------------------

# Fields that are never printed in a bibliography or that hold machine data, not the writer's text.
SKIPPED_FIELDS = frozenset(
    {"file", "id", "type", "ty", "urldate", "timestamp", "owner", "groups", "keywords", "mendeley-tags",
     "abstract", "annote", "annotation", "comment", "kratomref-ignore", "citation-key", "accessed"}
)
_LIST_ITEM_KEY = lazy.regex(r"ref-\d+'*")
# BibLaTeX's date fields take EDTF level 1, where X marks an unspecified digit: "19XX", "199X", "1999-XX".
EDTF_FIELDS = frozenset({"date", "origdate", "eventdate", "urldate"})
EDTF_UNSPECIFIED_RE = lazy.regex(r"-?\d{1,3}X{1,3}(?:-(?:\d\d|XX)){0,2}|\d{4}-XX(?:-XX)?(?:/\S{0,20})?[~?%]?")
_URL_FIELDS = frozenset({"url", "ur", "link", "l1", "l2", "howpublished"})
_URL_STAND_INS = frozenset({"url", "link", "tbd", "tba", "todo", "xxx", "#", "http://", "https://", "www", "..."})
_DIRECTIVE_RE = lazy.regex(r"<!--\s*kratomref:.*?-->|%\s*kratomref:.*$", re.IGNORECASE)


def _message(placeholder: Placeholder, where: str) -> str:
    what = {
        "citation": "citation placeholder",
        "marker": "placeholder",
        "template": "template text",
        "link": "placeholder link",
        "name": "placeholder name",
        "note": "drafting note",
        "assistant": "leftover",
        "announcement": "announcement",
    }[placeholder.kind]
    message = f'{what} "{" ".join(placeholder.text.split())}" {where}'
    if placeholder.kind in ("assistant", "announcement"):
        message += ": it reads as an assistant's note to the writer, not text for the reader"
    return message


def is_free_text_item(ref: Reference) -> bool:
    """True for an item of a draft's reference list or a LaTeX \\bibitem, parsed from free text (its fields
    derive from raw)."""
    if is_bibitem(ref):
        return True
    return bool(_LIST_ITEM_KEY.fullmatch(ref.location.key or "")) and not ref.raw.lstrip().startswith("@")


def _field_lines(ref: Reference, name: str) -> tuple[int | None, list[str] | None]:
    """The line a field starts on, and its raw value's lines in lower case when it spans more than one."""
    first = ref.line_of(name)
    raw = ref.raw_fields.get(name, "")
    if first is None or "\n" not in raw:
        return first, None
    return first, raw.lower().splitlines()


def _field_line(first: int | None, lines: list[str] | None, text: str) -> int | None:
    """The line of a field's raw value that holds text, for placeholders in a multi-line field (`first` and
    `lines` from _field_lines, worked out once per field: a field may hold thousands of placeholders)."""
    if first is None or lines is None:
        return first
    words = text.split()
    needle = words[0].lower() if words else ""
    for index, line in enumerate(lines):
        if needle and needle in line:
            return first + index
    return first


def judge(ref: Reference, evidence: Evidence, ctx: Context) -> Iterator[Finding]:
    seen: set[tuple[str, str, int | None]] = set()
    if is_free_text_item(ref):
        sources: list[tuple[str | None, str]] = [(None, ref.raw)]
    else:
        sources = [(name, value) for name, value in ref.fields.items()
                   if name.lower() not in SKIPPED_FIELDS and isinstance(value, str)]
        if ref.authors and not any(name in ref.fields for name in ("author", "au", "a1", "editor")):
            # CSL-JSON keeps names as structured data, not as a field's text.
            sources.append(("author", "; ".join(f"{a.given} {a.family}".strip() for a in ref.authors)))
    for name, value in sources:
        if name is not None and name.lower() in EDTF_FIELDS and EDTF_UNSPECIFIED_RE.fullmatch(value.strip()):
            continue  # biblatex's "date = {19XX}": an EDTF date with unspecified digits, not a placeholder
        hits = find_placeholders(value)
        if name is not None and name.lower() in _URL_FIELDS and value.strip().lower() in _URL_STAND_INS and not hits:
            hits = [Placeholder(PLACEHOLDER_LINK, value.strip(), 0, len(value), "link")]
        first, lines = _field_lines(ref, name) if name and hits else (None, None)
        for hit in hits:
            line = _field_line(first, lines, hit.text) if name else ref.location.line
            identity = (hit.rule.code, " ".join(hit.text.lower().split()), line)
            if identity in seen:  # RIS and CSL keep a field under two names ("ti" and "title")
                continue
            seen.add(identity)
            where = f"in the {name} field" if name else "in the reference"
            yield Finding(hit.rule, Location(ref.location.file, line, ref.location.key), _message(hit, where),
                          SUGGESTIONS[hit.kind])


def _prose_lines(body: Sequence[TextLine]) -> Iterator[tuple[TextLine, str]]:
    """Body lines outside code and math blocks, with code spans, inline math and kratomref directives blanked
    out (kratomref.readers.intext: one definition of what is code for every rule)."""
    from kratomref.readers.intext import code_lines, mask_inline  # a draft's reader: not loaded for a bibliography

    code = code_lines(body)
    for line in body:
        if line.line in code:
            continue
        text = _DIRECTIVE_RE.sub(lambda m: " " * len(m.group(0)), mask_inline(line.text))
        yield line, text


# What an announcement of illustrative material covers: the quotations, case studies and sources that follow.
_HEADING_LINE_RE = lazy.regex(r"^\s{0,3}#{1,6}\s|^\s*\\(?:section|subsection|chapter)\b")
_QUOTATION_RE = lazy.regex(r"[“\"][^“”\"\n]{12,}?[”\"]")
_CASE_RE = lazy.regex(r"^\s*(?:[-*+]\s+|\d+[.)]\s+|>\s*)?(?:\*\*|__)[^*_\n]{2,80}(?:\*\*|__)"
                      r"|^\s*(?:case|example|scenario)\s*(?:study\s*)?\d*\s*[:.]", re.IGNORECASE)


class _Event(NamedTuple):
    """A line of a draft or an entry of its reference list, as _what_follows counts it."""

    line: int
    order: int  # the line's index in the document's prose lines; -1 for an entry of the reference list
    heading: bool
    material: bool  # not a heading, not blank: a line of text or an entry that the announcement may cover
    quotes: int
    cases: int
    sources: int


@dataclass(frozen=True)
class _FileEvents:
    """The events of one file in line order, with running counts: what follows any line is then read in one
    step, not by reading every later line again for each announcement (quadratic time)."""

    events: list[_Event]
    lines: list[int]  # the line of each event, for bisect
    in_order: bool  # the file's lines come in the document in line order (not a file included twice)
    quotes: list[int]  # quotes[i]: the quotes of events[:i]; cases and sources likewise
    cases: list[int]
    sources: list[int]
    next_material: list[int]  # next_material[i]: the first event at or after i that is material, or len(events)
    next_heading: list[int]  # next_heading[i]: the first heading at or after i, or len(events)


def _file_events(events: list[_Event], in_order: bool) -> _FileEvents:
    quotes, cases, sources = [0], [0], [0]
    for event in events:
        quotes.append(quotes[-1] + event.quotes)
        cases.append(cases[-1] + event.cases)
        sources.append(sources[-1] + event.sources)
    next_material = [len(events)] * (len(events) + 1)
    next_heading = [len(events)] * (len(events) + 1)
    for index in range(len(events) - 1, -1, -1):
        next_material[index] = index if events[index].material else next_material[index + 1]
        next_heading[index] = index if events[index].heading else next_heading[index + 1]
    return _FileEvents(events, [event.line for event in events], in_order, quotes, cases, sources, next_material,
                       next_heading)


def _following(doc: Document, lines: Sequence[tuple[TextLine, str]]) -> dict[str, _FileEvents]:
    """The events of each file of the document, for _what_follows: its prose lines, then the entries of its
    reference list, in line order (a line before an entry on the same line)."""
    by_file: dict[str, list[_Event]] = {}
    in_order: dict[str, bool] = {}
    for order, (line, text) in enumerate(lines):
        heading = _HEADING_LINE_RE.match(text) is not None
        material = not heading and bool(text.strip())
        events = by_file.setdefault(line.file, [])
        in_order[line.file] = in_order.get(line.file, True) and (not events or events[-1].line < line.line)
        events.append(_Event(line.line, order, heading, material, len(_QUOTATION_RE.findall(text)) if material else 0,
                             1 if material and _CASE_RE.match(text) else 0, 0))
    for ref in doc.references:
        if ref.location.file in by_file and ref.location.line is not None:
            by_file[ref.location.file].append(_Event(ref.location.line, -1, False, True, 0, 0, 1))
    return {file: _file_events(sorted(events, key=lambda event: event.line), in_order[file])
            for file, events in by_file.items()}


def _what_follows(following: Mapping[str, _FileEvents], here: TextLine, at: int) -> tuple[str, bool]:
    """("the 3 quotes and 2 case studies that follow", plural): the illustrative material announced on `here`,
    prose line index `at`, up to the next heading (or through the section a heading right after it opens),
    entries of a reference list included."""
    found = following[here.file]
    if found.in_order:
        # every event after the line's own: the later lines, and the entries on later lines
        first = found.next_material[bisect.bisect_right(found.lines, here.line)]
        stop = found.next_heading[first] if first < len(found.events) else first
        quotes = found.quotes[stop] - found.quotes[first]
        cases = found.cases[stop] - found.cases[first]
        sources = found.sources[stop] - found.sources[first]
    else:  # a file whose lines come twice or out of order: read the later lines and entries one by one
        quotes = cases = sources = 0
        seen = False
        for event in found.events:
            if (event.order <= at) if event.order >= 0 else (event.line <= here.line):
                continue
            if event.heading:
                if seen:
                    break
                continue
            if event.material:
                seen = True
                quotes, cases, sources = quotes + event.quotes, cases + event.cases, sources + event.sources
    parts = [f"{n} {word if n == 1 else plural}" for n, word, plural in
             ((quotes, "quote", "quotes"), (cases, "case study", "case studies"),
              (sources, "entry of the reference list", "entries of the reference list")) if n]
    if not parts:
        return "the material that follows", False
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    many = quotes + cases + sources > 1
    return f"the {listed} that {'follow' if many else 'follows'}", many


def judge_document(doc: Document, evidence: DocumentEvidence, ctx: Context) -> Iterator[Finding]:
    if not doc.body:
        return
    lines = list(_prose_lines(doc.body))
    defined = defined_acronyms(text for _, text in lines)
    following: dict[str, _FileEvents] | None = None  # read once, at the first announcement
    for index, (line, text) in enumerate(lines):
        for hit in find_placeholders(text, defined):
            suggestion = SUGGESTIONS[hit.kind]
            if hit.rule in (PLACEHOLDER_TEXT, PLACEHOLDER_LINK):
                # works that Crossref found for what the sentence describes, when the check searched
                suggestion = placeholder_candidates(doc, line.line, evidence, file=line.file,
                                                    spans=placeholder_spans) or suggestion
            message = _message(hit, "in the text")
            if hit.kind == "announcement":
                following = _following(doc, lines) if following is None else following
                covered, many = _what_follows(following, line, index)
                message += (f"; {covered} {'are' if many else 'is'} illustrative material that must not be"
                            " published as evidence")
            yield Finding(hit.rule, Location(line.file, line.line, None, hit.start + 1), message, suggestion)
