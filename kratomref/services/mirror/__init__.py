"""A local copy of Crossref's (and OpenAlex's) metadata that answers DOI look-ups and searches before the live API.

The store (store.py) is one SQLite file, or a PostgreSQL database shared by a team (postgres.py, for a
postgresql:// setting); loader.py fills either from the public data files, update.py from the REST API.
`open_setting` is what a check calls: the mirror its --mirror setting names, the user's default one when it exists, or
None; a mirror that cannot be used never stops a check (it warns once and is left out).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from kratomref.services.pgurl import is_server as is_server  # --mirror postgresql://user@host/db: a shared server

if TYPE_CHECKING:
    from kratomref.services.mirror.postgres import PostgresMirror
    from kratomref.services.mirror.store import MirrorStore

MIRROR_NAME = "mirror.sqlite3"
OFF = ("", "none", "off")  # --mirror none: no mirror, not even the default one


class MirrorWarning(UserWarning):
    """A run goes on without the mirror: the message says which and why."""


def default_path() -> Path:
    """The user's mirror, e.g. ~/.local/share/kratomref/mirror.sqlite3 (platformdirs)."""
    return Path(platformdirs.user_data_dir("kratomref", appauthor=False)) / MIRROR_NAME


def chosen_path(setting: str | None) -> Path | str | None:
    """The mirror a setting names: a file (None: the default one, if there is one), a PostgreSQL URL (as a
    string), or None for no mirror."""
    if setting is None:
        path = default_path()
        return path if path.is_file() else None
    if setting.strip().lower() in OFF:
        return None
    if is_server(setting):
        return setting.strip()
    return Path(setting).expanduser()


def open_setting(setting: str | None) -> MirrorStore | PostgresMirror | None:
    """The mirror a run reads (a --mirror setting: a path, a postgresql:// URL, "none", or None for the
    default), opened once per process and file or server; None when there is none or it cannot be used (a
    MirrorWarning says why; a server's password is never in it)."""
    chosen = chosen_path(setting)
    if chosen is None:
        return None
    return _open(chosen if isinstance(chosen, str) else str(chosen.resolve()))


@functools.cache
def _open(path: str) -> MirrorStore | PostgresMirror | None:
    from kratomref.services.mirror.store import MirrorError, MirrorStore

    if is_server(path):
        from kratomref.services.mirror.postgres import PostgresMirror

        try:
            return PostgresMirror(path)
        except MirrorError as exc:  # its message names the server without the password
            warnings.warn(f"the mirror is not used: {exc}", MirrorWarning, stacklevel=3)
        return None
    from kratomref.services.cache import untrusted

    problem = untrusted(Path(path))
    if problem is None:
        try:
            return MirrorStore(path)
        except MirrorError as exc:
            problem = str(exc)
    warnings.warn(f"the mirror is not used: {problem}", MirrorWarning, stacklevel=3)
    return None
