"""Regular expressions compiled at their first use, not at import: start-up pays only for the patterns a run uses.

`regex(source, flags)` stands for `re.compile(source, flags)` at module level. The object it returns has the
compiled pattern's interface; the first attribute read compiles the expression and stores the compiled
pattern's methods on the object, so that later calls cost what a compiled pattern's do.
"""

from __future__ import annotations

import re
from typing import Any, cast

# What a compiled pattern offers besides `pattern`, its source, known before compiling. `flags` is read from the
# compiled pattern: re adds to it (re.UNICODE, a global inline flag such as "(?i)").
_ATTRIBUTES = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner", "groups",
               "groupindex", "flags")


class LazyPattern:
    """A regular expression that is compiled the first time one of its methods is read."""

    def __init__(self, source: str, flags: int = 0) -> None:
        self.pattern = source
        self._flags = flags

    def __getattr__(self, name: str) -> Any:  # called only for what is not yet set on the object
        if name.startswith("__") or name not in _ATTRIBUTES:
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self._flags)
        for attribute in _ATTRIBUTES:
            setattr(self, attribute, getattr(compiled, attribute))
        # No __getattr__ any more: a read of an attribute set on the object takes Python's fast path.
        self.__class__ = _CompiledPattern  # type: ignore[assignment]
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy re.compile({self.pattern!r}, {self._flags})"


class _CompiledPattern:
    """A LazyPattern once compiled: its attributes are the compiled pattern's, set on the object, and it has no
    __getattr__ (which would keep every attribute read off Python's fast path)."""

    pattern: str

    def __repr__(self) -> str:
        return f"re.compile({self.pattern!r})"


def regex(source: str, flags: int | re.RegexFlag = 0) -> re.Pattern[str]:
    """A pattern used as re.compile(source, flags) would be, compiled at its first use."""
    return cast("re.Pattern[str]", LazyPattern(source, int(flags)))
