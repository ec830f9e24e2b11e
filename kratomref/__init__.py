"""kratomref: check the references of a piece of writing before it is published."""

from __future__ import annotations

__version__ = "0.1.0"
