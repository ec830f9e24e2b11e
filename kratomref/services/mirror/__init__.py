"""A local copy of Crossref's (and OpenAlex's) metadata that answers DOI look-ups and searches before the live API.

The store (store.py) is one SQLite file; loader.py fills it from the public data files, update.py from the
REST API. `for_options` is what a check calls: the mirror the options name, the user's default one when it
exists, or None; a mirror that cannot be used never stops a check (it warns once and is left out).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

if TYPE_CHECKING:
    from kratomref.services.mirror.store import MirrorStore

MIRROR_NAME = "mirror.sqlite3"
OFF = ("", "none", "off")  # --mirror none: no mirror, not even the default one


class MirrorWarning(UserWarning):
    """A run goes on without the mirror: the message says which and why."""


def default_path() -> Path:
    """The user's mirror, e.g. ~/.local/share/kratomref/mirror.sqlite3 (platformdirs)."""
    return Path(platformdirs.user_data_dir("kratomref", appauthor=False)) / MIRROR_NAME


def chosen_path(setting: str | None) -> Path | None:
    """The mirror file a setting names (None: the default one, if there is one), or None for no mirror."""
    if setting is None:
        path = default_path()
        return path if path.is_file() else None
    if setting.strip().lower() in OFF:
        return None
    return Path(setting).expanduser()


def for_options(options: Any) -> MirrorStore | None:
    """The mirror a run reads (options.mirror: a path, "none", or None for the default), opened once per
    process and file; None when there is none or it cannot be used (a MirrorWarning says why)."""
    path = chosen_path(options.mirror)
    return None if path is None else _open(str(path.resolve()))


@functools.cache
def _open(path: str) -> MirrorStore | None:
    from kratomref.services.cache import untrusted
    from kratomref.services.mirror.store import MirrorError, MirrorStore

    problem = untrusted(Path(path))
    if problem is None:
        try:
            return MirrorStore(path)
        except MirrorError as exc:
            problem = str(exc)
    warnings.warn(f"the mirror is not used: {problem}", MirrorWarning, stacklevel=3)
    return None
