"""What a --select or --ignore selector names: a rule's code, its name, or a prefix of codes ("KR2", "KR")."""

from __future__ import annotations


def selector_matches(code: str, name: str, selector: str) -> bool:
    """True for a rule's code (any case), its name, or a code prefix such as "KR2" or "KR"."""
    s = selector.strip()
    return s.lower() == name or (code.upper().startswith(s.upper()) and bool(s))
