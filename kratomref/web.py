"""A web page named by its address as an input: fetched under the network policy, then read as a saved page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kratomref.model import Document
from kratomref.services.pages_fetch import PageError, PageSettings, fetch, is_address

if TYPE_CHECKING:
    from kratomref.services.cache import Cache

__all__ = ["is_address", "read_address"]


def read_address(url: str, settings: PageSettings, cache: Cache | None = None) -> Document:
    """The Document of the page at url (located by the lines of its source, and by heading and paragraph in
    meta["where"]), fetched under `settings` and kept in `cache`. Raises readers.InputError, a usage error
    (exit 2), when the page cannot be fetched."""
    from kratomref import readers
    from kratomref.readers import html

    try:
        final, body, _ = fetch(url, settings, cache)
    except PageError as exc:
        raise readers.InputError(f"{url}: the page could not be fetched: {exc}") from None
    if len(body) > readers.MAX_INPUT_BYTES:
        raise readers.InputError(f"{url}: the page is too large to read")
    text, _ = readers.decode(body)
    return html.with_sections(html.read_page(url, text, base_url=final))
