"""`kratomref fix`: plan the confident, mechanical fixes of a check run, then apply them atomically.

Only BibTeX files are edited, and only at the located spans: the text of a field's value is replaced, or a
new field is inserted after an entry's last field. Everything else in the file (comments, @string
definitions, field order, spacing, line endings) is kept byte for byte.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kratomref.model import Document, FieldFix, Finding, Reference, Report, Verdict
from kratomref.options import Options
from kratomref.readers.bibtex import KEYLESS_KEY_RE, is_keyless

# Fields `fix --enrich` adds from a verified Crossref record when the entry lacks them (never overwrites).
ENRICH_FIELDS = ("doi", "volume", "number", "pages", "journal")


class FixError(Exception):
    """A fix that cannot be applied safely: the file changed since it was read, or cannot be written."""


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the file's text
    end: int


@dataclass(frozen=True)
class ResolvedFix:
    """A fix that will be applied: the text at `span` becomes `replacement`."""

    key: str
    field: str
    old: str | None
    new: str
    line: int  # where the edit is, 1-based
    span: Span
    replacement: str
    source: str  # the rule code it comes from, or "enrich"


@dataclass(frozen=True)
class SkippedFix:
    """A fix a finding offered that is not applied, and why."""

    key: str
    field: str
    new: str
    source: str
    reason: str


@dataclass(frozen=True)
class FieldSpan:
    name: str  # lower-case
    name_start: int  # where the field's line text starts (its name)
    value: Span  # the whole value as written, delimiters included
    inner: Span  # inside the braces or quotes (== value for a bare value)
    end: int  # after the value (before any comma)


@dataclass(frozen=True)
class EntrySpan:
    key: str
    start: int  # the "@"
    body_start: int  # just after the key's comma
    close: int  # the closing brace or parenthesis
    fields: tuple[FieldSpan, ...]


@dataclass(frozen=True)
class FixPlan:
    path: str
    original: bytes
    encoding: str
    text: str
    fixes: tuple[ResolvedFix, ...] = ()
    skipped: tuple[SkippedFix, ...] = ()

    @property
    def new_text(self) -> str:
        return apply_edits(self.text, self.fixes)

    @property
    def changed(self) -> bool:
        return bool(self.fixes)

    def diff(self) -> str:
        """The unified diff of the planned edits (empty when nothing changes)."""
        before = self.text.splitlines(keepends=True)
        after = self.new_text.splitlines(keepends=True)
        relative = not os.path.isabs(self.path)
        old, new = (f"a/{self.path}", f"b/{self.path}") if relative else (self.path, self.path)
        lines = difflib.unified_diff(before, after, old, new)
        out = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


@dataclass(frozen=True)
class FixRun:
    plans: tuple[FixPlan, ...]
    not_fixed: tuple[str, ...] = ()  # documents that are not BibTeX, with a word on why
    report: Report | None = field(default=None, compare=False)


# --- locating entries and fields in BibTeX text -------------------------------------------------

_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])\s*")
_NAME = re.compile(r"[A-Za-z_][\w\-:.+/]*")


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _balanced(text: str, i: int, close: str) -> int:
    """Index of the character closing a group opened just before i ({ or "), honouring nested braces."""
    depth = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                if close == "}":
                    return i
                raise ValueError("unbalanced braces")
            depth -= 1
        elif char == close and depth == 0:
            return i
        i += 1
    raise ValueError("unterminated value")


def _value(text: str, i: int) -> tuple[Span, Span, int]:
    """The value starting at i (possibly a # concatenation): whole span, inner span, end."""
    start = i = _skip_space(text, i)
    inner: Span | None = None
    parts = 0
    while True:
        i = _skip_space(text, i)
        if i >= len(text):
            raise ValueError("value runs to the end of the file")
        char = text[i]
        if char in "{\"":
            end = _balanced(text, i + 1, "}" if char == "{" else '"')
            inner = Span(i + 1, end)
            i = end + 1
        else:
            match = re.compile(r"[^\s,#{}()\"]+").match(text, i)
            if not match:
                raise ValueError("missing value")
            inner = Span(match.start(), match.end())
            i = match.end()
        parts += 1
        after = _skip_space(text, i)
        if after < len(text) and text[after] == "#":
            i = after + 1
            continue
        break
    whole = Span(start, i)
    return whole, inner if parts == 1 and inner is not None else whole, i


def parse_entry(text: str, start: int) -> EntrySpan:
    """The entry whose "@" is at `start`: its key and every field's spans. Raises ValueError."""
    match = _ENTRY_START.match(text, start)
    if not match:
        raise ValueError("no entry here")
    closer = "}" if match.group(2) == "{" else ")"
    comma = text.find(",", match.end())
    if comma < 0:
        raise ValueError("entry has no key")
    key = text[match.end() : comma].strip()
    i = comma + 1
    fields: list[FieldSpan] = []
    while True:
        i = _skip_space(text, i)
        while i < len(text) and text[i] == ",":
            i = _skip_space(text, i + 1)
        if i >= len(text):
            raise ValueError("entry is not closed")
        if text[i] == closer:
            return EntrySpan(key, start, comma + 1, i, tuple(fields))
        name = _NAME.match(text, i)
        if not name:
            raise ValueError(f"unexpected {text[i]!r} in entry")
        j = _skip_space(text, name.end())
        if j >= len(text) or text[j] != "=":
            raise ValueError("field without '='")
        whole, inner, end = _value(text, j + 1)
        fields.append(FieldSpan(name.group(0).lower(), name.start(), whole, inner, end))
        i = end


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\r\n|\n|\r", text)]


def _locate_keyless(text: str, ref: Reference, starts: Sequence[int]) -> EntrySpan:
    """The keyless entry (`<no key, line N>`) of a reference: the one whose "@" opens its line and whose text is
    the reference's as read. A second keyless entry on one line is not located (give it a key first)."""
    match = KEYLESS_KEY_RE.fullmatch(ref.location.key or "")
    line = ref.location.line or 0
    if match is None or match.group(2) is not None or not 1 <= line <= len(starts):
        raise ValueError("an entry without a key is fixed only when it is the first on its line")
    at = text.find("@", starts[line - 1], starts[line] if line < len(starts) else len(text))
    entry = parse_entry(text, at) if at >= 0 else None
    if entry is None or entry.key != "":
        raise ValueError(f"no entry without a key at line {line}")
    squashed = re.sub(r"\s+", "", text[entry.start : entry.close + 1])
    if not re.sub(r"\s+", "", ref.raw).startswith(squashed):
        raise ValueError(f"the entry at line {line} is not the one that was checked")
    return entry


def locate_entry(text: str, ref: Reference, starts: Sequence[int] | None = None) -> EntrySpan:
    """The entry of a reference read from this text, found from its line and key."""
    starts = starts if starts is not None else _line_starts(text)
    if is_keyless(ref.location.key):
        return _locate_keyless(text, ref, starts)
    line = ref.location.line or 1
    offset = starts[min(line, len(starts)) - 1]
    at = text.find("@", offset)
    candidates = [at] if at >= 0 else []
    if ref.location.key:
        pattern = re.compile(r"@\s*[A-Za-z]+\s*[{(]\s*" + re.escape(ref.location.key) + r"\s*,")
        candidates += [m.start() for m in pattern.finditer(text)]
    for candidate in candidates:
        try:
            entry = parse_entry(text, candidate)
        except ValueError:
            continue
        if entry.key == ref.location.key:
            return entry
    raise ValueError(f"entry {ref.location.key} not found at line {line}")


# --- planning -----------------------------------------------------------------------------------


def _newline(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    return "\r" if "\r" in text and "\n" not in text else "\n"


def _line_of(starts: Sequence[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset)


def _replace_value(text: str, entry: EntrySpan, fs: FieldSpan, old: str, new: str) -> tuple[Span, str] | str:
    """The edit that turns `old` into `new` inside a field's value, or a reason why there is none."""
    inner = text[fs.inner.start : fs.inner.end]
    if inner.strip() == old.strip():
        lead = len(inner) - len(inner.lstrip())
        trail = len(inner) - len(inner.rstrip())
        start, end = fs.inner.start + lead, fs.inner.end - trail
        if start >= end:  # a blank value: replace all of it
            start, end = fs.inner.start, fs.inner.end
        if fs.inner == fs.value and not re.fullmatch(r"[\w.\-]+", new):
            return Span(fs.value.start, fs.value.end), "{" + new + "}"  # a bare value must become braced
        return Span(start, end), new
    position = inner.find(old)
    if old and position >= 0 and inner.find(old, position + 1) < 0:
        start = fs.inner.start + position
        return Span(start, start + len(old)), new
    return f"the {fs.name} field no longer holds {old!r}"


def _move_field(text: str, entry: EntrySpan, fix: FieldFix, present: Sequence[FieldSpan]) -> tuple[Span, str] | str:
    """The edit that renames the field fix.moved_from to fix.field and sets its value (one span: the field's
    name to the end of its value), or a reason why there is none."""
    source = (fix.moved_from or "").lower()
    name = fix.field.lower()
    if present:
        return f"the entry already has a {name} field"
    holders = [fs for fs in entry.fields if fs.name == source]
    if len(holders) != 1:
        return f"the entry has no {source} field" if not holders else f"the entry repeats the {source} field"
    fs = holders[0]
    if fix.old is None or text[fs.inner.start : fs.inner.end].strip() != fix.old.strip():
        return f"the {source} field no longer holds {fix.old!r}"
    name_end = fs.name_start + len(fs.name)
    if fs.inner == fs.value:  # a bare value: braced unless it stays a bare word
        value = fix.new if re.fullmatch(r"[\w.\-]+", fix.new) else "{" + fix.new + "}"
        return Span(fs.name_start, fs.value.end), name + text[name_end : fs.value.start] + value
    return (Span(fs.name_start, fs.value.end),
            name + text[name_end : fs.inner.start] + fix.new + text[fs.inner.end : fs.value.end])


def _insert_fields(
    text: str, entry: EntrySpan, new: Sequence[tuple[str, str]], newline: str
) -> tuple[Span, str]:
    """One edit adding `name = {value}` fields after the entry's last field, laid out like that field."""
    if not entry.fields:
        return Span(entry.body_start, entry.body_start), "".join(f"{newline}  {n} = {{{v}}}," for n, v in new)
    last = entry.fields[-1]
    line_start = max(text.rfind("\n", 0, last.name_start), text.rfind("\r", 0, last.name_start)) + 1
    prefix = text[line_start : last.name_start]
    equals = text.find("=", last.name_start)
    gap = text[last.name_start + len(last.name) : equals]
    after_equals = text[equals + 1 : last.value.start]
    spacing, indent = (newline, prefix) if not prefix.strip() else (" ", "")
    column = equals - last.name_start
    aligned = gap.strip(" ") == "" and len(gap) > 1

    def line(name: str, value: str) -> str:
        head = name.ljust(column) if aligned and len(name) < column else name + (gap if not aligned else " ")
        return f"{indent}{head}={after_equals}{{{value}}}"

    after = _skip_space(text, last.end)
    if after < len(text) and text[after] == ",":
        return Span(after + 1, after + 1), "".join(f"{spacing}{line(n, v)}," for n, v in new)
    return Span(last.end, last.end), "".join(f",{spacing}{line(n, v)}" for n, v in new)


def _plan_entry(
    text: str, starts: Sequence[int], ref: Reference, wanted: Sequence[tuple[FieldFix, str]], newline: str
) -> tuple[list[ResolvedFix], list[SkippedFix]]:
    fixes: list[ResolvedFix] = []
    skipped: list[SkippedFix] = []
    try:
        entry = locate_entry(text, ref, starts)
    except ValueError as exc:
        return [], [SkippedFix(ref.key, f.field, f.new, source, str(exc)) for f, source in wanted]
    done: set[str] = set()
    inserts: list[tuple[FieldFix, str]] = []
    for fix, source in wanted:
        name = fix.field.lower()
        if name in done:
            skipped.append(SkippedFix(ref.key, name, fix.new, source, f"another fix already changes {name}"))
            continue
        if "{" in fix.new or "}" in fix.new or "\n" in fix.new or "\r" in fix.new:
            skipped.append(SkippedFix(ref.key, name, fix.new, source, "the new value has braces or line breaks"))
            continue
        present = [fs for fs in entry.fields if fs.name == name]
        if fix.moved_from is not None:
            moved = _move_field(text, entry, fix, present)
            if isinstance(moved, str):
                skipped.append(SkippedFix(ref.key, name, fix.new, source, moved))
                continue
            span, replacement = moved
            fixes.append(ResolvedFix(ref.key, name, fix.old, fix.new, _line_of(starts, span.start), span,
                                     replacement, source))
            done.update((name, fix.moved_from.lower()))
            continue
        if fix.old is None:
            if present:
                reason = f"the entry already has a {name} field"
                skipped.append(SkippedFix(ref.key, name, fix.new, source, reason))
                continue
            inserts.append((fix, source))
            done.add(name)
            continue
        if len(present) != 1:
            reason = f"the entry has no {name} field" if not present else f"the entry repeats the {name} field"
            skipped.append(SkippedFix(ref.key, name, fix.new, source, reason))
            continue
        edit = _replace_value(text, entry, present[0], fix.old, fix.new)
        if isinstance(edit, str):
            skipped.append(SkippedFix(ref.key, name, fix.new, source, edit))
            continue
        span, replacement = edit
        line = _line_of(starts, span.start)
        fixes.append(ResolvedFix(ref.key, name, fix.old, fix.new, line, span, replacement, source))
        done.add(name)
    if inserts:
        # Every new field goes in one edit after the last field, in the order asked for.
        span, replacement = _insert_fields(text, entry, [(f.field.lower(), f.new) for f, _ in inserts], newline)
        line = _line_of(starts, span.start)
        for index, (fix, source) in enumerate(inserts):
            fixes.append(ResolvedFix(ref.key, fix.field.lower(), None, fix.new, line, span,
                                     replacement if index == 0 else "", source))
    return fixes, skipped


def apply_edits(text: str, fixes: Iterable[ResolvedFix]) -> str:
    """text with every fix's replacement put at its span (spans do not overlap)."""
    out: list[str] = []
    position = 0
    for fix in sorted(fixes, key=lambda f: (f.span.start, f.span.end)):
        if fix.span.start < position:
            continue  # a second field of a combined insertion: its text is in the first one's replacement
        out.append(text[position : fix.span.start])
        out.append(fix.replacement)
        position = fix.span.end
    out.append(text[position:])
    return "".join(out)


def enrich_fixes(ref: Reference, record: Mapping[str, Any]) -> list[FieldFix]:
    """FieldFixes adding the fields a verified entry lacks, from its Crossref record."""
    from kratomref.doi import normalise_doi

    values = {
        "doi": normalise_doi(str(record.get("DOI") or "")),
        "volume": record.get("volume"),
        "number": record.get("issue"),
        "pages": str(record.get("page") or "").replace("-", "--") or None,
        "journal": (record.get("container-title") or [None])[0] if ref.type == "article" else None,
    }
    present = set(ref.raw_fields)
    if ref.doi:
        present.add("doi")
    if "issue" in present:
        present.add("number")
    if "journaltitle" in present:
        present.add("journal")
    fixes = []
    for name in ENRICH_FIELDS:
        value = values.get(name)
        if value and name not in present:
            fixes.append(FieldFix(name, None, _escape_value(str(value))))
    return fixes


def _escape_value(text: str) -> str:
    from kratomref.export.writers import latex_escape

    return latex_escape(" ".join(text.split()))


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding to write it back in: UTF-8, else Latin-1 (which maps every byte)."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def plan(
    path: str,
    data: bytes,
    references: Sequence[Reference],
    findings: Sequence[Finding],
    extra: Mapping[str, Sequence[FieldFix]] | None = None,
) -> FixPlan:
    """The fixes of `findings` (and `extra`: key -> enrich fixes) for the BibTeX file `path` whose bytes are
    `data` and whose entries are `references`."""
    text, encoding = decode(data)
    starts = _line_starts(text)
    newline = _newline(text)
    by_key: dict[str, list[Reference]] = {}
    for ref in references:
        by_key.setdefault(ref.key, []).append(ref)
    wanted: dict[str, list[tuple[FieldFix, str]]] = {}
    for finding in findings:
        if finding.fix is not None and finding.location.file == path and finding.location.key:
            wanted.setdefault(finding.location.key, []).append((finding.fix, finding.rule.code))
    for key, fixes in (extra or {}).items():
        wanted.setdefault(key, []).extend((f, "enrich") for f in fixes)
    resolved: list[ResolvedFix] = []
    skipped: list[SkippedFix] = []
    for key, asked in wanted.items():
        refs = by_key.get(key, [])
        if len(refs) != 1:
            reason = "no entry has this key" if not refs else "several entries share this key"
            skipped += [SkippedFix(key, f.field, f.new, s, reason) for f, s in asked]
            continue
        done, left = _plan_entry(text, starts, refs[0], asked, newline)
        resolved += done
        skipped += left
    # Two edits of one span would make the result depend on their order: keep the first only.
    kept: list[ResolvedFix] = []
    for fix in sorted(resolved, key=lambda f: (f.span.start, f.span.end)):
        clash = next((k for k in kept if k.span != fix.span and k.span.start < fix.span.end
                      and fix.span.start < k.span.end), None)
        if clash is not None:
            skipped.append(SkippedFix(fix.key, fix.field, fix.new, fix.source, "overlaps another fix"))
        else:
            kept.append(fix)
    if kept and encoding != "utf-8":
        try:
            apply_edits(text, kept).encode(encoding)
        except UnicodeEncodeError:
            skipped += [SkippedFix(f.key, f.field, f.new, f.source, f"not representable in {encoding}")
                        for f in kept]
            kept = []
    return FixPlan(path, data, encoding, text, tuple(kept), tuple(skipped))


def apply(fix_plan: FixPlan, *, backup: bool = True) -> Path | None:
    """Write the plan's result atomically (temp file + rename); returns the backup's path, if any.

    Raises FixError when the file changed since it was read: nothing is written then.
    """
    if not fix_plan.changed:
        return None
    # a symlinked bibliography: fix the file it points to and keep the link (os.replace on the link's
    # own path would put a regular file in its place and leave the real file unfixed)
    target = Path(os.path.realpath(fix_plan.path))
    try:
        current = target.read_bytes()
    except OSError as exc:
        raise FixError(f"cannot read {fix_plan.path} again: {exc.strerror or exc}") from exc
    if current != fix_plan.original:
        raise FixError(f"{fix_plan.path} changed since kratomref read it; nothing was written (run fix again)")
    data = fix_plan.new_text.encode(fix_plan.encoding)
    backup_path = None
    if backup:
        backup_path = target.with_name(target.name + ".bak")
        _write_or_fail(backup_path, fix_plan.original, target, f"{fix_plan.path} is unchanged")
    _write_or_fail(target, data, target, f"{fix_plan.path} is unchanged")
    return backup_path


def _write_or_fail(path: Path, data: bytes, like: Path, consequence: str) -> None:
    try:
        _atomic_write(path, data, like)
    except OSError as exc:
        raise FixError(f"cannot write {path}: {exc.strerror or exc}; {consequence}") from exc


def _atomic_write(path: Path, data: bytes, like: Path) -> None:
    mode = None
    with contextlib.suppress(OSError):
        mode = like.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def plan_report(report: Report, snapshots: Mapping[str, bytes], *, enrich: bool = False) -> FixRun:
    """Plans for every BibTeX document of a check report, from the file bytes read before the check."""
    plans: list[FixPlan] = []
    not_fixed: list[str] = []
    results = {(r.reference.location.file, r.reference.key): r for r in report.results}
    for doc in report.documents:
        fixable = [f for f in report.findings if f.fix is not None and f.location.file == doc.path]
        if doc.format != "bibtex":
            if fixable:
                one = len(fixable) == 1
                not_fixed.append(
                    f"{doc.path}: {len(fixable)} fixable {'finding' if one else 'findings'} not applied: kratomref "
                    f"fix edits BibTeX files only ({doc.format} is not fixed; apply {'it' if one else 'them'} by hand)"
                )
            continue
        data = snapshots.get(doc.path)
        if data is None:
            continue
        extra: dict[str, list[FieldFix]] = {}
        if enrich:
            for ref in doc.references:
                result = results.get((ref.location.file, ref.key))
                if result is not None and result.verdict is Verdict.VERIFIED and result.record:
                    added = enrich_fixes(ref, result.record)
                    if added:
                        extra[ref.key] = added
        plans.append(plan(doc.path, data, doc.references, fixable, extra))
    return FixRun(tuple(plans), tuple(not_fixed), report)


def _bibtex_paths(documents: Sequence[Document]) -> list[str]:
    return [d.path for d in documents if d.format == "bibtex"]


def fix(options: Options, *, enrich: bool = False) -> FixRun:
    """Check the inputs and plan the fixes of their BibTeX files (nothing is written: see `apply`).

    Raises FixError when a file changed while it was being checked.
    """
    from kratomref.check import check, read_documents

    documents = read_documents(options)
    snapshots: dict[str, bytes] = {}
    for path in _bibtex_paths(documents):
        try:
            snapshots[path] = Path(path).read_bytes()
        except OSError:
            continue
    report = check(options, documents=documents)
    for path, data in snapshots.items():
        try:
            now = Path(path).read_bytes()
        except OSError as exc:
            raise FixError(f"cannot read {path} again: {exc.strerror or exc}") from exc
        if now != data:
            raise FixError(f"{path} changed while kratomref was checking it; run fix again")
    return plan_report(report, snapshots, enrich=enrich)
