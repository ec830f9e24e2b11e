"""Formatted bibliographies through citeproc-py, with workarounds for its known defects.

citeproc-py 0.11 (the only CSL processor for Python) falls short of CSL 1.0.2 in ways that show in an
editor's bibliography. Each workaround below names the defect it repairs:

- `initialize="false"` is ignored: MLA and Chicago printed "Hassan, Z." for "Hassan, Zurina". Patched on
  `citeproc.model.Name.initialize` so that such a name keeps its given names (CSL 1.0.2, "Name").
- `display="left-margin"` and `second-field-align` are ignored: numbered styles printed "1.Gaul" and
  "[1]Gaul". A space is put after the citation number of a numeric style.
- No disambiguation: two works by the same authors in the same year were both "2019". Year suffixes
  (2019a, 2019b) are computed here, in bibliography order, and handed to citeproc-py as `year-suffix`.
- Citing Medicine's hyphenated page ranges ("284-7") are set as the NLM styles' page-range-delimiter.
- `raw` dates are dropped: every date is turned into date-parts before rendering.
- `punctuation-in-quote` is ignored: en-US styles printed “Title”. instead of “Title.”.
- Rules CSL cannot express, done on the data: APA 7 capitalises a subtitle's first word, spells group
  authors out without their abbreviation and omits a site name that repeats the author.
- Nested quotes are not alternated: “Following “the Roots” of Kratom” becomes “Following ‘the Roots’ of
  Kratom”.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kratomref.export.csl import family_names, normalise_dates
from kratomref.export.styles import Style

OUTER_QUOTES = ("“", "”")
INNER_QUOTES = ("‘", "’")
_PUNCTUATION_OUTSIDE = re.compile(r"([”’])([.,])")
_LEADING_NUMBER = re.compile(r"^((?:<[^>]+>)*(?:\[\d+\]|\(\d+\)|\d+\.?)(?:</[^>]+>)*)(?=[^\s<])")
_APA_SUBTITLE = re.compile(r"([:?!]\s+|—\s*)([a-z])")


class RenderError(Exception):
    """citeproc-py could not load or apply the style."""


@dataclass(frozen=True)
class Rendered:
    id: str  # the CSL item id
    text: str  # plain text or HTML, as asked


def _patch_initialize() -> None:
    """Honour initialize="false" (see the module docstring): keep given names, only format initials."""
    from citeproc import model

    original = model.Name.initialize
    if getattr(original, "_kratomref", False):
        return

    def initialize(self: Any, given: str, mark: str, context: Any) -> Any:
        element: Any = self
        setting = None
        while element is not None and setting is None:
            setting = element.get("initialize")
            element = element.getparent()
        if setting == "false":
            # CSL 1.0.2: with initialize="false", names already given as initials get initialize-with,
            # full given names stay as they are.
            words = given.split()
            if words and all(re.fullmatch(r"[A-Z]\.?", w) for w in words):
                return original(self, given, mark, context)
            return given
        return original(self, given, mark, context)

    initialize._kratomref = True  # type: ignore[attr-defined]
    model.Name.initialize = initialize


def _quote_nesting(text: str) -> str:
    """Alternate quotes: a double quote inside double quotes becomes a single quote."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char == OUTER_QUOTES[0]:
            out.append(INNER_QUOTES[0] if depth % 2 else char)
            depth += 1
        elif char == OUTER_QUOTES[1] and depth > 0:
            depth -= 1
            out.append(INNER_QUOTES[1] if depth % 2 else char)
        else:
            out.append(char)
    return "".join(out)


def _punctuation_inside(text: str) -> str:
    """American usage (punctuation-in-quote): a period or comma after a closing quote goes inside it."""
    previous = None
    while previous != text:
        previous = text
        text = _PUNCTUATION_OUTSIDE.sub(lambda m: m.group(2) + m.group(1), text)
    return text


def _is_numeric(style: Any) -> bool:
    root = style.root
    ns = {"cs": "http://purl.org/net/xbiblio/csl"}
    categories = root.xpath("./cs:info/cs:category/@citation-format", namespaces=ns)
    aligned = root.xpath("./cs:bibliography/@second-field-align", namespaces=ns)
    return "numeric" in categories or bool(aligned)


def _adds_year_suffix(style: Any) -> bool:
    ns = {"cs": "http://purl.org/net/xbiblio/csl"}
    return "true" in style.root.xpath("./cs:citation/@disambiguate-add-year-suffix", namespaces=ns)


def _punctuation_in_quote(style: Any) -> bool:
    try:
        return str(style.root.get_locale_option("punctuation-in-quote")).lower() == "true"
    except Exception:  # a style whose locale lacks the option
        return False


def _capitalise_subtitles(item: dict[str, Any]) -> dict[str, Any]:
    """APA 7 (6.17): capitalise the first word of a subtitle, after a colon, question mark or em dash."""
    out = dict(item)
    for name in ("title", "container-title"):
        if isinstance(out.get(name), str):
            out[name] = _APA_SUBTITLE.sub(lambda m: m.group(1) + m.group(2).upper(), out[name])
    return out


_ABBREVIATION = re.compile(r"\s*\([A-Z][A-Z&.\-]{1,9}\)$")


def _without_abbreviation(name: str) -> str:
    """"Drug Enforcement Administration (DEA)" -> "Drug Enforcement Administration"."""
    return _ABBREVIATION.sub("", name).strip()


def _group_author(item: Mapping[str, Any]) -> str | None:
    names = item.get("author") or []
    if len(names) == 1 and isinstance(names[0], Mapping) and names[0].get("literal"):
        return str(names[0]["literal"])
    return None


# Words that name the country of an agency rather than the agency: "U.S. Food and Drug Administration"
# is the site of the author "Food and Drug Administration".
_COUNTRY_PREFIX = re.compile(r"^(?:the\s+)?(?:u\.?\s?s\.?(?:\s?a\.?)?|united states|u\.?\s?k\.?|united kingdom)\s+")
_NOT_WORD = re.compile(r"[^\w\s]+")


def _organisation_name(name: str) -> str:
    """"The U.S. Food and Drug Administration (FDA)" -> "food and drug administration"."""
    text = " ".join(_without_abbreviation(name).lower().split())
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


def _apa_group_authors(item: dict[str, Any]) -> dict[str, Any]:
    """APA 7 (9.11, 9.8): a group author is spelled out without its abbreviation, and a site name that
    is the author is omitted. CSL has no way to compare two variables, so this is done here."""
    author = _group_author(item)
    if author is None:
        return item
    out = dict(item)
    full = _without_abbreviation(author)
    out["author"] = [{"literal": full}]
    if out.get("type") == "webpage" and same_organisation(author, str(out.get("container-title", ""))):
        del out["container-title"]
    return out


def _bibliography(style: Any, items: Sequence[Mapping[str, Any]], fmt: str) -> tuple[Any, list[str]]:
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    source = CiteProcJSON([dict(i) for i in items])
    bibliography = CitationStylesBibliography(style, source, formatter.html if fmt == "html" else formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(str(item["id"]))]))
    bibliography.sort()
    return bibliography, list(bibliography.keys)


def _year_suffixes(items: Sequence[Mapping[str, Any]], order: Sequence[str]) -> dict[str, str]:
    """id -> "a", "b"... for works of the same authors in the same year, lettered in bibliography order."""
    by_id = {str(i["id"]): i for i in items}
    groups: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for key in order:
        item = by_id[key]
        parts = (item.get("issued") or {}).get("date-parts") or [[]]
        year = str(parts[0][0]) if parts and parts[0] else ""
        names = family_names(item)
        if year and names:
            groups.setdefault((names, year), []).append(key)
    suffixes: dict[str, str] = {}
    for keys in groups.values():
        if len(keys) > 1:
            for index, key in enumerate(keys):
                suffixes[key] = _letters(index)
    return suffixes


def _letters(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa (CSL 1.0.2, "year-suffix")."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, Mapping):
        return {k: v if k == "id" else _escaped(v) for k, v in value.items()}
    return value


# Citing Medicine (NLM) writes page ranges with a hyphen, "284-7"; the NLM styles leave the CSL default (an
# en dash) in place, so the term is set on the style, where citeproc-py honours it.
HYPHEN_PAGE_STYLES = ("nlm-citation", "vancouver")
CSL_NS = "http://purl.org/net/xbiblio/csl"


def _style_source(style: Style) -> Any:
    if not style.path.stem.startswith(HYPHEN_PAGE_STYLES) and not style.id.startswith(HYPHEN_PAGE_STYLES):
        return str(style.path)
    import io

    from lxml import etree  # type: ignore[import-untyped,unused-ignore]

    tree = etree.parse(str(style.path))
    root = tree.getroot()
    locale = etree.Element(f"{{{CSL_NS}}}locale")
    terms = etree.SubElement(locale, f"{{{CSL_NS}}}terms")
    term = etree.SubElement(terms, f"{{{CSL_NS}}}term", name="page-range-delimiter")
    term.text = "-"
    info = root.find(f"{{{CSL_NS}}}info")
    (info if info is not None else root[0]).addnext(locale)
    return io.BytesIO(etree.tostring(tree))


def load_style(style: Style) -> Any:
    from citeproc import CitationStylesStyle

    _patch_initialize()
    try:
        return CitationStylesStyle(_style_source(style), validate=False)
    except Exception as exc:
        raise RenderError(f"citeproc-py cannot read the style {style.id}: {exc}") from exc


def render(items: Sequence[Mapping[str, Any]], style: Style, fmt: str = "text") -> list[Rendered]:
    """The bibliography of `items` (CSL-JSON) in `style`, sorted as the style says; fmt is text or html."""
    if not items:
        return []
    csl_style = load_style(style)
    # citeproc-py lower-cases item ids, so "Smith2019" would come back as a key nobody gave it (and
    # "Smith2019" and "smith2019" would collide): it sees "item-N" and the caller gets its own ids back.
    own_ids = [str(i["id"]) for i in items]
    prepared = [{**normalise_dates(i), "id": f"item-{n}"} for n, i in enumerate(items)]
    if fmt == "html":
        # citeproc-py's HTML formatter writes text as it is: "&" and "<" in a title would break the page.
        prepared = [_escaped(i) for i in prepared]
    if style.path.stem.startswith("apa"):
        prepared = [_apa_group_authors(_capitalise_subtitles(i)) for i in prepared]
    try:
        _, order = _bibliography(csl_style, prepared, fmt)
        if _adds_year_suffix(csl_style):
            suffixes = _year_suffixes(prepared, order)
            if suffixes:
                prepared = [
                    {**i, "year-suffix": suffixes[str(i["id"])]} if str(i["id"]) in suffixes else i
                    for i in prepared
                ]
        bibliography, order = _bibliography(csl_style, prepared, fmt)
        entries = [str(e) for e in bibliography.bibliography()]
    except Exception as exc:
        raise RenderError(f"citeproc-py failed to render with {style.id}: {type(exc).__name__}: {exc}") from exc
    numeric = _is_numeric(csl_style)
    inside = _punctuation_in_quote(csl_style)
    out: list[Rendered] = []
    for key, text in zip(order, entries, strict=True):
        text = _quote_nesting(text)
        if inside:
            text = _punctuation_inside(text)
        if numeric:
            text = _LEADING_NUMBER.sub(r"\1 ", text)
        if fmt != "html":
            text = html.unescape(text) if "&" in text else text
        out.append(Rendered(own_ids[int(key.removeprefix("item-"))], text))
    return out
