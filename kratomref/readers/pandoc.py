"""Pandoc Markdown: the YAML front matter's `bibliography:` and citations [@key], [-@key], @key."""

from __future__ import annotations

import os
import re

from kratomref.model import Citation, Document, Location, Problem, TextLine
from kratomref.readers.intext import code_lines

# A citation key: a letter, digit or _ first, then word characters and internal punctuation (pandoc manual).
_KEY = r"[\w][\w:.#$%&\-+?<>~/]*(?<![.:#$%&\-+?<>~/])"
BRACKETED_RE = re.compile(r"\[(?P<inner>[^\[\]]*?-?@" + _KEY + r"[^\[\]]*)\]")
ITEM_RE = re.compile(r"(?<![\w@])-?@(?P<key>" + _KEY + r")")
# A bare @key in text; not an e-mail address (a word character before the @) nor a handle in a URL.
BARE_RE = re.compile(r"(?<![\w@./\\])@(?P<key>" + _KEY + r")")
_CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")
_FRONT_KEY_RE = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*)$")


def has_bibliography(text: str) -> bool:
    """True when text opens with YAML front matter that has a `bibliography:` field (the detector)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return False
    for line in lines[1:]:
        if line.strip() in ("---", "..."):
            return False
        if re.match(r"bibliography\s*:", line):
            return True
    return False


def _unquote(value: str) -> str:
    return value.strip().strip("'\"").strip()


def front_matter(lines: list[str]) -> tuple[dict[str, list[str]], int]:
    """The front matter's fields (each a list of values) and the index of its first line after it."""
    fields: dict[str, list[str]] = {}
    if not lines or lines[0].strip() != "---":
        return fields, 0
    current: str | None = None
    for index in range(1, len(lines)):
        line = lines[index]
        if line.strip() in ("---", "..."):
            return fields, index + 1
        item = re.match(r"^\s+-\s+(.*)$", line)
        if item and current is not None:
            fields[current].append(_unquote(item.group(1)))
            continue
        match = _FRONT_KEY_RE.match(line)
        if match:
            current = match.group("key")
            value = match.group("value").strip()
            if value.startswith("[") and value.endswith("]"):
                fields[current] = [_unquote(v) for v in value[1:-1].split(",") if v.strip()]
            else:
                fields[current] = [_unquote(value)] if value else []
    return fields, 0


def find_citations(body: list[TextLine]) -> list[Citation]:
    code = code_lines(body)
    found: list[Citation] = []
    for line in body:
        if line.line in code:
            continue
        text = _CODE_SPAN_RE.sub(lambda m: " " * len(m.group(0)), line.text)
        taken: list[tuple[int, int]] = []
        for match in BRACKETED_RE.finditer(text):
            taken.append(match.span())
            for item in ITEM_RE.finditer(match.group("inner")):
                found.append(Citation(Location(line.file, line.line, item.group("key"), match.start() + 1),
                                      match.group(0), item.group("key"), "key"))
        for match in BARE_RE.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue
            found.append(Citation(Location(line.file, line.line, match.group("key"), match.start() + 1),
                                  match.group(0), match.group("key"), "key"))
    found.sort(key=lambda c: (c.location.line or 0, c.location.column or 0))
    return found


def read(path: str, text: str) -> Document:
    """Read a pandoc Markdown note; its bibliography files go to meta["bibliography"] (resolved paths)."""
    lines = text.splitlines()
    fields, first = front_matter(lines)
    from kratomref.readers import inside  # the package imports this module first

    base = os.path.dirname(path)
    bibliographies: list[str] = []
    problems: list[Problem] = []
    for name in fields.get("bibliography", []):
        resolved = os.path.normpath(os.path.join(base, name))
        why = inside(base, resolved, name)
        if why is None:
            bibliographies.append(resolved)
        else:  # README, "Safety": a document does not make kratomref read files outside its directory
            line = next((i + 1 for i in range(first) if name in lines[i]), 1)
            problems.append(Problem(Location(path, line), "KR002",
                                    f"the bibliography {name!r} named in the front matter was not read: {why}",
                                    "keep the bibliography inside the note's directory, named by a relative path"))
    body = [TextLine(path, index + 1, lines[index]) for index in range(first, len(lines)) if lines[index].strip()]
    meta = {"bibliography": ",".join(bibliographies)}
    if any(v.strip() in ("'@*'", "@*", '"@*"') for v in fields.get("nocite", [])):
        meta["nocite-all"] = "1"
    return Document(path, "pandoc", body=tuple(body), citations=tuple(find_citations(body)),
                    problems=tuple(problems), meta=meta)
