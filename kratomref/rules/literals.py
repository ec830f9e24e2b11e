"""The literal strings every match of a regular expression holds, read with re's own parser (no I/O).

rules/placeholders.py scans a text with a placeholder pattern only when the text holds one of them; the
results for today's patterns are shipped as data (rules/placeholder_triggers.py writes them).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

Ways = list[list[frozenset[str]]]  # one list of required sets per top-level alternative

_GRAM = 3  # triggers are cut to this many characters, so that one scan of a text finds every one it holds
_MAX_ALTERNATIVES = 64


def _literal_alternatives(items: Sequence[tuple[Any, Any]], ignorecase: bool) -> list[tuple[str, bool]]:
    """(literal text, open) pairs, one of which begins every match of the parsed pattern items: open means the
    whole sequence was literal, so that what follows it may extend the text. An empty text means unknown."""
    op = importlib.import_module("re._constants")  # the opcodes of re's own parser

    current: list[tuple[str, bool]] = [("", True)]
    for code, value in items:
        if not any(is_open for _, is_open in current):
            break
        alternatives: list[tuple[str, bool]]
        if code in (op.AT, op.ASSERT, op.ASSERT_NOT):  # \b, ^, lookarounds: no character consumed
            alternatives = [("", True)]
        elif code is op.LITERAL:
            alternatives = [_literal(chr(value), ignorecase)]
        elif code is op.IN:
            members = value if isinstance(value, list) else []
            if members and all(kind is op.LITERAL for kind, _ in members):
                alternatives = sorted({_literal(chr(char), ignorecase) for _, char in members})
            else:
                alternatives = [("", False)]
        elif code is op.SUBPATTERN:
            _, add_flags, del_flags, sub = value
            case = (ignorecase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
            alternatives = _literal_alternatives(sub.data, case)
        elif code is op.BRANCH:
            _, branches = value
            alternatives = [alt for branch in branches for alt in _literal_alternatives(branch.data, ignorecase)]
        elif code in (op.MAX_REPEAT, op.MIN_REPEAT, op.POSSESSIVE_REPEAT):
            low, _, sub = value
            once = [(text, False) for text, _ in _literal_alternatives(sub.data, ignorecase)]
            alternatives = once if low else [("", True), *once]  # zero times: what follows comes first
        else:  # \w, ., [^...], a backreference: no literal
            alternatives = [("", False)]
        combined = {(text, False) for text, is_open in current if not is_open}
        combined |= {(text + more, more_open and len(text + more) < _GRAM)
                     for text, is_open in current if is_open for more, more_open in alternatives}
        if len(combined) > _MAX_ALTERNATIVES:
            return [(text, False) for text, _ in current]
        current = sorted(combined)
    return current


def _literal(char: str, ignorecase: bool) -> tuple[str, bool]:
    """One literal character as a trigger compares it (lower-cased where the pattern ignores case), or unknown:
    a letter outside ASCII, whose case-insensitive matches str.lower does not mirror."""
    if not char.isascii() and char.lower() != char.upper():
        return "", False
    return (char.lower() if ignorecase else char), True


def _requirement(items: Sequence[tuple[Any, Any]], ignorecase: bool) -> list[frozenset[str]]:
    """Sets of strings of 1 to 3 characters such that every match of the parsed items holds a string of each set
    (a lone character only when it is punctuation: "[", "("); empty when none is known.

    Any suffix of a sequence is matched inside a match of the whole, so a literal run may begin at any item:
    "as an AI" gives {"as"}, {"an"} and {"ai"}, all three needed; a branch needs one of its branches' strings.
    """
    op = importlib.import_module("re._constants")

    found: list[frozenset[str]] = []
    for index, (code, value) in enumerate(items):
        texts = {text[:_GRAM] for text, _ in _literal_alternatives(items[index:], ignorecase)}
        if texts and all(len(text) >= 2 or (text and not text.isalnum() and not text.isspace()) for text in texts):
            found.append(frozenset(texts))
        if code is op.SUBPATTERN:
            _, add_flags, del_flags, sub = value
            case = (ignorecase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
            found += _requirement(sub.data, case)
        elif code is op.BRANCH:
            branches = [_best(_requirement(branch.data, ignorecase)) for branch in value[1]]
            if all(branches):
                found.append(frozenset().union(*branches))
        elif code in (op.MAX_REPEAT, op.MIN_REPEAT, op.POSSESSIVE_REPEAT) and value[0] >= 1:
            found += _requirement(value[2].data, ignorecase)
    return list(dict.fromkeys(found))


def _best(sets: list[frozenset[str]]) -> frozenset[str]:
    """The most telling of several required sets: longest strings, then fewest (empty when there is none)."""
    return max(sets, key=lambda texts: (min(map(len, texts)), -len(texts)), default=frozenset())


def triggers(regex: re.Pattern[str]) -> Ways | None:
    """The pre-filter for regex: every text regex matches holds, lower-cased, a string of each set of one of
    the ways; None when some way has no set (the pattern is then run on every text)."""
    try:
        op = importlib.import_module("re._constants")
        items = importlib.import_module("re._parser").parse(regex.pattern, regex.flags).data
        ignorecase = bool(regex.flags & re.IGNORECASE)
        while len(items) == 1 and items[0][0] is op.SUBPATTERN and not items[0][1][1] and not items[0][1][2]:
            items = items[0][1][3].data  # (?:a|b) around the whole pattern
        branches = items[0][1][1] if len(items) == 1 and items[0][0] is op.BRANCH else None
        ways = [_requirement(branch.data, ignorecase) for branch in branches] if branches else \
            [_requirement(items, ignorecase)]
    except Exception:  # a parser of another Python version: scan every text, as without the pre-filter
        return None
    if not all(ways):
        return None
    if not exact(regex):  # compared with the lower-cased text: every string lower-cased
        ways = [[frozenset(text.lower() for text in texts) for texts in sets] for sets in ways]
    return [sorted(sets, key=lambda texts: (-min(map(len, texts)), len(texts)))[:4] for sets in ways]


def exact(regex: re.Pattern[str]) -> bool:
    """Whether regex matches letters in their case everywhere: its triggers are then looked for as written
    ("Dr" and "Mr", not every "dr" of "drug")."""
    return not regex.flags & re.IGNORECASE and "(?i" not in regex.pattern
