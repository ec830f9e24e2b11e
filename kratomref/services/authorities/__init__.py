"""Authorities a reference can be confirmed by besides Crossref, and the order in which a reference asks them.

Each authority is a module with one class behind the interface in base.py. `plan` gives the authorities a
reference calls for (identifier look-ups first, then searches its type calls for); the resolve step asks
them in turn and stops at the first that confirms the reference.
"""

from __future__ import annotations

from collections.abc import Mapping

from kratomref.model import Reference
from kratomref.services.authorities.arxiv import Arxiv
from kratomref.services.authorities.base import Authority, AuthoritySettings
from kratomref.services.authorities.datacite import DataCite
from kratomref.services.authorities.dblp import Dblp
from kratomref.services.authorities.openalex import OpenAlex
from kratomref.services.authorities.openlibrary import OpenLibrary
from kratomref.services.authorities.pubmed import PubMed
from kratomref.services.cache import Cache

# Searches by the kind of work: the specialist first (DBLP for papers of computer science, Open Library for
# books), then OpenAlex, which indexes nearly everything, then PubMed's title search for journal articles.
SEARCH_ORDER: tuple[type[Authority], ...] = (OpenLibrary, Dblp, OpenAlex, PubMed)
IDENTIFIER_ORDER: tuple[type[Authority], ...] = (Arxiv, PubMed, OpenLibrary)
ALL: tuple[type[Authority], ...] = (OpenAlex, DataCite, Arxiv, PubMed, Dblp, OpenLibrary)
NAMES = tuple(cls.name for cls in ALL)
LABELS = {cls.name: cls.label for cls in ALL} | {"crossref": "Crossref"}


def build(settings: Mapping[str, AuthoritySettings], cache: Cache) -> dict[str, Authority]:
    """One instance of each authority `settings` names (the enabled ones), by name, in ALL's order."""
    return {cls.name: cls(settings[cls.name], cache) for cls in ALL if cls.name in settings}


def plan(ref: Reference, authorities: dict[str, Authority]) -> list[str]:
    """The authorities to ask about a reference without a DOI, in order: look-ups by an identifier the entry
    carries (strong evidence, and one batched request for many), then the searches its type calls for."""
    order: list[str] = []
    for cls in IDENTIFIER_ORDER:
        authority = authorities.get(cls.name)
        if authority is not None and authority.covers(ref) and authority.by_identifier(ref):
            order.append(cls.name)
    for cls in SEARCH_ORDER:
        authority = authorities.get(cls.name)
        if authority is not None and cls.name not in order and authority.covers(ref):
            order.append(cls.name)
    return order


__all__ = ["ALL", "LABELS", "NAMES", "Authority", "AuthoritySettings", "build", "plan"]
