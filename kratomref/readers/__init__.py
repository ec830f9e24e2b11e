"""Read one input file into a Document: pick the format, decode the bytes, hand the text to its reader.

A reader is a pure function `read(path, text) -> Document`. Bad input (empty, binary, undecodable,
too large) becomes a KR002 problem in the Document; only a path that cannot be opened raises.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import functools
import importlib
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType

from kratomref import lazy
from kratomref.model import Document, Location, Problem
from kratomref.options import DEFAULT_MAX_BIBLIOGRAPHY_MIB, DEFAULT_MAX_DRAFT_MIB, DEFAULT_MAX_ENTRIES

Reader = Callable[[str, str], Document]
# The reader modules, each imported when a run first needs it: a .bib-only run loads no draft reader (start-up).
_MODULES = ("bibtex", "csljson", "docx", "html", "intext", "latex", "pandoc", "pdf", "ris", "text")


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> ModuleType:
    """`readers.latex` and the like, as when this package imported every reader."""
    if name in _MODULES:
        return _module(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _deferred(module: str, function: str) -> Reader:
    """The reader module.function, imported at its first call."""
    def read_with(path: str, text: str) -> Document:
        reader: Reader = getattr(_module(module), function)
        return reader(path, text)

    read_with.__name__ = read_with.__qualname__ = f"{module}.{function}"
    return read_with


class InputError(Exception):
    """A path that does not exist, is a directory, or cannot be opened."""


# Reference files of a few MB are large; 64 MiB leaves room for a 50 MB export while bounding memory.
MAX_INPUT_BYTES = 64 * 1024 * 1024
# The most entries and the largest bibliography (BibTeX, RIS, CSL-JSON) one run reads (issue 17): counted before
# a bibliography is parsed (bibtex.over_limits); check sets the run's own (--max-entries, --max-bibliography-mib).
# And the largest draft's text (--max-draft-mib): a draft costs memory per citation and link, and 8 MiB of
# dense author-year citations is about 400 MiB.
BIBLIOGRAPHY_LIMITS = {"entries": DEFAULT_MAX_ENTRIES, "mib": DEFAULT_MAX_BIBLIOGRAPHY_MIB,
                       "draft_mib": DEFAULT_MAX_DRAFT_MIB}
DRAFT_FORMATS = frozenset({"text", "markdown", "latex", "pandoc", "html"})


@contextlib.contextmanager
def bibliography_limits(max_entries: int, max_bibliography_mib: int,
                        max_draft_mib: int = DEFAULT_MAX_DRAFT_MIB) -> Iterator[None]:
    """BIBLIOGRAPHY_LIMITS set for the files read inside the block, restored after it."""
    saved = dict(BIBLIOGRAPHY_LIMITS)
    BIBLIOGRAPHY_LIMITS.update(entries=max_entries, mib=max_bibliography_mib, draft_mib=max_draft_mib)
    try:
        yield
    finally:
        BIBLIOGRAPHY_LIMITS.update(saved)


# Whether the BibTeX reader records where each entry and field is (Reference.spans, which `kratomref fix` edits
# at): about 15-20% of a read, so a check does without. None: not decided (a reader called on its own records).
EDIT_SPANS: dict[str, bool | None] = {"record": None}


@contextlib.contextmanager
def edit_spans(record: bool) -> Iterator[None]:
    """Readers inside the block record edit spans or not; an outer block decides first (fix's over check's)."""
    saved = EDIT_SPANS["record"]
    if saved is None:
        EDIT_SPANS["record"] = record
    try:
        yield
    finally:
        EDIT_SPANS["record"] = saved


# The longest line read (README, "Safety"): a bibliography's lines are short, a draft's paragraphs a few KB; a
# Markdown image inlined as data: can reach a few MB. A longer line is generated data, or an attack on time or
# memory (64,000 BibTeX entries on one line), and the file is reported, not read. CSL-JSON is exempt: an export
# may be one minified line (its values are bounded by the reader).
MAX_LINE_CHARS = 4 * 1024 * 1024
MAX_BIBLIOGRAPHY_LINE_CHARS = 1024 * 1024
LINE_LIMITS = {"bibtex": MAX_BIBLIOGRAPHY_LINE_CHARS, "ris": MAX_BIBLIOGRAPHY_LINE_CHARS, "csljson": None}
# Git's test for a binary file: a NUL byte in the first 8000 bytes (xdiff's buffer_is_binary).
BINARY_SNIFF_BYTES = 8000
HEAD_CHARS = 4096  # how much text the format detectors see

# name -> reader. Another format is one line here and one (predicate, name) pair in DETECTORS.
FORMATS: dict[str, Reader] = {
    "bibtex": _deferred("bibtex", "read"),
    "text": _deferred("text", "read_text"),
    "markdown": _deferred("text", "read_markdown"),
    "csljson": _deferred("csljson", "read"),
    "ris": _deferred("ris", "read"),
    "latex": _deferred("latex", "read"),
    "pandoc": _deferred("pandoc", "read"),
    "docx": _deferred("docx", "read"),
    "pdf": _deferred("pdf", "read"),
    "html": _deferred("html", "read"),
}
# Formats whose reader opens the file itself (it is called with text=""): docx and the like.
BINARY_FORMATS: set[str] = {"docx", "pdf"}
ALIASES = {
    "bib": "bibtex",
    "biblatex": "bibtex",
    "txt": "text",
    "md": "markdown",
    "csl": "csljson",
    "csl-json": "csljson",
    "json": "csljson",
    "tex": "latex",
    "word": "docx",
    "htm": "html",
    "xhtml": "html",
}


def extension(path: str) -> str:
    """The lower-case extension of path with its dot ("" when it has none)."""
    return os.path.splitext(path)[1].lower()


def _looks_like_bibtex(head: str) -> bool:
    for line in head.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("%"):
            continue
        return re.match(r"@\s*[A-Za-z]+\s*[{(]", stripped) is not None
    return False


def _looks_like_ris(head: str) -> bool:
    return re.match(r"\s*TY  -", head) is not None


def _looks_like_csljson(head: str) -> bool:
    stripped = head.lstrip()
    return stripped[:1] in ("[", "{") and re.search(r'"(?:id|type|title|author)"\s*:', stripped) is not None


def _pandoc_bibliography(head: str) -> bool:
    return bool(_module("pandoc").has_bibliography(head))


# A web page (readers/html.py): by its extension, or a text that opens as one ("<!DOCTYPE html>", "<html>").
_HTML_EXTENSIONS = (".html", ".htm", ".xhtml", ".shtml")
_HTML_SIGN_RE = lazy.regex(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                           re.IGNORECASE | re.DOTALL)


def _looks_like_html(path: str, head: str) -> bool:
    return extension(path) in _HTML_EXTENSIONS or _HTML_SIGN_RE.match(head) is not None


def _looks_like_markdown(head: str) -> bool:
    return re.search(r"^(?:#{1,6} \S|\[[^\]]+\]: \S|.*\]\(https?://)", head, re.MULTILINE) is not None


# Checked in order; the first predicate that holds names the format. Extensions first, then content.
DETECTORS: list[tuple[Callable[[str, str], bool], str]] = [
    (lambda path, head: extension(path) in (".bib", ".bibtex", ".biblatex"), "bibtex"),
    (lambda path, head: extension(path) in (".tex", ".ltx"), "latex"),
    (lambda path, head: extension(path) == ".docx", "docx"),
    (lambda path, head: extension(path) == ".pdf" or head.startswith("%PDF-"), "pdf"),
    (_looks_like_html, "html"),
    (lambda path, head: extension(path) not in (".txt", ".text") and _pandoc_bibliography(head), "pandoc"),
    (lambda path, head: extension(path) == ".ris" or _looks_like_ris(head), "ris"),
    (lambda path, head: extension(path) == ".json" or _looks_like_csljson(head), "csljson"),
    (lambda path, head: _looks_like_bibtex(head), "bibtex"),
    (lambda path, head: extension(path) in (".md", ".markdown", ".mdown", ".mkd", ".rmd", ".qmd"), "markdown"),
    (lambda path, head: extension(path) in (".txt", ".text"), "text"),
    (lambda path, head: _looks_like_markdown(head), "markdown"),
]


def detect(path: str, head: str) -> str:
    """The format of a file from its name and the first few thousand characters of its text."""
    for predicate, name in DETECTORS:
        if predicate(path, head):
            return name
    return "text"


def format_name(input_format: str) -> str:
    """The registered name of a format given by a user (aliases such as "bib" or "md" accepted)."""
    name = input_format.strip().lower()
    name = ALIASES.get(name, name)
    if name not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise InputError(f"unknown input format {input_format!r} (expected one of {known})")
    return name


def _unreadable(path: str, fmt: str, message: str, suggestion: str | None = None) -> Document:
    return Document(path, fmt, problems=(Problem(Location(path), "KR002", message, suggestion),))


def _open_bytes(path: str) -> tuple[bytes, int]:
    """The first MAX_INPUT_BYTES + 1 bytes of path and its size; InputError if it cannot be opened."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a directory, not a file")
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_INPUT_BYTES:
            return b"", info.st_size
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be opened ({exc.strerror or exc})") from None
    return data, len(data)


# An encoding the file declares: JabRef's "% Encoding: windows-1252", LaTeX's "% !TeX encoding = latin1",
# an HTML/XML charset or a YAML front-matter "encoding:" key.
_DECLARED_RE = lazy.regex(r"(?:encoding|charset)\s*[:=]\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def decode(data: bytes) -> tuple[str, str | None]:
    """The text of data and, when it was not UTF-8, the encoding that was guessed (None otherwise).

    Order: a UTF-16/32 byte-order mark; UTF-8 (with or without BOM); an encoding the file declares in
    its first 1 KB; cp1252 (what Windows editors and older JabRef save), which maps every byte that
    latin-1 maps to printable text except five; latin-1 for those, since it decodes any byte.
    """
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec), None
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    declared = _DECLARED_RE.search(data[:1024].decode("latin-1"))
    if declared:
        try:
            name = codecs.lookup(declared.group(1)).name
            if name not in ("utf-8", "utf-8-sig"):
                return data.decode(name), None
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def longest_line(text: str, limit: int) -> tuple[int, int] | None:
    """(line number, length) of the first line of text longer than limit characters, or None. Lines end where
    str.splitlines ends them; linear in the text, and nothing is copied unless a newline-free run is too long."""
    if len(text) <= limit:
        return None
    start, number = 0, 1
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if end - start > limit:  # other line breaks (CR, U+2028...) may cut it: count them as splitlines does
            for offset, line in enumerate(text[start:end].splitlines()):
                if len(line) > limit:
                    return number + offset, len(line)
            number += len(text[start:end].splitlines()) - 1
        number += 1
        start = end + 1
    return None


def _binary(data: bytes) -> bool:
    wide = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE))  # NULs expected
    return b"\x00" in data[:BINARY_SNIFF_BYTES] and not wide


def inside(root_dir: str, path: str, name: str = "") -> str | None:
    """Why a file a document names may not be followed, or None when it may (README, "Safety").

    path is the file resolved against root_dir, name the path as the document writes it. Only files
    inside root_dir (the directory of the document named on the command line) are followed, once `..`
    and symbolic links are resolved, so that a pull request cannot make CI read /etc/passwd or a secret
    next to the checkout.
    """
    if os.path.isabs(name.strip()):
        return "it is an absolute path"
    root = os.path.realpath(root_dir or os.curdir)
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root:
        return "it resolves to a file outside the document's directory"
    return None


def leaves_tree(path: str, roots: Sequence[str]) -> str | None:
    """Why an input named on the command line (or by the configuration) is not read, or None: it lies in the
    checked tree as named but is a symbolic link (itself, or through a directory) to a file outside every root
    of it. A pull request can commit such a link in place of a draft, pointing at a secret on the CI runner."""
    named = os.path.abspath(path)
    for root in roots:
        if os.path.commonpath([root, named]) != root:
            continue  # named outside this root: the user's own choice of file
        real = os.path.realpath(path)
        if any(os.path.commonpath([os.path.realpath(r), real]) == os.path.realpath(r) for r in roots):
            return None
        return f"it is a symbolic link to {real}, outside the checked tree {root} (a pull request can commit one)"
    return None


def refused(path: str, reason: str, suggestion: str | None = None) -> Document:
    """The document of an input kratomref would not read, with a KR002 problem giving the reason."""
    return _unreadable(path, detect(path, ""), f"the file was not read: {reason}", suggestion)


def read_followed_text(path: str) -> tuple[str, str | None]:
    """The text of a file a document names (an \\input file) and the encoding guessed when it was not UTF-8.

    The same guards as `read`, and stricter: only a regular file is read (a device such as /dev/zero or
    a named pipe would never end), its size is checked before any byte is read. Raises InputError with
    the reason (without the path) when the file is refused or cannot be opened.
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise InputError("it is not a regular file")
        if info.st_size > MAX_INPUT_BYTES:
            raise InputError(f"it is too large to read ({info.st_size / 2**20:.0f} MiB; the limit is "
                             f"{MAX_INPUT_BYTES // 2**20} MiB)")
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError("no such file") from None
    except PermissionError:
        raise InputError("permission denied") from None
    except OSError as exc:
        raise InputError(f"it cannot be opened ({exc.strerror or exc})") from None
    if len(data) > MAX_INPUT_BYTES:  # it grew after the stat
        raise InputError(f"it is too large to read (the limit is {MAX_INPUT_BYTES // 2**20} MiB)")
    if _binary(data):
        raise InputError("it is binary, not text")
    text, guessed = decode(data)
    oversize = _over_draft_limit(text)
    if oversize is not None:
        raise InputError(f"it is too large to read: {oversize}")
    return text, guessed


def _over_draft_limit(text: str) -> str | None:
    """"1.2 MiB of text (the limit is 1 MiB)" when a draft's text is over the run's --max-draft-mib, else None."""
    limit = BIBLIOGRAPHY_LIMITS["draft_mib"]
    if len(text) <= limit * 2**20:
        return None
    return f"{len(text) / 2**20:.1f} MiB of text (the limit is {limit} MiB)"


def _read_followed(path: str, macros: Mapping[str, str] | None = None) -> Document:
    """read() for a bibliography a document names: a regular file only (not a device or a pipe). macros: the
    zero-argument macros the document defines, for a .bib's field values (`\\newcommand{\\apjl}{ApJL}`)."""
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be opened ({exc.strerror or exc})") from None
    if not regular:
        raise InputError(f"{path}: not a regular file")
    return read(path, macros=macros)


def read(path: str, input_format: str | None = None, *, macros: Mapping[str, str] | None = None) -> Document:
    """Read one input file. Raises InputError only when the path cannot be opened.

    macros: LaTeX macros without arguments (name -> text) that a BibTeX file's values may use, defined by the
    document that names the file.
    """
    fmt = format_name(input_format) if input_format else None
    data, size = _open_bytes(path)
    if size > MAX_INPUT_BYTES:
        return _unreadable(
            path, fmt or detect(path, ""),
            f"the file is too large to read ({size / 2**20:.0f} MiB; the limit is {MAX_INPUT_BYTES // 2**20} MiB)",
            "split it into smaller files",
        )
    head = data[: HEAD_CHARS * 4].decode("utf-8", "replace")[:HEAD_CHARS].lstrip("\ufeff")
    fmt = fmt or detect(path, head)
    if fmt in BINARY_FORMATS:
        return _guarded(FORMATS[fmt], path, "", fmt)
    if not data or data.isspace():
        return _unreadable(path, fmt, "the file is empty", "point kratomref at the bibliography or draft itself")
    if _binary(data):
        return _unreadable(path, fmt, "the file is binary, not text", "save the document as UTF-8 text")
    decoded, guessed = decode(data)
    oversize = _over_draft_limit(decoded) if fmt in DRAFT_FORMATS else None
    if oversize is not None:
        return _unreadable(
            path, fmt, f"the draft is {oversize}, so it was not read",
            "split it into chapters, or raise the limit with --max-draft-mib (or KRATOMREF_MAX_DRAFT_MIB, or "
            "max-draft-mib in your user config)",
        )
    limit = LINE_LIMITS.get(fmt, MAX_LINE_CHARS)
    overlong = longest_line(decoded, limit) if limit is not None else None
    if overlong is not None:
        number, length = overlong
        return Document(path, fmt, problems=(Problem(
            Location(path, number), "KR002",
            f"line {number} is {length:,} characters long (the limit is {limit:,}), so the file was not read:"
            " no bibliography or draft has a line this long",
            "break the line, or check that this is the file you meant to check"),))
    reader = functools.partial(_module("bibtex").read, macros=macros) if macros and fmt == "bibtex" else FORMATS[fmt]
    document = _guarded(reader, path, decoded, fmt)
    if guessed:
        problem = Problem(
            Location(path),
            "KR002",
            f"the file is not UTF-8; it was read as {guessed}, so some characters may be wrong",
            "save the file as UTF-8",
        )
        document = dataclasses.replace(document, problems=(problem, *document.problems))
    return document


def _guarded(reader: Reader, path: str, decoded: str, fmt: str) -> Document:
    """Run a reader; a reader bug on strange input becomes a KR001 problem rather than a traceback."""
    try:
        return reader(path, decoded)
    except RecursionError:
        problem = Problem(Location(path), "KR001", "the file is nested too deeply to parse")
        return Document(path, fmt, problems=(problem,))
    except Exception as exc:  # one bad file must not stop a run over many
        message = f"the file could not be parsed as {fmt} ({type(exc).__name__}: {exc})"
        return Document(path, fmt, problems=(Problem(Location(path), "KR001", message),))


def expand(documents: list[Document]) -> list[Document]:
    """LaTeX and pandoc documents with the bibliographies they name read and linked (issue 9)."""
    if not any(doc.meta.get("bibliography") for doc in documents):  # no document names a bibliography
        return list(documents)
    expanded: list[Document] = _module("latex").expand(documents, _read_followed)
    return expanded


def cited_entries_only(doc: Document) -> Document:
    """A LaTeX or pandoc document with only the database entries it cites (and the entries they inherit
    from through `crossref`/`xdata`): BibTeX and pandoc print only those, so the rest of a shared .bib is
    none of this document's business. A document's own reference list (a thebibliography) is kept whole,
    and so is every entry when the text cites nothing (one KR502 then names the whole list) or \\nocite{*}."""
    if not doc.meta.get("bibliography") and not doc.meta.get("bibliography-embedded"):
        return doc  # no database: latex.database_files would be empty
    from kratomref.readers.bibitem import is_bibitem

    latex, intext = _module("latex"), _module("intext")
    databases = set(latex.database_files(doc))
    if not databases or not doc.citations or doc.meta.get("nocite-all") == "1":
        return doc
    by_key = {ref.key: ref for ref in doc.references}
    wanted = {c.resolved_key for c in doc.citations if c.resolved_key is not None}
    for citation in doc.citations:  # the entry an undefined key most likely means stays, for KR501's "did you mean"
        if citation.resolved_key is None and citation.style == "key":
            wanted.add(intext.nearest_key(citation.target, list(by_key)) or citation.target)
    pending = [key for key in wanted if key in by_key]
    while pending:  # a cited entry's parents are printed with it
        ref = by_key[pending.pop()]
        for name in ("crossref", "xdata", "xref"):
            for parent in ref.fields.get(name, "").split(","):
                parent = parent.strip()
                if parent in by_key and parent not in wanted:
                    wanted.add(parent)
                    pending.append(parent)
    kept = tuple(ref for ref in doc.references
                 if ref.location.file not in databases or ref.key in wanted or is_bibitem(ref))
    return doc if len(kept) == len(doc.references) else dataclasses.replace(doc, references=kept)
