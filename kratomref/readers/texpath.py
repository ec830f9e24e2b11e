"""Where TeX finds a .bib the document's directory does not hold: BIBINPUTS, TEXINPUTS, then kpsewhich."""

from __future__ import annotations

import os
from collections.abc import Mapping

SEARCH_VARIABLES = ("BIBINPUTS", "TEXINPUTS")
KPSEWHICH_TIMEOUT = 5.0  # seconds; kpsewhich answers in milliseconds from its ls-R database
MAX_SEARCHED_DIRECTORIES = 2000  # a recursive `dir//` entry is walked this far, no further


def _search_entries(value: str, base_dir: str) -> list[tuple[str, bool]]:
    """(directory, recursive) of each entry of a TeX path variable; an empty entry (TeX's default path) is left
    to kpsewhich."""
    entries: list[tuple[str, bool]] = []
    for entry in value.split(os.pathsep):
        entry = entry.strip().removeprefix("!!")  # kpathsea's "search this folder's ls-R only"
        recursive = entry.endswith("//")
        entry = entry.rstrip("/") if recursive else entry
        if not entry:
            continue
        directory = os.path.normpath(os.path.join(base_dir, os.path.expanduser(entry)))
        entries.append((directory, recursive))
    return entries


def _look_in(directory: str, name: str, recursive: bool) -> str | None:
    candidate = os.path.join(directory, name)
    if os.path.isfile(candidate):
        return candidate
    if not recursive:
        return None
    for visited, (folder, subfolders, _files) in enumerate(os.walk(directory)):
        if visited >= MAX_SEARCHED_DIRECTORIES:
            return None
        subfolders.sort()
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _kpsewhich(name: str, base_dir: str) -> str | None:
    """Where kpsewhich (TeX's own file search) finds name, or None when it is absent, fails or is slow."""
    import shutil  # not at import: most LaTeX documents name a .bib beside them, found without kpsewhich
    import subprocess

    program = shutil.which("kpsewhich")
    if program is None:
        return None
    try:
        answer = subprocess.run([program, name], cwd=base_dir or None, capture_output=True, text=True,
                                timeout=KPSEWHICH_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        return None
    found = answer.stdout.strip().splitlines()
    if answer.returncode != 0 or not found:
        return None
    return os.path.normpath(os.path.join(base_dir, found[0].strip()))


def find_bibliography(name: str, base_dir: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Where TeX would find the .bib `name` that is not in the document's directory: the directories of
    BIBINPUTS and TEXINPUTS (a trailing // searches their subdirectories), then kpsewhich. None if nowhere.

    Only a relative name ending in .bib is looked for: what is found this way is the user's TeX setup, which
    a document may use, not any file it may name.
    """
    parts = name.replace("\\", "/").split("/")
    if os.path.isabs(name) or name.startswith("-") or ".." in parts or not name.lower().endswith(".bib"):
        return None
    environment = os.environ if environ is None else environ
    for variable in SEARCH_VARIABLES:
        for directory, recursive in _search_entries(environment.get(variable, ""), base_dir):
            found = _look_in(directory, name, recursive)
            if found is not None:
                return found
    found = _kpsewhich(name, base_dir)
    return found if found is not None and found.lower().endswith(".bib") and os.path.isfile(found) else None
