"""What a cited work is about (issue 21): the abstract and subject terms each authority's answer holds, kept in
the cache."""

from __future__ import annotations

from typing import Any

from fakes import AuthorityOptions

from kratomref.check import authority_settings
from kratomref.model import AuthorityAnswer, AuthorityRecord, Lookup
from kratomref.services.authorities import AuthoritySettings
from kratomref.services.authorities.base import NAMESPACE
from kratomref.services.authorities.openalex import OpenAlex
from kratomref.services.cache import Cache


def make(cls: type[Any], options: AuthorityOptions, cache: Cache) -> Any:
    settings: AuthoritySettings = authority_settings(options, cls.name)
    return cls(settings, cache)


# --- the cache --------------------------------------------------------------------------------------------


def test_the_cache_keeps_the_abstract_and_subjects_and_reads_entries_from_before_them(
    options: AuthorityOptions, cache: Cache
) -> None:
    openalex = make(OpenAlex, options, cache)
    record = AuthorityRecord("openalex", "A study of kratom eaters in Thailand", ("Suwanlert",), 1975,
                             abstract="Men who chewed kratom were interviewed.", subjects=("Kratom", "Thailand"))
    openalex.store("doi:10.9999/x", AuthorityAnswer("openalex", Lookup.FOUND, (record,), "DOI 10.9999/x", "doi"))
    cached = make(OpenAlex, options, cache).cached("doi:10.9999/x", "DOI 10.9999/x", "doi")
    assert cached is not None and cached.records == (record,)
    # an entry written before issue 21: no abstract, no subjects, still the record
    old = {"status": "found", "records": [{"title": "An old answer", "authors": ["Doe"], "year": 2001, "years": [2001],
                                           "identifiers": [["doi", "10.9999/y"]], "is_retracted": False}]}
    cache.put(NAMESPACE, openalex._prefix + "doi:10.9999/y", old, 3600)
    loaded = make(OpenAlex, options, cache).cached("doi:10.9999/y", "DOI 10.9999/y", "doi")
    assert loaded is not None and loaded.status is Lookup.FOUND
    assert (loaded.records[0].title, loaded.records[0].abstract, loaded.records[0].subjects) == \
        ("An old answer", None, ())
