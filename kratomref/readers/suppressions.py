"""Inline suppression comments: `kratomref: ignore[KR304,link-generic]` in any comment syntax."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# The directive itself; each reader finds it inside its own comment syntax (%, <!-- -->).
DIRECTIVE_RE = re.compile(r"kratomref:\s*ignore\[([^\]]*)\]", re.IGNORECASE)
_CODE_RE = re.compile(r"[A-Za-z]+\d+")


def parse_selectors(text: str) -> frozenset[str]:
    """The codes and names of a list such as "KR304, link-generic": codes upper-case, names lower-case."""
    selectors = set()
    for token in re.split(r"[\s,;]+", text):
        token = token.strip()
        if token:
            selectors.add(token.upper() if _CODE_RE.fullmatch(token) else token.lower())
    return frozenset(selectors)


def directive(text: str) -> frozenset[str] | None:
    """The selectors of the first suppression directive in text, or None when there is none."""
    match = DIRECTIVE_RE.search(text)
    return parse_selectors(match.group(1)) if match else None


def merge(target: dict[int, frozenset[str]], line: int, selectors: Iterable[str]) -> None:
    target[line] = target.get(line, frozenset()) | frozenset(selectors)


def on_lines(suppressions: Mapping[int, frozenset[str]], first: int, last: int) -> frozenset[str]:
    """Every selector suppressed on a line from first to last inclusive."""
    found: frozenset[str] = frozenset()
    for line in range(first, last + 1):
        found |= suppressions.get(line, frozenset())
    return found
