"""Rules about kratomref's own inline suppression comments (findings made by selection.py)."""

from __future__ import annotations

from kratomref.model import Rule, Severity

UNUSED_SUPPRESSION = Rule(
    "KR901",
    "unused-suppression",
    Severity.INFO,
    "An inline `kratomref: ignore[...]` names a rule that reported nothing there.",
    """What it does
  Reports a suppression comment (`% kratomref: ignore[...]`, a `kratomref-ignore` field, or
  `<!-- kratomref: ignore[...] -->`) that names a code or rule which found nothing on that entry or line.

Why it matters
  A stale suppression hides nothing today but will silently hide a real problem tomorrow, and it
  misleads the next reader into thinking the entry was once wrong.

Example
  % kratomref: ignore[KR304]
  @online{who2023, url = {https://www.who.int/news/item/2023-fact-sheet}}   (no KR304 reported)

How to fix
  Delete the suppression, or the codes in it that no longer apply.""",
)

RULES = (UNUSED_SUPPRESSION,)
