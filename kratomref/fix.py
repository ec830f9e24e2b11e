"""`kratomref fix`: plan the confident, mechanical fixes of a check run, then apply them safely.

Only BibTeX files are edited, and only at the located spans: the text of a field's value is replaced, or a
new field is inserted after an entry's last field. Everything else in the file (comments, @string
definitions, field order, spacing, line endings) is kept byte for byte, and so are the file's mode, owner and
hard links. A read-only file is refused. Planning, applying and the diff take time linear in the file.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kratomref.model import Document, FieldFix, Finding, Reference, Report, Verdict
from kratomref.options import Options
from kratomref.readers.bibtex import EntrySpans, is_keyless, spans_of

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
        """The unified diff of the planned edits (empty when nothing changes).

        Built from the edits' own spans, so it takes time linear in the file: difflib's matcher, which has to
        find the changes itself, took 17 s for 4,000 fixes.
        """
        relative = not os.path.isabs(self.path)
        old, new = (f"a/{self.path}", f"b/{self.path}") if relative else (self.path, self.path)
        hunks = list(_hunks(self.text, self.fixes))
        if not hunks:
            return ""
        out = [f"--- {old}\n", f"+++ {new}\n"]
        for hunk in hunks:
            out.extend(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in hunk)
        return "".join(out)


@dataclass(frozen=True)
class FixRun:
    plans: tuple[FixPlan, ...]
    not_fixed: tuple[str, ...] = ()  # documents that are not BibTeX, with a word on why
    report: Report | None = field(default=None, compare=False)


# --- locating entries and fields in BibTeX text -------------------------------------------------
# The reader noted where each entry and field is (readers.bibtex.spans_of): fix reads no BibTeX itself. It only
# checks that the entry is still where the reader found it, and reads the delimiters of a value it edits.

_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])\s*")
_COMMENT_AFTER = re.compile(r"[ \t]*,?[ \t]*%")  # a biber comment after a field's value, on its line


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _closing(text: str, i: int, end: int, close: str) -> int:
    """Index of the character closing a group opened just before i ({ or "), honouring nested braces and
    backslash escapes; -1 when none does before `end`."""
    depth = 0
    while i < end:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i if close == "}" else -1
            depth -= 1
        elif char == close and depth == 0:
            return i
        i += 1
    return -1


def _inner(text: str, start: int, end: int) -> Span:
    """Inside the braces or quotes of the value text[start:end] when they enclose all of it; else the whole value
    (a bare value, or a "#" concatenation)."""
    opening = text[start] if start < end else ""
    if opening in ("{", '"') and _closing(text, start + 1, end, "}" if opening == "{" else '"') == end - 1:
        return Span(start + 1, end - 1)
    return Span(start, end)


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\r\n|\n|\r", text)]


def _not_there(text: str, ref: Reference, starts: Sequence[int]) -> str:
    """Why the entry of a reference is not where the reader found it in `text` (a text other than the one read)."""
    line = ref.location.line or 1
    if not is_keyless(ref.location.key):
        return f"entry {ref.location.key} not found at line {line}"
    if not 1 <= line <= len(starts):
        return f"no entry without a key at line {line}"
    at = text.find("@", starts[line - 1], starts[line] if line < len(starts) else len(text))
    head = _ENTRY_START.match(text, at) if at >= 0 else None
    comma = text.find(",", head.end()) if head is not None else -1
    if head is None or comma < 0 or text[head.end() : comma].strip():
        return f"no entry without a key at line {line}"
    return f"the entry at line {line} is not the one that was checked"


def _there(text: str, key: str, where: EntrySpans) -> bool:
    """True when text holds, at the offsets the reader gave, an entry with this key and fields at their places."""
    if where.close >= len(text) or text[where.close] not in "})" or not 0 < where.body_start <= where.close:
        return False
    head = _ENTRY_START.match(text, where.start)
    if head is None or text[where.body_start - 1] != "," or text[head.end() : where.body_start - 1].strip() != key:
        return False
    return all(
        _name_end(text, name_start, start) > name_start and start < end <= where.close
        for name_start, start, end in where.fields
    )


def _name_end(text: str, name_start: int, value_start: int) -> int:
    """Where a field's name ends: before the blanks and "=" that lead to its value (-1: no "=" there)."""
    equals = text.find("=", name_start, value_start)
    if equals < 0 or text[equals + 1 : value_start].strip():
        return -1
    return name_start + len(text[name_start:equals].rstrip())


def locate_entry(text: str, ref: Reference, starts: Sequence[int] | None = None, shift: int = 0) -> EntrySpan:
    """The entry of a reference read from this text, where the reader found it (`shift`: what the reader's
    offsets lack, 1 when it dropped a byte-order mark). Raises ValueError when the reader could not say (an
    entry bibtexparser failed on) or the text there is not that entry (a text other than the one read)."""
    starts = starts if starts is not None else _line_starts(text)
    where = spans_of(ref)
    key = "" if is_keyless(ref.location.key) else ref.location.key or ""
    if where is not None and shift:
        where = EntrySpans(where.start + shift, where.body_start + shift, where.close + shift,
                           tuple((a + shift, b + shift, c + shift) for a, b, c in where.fields))
    if where is None or not _there(text, key, where):
        raise ValueError(_not_there(text, ref, starts))
    fields = tuple(
        FieldSpan(text[name_start : _name_end(text, name_start, start)].lower(), name_start, Span(start, end),
                  _inner(text, start, end), end)
        for name_start, start, end in where.fields
    )
    return EntrySpan(ref.location.key or "", where.start, where.body_start, where.close, fields)


# --- planning -----------------------------------------------------------------------------------


def _newline(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    return "\r" if "\r" in text and "\n" not in text else "\n"


def _line_of(starts: Sequence[int], offset: int) -> int:
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
    text: str,
    starts: Sequence[int],
    ref: Reference,
    wanted: Sequence[tuple[FieldFix, str]],
    newline: str,
    shift: int = 0,
) -> tuple[list[ResolvedFix], list[SkippedFix]]:
    fixes: list[ResolvedFix] = []
    skipped: list[SkippedFix] = []
    try:
        entry = locate_entry(text, ref, starts, shift)
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
    if inserts and entry.fields and _COMMENT_AFTER.match(text, entry.fields[-1].end):
        reason = "a comment follows the entry's last field (add the field by hand)"
        skipped += [SkippedFix(ref.key, f.field.lower(), f.new, source, reason) for f, source in inserts]
    elif inserts:
        # Every new field goes in one edit after the last field, in the order asked for.
        span, replacement = _insert_fields(text, entry, [(f.field.lower(), f.new) for f, _ in inserts], newline)
        line = _line_of(starts, span.start)
        for position, (fix, source) in enumerate(inserts):
            fixes.append(ResolvedFix(ref.key, fix.field.lower(), None, fix.new, line, span,
                                     replacement if position == 0 else "", source))
    return fixes, skipped


def _without_overlaps(resolved: Iterable[ResolvedFix], skipped: list[SkippedFix]) -> list[ResolvedFix]:
    """The fixes to apply, in file order: an edit overlapping one kept before it is skipped (two edits of one
    span would make the result depend on their order). Edits of the very same span (the fields of one
    combined insertion) do not overlap one another.

    One pass over the sorted fixes: every kept edit before the current span starts at or before it, so an
    edit overlaps one of them exactly when it starts before the furthest end among them.
    """
    kept: list[ResolvedFix] = []
    reach = -1  # the furthest end of the kept edits of earlier spans
    group: Span | None = None  # the span of the fixes being looked at
    group_kept = False
    for fix in sorted(resolved, key=lambda f: (f.span.start, f.span.end)):
        if fix.span != group:
            if group is not None and group_kept:
                reach = max(reach, group.end)
            group, group_kept = fix.span, False
        if reach > fix.span.start:
            skipped.append(SkippedFix(fix.key, fix.field, fix.new, fix.source, "overlaps another fix"))
        else:
            kept.append(fix)
            group_kept = True
    return kept


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


DIFF_CONTEXT = 3  # lines of context around a change, as `diff -u` and difflib give


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's rule: "3" for one line, "2,0" for none)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _open_ended(text: str) -> bool:
    """Whether the text's last line has no line break after it."""
    last = text.splitlines(keepends=True)[-1]
    return last == last.splitlines()[0]


def _hunks(text: str, fixes: Iterable[ResolvedFix]) -> Iterator[list[str]]:
    """The hunks of a unified diff of the edits, each a list of lines (the "@@" line first)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    last_open = bool(lines) and _open_ended(lines[-1])

    def line_at(offset: int) -> int:
        index = bisect.bisect_right(starts, offset) - 1
        return len(lines) - 1 if index >= len(lines) and last_open else index

    # change blocks: (first line, end line, edits), lines no two blocks share
    blocks: list[tuple[int, int, list[ResolvedFix]]] = []
    position = 0
    for fix in sorted(fixes, key=lambda f: (f.span.start, f.span.end)):
        if fix.span.start < position:
            continue  # a second field of a combined insertion, as in apply_edits
        position = fix.span.end
        first = line_at(fix.span.start)
        end = line_at(fix.span.end - 1) + 1 if fix.span.end > fix.span.start else first + 1
        end = min(max(end, first + 1), len(lines)) if first < len(lines) else first
        if blocks and (first < blocks[-1][1] or first >= len(lines)):  # shares a line, or both at the end
            blocks[-1] = (blocks[-1][0], max(end, blocks[-1][1]), blocks[-1][2])
            blocks[-1][2].append(fix)
        else:
            blocks.append((first, end, [fix]))
    changes: list[tuple[int, int, list[str]]] = []
    k = 0
    while k < len(blocks):
        first, end, edits = blocks[k]
        k += 1
        while True:
            while k < len(blocks) and blocks[k][0] < end:
                end = max(end, blocks[k][1])
                edits.extend(blocks[k][2])
                k += 1
            base = starts[first]
            moved = [replace(f, span=Span(f.span.start - base, f.span.end - base)) for f in edits]
            new_text = apply_edits(text[base : starts[end]], moved)
            if end < len(lines) and new_text and (_open_ended(new_text) or new_text.endswith("\r")):
                end += 1  # the edit took away a line break: the next line joins this change
                continue
            break
        new_lines = new_text.splitlines(keepends=True)
        if new_lines != lines[first:end]:
            changes.append((first, end, new_lines))

    shift = 0  # new line number minus old line number before the current hunk
    i = 0
    while i < len(changes):
        j = i + 1
        while j < len(changes) and changes[j][0] - changes[j - 1][1] <= 2 * DIFF_CONTEXT:
            j += 1
        group = changes[i:j]
        low = max(0, group[0][0] - DIFF_CONTEXT)
        high = min(len(lines), group[-1][1] + DIFF_CONTEXT)
        growth = sum(len(new) - (end - first) for first, end, new in group)
        hunk = [f"@@ -{_range(low, high)} +{_range(low + shift, high + shift + growth)} @@\n"]
        at = low
        for first, end, new in group:
            hunk += [" " + line for line in lines[at:first]]
            hunk += ["-" + line for line in lines[first:end]]
            hunk += ["+" + line for line in new]
            at = end
        hunk += [" " + line for line in lines[at:high]]
        yield hunk
        shift += growth
        i = j


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
    shift = 1 if text.startswith("\ufeff") else 0  # the reader's text has no UTF-8 byte-order mark
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
        done, left = _plan_entry(text, starts, refs[0], asked, newline, shift)
        resolved += done
        skipped += left
    kept = _without_overlaps(resolved, skipped)
    if kept and encoding != "utf-8":
        try:
            apply_edits(text, kept).encode(encoding)
        except UnicodeEncodeError:
            skipped += [SkippedFix(f.key, f.field, f.new, f.source, f"not representable in {encoding}")
                        for f in kept]
            kept = []
    return FixPlan(path, data, encoding, text, tuple(kept), tuple(skipped))


def ensure_writable(fix_plan: FixPlan) -> None:
    """Raise FixError, before anything is written, when the plan's file may not be written: it is read-only
    (no write permission for this user, or no write bit for anyone: not even root overrides that here)."""
    target = Path(os.path.realpath(fix_plan.path))
    try:
        info = target.stat()
    except OSError as exc:
        raise FixError(f"cannot read {fix_plan.path} again: {exc.strerror or exc}") from exc
    if not info.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise FixError(f"{fix_plan.path} is read-only; nothing was written (make it writable to fix it)")


def apply(fix_plan: FixPlan, *, backup: bool = True) -> Path | None:
    """Write the plan's result, keeping the file's mode, owner and hard links; returns the backup's path.

    Raises FixError, with nothing written, when the file is read-only or changed since it was read.

    How the bytes get there (see _replace_contents): through a complete, fsynced temporary copy in the
    file's directory, renamed over the file when that loses nothing (atomic: a crash leaves the old or the
    new file); written back into the file's own inode when a rename would split hard links or change the
    owner (not atomic: a crash during that last copy can leave a torn file, which the fsynced backup and the
    temporary copy, kept on failure, repair).
    """
    if not fix_plan.changed:
        return None
    # a symlinked bibliography: fix the file it points to and keep the link (os.replace on the link's
    # own path would put a regular file in its place and leave the real file unfixed)
    target = Path(os.path.realpath(fix_plan.path))
    ensure_writable(fix_plan)
    try:
        current = target.read_bytes()
        info = target.stat()
    except OSError as exc:
        raise FixError(f"cannot read {fix_plan.path} again: {exc.strerror or exc}") from exc
    if current != fix_plan.original:
        raise FixError(f"{fix_plan.path} changed since kratomref read it; nothing was written (run fix again)")
    data = fix_plan.new_text.encode(fix_plan.encoding)
    backup_path = None
    unchanged = f"{fix_plan.path} is unchanged"
    if backup:
        backup_path = target.with_name(target.name + ".bak")
        try:
            _new_file(backup_path, fix_plan.original, info)
        except OSError as exc:
            raise FixError(f"cannot write {backup_path}: {exc.strerror or exc}; {unchanged}") from exc
    try:
        _replace_contents(target, data, info)
    except OSError as exc:
        raise FixError(f"cannot write {target}: {exc.strerror or exc}; {unchanged}") from exc
    return backup_path


def _temporary_copy(path: Path, data: bytes, like: os.stat_result) -> str:
    """A complete, fsynced copy of `data` beside `path`, with the mode (and, when allowed, the owner and
    group) of `like`; its name is returned. Raises OSError (and leaves nothing) when it cannot be made."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, like.st_mode & 0o7777)
        made = os.stat(temporary)
        if (made.st_uid, made.st_gid) != (like.st_uid, like.st_gid):
            # root gives the copy the original's owner; anyone may give it a group they belong to
            with contextlib.suppress(OSError):
                os.chown(temporary, like.st_uid if os.geteuid() == 0 else -1, like.st_gid)
            os.chmod(temporary, like.st_mode & 0o7777)  # chown clears set-id bits
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def _same_file(now: os.stat_result, then: os.stat_result) -> bool:
    return (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) == (
        then.st_dev, then.st_ino, then.st_size, then.st_mtime_ns
    )


def _replaced() -> OSError:
    return OSError(errno.EBUSY, "it was replaced or changed after kratomref read it")


def _replace_contents(target: Path, data: bytes, info: os.stat_result) -> None:
    """Put data in target, which was `info` when it was read; raises OSError (nothing written) when the file
    at that path is no longer that one (replaced, or swapped for a symbolic link, in the meantime)."""
    temporary = _temporary_copy(target, data, info)
    made = os.stat(temporary)
    if info.st_nlink == 1 and (made.st_uid, made.st_gid) == (info.st_uid, info.st_gid):
        try:
            if not _same_file(os.lstat(target), info):  # the rename would throw away someone else's file
                raise _replaced()
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _sync_directory(target.parent)
        return
    # Hard links, or an owner this user cannot give a new file: the original inode takes the new bytes.
    # The temporary copy stays until they are safely written, so a crash leaves the full text beside it.
    # Opened without following a symbolic link, and only if it is still the file that was read: a link
    # swapped in since would have the bytes written through it to another file.
    try:
        try:
            handle = os.open(target, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise (_replaced() if exc.errno == errno.ELOOP else exc) from exc  # ELOOP: it is a link now
        try:
            if not _same_file(os.fstat(handle), info):
                raise _replaced()
        except BaseException:
            os.close(handle)
            raise
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with os.fdopen(handle, "r+b") as out:
        out.write(data)
        out.truncate(len(data))
        out.flush()
        os.fsync(out.fileno())
    os.unlink(temporary)


def _new_file(path: Path, data: bytes, like: os.stat_result) -> None:
    """Write a new file (the backup) atomically, with the mode and owner of `like`."""
    temporary = _temporary_copy(path, data, like)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _sync_directory(folder: Path) -> None:
    """Make a rename durable (POSIX); a system without directory handles has nothing to sync."""
    with contextlib.suppress(OSError, AttributeError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


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
    from kratomref import readers
    from kratomref.check import check, read_documents

    with readers.edit_spans(True):  # where each entry and field is, for the edits
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
