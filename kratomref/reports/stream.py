"""Reports written as they are rendered: JSON streamed as json.dumps prints it, output in chunks of whole lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from kratomref.reports.sanitize import clean_all

# A chunk is written once this many characters are waiting (cut at the last line break): a few of them is all
# the memory a streamed report needs, whatever the number of references.
CHUNK = 1 << 16


class Out(Protocol):
    """Where a report goes: a file, sys.stdout, a StringIO."""

    def write(self, text: str, /) -> object: ...


class Fields:
    """A JSON object whose members are streamed one by one (a member's value may be Fields, Items or Pairs)."""

    __slots__ = ("members",)

    def __init__(self, members: Mapping[str, Any]) -> None:
        self.members = members


class Items:
    """A JSON array whose items come from an iterable, one at a time: never a list of them all."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


class Pairs:
    """A JSON object built from (key, value) pairs as dict() builds it: a repeated key keeps its first place and
    its last value. Its dict is made when it is written (its keys are needed whole to merge repeats)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: Iterable[tuple[str, Any]]) -> None:
        self.pairs = pairs


# json.dumps(value, indent=2, ensure_ascii=False) is this encoder's encode(value).
_ENCODER = json.JSONEncoder(ensure_ascii=False, indent=2)
_INDENT = "  "
# Items encoded together: enough to spread the encoder's cost per call, few enough to hold no more than a
# few hundred KiB of text.
_BATCH = 32


def materialise(value: Any, clean_text: Callable[[str], str]) -> Any:
    """The whole document `value` stands for, every string passed through `clean_text` (sanitize.clean_all):
    what `pieces` writes is json.dumps of this, indent 2."""
    if isinstance(value, Fields):
        return {clean_all(k, clean_text): materialise(v, clean_text) for k, v in value.members.items()}
    if isinstance(value, Items):
        return [materialise(item, clean_text) for item in value.items]
    if isinstance(value, Pairs):
        return clean_all(dict(value.pairs), clean_text)
    return clean_all(value, clean_text)


def pieces(value: Any, clean_text: Callable[[str], str], level: int = 0) -> Iterator[str]:
    """json.dumps(materialise(value, clean_text), indent=2, ensure_ascii=False), a piece at a time: each item of
    an Items, each member of Fields is cleaned and encoded alone, at its depth."""
    if isinstance(value, Fields | Pairs):
        if isinstance(value, Fields):
            members: Iterable[tuple[str, Any]] = ((clean_all(k, clean_text), v) for k, v in value.members.items())
        else:
            # as clean_all(dict(pairs)) builds it: repeats merged before cleaning and again after (the values
            # are cleaned as they are written)
            members = {clean_all(k, clean_text): v for k, v in dict(value.pairs).items()}.items()
        inner = "\n" + _INDENT * (level + 1)
        opened = False
        for key, member in members:
            yield ("," if opened else "{") + inner + _ENCODER.encode(key) + ": "
            opened = True
            yield from pieces(member, clean_text, level + 1)
        yield "\n" + _INDENT * level + "}" if opened else "{}"
    elif isinstance(value, Items):
        inner = "\n" + _INDENT * (level + 1)
        opened = False
        batch: list[Any] = []
        for item in value.items:
            if not isinstance(item, Fields | Items | Pairs):
                batch.append(item)
                if len(batch) < _BATCH:
                    continue
            if batch:
                yield ("," if opened else "[") + _batch(batch, clean_text, level)
                opened = True
                batch = []
            if isinstance(item, Fields | Items | Pairs):
                yield ("," if opened else "[") + inner
                opened = True
                yield from pieces(item, clean_text, level + 1)
        if batch:
            yield ("," if opened else "[") + _batch(batch, clean_text, level)
            opened = True
        yield "\n" + _INDENT * level + "]" if opened else "[]"
    else:
        encoded = _ENCODER.encode(clean_all(value, clean_text))
        # json.dumps never writes a raw line break inside a string, so each one is a line of the structure
        yield encoded.replace("\n", "\n" + _INDENT * level) if level and "\n" in encoded else encoded


def _batch(items: list[Any], clean_text: Callable[[str], str], level: int) -> str:
    """Items of an array at `level`, each on its lines with the line break before it, comma-separated: one
    encoder call for many items (each call of the pure-Python indenting encoder has a cost of its own)."""
    encoded = _ENCODER.encode(clean_all(items, clean_text))  # "[\n  item,\n  item\n]"
    inner = encoded[1:-2]
    return inner.replace("\n", "\n" + _INDENT * level) if level else inner


def write_lines(parts: Iterable[str], out: Out, finish: Callable[[str], str] | None = None) -> None:
    """Write `parts` to `out` in chunks of whole lines, each passed through `finish` first (a line-wise filter,
    such as sanitize.json_text: the same result chunk by chunk as on the whole text)."""
    waiting: list[str] = []
    size = 0
    due = CHUNK
    for part in parts:
        waiting.append(part)
        size += len(part)
        if size >= due:
            text = "".join(waiting)
            cut = text.rfind("\n") + 1
            if cut:
                out.write(finish(text[:cut]) if finish else text[:cut])
                text = text[cut:]
            waiting, size = [text], len(text)
            due = size + CHUNK  # a line longer than a chunk is joined again only a chunk later
    text = "".join(waiting)
    if text:
        out.write(finish(text) if finish else text)


class LineBuffer:
    """A writable stream that hands `emit` chunks of whole lines (click.echo to stdout: each call flushes, and
    strips colour codes line by line, so the chunks print what the whole text would)."""

    def __init__(self, emit: Callable[[str], object]) -> None:
        self.emit = emit
        self._waiting: list[str] = []
        self._size = 0
        self._due = CHUNK

    def write(self, text: str, /) -> int:
        self._waiting.append(text)
        self._size += len(text)
        if self._size >= self._due:
            joined = "".join(self._waiting)
            cut = joined.rfind("\n") + 1
            if cut:
                self.emit(joined[:cut])
                joined = joined[cut:]
            self._waiting, self._size = [joined], len(joined)
            self._due = self._size + CHUNK
        return len(text)

    def flush(self) -> None:
        """Emit what is waiting, a last line without its line break included."""
        joined = "".join(self._waiting)
        self._waiting, self._size, self._due = [], 0, CHUNK
        if joined:
            self.emit(joined)
