"""Fixtures for the authority tests: a small world of works, the fake authorities serving it, Crossref's fake,
and options pointing at all of them (see fakes.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import AuthorityOptions, Fakes, serve_world, world_of

from kratomref.services.cache import Cache

WORKS: list[dict[str, Any]] = [
    {"title": "Attention Is All You Need", "authors": [["Ashish", "Vaswani"], ["Noam", "Shazeer"]], "year": 2017,
     "arxiv": "1706.03762", "venue": "NeurIPS", "held_by": ["arxiv", "openalex", "dblp"],
     "abstract": "A network built on attention alone, without recurrence or convolution, translates between "
                 "languages better and trains faster; attention weighs every word of a sentence against every other.",
     "subjects": ["Machine translation", "Attention mechanism", "Natural Language Processing Techniques",
                  "Topic Modeling", "Computer science", "Transformer"]},
    {"title": "Deep Residual Learning for Image Recognition", "authors": [["Kaiming", "He"], ["Xiangyu", "Zhang"]],
     "year": 2015, "arxiv": "1512.03385", "published_doi": "10.1109/cvpr.2016.90",
     "journal_ref": "CVPR 2016", "held_by": ["arxiv"]},
    {"title": "Adam: A Method for Stochastic Optimization", "authors": [["Diederik P.", "Kingma"], ["Jimmy", "Ba"]],
     "year": 2014, "doi": "10.48550/arxiv.1412.6980", "arxiv": "1412.6980", "kind": "Preprint",
     "published_doi": "10.1000/iclr.2015.adam", "held_by": ["datacite", "arxiv"]},
    {"title": "Introduction to Algorithms", "authors": [["Thomas H.", "Cormen"], ["Charles E.", "Leiserson"]],
     "year": 2009, "first_year": 1990, "isbn": "9780262033848", "venue": "MIT Press", "held_by": ["openlibrary"]},
    {"title": "Pattern Recognition and Machine Learning", "authors": [["Christopher M.", "Bishop"]], "year": 2006,
     "venue": "Springer", "held_by": ["openlibrary"]},
    {"title": "Formate assay in body fluids: application in methanol poisoning",
     "authors": [["A B", "Makar"], ["K E", "McMartin"]], "year": 1975, "pmid": "1", "venue": "Biochem Med",
     "volume": "13", "pages": "117-26", "held_by": ["pubmed"],
     "abstract": [("BACKGROUND", "Formate accumulates in the blood of those poisoned by methanol."),
                  ("METHODS", "An enzymatic assay measured formate in serum and urine."),
                  ("RESULTS", "The assay found formate at levels that tracked the poisoning's course.")],
     "subjects": [("Humans", False), ("Formates", True), ("Methanol", True), ("Poisoning", False),
                  ("Male", False), ("Body Fluids", False)]},
    {"title": "Kratom use and mental health: A systematic review",
     "authors": [["Marc T", "Swogger"], ["Zach", "Walsh"]], "year": 2018,
     "pmid": "29248691", "pmcid": "PMC5799002", "venue": "Drug Alcohol Depend", "held_by": ["pubmed"]},
    {"title": "ImageNet Classification with Deep Convolutional Neural Networks",
     "authors": [["Alex", "Krizhevsky"], ["Geoffrey E.", "Hinton"]], "year": 2012, "venue": "NIPS",
     "held_by": ["dblp"]},
    {"title": "numpy/numpy: NumPy 1.21.0", "authors": [["Charles R.", "Harris"]], "year": 2021,
     "doi": "10.5281/zenodo.4998373", "venue": "Zenodo", "kind": "Software", "held_by": ["datacite"],
     "abstract": "<p>NumPy is the fundamental package for array computing with Python.</p>",
     "subjects": ["FOS: Computer and information sciences", "Computer and information sciences", "arrays",
                  "python"]},
    {"title": "Registered report: kratom and sleep", "authors": [["Oliver", "Grundmann"]], "year": 2020,
     "doi": "10.17605/osf.io/kr15x", "venue": "OSF", "kind": "Text", "held_by": ["datacite"]},
    {"title": "A study of kratom eaters in Thailand", "authors": [["Sangun", "Suwanlert"]], "year": 1975,
     "venue": "Bulletin on Narcotics", "volume": "27", "pages": "21-27", "retracted": True, "doi": "10.9999/bn.1975.27",
     "held_by": ["openalex"],
     "abstract": "Men in southern Thailand who chewed kratom leaves every day for years were interviewed about why "
                 "they began, how much they ate, and what happened when they stopped.",
     "subjects": ["Kratom", "Mitragyna speciosa", "Substance Abuse Treatment and Outcomes", "Plant alkaloids",
                  "Psychiatry", "Drug", "Traditional medicine", "Thailand", "Opioid", "Leaf"]},
]


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with serve_world(world_of(WORKS)) as served:
        yield served


@pytest.fixture
def options(fakes: Fakes, crossref: Any) -> AuthorityOptions:
    return AuthorityOptions(crossref_url=crossref.url, doi_url=crossref.url, mailto="test@example.org", timeout=2.0,
                            max_retries=1, authority_pacing=0.0, use_cache=False, **fakes.urls())


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture(autouse=True)
def _instant_waits(instant_waits: object) -> None:
    """Backoffs, Retry-After pauses and pacing gaps pass at once (see FakeClock); a test marked real_clock
    keeps real time."""
