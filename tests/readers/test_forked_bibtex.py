"""A large .bib file's chunks parsed ahead in a forked child: the references, problems and lines of one process,
whether the child sends every chunk, stops at a chunk it cannot send, or fails."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from test_chunked_bibtex import LIBRARY, SHARED_BIB, largest_real_bibliographies

from kratomref import forked, readers
from kratomref.model import Document
from kratomref.readers import bibtex

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parsing ahead needs fork (Linux)")


@pytest.fixture(autouse=True)
def _forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork even when an earlier test left an idle thread behind (kratomref itself would not, to be safe)."""
    monkeypatch.setattr(forked, "can_fork", lambda: True)

PLAIN = "@string{jdad = {Drug and Alcohol Dependence}}\n\n" + "".join(
    f"@article{{ref{i},\n  author = {{Smith, J. and Nguyen, W{i % 7}}},\n  title = {{Kratom survey {i}}},\n"
    f"  journal = jdad,\n  year = {{{1990 + i % 30}}},\n  note = {{line one \\\\\n  line two}},\n}}\n\n"
    for i in range(40))


def _read(text: str, monkeypatch: pytest.MonkeyPatch, *, child: bool, size: int = 3) -> tuple[Document, list[object]]:
    """The document read in chunks of `size` entries, with or without the child; and what the child sent."""
    monkeypatch.setattr(bibtex, "CHUNK_ENTRIES", size)
    monkeypatch.setattr(forked, "FORK_THRESHOLD", 1 if child else 10**9)
    sent: list[object] = []
    real = forked.streamed

    def recorded(produce: Callable[[], Iterable[Any]]) -> Iterator[Any]:
        for item in real(produce):
            sent.append(item)
            yield item

    monkeypatch.setattr(forked, "streamed", recorded)
    with readers.edit_spans(False):  # as check reads (fix records spans and reads in this process)
        return bibtex.read("library.bib", text), sent


@pytest.mark.parametrize("text", [PLAIN, LIBRARY], ids=["plain entries, all sent by the child",
                                                        "a failed block, parsed here from its chunk on"])
def test_a_child_parsing_ahead_gives_what_one_process_gives(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    alone, _ = _read(text, monkeypatch, child=False)
    ahead, sent = _read(text, monkeypatch, child=True)
    assert sent, "no chunk came from the child"
    assert (ahead.references, ahead.problems, ahead.suppressions) == (
        alone.references, alone.problems, alone.suppressions)
    if text is PLAIN:
        assert None not in sent and len(sent) == len(list(bibtex._chunks(text, 3)))
    else:
        assert sent[-1] is None


def test_chunks_a_failed_child_did_not_send_are_parsed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    alone, _ = _read(PLAIN, monkeypatch, child=False)
    real = bibtex._plain_chunks

    def failing(text: str, size: int) -> Iterator[Any]:
        chunks = real(text, size)
        yield next(chunks)
        yield next(chunks)
        os._exit(3)  # the child dies after two chunks

    monkeypatch.setattr(bibtex, "_plain_chunks", failing)
    ahead, sent = _read(PLAIN, monkeypatch, child=True)
    assert len(sent) == 2
    assert (ahead.references, ahead.problems) == (alone.references, alone.problems)


@pytest.mark.parametrize("text", [PLAIN, PLAIN.replace("@string{jdad", "@misc{x} @string{jdad")],
                         ids=["fewer entries than a chunk", "a name defined mid-line"])
def test_a_file_parsed_whole_by_the_child_is_read_once(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    alone, _ = _read(text, monkeypatch, child=False, size=1000)
    ahead, sent = _read(text, monkeypatch, child=True, size=1000)
    assert len(sent) == 1
    assert (ahead.references, ahead.problems) == (alone.references, alone.problems)


@pytest.mark.skipif(not SHARED_BIB.is_dir(), reason="the shared real-world corpus (../shared) is not here")
@pytest.mark.slow
def test_real_bibliographies_read_the_same_with_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    # test_chunked_bibtex shows one process reads these the same in chunks and whole: the child's reads, in
    # chunks and whole, are compared with one process's whole read
    for path in largest_real_bibliographies(4):
        text = path.read_text(encoding="utf-8", errors="replace")
        alone, _ = _read(text, monkeypatch, child=False, size=1000)
        for size in (3, 1000):  # in chunks, and whole
            ahead, sent = _read(text, monkeypatch, child=True, size=size)
            assert sent, path.name
            assert (ahead.references, ahead.problems) == (alone.references, alone.problems), (path.name, size)


def test_a_file_is_read_whole_here_when_no_child_can_be_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    alone, _ = _read(PLAIN, monkeypatch, child=False)

    def no_fork() -> int:
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(forked.os, "fork", no_fork)
    ahead, sent = _read(PLAIN, monkeypatch, child=True)
    assert sent == []
    assert (ahead.references, ahead.problems) == (alone.references, alone.problems)
