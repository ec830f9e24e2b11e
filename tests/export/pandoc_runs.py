"""pandoc run once per distinct input in the export tests that opt in (remember_pandoc_runs), its output reused.

pandoc's output is a function of the binary, its arguments, the files they name and its standard input: the
key is all four, with each named file's content in place of its (temporary, per-run) path. kratomref's own
code runs exactly as it does without this (kratomref.export.pandoc.run_pandoc finds the binary and reads the
exit status and output); only a second identical process is not started: the same .bib read by pandoc's
biblatex reader for every style and format, a style's names probe before each format. A run that writes a
file (`-o`, Word) is made every time. The outputs are kept in a directory of the test run that pytest-xdist's
workers share, so that a run one worker made is not made again by another.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
from pathlib import Path
from typing import Any

import pytest

import kratomref.export.pandoc

_DONE: dict[tuple[str, ...], subprocess.CompletedProcess[bytes]] = {}


def _named(arg: str) -> str:
    """The argument, with the content (its digest) of the file it names in place of the file's path."""
    option, equals, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    path = Path(value)
    if value and path.is_file():
        return f"{option}{equals}<{hashlib.sha256(path.read_bytes()).hexdigest()}>"
    return arg


class _Remembered:
    """The subprocess module as kratomref.export.pandoc uses it, with `run` answering a repeated run."""

    def __init__(self, shared: Path) -> None:
        self.shared = shared

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def run(self, args: list[str], *other: Any, **options: Any) -> Any:
        words = [str(a) for a in args]
        if other or "-o" in words or not options.get("capture_output"):
            return subprocess.run(args, *other, **options)
        stdin = options.get("input") or b""
        try:
            binary = Path(words[0]).stat()  # the binary by its path, size and time: a rewritten one is another
        except OSError:
            return subprocess.run(args, **options)
        key = (words[0], f"{binary.st_size}:{binary.st_mtime_ns}", *(_named(w) for w in words[1:]),
               hashlib.sha256(stdin).hexdigest())
        if key not in _DONE:
            _DONE[key] = self._shared_run(key, args, options)
        done = _DONE[key]
        return subprocess.CompletedProcess(args, done.returncode, done.stdout, done.stderr)


    def _shared_run(self, key: tuple[str, ...], args: list[str], options: dict[str, Any]) -> Any:
        """The run another worker made, read from the shared directory, or this one, written there."""
        kept = self.shared / hashlib.sha256("\0".join(key).encode("utf-8", "surrogatepass")).hexdigest()
        try:
            returncode, stdout, stderr = pickle.loads(kept.read_bytes())
            return subprocess.CompletedProcess(args, returncode, stdout, stderr)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError):
            pass
        done = subprocess.run(args, **options)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}")
        partial.write_bytes(pickle.dumps((done.returncode, done.stdout, done.stderr)))
        partial.replace(kept)  # whole or not at all, for a worker reading it at the same moment
        return done


def remember_pandoc_runs(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """For the rest of the test, a pandoc run already made in this test run (same binary, arguments, files and
    input) is answered with its output instead of being started again."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pandoc-runs"
    shared.mkdir(exist_ok=True)
    monkeypatch.setattr(kratomref.export.pandoc, "subprocess", _Remembered(shared))
