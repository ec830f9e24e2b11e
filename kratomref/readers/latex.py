"""LaTeX documents: \\cite-family citations, \\input/\\include files and the .bib files the document names."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Sequence

from kratomref.model import Citation, Document, Location, Problem, Reference, TextLine

# The name of a citation command: \cite, \citep, \citet, \parencite, \textcite, \autocite, \footcite,
# \nocite, \supercite, \fullcite and their capitalised and multi-citation forms (\Citep, \Textcite,
# \citeauthor, \parencites, \footcitetext). One definition for the reader and the editor rules (KR504).
CITE_COMMAND = r"[A-Za-z]*[Cc]ite[A-Za-z]*"
# A citation command with its starred form and up to two optional arguments: \citep[see][p.~12]{a,b}.
CITE_RE = re.compile(r"\\(?P<command>" + CITE_COMMAND + r")\*?\s*(?:\[[^\]]*\]\s*){0,2}\{(?P<keys>[^}]*)\}")
INPUT_RE = re.compile(r"\\(?P<command>input|include|subfile)\s*\{(?P<name>[^}]+)\}")
BIBLIOGRAPHY_RE = re.compile(
    r"\\(?P<command>bibliography|addbibresource|addglobalbib)\s*(?:\[[^\]]*\])?\s*\{(?P<names>[^}]+)\}"
)
VERBATIM_BEGIN_RE = re.compile(r"\\begin\{(?P<env>verbatim\*?|lstlisting|minted|Verbatim|comment|alltt)\}")
# An unescaped %: one preceded by an even number of backslashes (\% is a percent sign, \\% a comment).
COMMENT_RE = re.compile(r"(?<!\\)(?:\\\\)*%.*$")
MAX_INPUT_DEPTH = 20  # \input nesting deeper than this is a loop the cycle check missed (symlinks)


def strip_comment(line: str) -> str:
    match = COMMENT_RE.search(line)
    if match is None:
        return line
    # keep the escaped backslashes before the %
    prefix = re.match(r"(?:\\\\)*", match.group(0))
    return line[: match.start() + (len(prefix.group(0)) if prefix else 0)]


def _resolve(base_dir: str, name: str, extension: str) -> str:
    name = name.strip()
    path = os.path.normpath(os.path.join(base_dir, name))
    if not os.path.splitext(path)[1]:
        path += extension
    return path


@dataclasses.dataclass
class _State:
    root_dir: str
    body: list[TextLine] = dataclasses.field(default_factory=list)
    citations: list[Citation] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    bibliographies: list[str] = dataclasses.field(default_factory=list)
    nocite_all: bool = False
    seen: set[str] = dataclasses.field(default_factory=set)


def _refusal(state: _State, name: str, path: str) -> str | None:
    from kratomref.readers import inside  # the package imports this module first

    return inside(state.root_dir, path, name)


def _refused(where: Location, command: str, name: str, why: str) -> Problem:
    return Problem(where, "KR002", f"the file {name.strip()!r} named by \\{command} was not read: {why}",
                   "keep the files a document names inside its directory, and name them by relative paths")


def _read_file(path: str) -> tuple[str | None, str | None]:
    """(text, the encoding guessed or None), or (None, why it was not read): the package's guarded reader
    (size checked before reading, regular files only, binary refused, any encoding decoded)."""
    from kratomref.readers import InputError, read_followed_text

    try:
        text, guessed = read_followed_text(path)
    except InputError as exc:
        return None, str(exc)
    return text, guessed


def _walk(path: str, text: str, state: _State, depth: int) -> None:
    state.seen.add(os.path.realpath(path))
    verbatim: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if verbatim is not None:
            if re.search(r"\\end\{" + re.escape(verbatim) + r"\}", raw):
                verbatim = None
            continue
        line = strip_comment(raw)
        begin = VERBATIM_BEGIN_RE.search(line)
        if begin:
            if not re.search(r"\\end\{" + re.escape(begin.group("env")) + r"\}", line[begin.end() :]):
                verbatim = begin.group("env")
            line = line[: begin.start()]
        line = re.sub(r"\\verb(.).*?\1", " ", line)
        if line.strip():
            state.body.append(TextLine(path, number, line))
        for match in CITE_RE.finditer(line):
            for key in (k.strip() for k in match.group("keys").split(",")):
                if not key:
                    continue
                if key == "*" and match.group("command") == "nocite":
                    state.nocite_all = True
                    continue
                state.citations.append(Citation(Location(path, number, key, match.start() + 1), match.group(0),
                                                key, "key"))
        for match in BIBLIOGRAPHY_RE.finditer(line):
            for name in match.group("names").split(","):
                if name.strip():
                    # bibtex and biber resolve .bib names against the main document's directory
                    bib = _resolve(state.root_dir, name, ".bib")
                    why = _refusal(state, name, bib)
                    if why is not None:
                        state.problems.append(_refused(Location(path, number), match.group("command"), name, why))
                    elif bib not in state.bibliographies:
                        state.bibliographies.append(bib)
        for match in INPUT_RE.finditer(line):
            name = match.group("name")
            child = _resolve(state.root_dir, name, ".tex")
            why = _refusal(state, name, child)
            if why is not None:
                state.problems.append(_refused(Location(path, number), match.group("command"), name, why))
                continue
            if os.path.realpath(child) in state.seen or depth >= MAX_INPUT_DEPTH:
                continue  # \input cycle: read each file once
            child_text, note = _read_file(child)
            if child_text is None:
                state.problems.append(Problem(Location(path, number), "KR002",
                                              f"\\{match.group('command')} file {name.strip()!r} could not be "
                                              f"read: {note}",
                                              f"check that {os.path.basename(child)} is a text file next to the "
                                              "document"))
                continue
            if note is not None:
                state.problems.append(Problem(Location(child), "KR002", f"the file is not UTF-8; it was read as "
                                              f"{note}, so some characters may be wrong", "save the file as UTF-8"))
            _walk(child, child_text, state, depth + 1)


def read(path: str, text: str) -> Document:
    """Read a .tex file and the files it \\input s; the .bib files it names go to meta["bibliography"]."""
    state = _State(os.path.dirname(path))
    _walk(path, text, state, 0)
    meta = {"bibliography": ",".join(state.bibliographies)}
    if state.nocite_all:
        meta["nocite-all"] = "1"
    return Document(path, "latex", body=tuple(state.body), citations=tuple(state.citations),
                    problems=tuple(state.problems), meta=meta)


def related_paths(doc: Document) -> list[str]:
    """The bibliography files a LaTeX or pandoc document names (resolved paths), in order."""
    return [p for p in doc.meta.get("bibliography", "").split(",") if p]


def link_citations(doc: Document, references: Sequence[Reference]) -> Document:
    """doc with its citations tied to references (by key) and those references attached."""
    keys = {r.key for r in references}
    citations = tuple(
        dataclasses.replace(c, resolved_key=c.target if c.target in keys else None) if c.style == "key" else c
        for c in doc.citations
    )
    return dataclasses.replace(doc, references=tuple(references), citations=citations)


def expand(documents: Sequence[Document], read_file: Callable[[str], Document]) -> list[Document]:
    """Each LaTeX or pandoc document with the bibliographies it names read (by read_file) and linked.

    The bibliography's references are attached to the document that names it, so every bibliography
    rule runs on them once and the citation rules see them; a .bib also given on the command line is
    not read a second time. A bibliography that cannot be read is a KR002 problem of the document.
    """
    from kratomref.readers import InputError, inside  # the package imports this module first

    named = {os.path.realpath(p) for doc in documents for p in related_paths(doc)}
    expanded: list[Document] = []
    for doc in documents:
        if doc.format in ("bibtex", "csljson") and os.path.realpath(doc.path) in named:
            continue  # read through the document that names it
        paths = related_paths(doc)
        if not paths:
            expanded.append(doc)
            continue
        references: list[Reference] = []
        problems = list(doc.problems)
        for path in paths:
            why = inside(os.path.dirname(doc.path), path)
            if why is not None:  # the readers refuse these already; a Document built by hand is checked too
                problems.append(Problem(Location(doc.path), "KR002", f"the bibliography {path} was not read: {why}"))
                continue
            try:
                bibliography = read_file(path)
            except InputError as exc:  # a missing or unreadable bibliography is a finding, not a crash
                problems.append(Problem(Location(doc.path), "KR002", f"the bibliography {path} could not be "
                                        f"read ({exc})", "check the path in \\bibliography or bibliography:"))
                continue
            references.extend(bibliography.references)
            problems.extend(bibliography.problems)
        expanded.append(dataclasses.replace(link_citations(doc, references), problems=tuple(problems)))
    return expanded
