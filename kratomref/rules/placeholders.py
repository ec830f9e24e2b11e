"""Rule family 'placeholders': filled in by its own change (see the module docstring when it lands)."""

from __future__ import annotations

from kratomref.model import Rule

RULES: tuple[Rule, ...] = ()
