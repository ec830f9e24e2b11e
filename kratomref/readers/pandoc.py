"""Pandoc Markdown: the YAML front matter's `bibliography:` and citations [@key], [-@key], @key.

Also citations by identifier, as Manubot writes them ([@doi:10.1/x], [@pmid:…], [@arxiv:…], [@url:…]):
each cites a work without a bibliography entry, so each identifier is a reference of the document itself.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator, Sequence

from kratomref import lazy
from kratomref.model import Citation, Document, Location, Problem, Reference, TextLine

# A citation key: a letter, digit or _ first, then word characters and internal punctuation (pandoc manual).
_KEY = r"[\w][\w:.#$%&\-+?<>~/]*(?<![.:#$%&\-+?<>~/])"
# A bracket holding a citation: matched as a bracket, then its inside tested (one regex that did both tried
# every "@" of a long unclosed bracket again from each start: quadratic).
BRACKET_RE = lazy.regex(r"\[(?P<inner>[^\[\]]*)\]")
CITES_INSIDE_RE = lazy.regex(r"-?@(?:" + _KEY + r"|\{)")
ITEM_RE = lazy.regex(r"(?<![\w@])-?@(?P<key>" + _KEY + r")")
# A bare @key in text; not an e-mail address (a word character before the @) nor a handle in a URL.
BARE_RE = lazy.regex(r"(?<![\w@./\\])@(?P<key>" + _KEY + r")")
# A key in braces holds any character but braces: [@{url:https://x.org/a?b=c}] (pandoc manual).
_BRACED = r"\{(?P<braced>[^{}\s]{1,500})\}"
BRACED_ITEM_RE = lazy.regex(r"(?<![\w@])-?@" + _BRACED)
# Citations by identifier (Manubot): prefix -> the field the identifier goes in. A bare DOI or URL key
# ("@10.1/x", "@https://x.org") is one too.
IDENTIFIER_PREFIXES = ("doi", "pmid", "pmcid", "arxiv", "isbn", "url", "wikidata")
_IDENTIFIER_RE = lazy.regex(r"(?P<prefix>" + "|".join(IDENTIFIER_PREFIXES) + r"):(?P<id>\S+)"
                            r"|(?P<doi>10\.\d{4,9}/\S+)|(?P<url>https?://\S+)", re.IGNORECASE)
_FRONT_KEY_RE = lazy.regex(r"^(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*)$")


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


def _keys(text: str) -> list[tuple[int, str, str]]:
    """(column, key, citation as written) of every citation key on a line with its code blanked out, in order."""
    return sorted(_unordered_keys(text), key=lambda found: found[0])


def _unordered_keys(text: str) -> Iterator[tuple[int, str, str]]:
    taken: list[tuple[int, int]] = []
    for match in BRACKET_RE.finditer(text):
        inner = match.group("inner")
        if CITES_INSIDE_RE.search(inner) is None:
            continue
        taken.append(match.span())
        for item in ITEM_RE.finditer(BRACED_ITEM_RE.sub(lambda m: " " * len(m.group(0)), inner)):
            yield match.start(), item.group("key"), match.group(0)
        for item in BRACED_ITEM_RE.finditer(inner):
            yield match.start(), item.group("braced"), match.group(0)
    for match in BARE_RE.finditer(text):
        if not any(start <= match.start() < end for start, end in taken):
            yield match.start(), match.group("key"), match.group(0)
    for match in BRACED_ITEM_RE.finditer(text):
        if not any(start <= match.start() < end for start, end in taken):
            yield match.start(), match.group("braced"), match.group(0)


def identifier(key: str) -> tuple[str, str] | None:
    """(prefix, identifier) of a citation key that names a work by identifier ("doi:10.1/x"), else None."""
    match = _IDENTIFIER_RE.fullmatch(key)
    if match is None:
        return None
    if match.group("doi"):
        return "doi", match.group("doi")
    if match.group("url"):
        return "url", match.group("url")
    return match.group("prefix").lower(), match.group("id")


def _same_identifier(prefix: str, value: str) -> str:
    """What makes two identifiers one: DOIs, arXiv ids and ISBNs ignore case (and an ISBN its hyphens)."""
    if prefix in ("doi", "arxiv", "pmcid"):
        return f"{prefix}:{value.lower()}"
    if prefix == "isbn":
        return f"{prefix}:{re.sub(r'[^0-9Xx]', '', value).upper()}"
    return f"{prefix}:{value}"


def identifier_reference(key: str, written: str, location: Location) -> Reference | None:
    """The reference a citation by identifier stands for: its DOI in doi, a URL in urls, a PMID, PMCID or ISBN
    in fields, an arXiv id in fields["eprint"] with its abs page as the URL."""
    found = identifier(key)
    if found is None:
        return None
    prefix, value = found
    fields: dict[str, str] = {}
    urls: tuple[str, ...] = ()
    doi: str | None = None
    if prefix == "doi":
        doi = value
        fields["doi"] = value
    elif prefix == "url":
        urls = (value,)
        fields["url"] = value
    elif prefix == "arxiv":
        urls = (f"https://arxiv.org/abs/{value}",)
        fields.update(eprint=value, archiveprefix="arXiv", url=urls[0])
    elif prefix == "wikidata":
        urls = (f"https://www.wikidata.org/wiki/{value}",)
        fields.update(wikidata=value, url=urls[0])
    else:
        fields[prefix] = value
    line = location.line or 1
    return Reference(location=Location(location.file, location.line, key, location.column), type="misc",
                     doi=doi, urls=urls, raw=written, fields=fields, field_lines={name: line for name in fields},
                     raw_fields=dict(fields))


def is_identifier_reference(ref: Reference) -> bool:
    """True for a reference read from a citation by identifier: it has no fields of its own to judge (no
    author, title or year); the identifier's record (Crossref, the link) has them."""
    return ref.raw == f"@{ref.key}" and identifier(ref.key) is not None


def identifier_references(body: Sequence[TextLine]) -> tuple[list[Reference], list[Citation]]:
    """The works a body cites by identifier, each once (located at its first citation), and those citations,
    tied to them. Other keys are left alone."""
    from kratomref.readers.intext import mask_inline  # not at import: rules/entries loads this module for any run

    references: dict[str, Reference] = {}
    citations: list[Citation] = []
    for line in body:
        text = mask_inline(line.text)
        for column, key, written in _keys(text):
            found = identifier(key)
            if found is None:
                continue
            same = _same_identifier(*found)
            if same not in references:
                location = Location(line.file, line.line, key, column + 1)
                reference = identifier_reference(key, f"@{key}", location)
                if reference is None:
                    continue
                references[same] = reference
            canonical = references[same].key
            citations.append(Citation(Location(line.file, line.line, canonical, column + 1), written, canonical, "key",
                                      resolved_key=canonical))
    return list(references.values()), citations


def find_citations(body: Sequence[TextLine]) -> list[Citation]:
    """Every citation key of the body ([@key], [-@key], @key); one that names an identifier has the key of
    the first citation of that identifier as its target, so that each identifier is one reference."""
    from kratomref.readers.intext import code_lines, mask_inline

    code = code_lines(body)
    found: list[Citation] = []
    canonical: dict[str, str] = {}
    for line in body:
        if line.line in code:
            continue
        text = mask_inline(line.text)
        for column, key, written in _keys(text):
            target = key
            named = identifier(key)
            if named is not None:
                target = canonical.setdefault(_same_identifier(*named), key)
            found.append(Citation(Location(line.file, line.line, target, column + 1), written, target, "key"))
    found.sort(key=lambda c: (c.location.line or 0, c.location.column or 0))
    return found


def read(path: str, text: str) -> Document:
    """Read a pandoc Markdown note; its bibliography files go to meta["bibliography"] (resolved paths)."""
    from kratomref.readers.intext import mask_lines

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
    masked = mask_lines(lines[first:])
    body = [TextLine(path, first + offset + 1, text) for offset, text in enumerate(masked) if text and text.strip()]
    meta = {"bibliography": ",".join(bibliographies)}
    if any(v.strip() in ("'@*'", "@*", '"@*"') for v in fields.get("nocite", [])):
        meta["nocite-all"] = "1"
    # A work cited by identifier is a reference of the note itself; its citations are tied to it when the
    # note's bibliographies are read (kratomref.readers.latex.link_citations).
    references, _ = identifier_references(body)
    own = {ref.key for ref in references}  # tied now, so a note with no bibliography has them tied too
    citations = [dataclasses.replace(c, resolved_key=c.target) if c.style == "key" and c.target in own else c
                 for c in find_citations(body)]
    return Document(path, "pandoc", references=tuple(references), body=tuple(body),
                    citations=tuple(citations), problems=tuple(problems), meta=meta)
