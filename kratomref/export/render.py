"""Formatted bibliographies through pandoc's citeproc: one pandoc run per export, split back per entry.

The items (CSL-JSON) go to pandoc as a bibliography file, cited in their order with `nocite`, under ids of
kratomref's own ("kr0", "kr1"...) so that any key (any case, any Unicode, characters pandoc's citation syntax
does not allow) renders as itself. A Lua writer hands back each `csl-entry` written by pandoc's own writer for
the format asked for (html, plain, markdown, latex) as JSON; Word (.docx) is pandoc's docx writer, whole.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kratomref.export.apa import apa_item
from kratomref.export.mla import mla_item
from kratomref.export.pandoc import PandocError, PandocMissing, run_pandoc
from kratomref.export.styles import Style
from kratomref.export.titles import lowercase_subtitles

# kratomref's format -> pandoc's writer; "-smart": curly quotes stay as the style printed them (with smart,
# the plain and Markdown writers would turn “ into ").
# LaTeX keeps smart: ``quotes'' in ASCII.
PANDOC_FORMATS = {"text": "plain-smart", "html": "html", "markdown": "markdown-smart", "latex": "latex"}

# The Lua writer: each csl-entry Div written on its own. Spans of no CSL layout class (nocase, the Span
# citeproc wraps a title in) are unwrapped; the layout spans (csl-left-margin, csl-right-inline, csl-block,
# csl-indent) are kept for HTML, where pandoc writes them as the <div>s CSL processors write, and unwrapped
# for the other formats; LaTeX gets the left-margin label (the citation number) apart from the text. A
# decoration reset inside italics, bold or small caps (CSL's nodecor) is kept in HTML and LaTeX.
_LUA_SHARED = r"""
-- American punctuation (the locale's punctuation-in-quote): a period or comma goes inside the inner quotation
-- marks too, “This is ‘The One.’” (pandoc's citeproc moves it inside the outer ones only).
local function inner_punctuation(blocks)
  return blocks:walk{Span = function(s)
    local c = s.content
    local n = #c
    if n < 3 or c[n].t ~= 'Str' or c[n].text ~= '\u{201D}' then return nil end
    local p, inner = c[n - 1], c[n - 2]
    if p.t ~= 'Str' or (p.text ~= '.' and p.text ~= ',') or inner.t ~= 'Span' then return nil end
    local ic = inner.content
    if #ic < 2 or ic[1].t ~= 'Str' or ic[1].text ~= '\u{2018}' or ic[#ic].t ~= 'Str'
       or ic[#ic].text ~= '\u{2019}' then return nil end
    ic:insert(#ic, pandoc.Str(p.text))
    inner.content = ic
    c[n - 2] = inner
    c:remove(n - 1)
    s.content = c
    return s
  end}
end
-- CSL's subsequent-author-substitute (rule complete-all), applied by kratomref rather than pandoc's citeproc:
-- an entry whose names print the same as the entry before's (kratomref-substitute: each entry's names alone,
-- from a probe run) begins with the substitute instead; the role's label ("ed.") stays; a work's title that
-- stands in for a missing author is never replaced. pandoc's citeproc compares name data, not what is printed
-- (a family-only "Beijing Zoo" and a literal one; two lists cut to the same "et al."), and replaces titles.
local function cut(inlines, rest, sub)
  local out = pandoc.Inlines{}
  for _, el in ipairs(inlines) do
    local s = el.t == 'Space' and ' ' or pandoc.utils.stringify(el)
    if rest == '' or s == '' then
      out:insert(el)
    elseif #s <= #rest and rest:sub(1, #s) == s then
      if sub then out:insert(pandoc.Str(sub)); sub = nil end
      rest = rest:sub(#s + 1)
    elseif s:sub(1, #rest) == rest and el.t == 'Str' then
      if sub then out:insert(pandoc.Str(sub)); sub = nil end
      out:insert(pandoc.Str(s:sub(#rest + 1)))
      rest = ''
    elseif s:sub(1, #rest) == rest and el.content ~= nil then
      local inner, left = cut(el.content, rest, sub)
      if inner == nil or left ~= '' then return nil end
      el.content = inner
      out:insert(el)
      rest, sub = '', nil
    else
      return nil
    end
  end
  return out, rest
end
local function substitutes(meta)
  -- hex-encoded JSON: metadata strings are read as Markdown, which would turn "---" into a dash
  local raw = meta['kratomref-substitute']
  if raw == nil then return nil end
  local data = pandoc.json.decode(pandoc.utils.stringify(raw):gsub('%x%x', function(h)
    return string.char(tonumber(h, 16))
  end), false)
  local by_id, with = data.names, data.with
  local previous = nil
  return function(div)
    local id = div.identifier:gsub('^ref%-', '')
    local mine = by_id[id]
    local blocks = div.content
    local first = blocks[1]
    if mine ~= nil and mine ~= '' and mine == previous and first and (first.t == 'Para' or first.t == 'Plain') then
      -- "et al." before the layout's ". ": the two periods printed as one, which the names keep
      local function try(sub) return cut(first:clone().content, mine, sub) end
      local inlines, left = try(with)
      if inlines ~= nil and mine:match('%f[%a]%l%l+%.$')
         and not pandoc.utils.stringify(inlines):sub(#with + 1, #with + 1):match('%p') then
        inlines, left = try(with .. '.')
      end
      if inlines ~= nil and left == '' then
        first.content = inlines
        blocks[1] = first
        div.content = blocks
      end
    end
    previous = mine
    return div
  end
end
"""

LUA_WRITER = _LUA_SHARED + r"""
-- A CSL decoration reset ("v." upright in an italic case name: pandoc's Span nodecoration) in HTML as the
-- style citeproc-js writes, in LaTeX as the command that resets it; the other formats have no way to say it.
local RESET = {Emph = {'font-style:normal;', '\\textup{'}, Strong = {'font-weight:normal;', '\\textmd{'},
               SmallCaps = {'font-variant:normal;', '\\textup{'}}
local function undecorate(blocks, fmt)
  local function reset(kind)
    return function(el)
      el.content = el.content:walk{Span = function(s)
        if not s.classes:includes('nodecoration') then return nil end
        if fmt == 'html' then
          return pandoc.Span(s.content, pandoc.Attr('', {}, {style = RESET[kind][1]}))
        elseif fmt == 'latex' then
          local out = pandoc.Inlines{pandoc.RawInline('latex', RESET[kind][2])}
          out:extend(s.content)
          out:insert(pandoc.RawInline('latex', '}'))
          return out
        end
        return s.content
      end}
      return el
    end
  end
  return blocks:walk{Emph = reset('Emph'), Strong = reset('Strong'), SmallCaps = reset('SmallCaps')}
end
local function strip(blocks, keep_layout)
  return blocks:walk{Span = function(s)
    for _, c in ipairs(s.classes) do
      if c:match('^csl%-') and (keep_layout or c == 'csl-left-margin') then return nil end
    end
    if keep_layout and s.attributes.style then return nil end
    return s.content
  end}
end
local function entry(div, fmt, wopts, inner)
  local body = pandoc.Blocks{}
  for _, blk in ipairs(div.content) do
    if blk.t == 'Para' then blk = pandoc.Plain(blk.content) end
    body:insert(blk)
  end
  local label = ''
  if inner then body = inner_punctuation(body) end
  body = strip(undecorate(body, fmt), fmt == 'html')
  if fmt ~= 'html' then
    body = body:walk{Span = function(s)
      if s.classes:includes('csl-left-margin') then
        label = pandoc.utils.stringify(s)
        if fmt == 'latex' then return {} end
        return pandoc.Inlines(s.content)
      end
    end}
  end
  return {id = div.identifier, label = label, text = pandoc.write(pandoc.Pandoc(body), fmt, wopts)}
end
function Writer(doc, opts)
  local fmt = pandoc.utils.stringify(doc.meta['kratomref-format'] or 'html')
  local inner = doc.meta['kratomref-inner-punctuation'] == true
  local wopts = pandoc.WriterOptions{wrap_text = 'wrap-none'}
  local out = {}
  local substitute = substitutes(doc.meta)
  local function visit(blocks)
    for _, b in ipairs(blocks) do
      if b.t == 'Div' and b.classes:includes('csl-entry') then
        if substitute then b = substitute(b) end
        table.insert(out, entry(b, fmt, wopts, inner))
      elseif b.t == 'Div' then
        visit(b.content)
      end
    end
  end
  visit(doc.blocks)
  return pandoc.json.encode(out)
end
"""

# The Lua filter of the .docx output: the --mark-problems marker in front of its entry.
LUA_MARKERS = _LUA_SHARED + r"""
function Pandoc(doc)
  local markers = doc.meta['kratomref-markers'] or {}
  if doc.meta['kratomref-inner-punctuation'] == true then doc.blocks = inner_punctuation(doc.blocks) end
  local substitute = substitutes(doc.meta)
  if substitute then
    doc.blocks = doc.blocks:walk{Div = function(div)
      if div.classes:includes('csl-entry') then return substitute(div) end
    end}
  end
  local seen = io.open(PANDOC_STATE.output_file .. '.seen', 'w')
  doc.blocks = doc.blocks:walk{Div = function(div)
    if not div.classes:includes('csl-entry') then return nil end
    local id = div.identifier:gsub('^ref%-', '')
    if pandoc.utils.stringify(div):match('%S') then seen:write(id, '\n') end
    local marker = markers[id]
    if marker == nil then return nil end
    local first = div.content[1]
    if first and (first.t == 'Para' or first.t == 'Plain') then
      first.content:insert(1, pandoc.Space())
      first.content:insert(1, pandoc.Strong(pandoc.Inlines(pandoc.utils.stringify(marker))))
    end
    return div
  end}
  seen:close()
  return doc
end
"""


# The CSL name variables: an entry with none of them has no names to compare (a substituted title is not one).
NAME_VARIABLES = ("author", "editor", "translator", "composer", "director", "interviewer", "illustrator",
                  "collection-editor", "container-author", "editorial-director", "recipient", "reviewed-author")


class RenderError(Exception):
    """pandoc could not render the bibliography (RenderMissing: there is no pandoc)."""


class RenderMissing(RenderError):
    """No pandoc >= 3: formatted exports need the `export` extra."""


@dataclass(frozen=True)
class Rendered:
    id: str  # the CSL item's own id
    text: str  # the entry in the format asked for, without a trailing newline
    label: str = ""  # the citation number a numeric style puts in the margin ("[1] ", "1. "); in `text` too,
    # except for LaTeX, where \bibitem numbers the entries itself


# Citing Medicine (NLM) writes page ranges with a hyphen, "284-7"; the NLM styles leave the CSL default (an
# en dash) in place, so the term is set on the style.
HYPHEN_PAGE_STYLES = ("nlm-citation", "vancouver")
_INFO_END = re.compile(r"</info>")
_HYPHEN_LOCALE = '<locale><terms><term name="page-range-delimiter">-</term></terms></locale>'


def _style_text(style: Style) -> str | None:
    """The style's XML when kratomref changes it, else None (pandoc reads the file itself)."""
    if not (style.path.stem.startswith(HYPHEN_PAGE_STYLES) or style.id.startswith(HYPHEN_PAGE_STYLES)):
        return None
    text = style.path.read_text("utf-8")
    return _INFO_END.sub("</info>" + _HYPHEN_LOCALE, text, count=1)


def _nlm_item(item: dict[str, Any]) -> dict[str, Any]:
    """Citing Medicine: a subtitle starts in lower case (kratomref.export.titles.lowercase_subtitles)."""
    if isinstance(item.get("title"), str):
        return {**item, "title": lowercase_subtitles(item["title"])}
    return item


def _item_rules(style: Style) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """The rules of the guide a style follows that CSL cannot express, by the style's file (an alias or a
    dependent style renders with its parent's file)."""
    stem = style.path.stem
    if stem.startswith("apa"):
        return apa_item
    if stem.startswith("modern-language-association"):
        return mla_item
    if stem.startswith(HYPHEN_PAGE_STYLES) or style.id.startswith(HYPHEN_PAGE_STYLES):
        return _nlm_item
    return None


_DEFAULT_LOCALE = re.compile(r'<style\b[^>]*\bdefault-locale="([^"]+)"')


def inner_punctuation(style: Style) -> bool:
    """The style puts a period or comma inside closing quotation marks (American English, the CSL default
    when a style names no locale), so inside the inner ones too."""
    try:
        text = style.path.read_text("utf-8")
    except OSError:
        return False
    if re.search(r'punctuation-in-quote="false"', text):
        return False
    locale = _DEFAULT_LOCALE.search(text[:4096])
    return locale is None or locale.group(1).lower() == "en-us"


def _prepare(items: Sequence[Mapping[str, Any]], style: Style) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Items under kratomref's own ids, and the way back to the caller's ids."""
    rules = _item_rules(style)
    prepared: list[dict[str, Any]] = []
    own: dict[str, str] = {}
    for n, item in enumerate(items):
        key = f"kr{n}"
        own[key] = str(item.get("id"))
        data = rules(dict(item)) if rules is not None else dict(item)
        prepared.append({**data, "id": key})
    return prepared, own


CSL_NS = "http://purl.org/net/xbiblio/csl"
_NAMES_DEPTH = 20  # macros calling macros, followed this deep at most


def _first_names(element: ET.Element, macros: Mapping[str, ET.Element], depth: int = 0) -> ET.Element | None:
    """The first cs:names a layout renders, in document order, through the macros it calls."""
    for child in element:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "names":
            return child
        found = None
        if tag == "text" and child.get("macro") in macros and depth < _NAMES_DEPTH:
            found = _first_names(macros[str(child.get("macro"))], macros, depth + 1)
        elif tag not in ("sort", "substitute"):
            found = _first_names(child, macros, depth)
        if found is not None:
            return found
    return None


def names_probe(style_xml: str) -> tuple[str, str] | None:
    """For a style with subsequent-author-substitute (rule complete-all, the default): the style whose
    bibliography prints each entry's names and nothing else, and the substitute. None for any other style."""
    try:
        root = ET.fromstring(style_xml)
    except ET.ParseError:
        return None
    bibliography = root.find(f"{{{CSL_NS}}}bibliography")
    if bibliography is None:
        return None
    substitute = bibliography.get("subsequent-author-substitute")
    rule = bibliography.get("subsequent-author-substitute-rule", "complete-all")
    layout = bibliography.find(f"{{{CSL_NS}}}layout")
    if substitute is None or rule != "complete-all" or layout is None:
        return None
    macros = {str(m.get("name")): m for m in root.findall(f"{{{CSL_NS}}}macro")}
    names = _first_names(layout, macros)
    if names is None:
        return None
    names = copy.deepcopy(names)
    for affix in ("prefix", "suffix"):
        names.attrib.pop(affix, None)
    # the role's label ("ed.") stays after the substitute, as in pandoc's and citeproc-js's own substitution
    for parent in list(names.iter()):
        for child in list(parent):
            if child.tag.rsplit("}", 1)[-1] == "label":
                parent.remove(child)
    del bibliography.attrib["subsequent-author-substitute"]
    for child in list(layout):
        layout.remove(child)
    layout.attrib.clear()
    layout.append(names)
    ET.register_namespace("", CSL_NS)
    return ET.tostring(root, encoding="unicode"), substitute


def _substitutable(item: Mapping[str, Any] | None, names: str) -> bool:
    """An entry's printed names may give way to the substitute: names, or what stands in for them (a
    newspaper's title), but not the work's own title, which would leave the entry without one."""
    if item is None:
        return False
    if any(item.get(v) for v in NAME_VARIABLES):
        return True
    title = re.sub(r"<[^>]+>", "", str(item.get("title") or "")).casefold()
    return not (title and title in names.casefold())


_SAS_ATTRIBUTE = re.compile(r'(<bibliography\b[^>]*?)\s+subsequent-author-substitute="[^"]*"')


def _substitutes(prepared: Sequence[Mapping[str, Any]], style: Style) -> tuple[dict[str, Any], str | None]:
    """subsequent-author-substitute as kratomref applies it (see LUA_SHARED), for a style that has it with
    the rule complete-all: the metadata of the Lua writer and filter (each entry's names, rendered alone by a
    probe run, and the substitute), and the style's XML without the attribute, so that pandoc's citeproc,
    which compares name data rather than printed names and substitutes a title standing in for a missing
    author (two works both titled "Kratom" by two agencies in MLA), does not apply it too. ({}, None) for
    any other style."""
    try:
        text = _style_text(style) or style.path.read_text("utf-8")
    except OSError:
        return {}, None
    if "subsequent-author-substitute" not in text:
        return {}, None
    probe = names_probe(text)
    if probe is None:
        return {}, None
    out = _run(prepared, style, ["-t", "{writer}"], {"kratomref-format": "plain"}, csl_text=probe[0])
    names = {str(row["id"]).removeprefix("ref-"): str(row["text"]).strip() for row in json.loads(out)}
    by_id = {str(i["id"]): i for i in prepared}
    data = {"names": {k: v for k, v in names.items() if v and _substitutable(by_id.get(k), v)}, "with": probe[1]}
    meta = {"kratomref-substitute": json.dumps(data, ensure_ascii=False).encode("utf-8").hex()}
    return meta, _SAS_ATTRIBUTE.sub(r"\1", text, count=1)


def _run(
    prepared: Sequence[Mapping[str, Any]], style: Style, args: list[str], meta: Mapping[str, Any],
    *, csl_text: str | None = None,
) -> bytes:
    with tempfile.TemporaryDirectory(prefix="kratomref-export-") as folder:
        base = Path(folder)
        bibliography = base / "items.json"
        bibliography.write_text(json.dumps(list(prepared), ensure_ascii=False), "utf-8")
        csl = csl_text if csl_text is not None else _style_text(style)
        style_path = style.path
        if csl is not None:
            style_path = base / "style.csl"
            style_path.write_text(csl, "utf-8")
        document = {
            "nocite": ", ".join(f"@{i['id']}" for i in prepared),
            "link-bibliography": False,
            "kratomref-inner-punctuation": inner_punctuation(style),
            **meta,
        }
        # JSON is YAML: the metadata block needs no YAML writer.
        source = "---\n" + json.dumps(document, ensure_ascii=False) + "\n---\n"
        scripts = {"{writer}": base / "writer.lua", "{markers}": base / "markers.lua"}
        scripts["{writer}"].write_text(LUA_WRITER, "utf-8")
        scripts["{markers}"].write_text(LUA_MARKERS, "utf-8")
        extra = [str(scripts[a]) if a in scripts else a for a in args]
        try:
            return run_pandoc(["-f", "markdown", "--citeproc", f"--bibliography={bibliography}",
                               f"--csl={style_path}", *extra], source.encode("utf-8"))
        except PandocError as exc:
            if isinstance(exc, PandocMissing):
                raise RenderMissing(str(exc)) from exc
            raise RenderError(f"pandoc could not render with the style {style.id}: {exc}") from exc


def render(items: Sequence[Mapping[str, Any]], style: Style, fmt: str = "text") -> list[Rendered]:
    """The bibliography of `items` (CSL-JSON) in `style`, ordered as the style says; fmt is text, html,
    markdown or latex. An entry the style renders empty is left out (the caller names it)."""
    if fmt not in PANDOC_FORMATS:
        raise ValueError(f"unknown formatted output {fmt!r}")
    if not items:
        return []
    prepared, own = _prepare(items, style)
    substitutes, csl_text = _substitutes(prepared, style)
    meta = {"kratomref-format": PANDOC_FORMATS[fmt], **substitutes}
    out = _run(prepared, style, ["-t", "{writer}"], meta, csl_text=csl_text)
    rendered: list[Rendered] = []
    for row in json.loads(out.decode("utf-8")):
        key = str(row["id"]).removeprefix("ref-")
        if key not in own:
            continue
        text = str(row["text"]).strip("\n")
        if not text.strip() or text.strip() == str(row.get("label") or "").strip():
            continue
        rendered.append(Rendered(own[key], text, str(row.get("label") or "")))
    return rendered


def render_docx(
    items: Sequence[Mapping[str, Any]], style: Style, markers: Mapping[str, str]
) -> tuple[bytes, set[str]]:
    """The bibliography as a Word document (pandoc's docx writer), with each marker before its entry, and the
    ids of the entries it holds (an entry the style renders empty is not one of them)."""
    prepared, own = _prepare(items, style)
    back = {v: k for k, v in own.items()}
    with tempfile.TemporaryDirectory(prefix="kratomref-docx-") as folder:
        target = Path(folder) / "bibliography.docx"
        seen = Path(folder) / "bibliography.docx.seen"  # written by the filter: the ids it saw non-empty
        substitutes, csl_text = _substitutes(prepared, style)
        meta = {"kratomref-markers": {back[k]: v for k, v in markers.items() if k in back}, **substitutes}
        _run(prepared, style, ["--lua-filter", "{markers}", "-t", "docx", "-o", str(target)], meta,
             csl_text=csl_text)
        ids = {own[key] for key in seen.read_text("utf-8").split() if key in own} if seen.exists() else set()
        return target.read_bytes(), ids
