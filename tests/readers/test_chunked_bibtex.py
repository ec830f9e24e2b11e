"""A large .bib file is parsed a chunk of entries at a time: the references, problems and lines are those of one
parse, across every chunk boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
from linear_time import assert_linear

from kratomref.model import Document
from kratomref.readers import bibtex

SHARED_BIB = Path(__file__).resolve().parents[3] / "shared" / "realworld" / "corpus" / "bib"

# Entries written so that chunks of 1, 2 or 3 entries cut through every case: a key used again several entries
# later, @string names defined in one chunk and used in another (also before their definition), an entry left
# open just before a boundary, a repeated field, keyless entries (a second one mid-line, which bibtexparser
# reads as a duplicate of the empty key), a line ending in a backslash (bibtexparser does not count that
# newline), comments and a suppression directive.
LIBRARY = r"""% a library of my own
@string{jdad = {Drug and Alcohol Dependence}}

@article{smith2019,
  author = {Smith, J. and Nguyen, Wei},
  title = {Kratom use in the {United States}},
  journal = jdad,
  year = {2019},
}

@article{early,
  author = {Okafor, Olusegun},
  title = {Uses a name defined further down},
  journal = later,
  year = 2020,
}

@misc{, title = {A keyless entry}, year = {2021}}

@article{open2020,
  author = {Hassan, K.},
  title = {An entry whose closing brace is missing,
  year = {2020},

@book{tanaka2018,
  author = {Tanaka, A. B.},
  title = {Mitragyna speciosa \\
           a second line after a backslash},
  publisher = {Academic Press},
  year = {2018},
}

@string{later = {Journal of Ethnopharmacology}}

% kratomref: ignore[KR101]
@article{smith2019,
  author = {Smith, John},
  title = {The same key again},
  journal = jdad,
  year = {2019},
}

@online{twice,
  title = {A repeated field},
  title = {The same field again},
  url = {https://example.org/page},
  journal = later,
}

@misc{x1, title = {First on its line}} @misc{, title = {Mid-line without a key}}

@misc{x2, title = {Another}} @misc{, title = {Mid-line without a key, again}}

@article{smith2019, title = {Third use of the key}, journal = jdad}
"""


def _read(text: str, size: int, monkeypatch: pytest.MonkeyPatch) -> Document:
    monkeypatch.setattr(bibtex, "CHUNK_ENTRIES", size)
    return bibtex.read("library.bib", text)


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_chunks_give_what_one_parse_gives(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _read(LIBRARY, 10**9, monkeypatch)
    assert len(list(bibtex._chunks(LIBRARY, size))) > 1  # the text is really cut
    chunked = _read(LIBRARY, size, monkeypatch)
    assert chunked.references == whole.references
    assert chunked.problems == whole.problems
    assert chunked.suppressions == whole.suppressions


def test_what_a_reader_sees_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _read(LIBRARY, 1, monkeypatch)
    refs = {ref.location.line: ref for ref in doc.references}
    # a @string of the first chunk resolved in a later one, and one used before the chunk that defines it
    assert refs[4].container == "Drug and Alcohol Dependence"
    assert refs[11].container == "Journal of Ethnopharmacology"
    assert refs[42].container == "Journal of Ethnopharmacology"
    # the key used again two chunks later is reported at its line, naming the first use, each time
    duplicates = [p for p in doc.problems if "duplicate key 'smith2019'" in p.message]
    assert [p.location.line for p in duplicates] == [35, 53]
    assert all("first used on line 4" in p.message for p in duplicates)
    # the entry left open ends where the next one starts, with bibtexparser's message for that
    open_entry = next(p for p in doc.problems if p.location.line == 20)
    assert "Unexpected block start" in open_entry.message
    # the second mid-line entry without a key is still an entry of its own
    assert [r.title for r in doc.references if r.title and r.title.startswith("Mid-line")] == [
        "Mid-line without a key", "Mid-line without a key, again"]


def test_a_name_defined_twice_or_mid_line_is_read_in_one_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    twice = LIBRARY + "\n@string{jdad = {Another Journal}}\n@article{last, journal = jdad}\n"
    mid_line = LIBRARY + "\n@misc{y, title = {z}} @string{late = {Late}}\n@article{last, journal = late}\n"
    for text in (twice, mid_line):
        assert _read(text, 2, monkeypatch).references == _read(text, 10**9, monkeypatch).references
        assert _read(text, 2, monkeypatch).problems == _read(text, 10**9, monkeypatch).problems


def test_a_file_of_many_string_definitions_is_read_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # each chunk is given the @string definitions of the others; copying all of them for every chunk made a file
    # with a definition for each entry (a journal abbreviation list) quadratic in its size
    monkeypatch.setattr(bibtex, "CHUNK_ENTRIES", 20)

    def library(n: int) -> str:
        strings = "".join(f"@string{{j{i} = {{Journal {i}}}}}\n" for i in range(n))
        return strings + "".join(f"@article{{a{i}, title = {{Title {i}}}, journal = j{i}, year = 2020}}\n"
                                 for i in range(n))

    doc = bibtex.read("library.bib", library(50))
    assert [r.container for r in doc.references][-2:] == ["Journal 48", "Journal 49"]  # resolved across chunks
    assert_linear(library, lambda text: bibtex.read("library.bib", text), 100,
                  what="reading a file with a @string definition for each entry")


def largest_real_bibliographies(count: int) -> list[Path]:
    """The `count` largest bibliographies of the shared corpus, one version of each name: two repositories hold
    tugboat.bib (2007 and 2015 versions of the same file), and the older one adds nothing the newer one does not
    cut through."""
    one_of_each: dict[str, Path] = {}
    for path in sorted(SHARED_BIB.rglob("*.bib"), key=lambda f: -f.stat().st_size):
        one_of_each.setdefault(path.name, path)
    return list(one_of_each.values())[:count]


@pytest.mark.skipif(not SHARED_BIB.is_dir(), reason="the shared real-world corpus (../shared) is not here")
@pytest.mark.slow
def test_real_bibliographies_read_the_same_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    for path in largest_real_bibliographies(12):
        text = path.read_text(encoding="utf-8", errors="replace")
        whole = _read(text, 10**9, monkeypatch)
        chunked = _read(text, 3, monkeypatch)
        assert (chunked.references, chunked.problems) == (whole.references, whole.problems), path.name
