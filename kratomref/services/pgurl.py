"""A PostgreSQL connection URL as messages show it: without its password or any secret of its query."""

from __future__ import annotations

import re
import urllib.parse

from kratomref import lazy

SCHEMES = ("postgresql://", "postgres://")

_USERINFO = lazy.regex(r"^([a-z][a-z0-9+.-]*://)([^/?#@]*)@", re.IGNORECASE)  # only with a server's URL


def display(url: str) -> str:
    """A connection URL as messages and reports show it: without its password (nor any query parameter,
    which may carry one)."""
    text = url.strip().split("?", 1)[0].split("#", 1)[0]
    match = _USERINFO.match(text)
    if match is None:
        return text
    user = urllib.parse.unquote(match.group(2).split(":", 1)[0])
    return f"{match.group(1)}{user + '@' if user else ''}{text[match.end():]}"


def _secrets(url: str) -> list[str]:
    text = url.strip()
    found = [text]
    match = _USERINFO.match(text)
    if match is not None and ":" in match.group(2):
        password = match.group(2).split(":", 1)[1]
        found += [password, urllib.parse.unquote(password)]
    for name, value in urllib.parse.parse_qsl(text.split("?", 1)[1] if "?" in text else ""):
        if name.lower() in ("password", "passfile", "sslpassword") and value:
            found.append(value)
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """A server's or driver's message with the connection string's secrets taken out."""
    for secret in _secrets(url):
        text = text.replace(secret, display(url) if secret == url.strip() else "***")
    return " ".join(text.split())


def is_server(setting: str) -> bool:
    """Whether a setting names a PostgreSQL server (a postgresql:// or postgres:// URL), not a file."""
    return setting.strip().lower().startswith(SCHEMES)
