"""MLA 9 rules CSL cannot express, applied to an item's data before it is rendered in an MLA style."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kratomref.export.apa import same_organisation

# Where MLA names the organisation that published a work: its publisher, and for a web page its site.
_SITE_TYPES = frozenset({"webpage", "post", "post-weblog"})


def _group_author(item: Mapping[str, Any]) -> str | None:
    names = item.get("author") or []
    if len(names) == 1 and isinstance(names[0], Mapping) and names[0].get("literal"):
        return str(names[0]["literal"])
    return None


def organisation_as_publisher(item: dict[str, Any]) -> dict[str, Any]:
    """MLA 9 (2.1 and 5.x, "Corporate author"): a work whose author is also its publisher (or, for a web page,
    its site) begins with its title; the organisation is named once, as publisher. "The same" is APA's
    comparison (kratomref.export.apa.same_organisation): "Drug Enforcement Administration (DEA)" and "Drug
    Enforcement Administration" are one organisation, "U.S. Food and Drug Administration" too."""
    author = _group_author(item)
    if author is None:
        return item
    places = ["publisher"] + (["container-title"] if item.get("type") in _SITE_TYPES else [])
    if not any(same_organisation(author, str(item.get(p) or "")) for p in places):
        return item
    out = dict(item)
    del out["author"]
    return out


def mla_item(item: dict[str, Any]) -> dict[str, Any]:
    """The item as MLA 9 wants it rendered."""
    return organisation_as_publisher(item)
