"""Find and run pandoc (>= 3): the binary named by KRATOMREF_PANDOC, pandoc on PATH, or pypandoc-binary's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

ENV = "KRATOMREF_PANDOC"  # the pandoc binary to use (a path or a name on PATH), nothing else tried; empty: none
MIN_VERSION = (3, 0)
INSTALL_HINT = "pip install 'kratomref[export]'"
_VERSION = re.compile(rb"pandoc(?:\.exe)?\s+(\d+)\.(\d+)")


class PandocError(Exception):
    """pandoc failed (or is missing: PandocMissing)."""


class PandocMissing(PandocError):
    """No pandoc >= 3 to render with."""


@lru_cache(maxsize=8)
def _version(binary: str) -> tuple[int, int] | None:
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, timeout=30, check=False)
    except OSError:
        return None
    match = _VERSION.search(done.stdout)
    return (int(match.group(1)), int(match.group(2))) if done.returncode == 0 and match else None


def _bundled() -> str | None:
    """pypandoc-binary's pandoc, imported only when there is no pandoc on PATH."""
    try:
        import pypandoc  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    files = Path(pypandoc.__file__).parent / "files"
    for name in ("pandoc", "pandoc.exe"):
        if (files / name).is_file():
            return str(files / name)
    try:
        return str(pypandoc.get_pandoc_path())
    except OSError:
        return None


def find_pandoc() -> str:
    """The pandoc binary to render with. Raises PandocMissing, naming the export extra, when there is none."""
    chosen = os.environ.get(ENV)
    if chosen == "":
        raise PandocMissing(f"formatted exports need pandoc >= 3 ({ENV} is empty, which turns pandoc off): "
                            f"`{INSTALL_HINT}` installs it, or put pandoc >= 3 on PATH")
    if chosen is not None:
        binary = shutil.which(chosen) or (chosen if Path(chosen).is_file() else None)
        version = _version(binary) if binary else None
        if binary is None or version is None or version < MIN_VERSION:
            raise PandocMissing(
                f"{ENV}={chosen!r} is not a pandoc >= 3 binary: formatted exports render with pandoc's citeproc "
                f"(unset {ENV}, or `{INSTALL_HINT}` to install pandoc with kratomref)"
            )
        return binary
    on_path = shutil.which("pandoc")
    if on_path:
        version = _version(on_path)
        if version is not None and version >= MIN_VERSION:
            return on_path
    bundled = _bundled()
    if bundled and _version(bundled) is not None:
        return bundled
    found = f" (pandoc on PATH is {'.'.join(map(str, _version(on_path) or ()))} or unusable)" if on_path else ""
    raise PandocMissing(
        f"formatted exports need pandoc >= 3 and none was found{found}: `{INSTALL_HINT}` installs it "
        "(or put pandoc >= 3 on PATH); csl-json, ris and bibtex exports work without it"
    )


def run_pandoc(args: list[str], stdin: bytes = b"", *, timeout: float = 300) -> bytes:
    """pandoc's standard output for `args` (the binary is found here). Raises PandocError with its message."""
    binary = find_pandoc()
    try:
        done = subprocess.run([binary, *args], input=stdin, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PandocError(f"pandoc could not run: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise PandocError(f"pandoc failed: {message}")
    return done.stdout
