"""Inline suppression comments: `kratomref: ignore[KR304,link-generic]` in any comment syntax."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from kratomref import lazy

# The directive itself; each reader finds it inside its own comment syntax (%, <!-- -->).
DIRECTIVE_RE = lazy.regex(r"kratomref:\s*ignore\[([^\]]*)\]", re.IGNORECASE)
# What looks like a directive but is not one: `kratomref: ignore` without a list, an unclosed list, or
# another word before the brackets (`kratomref: ingore[KR304]`).
_LOOSE_RE = lazy.regex(r"kratomref:\s*(?:(ignore)\b\s*(\[?)|([\w-]+)\s*\[)", re.IGNORECASE)
_CODE_RE = lazy.regex(r"[A-Za-z]+\d+")

# A malformed directive is kept as one selector that no rule matches, so that it reaches selection.py
# with its location and is reported (KR901) instead of silently suppressing nothing.
MALFORMED_PREFIX = "!malformed:"
MALFORMED_FIX = "write it as kratomref: ignore[CODE,...], e.g. kratomref: ignore[KR304], or delete it"
_MALFORMED = {
    "empty": "the list names no rule (kratomref: ignore[])",
    "bare": "kratomref: ignore names no rule (write the codes in brackets)",
    "unclosed": "the list of kratomref: ignore[ is not closed with ]",
}


def parse_selectors(text: str) -> frozenset[str]:
    """The codes and names of a list such as "KR304, link-generic": codes upper-case, names lower-case.
    An empty list is malformed (see `malformed`)."""
    selectors = set()
    for token in re.split(r"[\s,;]+", text):
        token = token.strip()
        if token:
            selectors.add(token.upper() if _CODE_RE.fullmatch(token) else token.lower())
    return frozenset(selectors) or frozenset({MALFORMED_PREFIX + "empty"})


def directive(text: str) -> frozenset[str] | None:
    """The selectors of the first suppression directive in text, or None when there is none. A directive
    that is malformed gives one selector that says how (see `malformed`)."""
    match = DIRECTIVE_RE.search(text)
    if match:
        return parse_selectors(match.group(1))
    loose = _LOOSE_RE.search(text)
    if loose is None:
        return None
    if loose.group(1):
        return frozenset({MALFORMED_PREFIX + ("unclosed" if loose.group(2) else "bare")})
    return frozenset({MALFORMED_PREFIX + "word:" + loose.group(3).lower()})


def malformed(selector: str) -> str | None:
    """What is wrong with a malformed directive's selector, in words; None for an ordinary selector."""
    if not selector.startswith(MALFORMED_PREFIX):
        return None
    kind = selector.removeprefix(MALFORMED_PREFIX)
    if kind.startswith("word:"):
        return f"kratomref: {kind.removeprefix('word:')}[...] is not a directive (did you mean kratomref: ignore[...]?)"
    return _MALFORMED.get(kind, kind)


def merge(target: dict[int, frozenset[str]], line: int, selectors: Iterable[str]) -> None:
    target[line] = target.get(line, frozenset()) | frozenset(selectors)


def note_comment(origins: dict[int, dict[str, int]], line: int, comment_line: int, selectors: Iterable[str]) -> None:
    """Record that the comment on comment_line names selectors for line (see Document.suppression_comments);
    nothing to record for a comment on its own target line. The first comment to name a selector keeps it."""
    if line != comment_line:
        for selector in selectors:
            origins.setdefault(line, {}).setdefault(selector, comment_line)


def on_lines(suppressions: Mapping[int, frozenset[str]], first: int, last: int) -> frozenset[str]:
    """Every selector suppressed on a line from first to last inclusive."""
    found: frozenset[str] = frozenset()
    for line in range(first, last + 1):
        found |= suppressions.get(line, frozenset())
    return found
