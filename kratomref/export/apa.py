"""APA 7 rules CSL cannot express, applied to an item's data before it is rendered in an APA style."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_APA_SUBTITLE = re.compile(r"([:?!]\s+|—\s*)([a-z])")
_ABBREVIATION = re.compile(r"\s*\([A-Z][A-Z&.\-]{1,9}\)$")
# Words that name the country of an agency rather than the agency: "U.S. Food and Drug Administration"
# is the site of the author "Food and Drug Administration".
_COUNTRY_PREFIX = re.compile(r"^(?:the\s+)?(?:u\.?\s?s\.?(?:\s?a\.?)?|united states|u\.?\s?k\.?|united kingdom)\s+")
_NOT_WORD = re.compile(r"[^\w\s]+")


def capitalise_subtitles(item: dict[str, Any]) -> dict[str, Any]:
    """APA 7 (6.17): capitalise the first word of a subtitle, after a colon, question mark or em dash."""
    out = dict(item)
    for name in ("title", "container-title"):
        if isinstance(out.get(name), str):
            out[name] = _APA_SUBTITLE.sub(lambda m: m.group(1) + m.group(2).upper(), out[name])
    return out


def without_abbreviation(name: str) -> str:
    """"Drug Enforcement Administration (DEA)" -> "Drug Enforcement Administration"."""
    return _ABBREVIATION.sub("", name).strip()


def _group_author(item: Mapping[str, Any]) -> str | None:
    names = item.get("author") or []
    if len(names) == 1 and isinstance(names[0], Mapping) and names[0].get("literal"):
        return str(names[0]["literal"])
    return None


def _organisation_name(name: str) -> str:
    """"The U.S. Food and Drug Administration (FDA)" -> "food and drug administration"."""
    text = " ".join(without_abbreviation(name).lower().split())
    text = _COUNTRY_PREFIX.sub("", text)
    text = re.sub(r"^the\s+", "", text)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def same_organisation(author: str, site: str) -> bool:
    """APA 7 (9.8) omits a site name that is the same as the group author. The same means the same name
    once a leading "The", a country prefix ("U.S."), an abbreviation in parentheses, punctuation and case
    are set aside, or the site given as the author's abbreviation. Not mere containment: "Department of
    Health" and "Department of Health and Human Services" are two organisations."""
    site_name = _organisation_name(site)
    if not site_name:
        return False
    if site_name == _organisation_name(author):
        return True
    abbreviation = _ABBREVIATION.search(author)
    return abbreviation is not None and site_name == _NOT_WORD.sub("", abbreviation.group(0)).strip().lower()


def group_authors(item: dict[str, Any]) -> dict[str, Any]:
    """APA 7 (9.11, 9.8): a group author is spelled out without its abbreviation, and a site name that
    is the author is omitted. CSL has no way to compare two variables, so this is done here."""
    author = _group_author(item)
    if author is None:
        return item
    out = dict(item)
    out["author"] = [{"literal": without_abbreviation(author)}]
    if out.get("type") == "webpage":
        for site in ("container-title", "publisher"):
            if same_organisation(author, str(out.get(site, ""))):
                del out[site]
    return out


def apa_item(item: dict[str, Any]) -> dict[str, Any]:
    """The item as APA 7 wants it rendered: subtitles capitalised, group authors spelled out."""
    return group_authors(capitalise_subtitles(item))
