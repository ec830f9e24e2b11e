"""What a cited work is about (issue 21): the abstract and subject terms each authority's answer holds, kept in
the cache."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import AuthorityOptions

from kratomref.check import authority_settings
from kratomref.model import AuthorityAnswer, AuthorityRecord, Location, Lookup, Reference
from kratomref.services.authorities import AuthoritySettings
from kratomref.services.authorities.arxiv import Arxiv
from kratomref.services.authorities.base import NAMESPACE, SUBJECTS_KEPT
from kratomref.services.authorities.datacite import DataCite
from kratomref.services.authorities.openalex import OpenAlex, parse_work
from kratomref.services.cache import Cache


def make(cls: type[Any], options: AuthorityOptions, cache: Cache) -> Any:
    settings: AuthoritySettings = authority_settings(options, cls.name)
    return cls(settings, cache)


def bib_ref(key: str, type_: str = "misc", **fields: str) -> Reference:
    title = fields.pop("title", None)
    return Reference(Location("refs.bib", 1, key), type=type_, title=title, doi=fields.pop("doi", None), fields=fields)


# --- each authority's own answer ---------------------------------------------------------------------------


def test_openalex_rebuilds_the_abstract_in_reading_order_and_keeps_its_best_scored_subjects(
    options: AuthorityOptions, cache: Cache
) -> None:
    answers = make(OpenAlex, options, cache).lookup({"k": bib_ref("k", "article", doi="10.9999/bn.1975.27")})
    record = answers["k"].records[0]
    assert record.abstract == ("Men in southern Thailand who chewed kratom leaves every day for years were interviewed "
                               "about why they began, how much they ate, and what happened when they stopped.")
    # keywords first, then topics, then concepts; the ancestor concept scored 0 ("Medicine") left out
    assert record.subjects == ("Kratom", "Mitragyna speciosa", "Substance Abuse Treatment and Outcomes",
                               "Plant alkaloids", "Psychiatry", "Drug", "Traditional medicine", "Thailand")
    assert len(record.subjects) == SUBJECTS_KEPT


@pytest.mark.parametrize(
    ("work", "abstract", "subjects"),
    [
        pytest.param({"abstract_inverted_index": {"cited": [3], "Kratom": [0], "is": [1, 4], "often": [2],
                                                  "misread.": [5]}},
                     "Kratom is often cited is misread.", (),
                     id="a word used twice is placed at each of its positions"),
        pytest.param({"abstract_inverted_index": None, "keywords": [], "concepts": []}, None, (),
                     id="a work without an abstract has none"),
        pytest.param({"concepts": [{"display_name": "Biology", "score": 0.2}, {"display_name": "Sleep", "score": 0.9},
                                   {"display_name": "Medicine", "score": 0.0}],
                      "topics": [{"display_name": "sleep", "score": 0.99}]},
                     None, ("sleep", "Biology"), id="the higher score first, a term named twice kept once"),
        pytest.param({"abstract_inverted_index": {"word": "not a list", "7": [True]}, "keywords": "nope",
                      "topics": [5, {"display_name": "Opioids"}]}, None, ("Opioids",),
                     id="malformed parts are skipped, not fatal"),
    ],
)
def test_openalex_work_parts(work: dict[str, Any], abstract: str | None, subjects: tuple[str, ...]) -> None:
    record = parse_work({"title": "A work", **work})
    assert record is not None
    assert (record.abstract, record.subjects) == (abstract, subjects)


def test_arxiv_summary_is_the_abstract_and_its_category_codes_are_no_subjects(
    options: AuthorityOptions, cache: Cache
) -> None:
    answers = make(Arxiv, options, cache).lookup({"a": bib_ref("a", eprint="1706.03762", archiveprefix="arXiv")})
    record = answers["a"].records[0]
    assert record.abstract == ("A network built on attention alone, without recurrence or convolution, translates "
                               "between languages better and trains faster; attention weighs every word of a "
                               "sentence against every other.")  # arXiv's line breaks folded
    assert record.subjects == ()  # "cs.LG", "stat.ML"


def test_datacite_abstract_and_subjects(options: AuthorityOptions, cache: Cache) -> None:
    record = make(DataCite, options, cache).resolve(["10.5281/zenodo.4998373"])["10.5281/zenodo.4998373"].records[0]
    assert record.abstract == "<p>NumPy is the fundamental package for array computing with Python.</p>"
    assert record.subjects == ("Computer and information sciences", "arrays", "python")  # the FOS twin once


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
