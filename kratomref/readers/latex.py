"""LaTeX documents: \\cite-family citations, \\input/\\include files, the bibliographies the document names or
writes (filecontents), its own thebibliography list, and the cite commands and macros it defines."""

from __future__ import annotations

import bisect
import dataclasses
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from kratomref import lazy
from kratomref.model import Citation, Document, Location, Problem, Reference, TextLine
from kratomref.readers import bibtex
from kratomref.readers.bibitem import item_reference
from kratomref.readers.blanking import blank_spans
from kratomref.readers.journal_macros import AAS_JOURNALS
from kratomref.readers.texpath import find_bibliography

# The name of a citation command: \cite, \citep, \citet, \parencite, \textcite, \autocite, \footcite,
# \nocite, \supercite, \fullcite and their capitalised and multi-citation forms (\Citep, \Textcite,
# \citeauthor, \parencites, \footcitetext). One definition for the reader and the editor rules (KR504).
CITE_COMMAND = r"[A-Za-z]*[Cc]ite[A-Za-z]*"
# A citation command with its starred form and up to two optional arguments: \citep[see][p.~12]{a,b}. The keys
# stop at a brace or a backslash, and an optional argument is bounded, so that an unclosed \cite{ is not read
# to the end of the text (each of many would make reading quadratic).
_OPTIONAL = r"\[[^\]]{0,300}\]"
CITE_RE = lazy.regex(r"\\(?P<command>" + CITE_COMMAND + r")\*?\s*(?:" + _OPTIONAL + r"\s*){0,2}\{(?P<keys>[^{}\\]*)\}")
INPUT_RE = lazy.regex(r"\\(?P<command>input|include|subfile)\s*\{(?P<name>[^{}]{1,500})\}")
BIBLIOGRAPHY_RE = lazy.regex(
    r"\\(?P<command>bibliography|addbibresource|addglobalbib)\s*(?:" + _OPTIONAL + r")?\s*\{(?P<names>[^{}]{1,2000})\}"
)
VERBATIM_BEGIN_RE = lazy.regex(r"\\begin\{(?P<env>verbatim\*?|lstlisting|minted|Verbatim|comment|alltt)\}")
# \begin{filecontents}[force]{\jobname.bib}: the lines up to \end{filecontents} are a file TeX writes.
FILECONTENTS_RE = lazy.regex(r"\\begin\{(?P<env>filecontents\*?)\}\s*(?:" + _OPTIONAL + r"\s*)?"
                             r"\{(?P<name>[^{}]{0,500})\}")
# An unescaped %: one preceded by an even number of backslashes (\% is a percent sign, \\% a comment).
COMMENT_RE = lazy.regex(r"(?<!\\)(?:\\\\)*%.*$")
# Inline code: \verb|x|, \lstinline|x|, \mintinline{lang}|x|.
_INLINE_CODE_RE = lazy.regex(r"\\(?:verb\*?|lstinline(?:" + _OPTIONAL + r")?|mintinline\{[^{}]{0,50}\})([^\sA-Za-z{*])"
                             r"[^\n]{0,2000}?\1")
# A pandoc template's variable ($bibliography$, $for(bibliography)$): not a file name.
_TEMPLATE_VARIABLE_RE = lazy.regex(r"\$[\w().-]*\$")
MAX_INPUT_DEPTH = 20  # \input nesting deeper than this is a loop the cycle check missed (symlinks)

# --- Definitions: \newcommand, \def, \let, \defcitealias, \DeclareCiteCommand ... ----------------------
_DEFINE_RE = lazy.regex(
    r"\\(?P<command>(?:re)?newcommand|providecommand|DeclareRobustCommand"
    r"|(?:New|Renew|Provide|Declare)Document(?:Command|Environment)|(?:re)?newenvironment"
    r"|[gex]?def|let|defcitealias|DeclareCiteCommand|DeclareMultiCiteCommand)(?![A-Za-z@])"
)
_NEWCOMMANDS = frozenset({"newcommand", "renewcommand", "providecommand", "DeclareRobustCommand"})
_DOCUMENT_COMMANDS = frozenset({"NewDocumentCommand", "RenewDocumentCommand", "ProvideDocumentCommand",
                                "DeclareDocumentCommand"})
_ENVIRONMENTS = frozenset({"newenvironment", "renewenvironment"})
_DEFS = frozenset({"def", "gdef", "edef", "xdef"})
_CONTROL_SEQUENCE_RE = lazy.regex(r"\\(?:[A-Za-z@]+|.)", re.DOTALL)
_BRACED_NAME_RE = lazy.regex(r"\s*\{\s*(\\(?:[A-Za-z@]+|.))\s*\}", re.DOTALL)  # \newcommand{\name}
_DEF_PARAMETERS_RE = lazy.regex(r"[^{}\\\n]{0,60}(?=\{)")  # \def\x#1#2{: the parameter text before the body
# A cite command in a definition's body whose keys are a parameter: \cite{#1}, \citep[see][]{##2}.
_CITE_OF_PARAMETER_RE = lazy.regex(r"\\(?:" + CITE_COMMAND + r")\*?\s*(?:" + _OPTIONAL + r"\s*){0,2}"
                                   r"\{\s*#+(?P<n>\d)\s*\}")
_ANY_CITE_RE = lazy.regex(r"\\" + CITE_COMMAND + r"(?![A-Za-z])")
# A body that typesets its argument as code: \newcommand*{\code}[1]{\detokenize\expandafter{\string#1}}.
_CODE_BODY_RE = lazy.regex(r"\\(?:detokenize|string|meaning)(?![A-Za-z])")
MAX_OPTIONAL_CHARS = 200  # an [optional argument] longer than this is not one

# --- thebibliography ------------------------------------------------------------------------------------
_THEBIBLIOGRAPHY_RE = lazy.regex(r"\\begin\s*\{thebibliography\}")
_END_THEBIBLIOGRAPHY_RE = lazy.regex(r"\\end\s*\{thebibliography\}")
_BIBITEM_RE = lazy.regex(r"\\bibitem(?![A-Za-z@])")
_KEY_GROUP_RE = lazy.regex(r"\s*\{(?P<key>[^{}\\]{0,300})\}")
# What a .bbl or a hand-written list puts between the fields, and nothing a reader sees.
_BIBITEM_NOISE_RE = lazy.regex(r"\\(?:newblock|BibitemOpen|bibAnnoteFile\s*\{[^{}]*\}|BibitemShut\s*\{[^{}]*\}"
                               r"|penalty\s*-?\d+|raggedright|relax)(?![A-Za-z@])")
_GROUP = r"\{(?P<value>(?:[^{}]|\{[^{}]*\})*)\}"  # a braced group, with groups one level deep inside
_BIBINFO_RE = lazy.regex(r"\\(?:bibinfo|bibfield)\s*\{[^{}]*\}\s*" + _GROUP)  # revtex: \bibinfo{journal}{Nature}
_URL_COMMAND_RE = lazy.regex(
    r"\\(?:url|path)\s*\{(?P<url>[^{}]*)\}"
    r"|\\(?:href|Eprint)\s*\{(?P<target>[^{}]*)\}\s*" + _GROUP
    + r"|\\doi\s*\{(?P<doi>[^{}]*)\}"
)
_URL_ESCAPE_RE = lazy.regex(r"\\([%_#&~$])")
_MACRO_USE_RE = lazy.regex(r"\\([A-Za-z@]+)(?![A-Za-z@])\s*")
_ARGUMENT_RE = lazy.regex(r"\s*\{([^{}]{0,2000})\}")
_PARAMETER_RE = lazy.regex(r"#+(\d)")
MAX_EXPANSIONS = 3  # rounds of macro expansion in a reference list item (a macro may use another)
MAX_ITEM_CHARS = 8000  # a \bibitem's text is cut here: one citation is far shorter
_PROTECT_OPEN, _PROTECT_CLOSE = "\ue000", "\ue001"  # around a URL while the rest of an item is decoded



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
class _Written:
    """A file the document writes with a filecontents environment."""

    env: str  # filecontents or filecontents*
    name: str  # as written, \jobname replaced
    file: str  # the .tex file that holds the environment
    first_line: int  # the line of that file that holds the written file's first line
    lines: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class _Named:
    """A bibliography the document names with \\bibliography or \\addbibresource."""

    name: str  # as written, \jobname replaced
    path: str  # resolved against the main document's directory
    where: Location
    command: str


@dataclasses.dataclass(frozen=True)
class _Item:
    """A \\bibitem of a thebibliography list."""

    location: Location  # its file, line and key
    head: str  # \\bibitem[label]{key}
    latex: str  # what follows, up to the next item


@dataclasses.dataclass(frozen=True)
class _Macro:
    arity: int  # number of arguments; -1 when the definition is not a simple one
    body: str
    optional_first: bool = False  # \newcommand{\x}[2][default]{...}: #1 is optional


@dataclasses.dataclass
class _State:
    root_dir: str
    jobname: str
    body: list[TextLine] = dataclasses.field(default_factory=list)
    citations: list[Citation] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    named: list[_Named] = dataclasses.field(default_factory=list)
    written: list[_Written] = dataclasses.field(default_factory=list)
    items: list[_Item] = dataclasses.field(default_factory=list)  # thebibliography items, read once all is known
    nocite_all: bool = False
    seen: set[str] = dataclasses.field(default_factory=set)
    macros: dict[str, _Macro] = dataclasses.field(default_factory=dict)
    wrappers: dict[str, int] = dataclasses.field(default_factory=dict)  # cite wrapper -> argument with the keys
    not_cite: set[str] = dataclasses.field(default_factory=set)  # \citesomething defined to cite nothing
    # macros that cite fixed keys wherever they are used: \newcommand{\paperii}{\cite{astropy:2018}}
    cite_macros: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    code_macros: set[str] = dataclasses.field(default_factory=set)  # commands that print their argument as code


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


# --- Preparing a file: comments, verbatim and filecontents out, every line kept -------------------------


def _prepare(path: str, text: str, state: _State) -> list[str]:
    """The file's lines without comments, verbatim text and filecontents environments (kept in state.written),
    one for each line of the file so that line numbers stay right."""
    lines: list[str] = []
    verbatim: str | None = None
    writing: _Written | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if writing is not None:
            end = re.search(r"\\end\{" + re.escape(writing.env) + r"\}", raw)
            writing.lines.append(raw if end is None else raw[: end.start()])
            if end is not None:
                state.written.append(writing)
                writing = None
            lines.append("")
            continue
        if verbatim is not None:
            if re.search(r"\\end\{" + re.escape(verbatim) + r"\}", raw):
                verbatim = None
            lines.append("")
            continue
        line = strip_comment(raw)
        contents = FILECONTENTS_RE.search(line)
        if contents:
            name = contents.group("name").replace("\\jobname", state.jobname).strip()
            writing = _Written(contents.group("env"), name, path, number + 1)
            lines.append(line[: contents.start()])
            continue
        begin = VERBATIM_BEGIN_RE.search(line)
        if begin:
            if not re.search(r"\\end\{" + re.escape(begin.group("env")) + r"\}", line[begin.end() :]):
                verbatim = begin.group("env")
            line = line[: begin.start()]
        lines.append(_INLINE_CODE_RE.sub(lambda m: " " * len(m.group(0)), line))
    if writing is not None:  # no \end{filecontents}: TeX would stop with an error; the file is what is there
        state.written.append(writing)
    return lines


def _brace_pairs(text: str) -> dict[int, int]:
    """Position of each unescaped { -> position of its matching }, in one pass."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    escaped = False
    for position, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            stack.append(position)
        elif char == "}" and stack:
            pairs[stack.pop()] = position
    return pairs


# --- Definitions ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Definition:
    command: str  # newcommand, def, let, DeclareCiteCommand...
    name: str  # the command defined, without its backslash ("" for an environment or an alias)
    span: tuple[int, int]
    macro: _Macro | None = None  # what the command expands to (newcommand and def)
    alias_of: str = ""  # \let\name\other: other, without its backslash


class _Scanner:
    """Reads the parts of a definition: {groups}, [optional arguments], \\control sequences."""

    def __init__(self, text: str, pairs: dict[int, int]) -> None:
        self.text = text
        self.pairs = pairs

    def skip_space(self, position: int) -> int:
        while position < len(self.text) and self.text[position] in " \t\n":
            position += 1
        return position

    def group(self, position: int) -> tuple[int, int] | None:
        """(start, end) of the {group} at position (after spaces), end past its }."""
        position = self.skip_space(position)
        if position < len(self.text) and self.text[position] == "{" and position in self.pairs:
            return position, self.pairs[position] + 1
        return None

    def optional(self, position: int) -> tuple[int, int] | None:
        """(start, end) of the [optional argument] at position (after spaces)."""
        position = self.skip_space(position)
        if position >= len(self.text) or self.text[position] != "[":
            return None
        cursor = position + 1
        limit = min(len(self.text), position + MAX_OPTIONAL_CHARS)
        while cursor < limit:
            char = self.text[cursor]
            if char == "{" and cursor in self.pairs:
                cursor = self.pairs[cursor]
            elif char == "]":
                return position, cursor + 1
            cursor += 1
        return None

    def control_sequence(self, position: int) -> tuple[str, int] | None:
        """(name without its backslash, end) of the \\control sequence at position (after spaces)."""
        position = self.skip_space(position)
        match = _CONTROL_SEQUENCE_RE.match(self.text, position)
        return (match.group(0)[1:], match.end()) if match else None

    def command_name(self, position: int) -> tuple[str, int] | None:
        """The command a \\newcommand defines: {\\name} or \\name."""
        braced = _BRACED_NAME_RE.match(self.text, position)
        if braced is not None:
            return braced.group(1)[1:], braced.end()
        if self.text[self.skip_space(position) : self.skip_space(position) + 1] == "{":
            return None  # {something that is not one command}
        return self.control_sequence(position)

    def inner(self, span: tuple[int, int]) -> str:
        return self.text[span[0] + 1 : span[1] - 1]


def _newcommand(scan: _Scanner, command: str, start: int, position: int) -> _Definition | None:
    if scan.text.startswith("*", position):
        position += 1
    named = scan.command_name(position)
    if named is None:
        return None
    name, position = named
    arity, optional_first = 0, False
    count = scan.optional(position)
    if count is not None:
        written = scan.inner(count).strip()
        if not written.isdigit():
            return None
        arity, position = int(written), count[1]
        default = scan.optional(position)
        if default is not None:
            optional_first, position = True, default[1]
    body = scan.group(position)
    if body is None:
        token = scan.control_sequence(position)  # \newcommand\x\y: a body of one token
        if token is None:
            return None
        return _Definition(command, name, (start, token[1]), _Macro(arity, "\\" + token[0], optional_first))
    return _Definition(command, name, (start, body[1]), _Macro(arity, scan.inner(body), optional_first))


def _document_command(scan: _Scanner, command: str, start: int, position: int) -> _Definition | None:
    named = scan.command_name(position)
    spec = scan.group(named[1]) if named else None
    body = scan.group(spec[1]) if spec else None
    if named is None or spec is None or body is None:
        return None
    letters = scan.inner(spec).split()
    arity = len(letters) if all(letter == "m" for letter in letters) else -1
    return _Definition(command, named[0], (start, body[1]), _Macro(arity, scan.inner(body)))


def _environment(scan: _Scanner, command: str, start: int, position: int) -> _Definition | None:
    if scan.text.startswith("*", position):
        position += 1
    name = scan.group(position)
    if name is None:
        return None
    position = name[1]
    # \newenvironment{name}[n][default]{begin}{end}; \NewDocumentEnvironment{name}{spec}{begin}{end}
    groups = 3 if command.endswith("DocumentEnvironment") else 2
    for _ in range(2):
        optional = scan.optional(position)
        if optional is None:
            break
        position = optional[1]
    for _ in range(groups):
        group = scan.group(position)
        if group is None:
            return None
        position = group[1]
    return _Definition(command, "", (start, position))


def _def(scan: _Scanner, command: str, start: int, position: int) -> _Definition | None:
    named = scan.control_sequence(position)
    if named is None:
        return None
    name, position = named
    parameters = _DEF_PARAMETERS_RE.match(scan.text, position)
    if parameters is None:
        return None
    body = scan.group(parameters.end())
    if body is None:
        return None
    written = parameters.group(0).strip()
    numbers = re.findall(r"#+\d", written)
    arity = len(numbers) if "".join(numbers) == written.replace(" ", "") else -1  # \def\x#1.{...}: delimited
    return _Definition(command, name, (start, body[1]), _Macro(arity, scan.inner(body)))


def _let(scan: _Scanner, command: str, start: int, position: int) -> _Definition | None:
    named = scan.control_sequence(position)
    if named is None:
        return None
    position = scan.skip_space(named[1])
    if scan.text.startswith("=", position):
        position += 1
    other = scan.control_sequence(position)
    if other is None:
        end = scan.skip_space(position)
        return _Definition(command, named[0], (start, min(end + 1, len(scan.text))))
    return _Definition(command, named[0], (start, other[1]), alias_of=other[0])


def _groups_after(scan: _Scanner, command: str, start: int, position: int, count: int,
                  named: bool) -> _Definition | None:
    """\\defcitealias{key}{text}, \\DeclareCiteCommand{\\name}[wrapper]{pre}{loop}{sep}{post}..."""
    name = ""
    if scan.text.startswith("*", position):
        position += 1
    if named:
        found = scan.command_name(position)
        if found is None:
            return None
        name, position = found
        optional = scan.optional(position)
        if optional is not None:
            position = optional[1]
    for _ in range(count):
        group = scan.group(position)
        if group is None:
            break
        position = group[1]
    return _Definition(command, name, (start, position))


def _definition(scan: _Scanner, match: re.Match[str]) -> _Definition | None:
    command, start, position = match.group("command"), match.start(), match.end()
    if command in _NEWCOMMANDS:
        return _newcommand(scan, command, start, position)
    if command in _DOCUMENT_COMMANDS:
        return _document_command(scan, command, start, position)
    if command in _ENVIRONMENTS or command.endswith("DocumentEnvironment"):
        return _environment(scan, command, start, position)
    if command in _DEFS:
        return _def(scan, command, start, position)
    if command == "let":
        return _let(scan, command, start, position)
    if command == "defcitealias":
        return _groups_after(scan, command, start, position, 2, named=False)
    if command == "DeclareCiteCommand":
        return _groups_after(scan, command, start, position, 4, named=True)
    return _groups_after(scan, command, start, position, 2, named=True)  # DeclareMultiCiteCommand


def _definitions(text: str, pairs: dict[int, int]) -> list[_Definition]:
    """The definitions in text, outermost only (a \\def inside a \\newenvironment is part of it)."""
    scan = _Scanner(text, pairs)
    found: list[_Definition] = []
    position = 0
    while True:
        match = _DEFINE_RE.search(text, position)
        if match is None:
            return found
        definition = _definition(scan, match)
        if definition is None:
            found.append(_Definition(match.group("command"), "", match.span()))
            position = match.end()
        else:
            found.append(definition)
            position = max(definition.span[1], match.end())


def _is_cite_name(name: str) -> bool:
    return re.fullmatch(CITE_COMMAND, name) is not None


def _learn(definition: _Definition, state: _State) -> None:
    """What a definition tells about the document's commands: cite wrappers, macros, code printers."""
    name, macro = definition.name, definition.macro
    if not name:
        return
    if definition.command in ("DeclareCiteCommand", "DeclareMultiCiteCommand"):
        state.not_cite.discard(name)
        if not _is_cite_name(name):
            state.wrappers[name] = 1
        return
    if definition.command == "let":
        cites = _is_cite_name(definition.alias_of) or definition.alias_of in state.wrappers
        if cites and definition.alias_of not in state.not_cite:
            state.not_cite.discard(name)
            state.wrappers[name] = state.wrappers.get(definition.alias_of, 1)
        elif _is_cite_name(name):
            state.not_cite.add(name)
        return
    if macro is None:
        return
    state.macros[name] = macro
    cited = _CITE_OF_PARAMETER_RE.search(macro.body)
    state.wrappers.pop(name, None)
    state.not_cite.discard(name)
    keys = tuple(k for m in CITE_RE.finditer(macro.body) for k in _cite_keys(m.group("keys")) if k != "*")
    if keys:
        state.cite_macros[name] = keys
    else:
        state.cite_macros.pop(name, None)
    if cited is not None and macro.arity > 0:
        argument = int(cited.group("n")) - (1 if macro.optional_first else 0)
        if argument >= 1:
            state.wrappers[name] = argument
    elif _is_cite_name(name) and not _ANY_CITE_RE.search(macro.body):
        state.not_cite.add(name)  # \newcommand{\citeneeded}{[citation needed]}: prints, cites nothing
    if macro.arity > 0 and _CODE_BODY_RE.search(macro.body):
        state.code_macros.add(name)


def _code_arguments(text: str, pairs: dict[int, int], state: _State) -> list[tuple[int, int]]:
    """Spans of the arguments of commands that print their argument as code (\\code{\\cite{a1}})."""
    if not state.code_macros:
        return []
    names = "|".join(re.escape(n) for n in sorted(state.code_macros, key=len, reverse=True))
    scan = _Scanner(text, pairs)
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"\\(?:" + names + r")(?![A-Za-z@])", text):
        group = scan.group(match.end())
        if group is not None:
            spans.append(group)
    return spans


# --- thebibliography --------------------------------------------------------------------------------------


def _substitute(body: str, arguments: Sequence[str]) -> str:
    """A macro's body with #1..#9 replaced by its arguments."""
    def argument(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return arguments[number - 1] if 0 < number <= len(arguments) else ""

    return _PARAMETER_RE.sub(argument, body)


def _expand_macros(text: str, macros: Mapping[str, _Macro]) -> str:
    """text with the document's simple macros expanded (\\etal, \\apjl, \\arxiv{1212.1721}), a few rounds."""
    usable = {name: _Macro(0, journal) for name, journal in AAS_JOURNALS.items()}  # AASTeX's \\apj, \\mnras
    usable.update({name: m for name, m in macros.items() if 0 <= m.arity <= 9 and not m.optional_first})
    if "\\" not in text:
        return text
    for _ in range(MAX_EXPANSIONS):
        out: list[str] = []
        last = 0
        changed = False
        for match in _MACRO_USE_RE.finditer(text):
            macro = usable.get(match.group(1))
            if macro is None or match.start() < last:
                continue
            arguments: list[str] = []
            end = match.end() if macro.arity else match.end(1)
            for _ in range(macro.arity):
                argument = _ARGUMENT_RE.match(text, end)
                if argument is None:
                    break
                arguments.append(argument.group(1))
                end = argument.end()
            if len(arguments) < macro.arity:
                continue
            out.extend((text[last : match.start()], _substitute(macro.body, arguments)))
            last, changed = end, True
        if not changed:
            return text
        text = ("".join(out) + text[last:])[:MAX_ITEM_CHARS]
    return text


def _url(match: re.Match[str]) -> str:
    """A \\url, \\href or \\doi as the text a reader sees, its URL protected from LaTeX decoding."""
    def protect(url: str) -> str:
        return _PROTECT_OPEN + _URL_ESCAPE_RE.sub(r"\1", url.strip()) + _PROTECT_CLOSE

    if match.group("url") is not None:
        return protect(match.group("url"))
    if match.group("doi") is not None:
        return "doi:" + protect(match.group("doi"))
    return f"{match.group('value')} {protect(match.group('target'))}"


def item_text(latex: str, macros: Mapping[str, _Macro] | None = None) -> str:
    """The text a reader sees of a reference list item written in LaTeX."""
    text = _expand_macros(latex[:MAX_ITEM_CHARS], macros or {})
    text = _BIBITEM_NOISE_RE.sub(" ", text)
    text = _BIBINFO_RE.sub(lambda m: m.group("value"), text)
    text = _URL_COMMAND_RE.sub(_url, text.replace(_PROTECT_OPEN, "").replace(_PROTECT_CLOSE, ""))
    pieces = re.split(f"{_PROTECT_OPEN}([^{_PROTECT_CLOSE}]*){_PROTECT_CLOSE}", text)
    # even pieces are LaTeX, odd ones URLs as written; a space stays where the LaTeX had one
    return " ".join("".join(
        piece if index % 2 else _decoded_keeping_edges(piece) for index, piece in enumerate(pieces)
    ).split())


def _decoded_keeping_edges(piece: str) -> str:
    decoded = bibtex.decode_latex(piece)
    lead = " " if piece[:1].isspace() else ""
    trail = " " if piece[-1:].isspace() else ""
    return f"{lead}{decoded}{trail}" if decoded else lead or trail


def _bibliography_items(text: str, pairs: dict[int, int]) -> tuple[list[tuple[int, int, str, int]],
                                                                   list[tuple[int, int]]]:
    """(start of \\bibitem, end of its key, the key, end of the item) of each item of a thebibliography list,
    and the spans of the lists."""
    scan = _Scanner(text, pairs)
    items: list[tuple[int, int, str, int]] = []
    spans: list[tuple[int, int]] = []
    position = 0
    while True:
        begin = _THEBIBLIOGRAPHY_RE.search(text, position)
        if begin is None:
            return items, spans
        end = _END_THEBIBLIOGRAPHY_RE.search(text, begin.end())
        stop = end.start() if end else len(text)
        starts = [m for m in _BIBITEM_RE.finditer(text, begin.end(), stop)]
        for index, item in enumerate(starts):
            after = scan.optional(item.end())
            key = _KEY_GROUP_RE.match(text, after[1] if after else item.end())
            finish = starts[index + 1].start() if index + 1 < len(starts) else stop
            if key is None or key.end() > finish or not key.group("key").strip():
                continue
            items.append((item.start(), key.end(), key.group("key").strip(), finish))
        spans.append((begin.start(), end.end() if end else len(text)))
        position = end.end() if end else len(text)


def _bibitems(path: str, text: str, pairs: dict[int, int], state: _State) -> list[tuple[int, int]]:
    """Keep the thebibliography items of a file in state.items; the spans of the lists."""
    items, spans = _bibliography_items(text, pairs)
    starts = _line_starts(text)
    for start, key_end, key, end in items:
        line = bisect.bisect_right(starts, start)
        state.items.append(_Item(Location(path, line, key), text[start:key_end], text[key_end:end]))
    return spans


def _item_references(state: _State) -> list[Reference]:
    """The references of the thebibliography items, read with every macro the document defines."""
    references: list[Reference] = []
    for item in state.items:
        reference = item_reference(item_text(item.latex, state.macros), item.location, item.head)
        # raw: the item as written (the source a reader of the .tex sees), from \bibitem on
        references.append(dataclasses.replace(reference, raw=" ".join(f"{item.head}{item.latex}".split())))
    return references


# --- Walking the files --------------------------------------------------------------------------------------


def _cite_keys(keys: str) -> list[str]:
    """The keys of a \\cite: macro parameters (#1) and commands are not keys."""
    return [key for key in (part.strip() for part in keys.split(",")) if key and "#" not in key and "\\" not in key]


def _wrapper_uses(text: str, span: tuple[int, int], state: _State) -> list[tuple[re.Match[str], str]]:
    """(match, keys) of each use of a cite command the document defines (\\mycite{knuth}) in text[span]."""
    if not state.wrappers:
        return []
    names = "|".join(re.escape(n) for n in sorted(state.wrappers, key=len, reverse=True))
    pattern = re.compile(r"\\(?P<command>" + names + r")(?![A-Za-z@])\*?(?:\s*" + _OPTIONAL + r"){0,2}")
    found: list[tuple[re.Match[str], str]] = []
    for match in pattern.finditer(text, *span):
        arguments: list[str] = []
        end = match.end()
        while len(arguments) < state.wrappers[match.group("command")]:
            argument = _ARGUMENT_RE.match(text, end)
            if argument is None:
                break
            arguments.append(argument.group(1))
            end = argument.end()
        if len(arguments) == state.wrappers[match.group("command")]:
            found.append((match, arguments[-1]))
    return found


def _cite_macro_uses(text: str, span: tuple[int, int], state: _State) -> list[tuple[re.Match[str], str]]:
    """(match, keys) of each use of a macro that cites fixed keys (\\paperii) in text[span]."""
    if not state.cite_macros:
        return []
    names = "|".join(re.escape(n) for n in sorted(state.cite_macros, key=len, reverse=True))
    pattern = re.compile(r"\\(?P<command>" + names + r")(?![A-Za-z@])")
    return [(m, ",".join(state.cite_macros[m.group("command")])) for m in pattern.finditer(text, *span)]


def _cite(state: _State, path: str, text: str, span: tuple[int, int], starts: Sequence[int]) -> None:
    """The citations in text[span] (a \\cite's keys may run over several lines); starts: _line_starts(text)."""
    uses: list[tuple[re.Match[str], str]] = [
        (m, m.group("keys")) for m in CITE_RE.finditer(text, *span)
        if m.group("command") not in state.wrappers and m.group("command") not in state.not_cite
    ]
    uses.extend(_wrapper_uses(text, span, state))
    uses.extend(_cite_macro_uses(text, span, state))
    uses.sort(key=lambda use: use[0].start())
    for match, keys in uses:
        number = bisect.bisect_right(starts, match.start())
        column = match.start() - starts[number - 1] + 1
        written = match.group(0) if "\n" not in match.group(0) else " ".join(match.group(0).split())
        for key in _cite_keys(keys):
            if key == "*" and match.group("command") == "nocite":
                state.nocite_all = True
                continue
            state.citations.append(Citation(Location(path, number, key, column), written, key, "key"))


def _line_starts(text: str) -> list[int]:
    """The position where each line of text starts (line n starts at [n - 1])."""
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _name_bibliographies(state: _State, path: str, number: int, line: str) -> None:
    for match in BIBLIOGRAPHY_RE.finditer(line):
        for written in match.group("names").split(","):
            name = written.replace("\\jobname", state.jobname).strip()
            if not name or "#" in name or _TEMPLATE_VARIABLE_RE.search(name):
                continue  # a macro parameter or a template variable, not a file
            # bibtex and biber resolve .bib names against the main document's directory
            state.named.append(_Named(name, _resolve(state.root_dir, name, ".bib"), Location(path, number),
                                      match.group("command")))


def _follow_input(state: _State, path: str, number: int, match: re.Match[str], depth: int) -> None:
    """Read the file an \\input, \\include or \\subfile names, where it is named."""
    name = match.group("name")
    if "#" in name:
        return  # a macro parameter: \\newcommand{\\chapter}[1]{\\input{#1}}
    child = _resolve(state.root_dir, name, ".tex")
    why = _refusal(state, name, child)
    if why is not None:
        state.problems.append(_refused(Location(path, number), match.group("command"), name, why))
        return
    if os.path.realpath(child) in state.seen or depth >= MAX_INPUT_DEPTH:
        return  # \\input cycle: read each file once
    child_text, note = _read_file(child)
    if child_text is None:
        state.problems.append(Problem(Location(path, number), "KR002",
                                      f"\\{match.group('command')} file {name.strip()!r} could not be read: {note}",
                                      f"check that {os.path.basename(child)} is a text file next to the document"))
        return
    if note is not None:
        state.problems.append(Problem(Location(child), "KR002", f"the file is not UTF-8; it was read as {note}, so "
                                      "some characters may be wrong", "save the file as UTF-8"))
    _walk(child, child_text, state, depth + 1)


def _walk(path: str, text: str, state: _State, depth: int) -> None:
    state.seen.add(os.path.realpath(path))
    prepared = "\n".join(_prepare(path, text, state))
    pairs = _brace_pairs(prepared)
    definitions = _definitions(prepared, pairs)
    for definition in definitions:
        _learn(definition, state)
    masked = blank_spans(prepared, [d.span for d in definitions])
    lists = _bibitems(path, masked, pairs, state)
    masked = blank_spans(masked, [*lists, *_code_arguments(masked, pairs, state)])
    starts = _line_starts(masked)
    done = 0  # citations are read up to each \\input, so that the commands its file defines apply after it
    for number, line in enumerate(masked.split("\n"), start=1):
        if line.strip():
            state.body.append(TextLine(path, number, line))
        _name_bibliographies(state, path, number, line)
        for match in INPUT_RE.finditer(line):
            end = starts[number - 1] + match.end()
            _cite(state, path, masked, (done, end), starts)
            done = end
            _follow_input(state, path, number, match, depth)
    _cite(state, path, masked, (done, len(masked)), starts)


# --- The bibliographies a document names -------------------------------------------------------------------


@dataclasses.dataclass
class _Bibliographies:
    paths: list[str] = dataclasses.field(default_factory=list)  # to read (expand)
    embedded: list[str] = dataclasses.field(default_factory=list)  # .tex files whose filecontents were read
    searched: list[str] = dataclasses.field(default_factory=list)  # of those, found on TeX's search path
    missing: list[str] = dataclasses.field(default_factory=list)  # names not found or refused
    references: list[Reference] = dataclasses.field(default_factory=list)  # of the files written in the .tex
    problems: list[Problem] = dataclasses.field(default_factory=list)


def _embedded(written: _Written) -> tuple[list[Reference], list[Problem]]:
    """The entries of a .bib the document writes with filecontents, located on the .tex's lines."""
    padding = "\n" * (written.first_line - 1)
    document = bibtex.read(written.file, padding + "\n".join(written.lines))
    return list(document.references), list(document.problems)


def _bibliographies(state: _State) -> _Bibliographies:
    """Where each bibliography the document names is: written by the document, next to it, on TeX's search
    path, or nowhere (one KR002 each)."""
    found = _Bibliographies()
    written = {_resolve(state.root_dir, w.name, ""): w for w in state.written}
    used: set[str] = set()
    for named in state.named:
        if named.path in used:
            continue
        used.add(named.path)
        if named.path in written:
            references, problems = _embedded(written[named.path])
            if written[named.path].file not in found.embedded:
                found.embedded.append(written[named.path].file)
            found.references.extend(references)
            found.problems.extend(problems)
            continue
        why = _refusal(state, named.name, named.path)
        if why is not None:
            found.problems.append(_refused(named.where, named.command, named.name, why))
            found.missing.append(named.name)
        elif os.path.lexists(named.path):
            found.paths.append(named.path)
        elif (searched := find_bibliography(os.path.relpath(named.path, state.root_dir or os.curdir),
                                            state.root_dir)) is not None:
            found.paths.append(searched)
            found.searched.append(searched)
        else:
            found.missing.append(named.name)
            found.problems.append(Problem(
                named.where, "KR002",
                f"the bibliography {named.name!r} named by \\{named.command} was not found: it is not in the "
                "document's directory, nor on TeX's search path (BIBINPUTS, TEXINPUTS, kpsewhich)",
                "put the .bib file next to the document, or set BIBINPUTS to the folder that holds it"))
    return found


def read(path: str, text: str) -> Document:
    """Read a .tex file and the files it \\input s. The .bib files it names go to meta["bibliography"]; its
    thebibliography items and the entries of a .bib it writes (filecontents) are its references."""
    state = _State(os.path.dirname(path), os.path.splitext(os.path.basename(path))[0])
    _walk(path, text, state, 0)
    found = _bibliographies(state)
    meta = {"bibliography": ",".join(found.paths)}
    if found.searched:
        meta["bibliography-searched"] = ",".join(found.searched)
    if found.embedded:
        meta["bibliography-embedded"] = ",".join(found.embedded)
    if unparsed := _unparsed_keys(found.problems):
        meta["unparsed-keys"] = ",".join(unparsed)
    macros = {name: m.body for name, m in state.macros.items() if m.arity == 0 and "#" not in m.body}
    if macros:
        meta["macros"] = json.dumps(macros, sort_keys=True)
    if found.missing:
        meta["bibliography-missing"] = ",".join(found.missing)
    own = _item_references(state)
    if own:
        meta["reference-list"] = "thebibliography"
    if state.nocite_all:
        meta["nocite-all"] = "1"
    document = Document(path, "latex", body=tuple(state.body), citations=tuple(state.citations),
                        problems=(*state.problems, *found.problems), meta=meta)
    return link_citations(document, [*own, *found.references])


def related_paths(doc: Document) -> list[str]:
    """The bibliography files a LaTeX or pandoc document names (resolved paths), in order."""
    return [p for p in doc.meta.get("bibliography", "").split(",") if p]


def database_files(doc: Document) -> list[str]:
    """The files whose entries are the databases a document draws on, as opposed to its own reference list (a
    thebibliography): the .bib files it names, and the .tex files that write a .bib it reads with filecontents
    (those entries are located on the .tex's lines)."""
    return [*related_paths(doc), *(p for p in doc.meta.get("bibliography-embedded", "").split(",") if p)]


def document_macros(doc: Document) -> dict[str, str]:
    """The macros without arguments a LaTeX document defines (\\newcommand{\\apjl}{ApJL}: "apjl" -> "ApJL")."""
    try:
        macros = json.loads(doc.meta.get("macros", "{}"))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in macros.items()} if isinstance(macros, dict) else {}


def link_citations(doc: Document, references: Sequence[Reference]) -> Document:
    """doc with its citations tied to references (by key) and those references attached."""
    keys = {r.key for r in references}
    citations = tuple(
        dataclasses.replace(c, resolved_key=c.target if c.target in keys else None) if c.style == "key" else c
        for c in doc.citations
    )
    return dataclasses.replace(doc, references=tuple(references), citations=citations)


def _unparsed_keys(problems: Sequence[Problem]) -> list[str]:
    """Keys of the entries a bibliography holds but could not parse (their KR001 problems name them)."""
    # a keyless entry's stand-in key ("<no key, line 3>") holds a comma and can be cited by no one
    return [p.location.key for p in problems
            if p.code == "KR001" and p.location.key and not p.location.key.startswith("<no key")]


def _unread(bibliography: Document) -> bool:
    """True when a bibliography document holds nothing because it could not be read (empty, binary, too big)."""
    return not bibliography.references and any(p.code == "KR002" for p in bibliography.problems)


class FollowedReader(Protocol):
    """Reads a bibliography a document names (kratomref.readers._read_followed)."""

    def __call__(self, path: str, macros: Mapping[str, str] | None = None) -> Document: ...


def expand(documents: Sequence[Document], read_file: FollowedReader) -> list[Document]:
    """Each LaTeX or pandoc document with the bibliographies it names read (by read_file) and linked.

    The bibliography's references are attached to the document that names it, after the document's own
    (a thebibliography list, a .bib it writes), so every bibliography rule runs on them once and the citation
    rules see them; a .bib also given on the command line is not read a second time. A bibliography that
    cannot be read is a KR002 problem of the document, and its name goes to meta["bibliography-missing"]; the
    keys of entries a bibliography holds but could not parse (KR001) go to meta["unparsed-keys"].
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
        searched = set(doc.meta.get("bibliography-searched", "").split(","))
        macros = document_macros(doc) or None
        missing = [name for name in doc.meta.get("bibliography-missing", "").split(",") if name]
        unparsed = [key for key in doc.meta.get("unparsed-keys", "").split(",") if key]
        references: list[Reference] = list(doc.references)
        problems = list(doc.problems)
        for path in paths:
            # A .bib found on TeX's search path lies outside the document's directory by design (the reader
            # found it there, not the document); any other path must be inside.
            why = None if path in searched and path.lower().endswith(".bib") else inside(os.path.dirname(doc.path),
                                                                                          path)
            if why is not None:  # the readers refuse these already; a Document built by hand is checked too
                problems.append(Problem(Location(doc.path), "KR002", f"the bibliography {path} was not read: {why}"))
                missing.append(os.path.basename(path))
                continue
            try:
                bibliography = read_file(path, macros)
            except InputError as exc:  # a missing or unreadable bibliography is a finding, not a crash
                problems.append(Problem(Location(doc.path), "KR002", f"the bibliography {path} could not be "
                                        f"read ({exc})", "check the path in \\bibliography or bibliography:"))
                missing.append(os.path.basename(path))
                continue
            if _unread(bibliography):
                missing.append(os.path.basename(path))
            references.extend(bibliography.references)
            problems.extend(bibliography.problems)
            unparsed.extend(_unparsed_keys(bibliography.problems))
        meta = dict(doc.meta)
        if missing:
            meta["bibliography-missing"] = ",".join(missing)
        if unparsed:
            meta["unparsed-keys"] = ",".join(unparsed)
        expanded.append(dataclasses.replace(link_citations(doc, references), problems=tuple(problems), meta=meta))
    return expanded
