"""Blank parts of a text with spaces, keeping every line and column where it was (comments, code, links)."""

from __future__ import annotations

from collections.abc import Iterable


def blank_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """text with each (start, end) span replaced by spaces; newlines inside a span are kept, and spans may
    come in any order and overlap."""
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        start = max(start, last)
        if end <= start:
            continue
        out.append(text[last:start])
        piece = text[start:end]
        out.append(" " * len(piece) if "\n" not in piece else "\n".join(" " * len(p) for p in piece.split("\n")))
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)
