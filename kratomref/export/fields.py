"""CSL-JSON variables as the data writers (RIS, BibTeX) need them: names, dates, pages and plain text."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# The CSL name variables a bibliography carries, in the order the writers list them.
NAME_ROLES = ("author", "editor", "collection-editor", "translator")


def text(value: Any) -> str | None:
    """A CSL variable as one line of text: lists (some exporters write container-title as one) give their
    first string, numbers their digits; None when empty."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str | int) and str(v).strip()), None)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        joined = " ".join(str(value).split())
        return joined or None
    return None


def names(item: Mapping[str, Any], role: str) -> list[Mapping[str, Any]]:
    value = item.get(role)
    if not isinstance(value, list):
        return []
    return [n for n in value if isinstance(n, Mapping) and (text(n.get("literal")) or text(n.get("family"))
                                                           or text(n.get("given")))]


def is_literal(name: Mapping[str, Any]) -> bool:
    """True for an organisation: a CSL `literal` name, or a family name flagged as an institution."""
    return bool(text(name.get("literal"))) or bool(name.get("isInstitution") and not text(name.get("given")))


def literal_of(name: Mapping[str, Any]) -> str:
    return text(name.get("literal")) or text(name.get("family")) or ""


def family_of(name: Mapping[str, Any]) -> str:
    """The family name with its particles in front ("van der Berg"), the "von Last" of BibTeX and RIS."""
    return " ".join(p for p in (text(name.get("dropping-particle")), text(name.get("non-dropping-particle")),
                                text(name.get("family"))) if p)


def given_of(name: Mapping[str, Any]) -> str:
    return text(name.get("given")) or ""


def suffix_of(name: Mapping[str, Any]) -> str:
    return text(name.get("suffix")) or ""


def date_parts(item: Mapping[str, Any], variable: str) -> list[int] | None:
    """[year] / [year, month] / [year, month, day] of a CSL date variable given as date-parts (the first date
    of a range); None when it has none."""
    value = item.get(variable)
    parts = value.get("date-parts") if isinstance(value, Mapping) else None
    if not isinstance(parts, Sequence) or not parts or not isinstance(parts[0], Sequence) or not parts[0]:
        return None
    out: list[int] = []
    for part in list(parts[0])[:3]:
        try:
            out.append(int(str(part).strip()))
        except ValueError:
            break
    return out if out and out[0] else None  # pandoc reads an empty `year = {}` as [[0]]


def date_literal(item: Mapping[str, Any], variable: str) -> str | None:
    """The text of a CSL date given without date-parts (`literal` or `raw`): "Spring 2019", "n.d."."""
    value = item.get(variable)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping) and not date_parts(item, variable):
        return text(value.get("literal")) or text(value.get("raw"))
    return None


def year_in(value: str | None) -> str | None:
    match = re.search(r"(?<!\d)\d{4}(?!\d)", value or "")
    return match.group(0) if match else None


def split_pages(page: str) -> tuple[str, str | None]:
    """"138-151" -> ("138", "151"); "e123" -> ("e123", None)."""
    parts = [p.strip() for p in re.split(r"\s*[-–—]+\s*", page, maxsplit=1)]
    if len(parts) == 2 and parts[1]:
        return parts[0], parts[1]
    return parts[0], None


def keywords(value: Any) -> list[str]:
    """CSL `keyword` ("kratom, mitragynine" or a list) as separate keywords."""
    if isinstance(value, list):
        return [k for k in (text(v) for v in value) if k]
    joined = text(value)
    if not joined:
        return []
    return [k.strip() for k in re.split(r"[,;]", joined) if k.strip()]


# --- CSL rich text -----------------------------------------------------------------------------------------

# The markup CSL-JSON may hold in a text variable (CSL 1.0.2, "Rich Text Formatting"; pandoc writes it for a
# .bib's \emph, \textbf, \textsuperscript, \textsubscript, \textsc and {braced} words), by kind.
_MARKUP_TAG = re.compile(
    r"<(?P<close>/)?(?:(?P<kind>i|b|sup|sub)|(?P<span>span)"
    r"(?:\s+(?:class\s*=\s*\"(?P<cls>nocase|nodecor)\"|style\s*=\s*\"\s*font-variant\s*:\s*(?P<sc>small-caps)\s*;?\s*\"))?)"
    r"\s*>",
    re.IGNORECASE,
)
MARKUP_KINDS = ("i", "b", "sup", "sub", "nocase", "nodecor", "small-caps")


class Markup:
    """One piece of marked-up text: its kind (one of MARKUP_KINDS) and what it holds."""

    __slots__ = ("children", "kind")

    def __init__(self, kind: str, children: list[str | Markup] | None = None) -> None:
        self.kind = kind
        self.children: list[str | Markup] = children if children is not None else []


def rich_text(value: str) -> list[str | Markup]:
    """A CSL text variable as text and markup. Only CSL's own tags are markup (a closing tag closes the innermost
    open one of its element); anything else, "p < 0.05" or a tag left open or never opened, is text as written."""
    root: list[str | Markup] = []
    stack: list[tuple[Markup, str, str]] = []  # (markup, element name, its opening tag as written)

    def children() -> list[str | Markup]:
        return stack[-1][0].children if stack else root

    def add(text_: str) -> None:
        target = children()
        if target and isinstance(target[-1], str):
            target[-1] += text_
        elif text_:
            target.append(text_)

    position = 0
    for match in _MARKUP_TAG.finditer(value):
        add(value[position : match.start()])
        position = match.end()
        element = (match.group("kind") or "span").lower()
        if match.group("close"):
            if stack and stack[-1][1] == element and not match.group("cls") and not match.group("sc"):
                stack.pop()
            else:
                add(match.group(0))
            continue
        kind = element if element != "span" else (match.group("cls") or match.group("sc") or "").lower()
        if not kind:  # a <span> of no kind CSL knows: text
            add(match.group(0))
            continue
        markup = Markup(kind)
        children().append(markup)
        stack.append((markup, element, match.group(0)))
    add(value[position:])
    while stack:  # never closed: the opening tag was text
        markup, _, opening = stack.pop()
        target = children()
        index = next(i for i, node in enumerate(target) if node is markup)
        target[index : index + 1] = [opening, *markup.children]
        merged: list[str | Markup] = []
        for node in target:
            if merged and isinstance(node, str) and isinstance(merged[-1], str):
                merged[-1] += node
            else:
                merged.append(node)
        target[:] = merged
    return root


def has_markup(value: str) -> bool:
    return any(isinstance(node, Markup) for node in rich_text(value))


def plain(value: Any) -> str | None:
    """`text(value)` with CSL's markup tags left out (what a plain-text format such as RIS holds)."""
    joined = text(value)
    if joined is None:
        return None

    def flat(nodes: Sequence[str | Markup]) -> str:
        return "".join(node if isinstance(node, str) else flat(node.children) for node in nodes)

    return " ".join(flat(rich_text(joined)).split()) or None
