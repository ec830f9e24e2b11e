"""The embedded mirror: loading Crossref and OpenAlex parts, resuming, re-loading, look-ups and searches."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest
from mirror_data import RECORDS, crossref_part, openalex_part, openalex_work, works

from kratomref.services.mirror import loader
from kratomref.services.mirror.fields import slim
from kratomref.services.mirror.loader import load
from kratomref.services.mirror.store import MirrorError, MirrorStore

DOI = "10.1038/srep16696"


@pytest.fixture
def store(tmp_path: Path) -> MirrorStore:
    return MirrorStore(tmp_path / "mirror.sqlite3", create=True)


def test_a_crossref_part_is_loaded_and_each_work_found_by_its_doi(tmp_path: Path, store: MirrorStore) -> None:
    part = crossref_part(tmp_path / "0.json.gz", works())
    report = load(store, [part])
    assert (report.loaded, report.skipped, report.malformed) == (len(RECORDS), 0, 0)
    found = store.get_many([*RECORDS, "10.1234/not-there"])
    assert set(found) == set(RECORDS)
    assert found[DOI] == slim(RECORDS[DOI])  # the fields a check reads (see test_a_slim_work_...)
    assert "abstract" not in found[DOI] and "reference" not in found[DOI]
    assert store.info()["works"] == len(RECORDS)


def test_openalex_works_become_crossref_shaped_works(tmp_path: Path, store: MirrorStore) -> None:
    part = openalex_part(tmp_path / "part_000.gz", [
        openalex_work("10.5555/OA.1", "Kratom alkaloids in rat liver", ["Jane Q. Doe", "Ann Smith"], "Tox Letters",
                      2019, is_retracted=True),
    ])
    assert load(store, [part]).loaded == 1
    work = store.get_many(["10.5555/oa.1"])["10.5555/oa.1"]
    assert work["title"] == ["Kratom alkaloids in rat liver"]
    assert [a["family"] for a in work["author"]] == ["Doe", "Smith"]
    assert work["container-title"] == ["Tox Letters"]
    assert work["issued"] == {"date-parts": [[2019, 5, 1]]}
    assert (work["volume"], work["issue"], work["page"]) == ("12", "3", "101-110")
    assert work["type"] == "journal-article"
    assert work["updated-by"][0]["type"] == "retraction"  # KR205 reads it


def test_malformed_records_are_counted_and_skipped_never_a_crash(tmp_path: Path, store: MirrorStore) -> None:
    untitled = copy.deepcopy(RECORDS[DOI])
    untitled["DOI"] = "10.1038/untitled"
    untitled["title"] = []
    wrong_type = copy.deepcopy(RECORDS[DOI])
    wrong_type["DOI"] = "10.1038/wrong-type"
    wrong_type["author"] = "Tosatto"
    crossref = crossref_part(tmp_path / "0.json.gz", [*works(), 42, untitled, wrong_type])
    openalex = openalex_part(tmp_path / "1.gz", [
        "{not json", openalex_work("10.5555/ok", "A title", ["A B"], "J", 2000), '{"id": "W2", "title": "no doi"}',
    ])
    report = load(store, [crossref, openalex])
    assert (report.loaded, report.malformed) == (len(RECORDS) + 1, 5)
    assert any("record 9" in p and "wrong type" in p for p in report.problems)  # the part and record say which
    assert set(store.get_many(["10.1038/untitled", "10.1038/wrong-type"])) == set()


def test_a_part_that_breaks_off_keeps_what_was_read(tmp_path: Path, store: MirrorStore) -> None:
    whole = crossref_part(tmp_path / "whole.json.gz", works()).read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    report = load(store, [cut])
    assert report.malformed == 1
    assert any("cut.json.gz" in p for p in report.problems)


def test_loading_again_changes_nothing(tmp_path: Path, store: MirrorStore) -> None:
    part = crossref_part(tmp_path / "0.json.gz", works())
    load(store, [part])
    again = load(store, [part])
    assert (again.loaded, again.parts_already) == (0, 1)
    # The same records in another part: each is already there.
    copy_part = crossref_part(tmp_path / "copy.json.gz", works() + works()[:1])
    third = load(store, [copy_part])
    assert (third.loaded, third.skipped) == (0, len(RECORDS) + 1)
    assert store.info()["works"] == len(RECORDS)


def test_an_interrupted_load_goes_on_where_it_stopped(
    tmp_path: Path, store: MirrorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "BATCH", 3)
    part = crossref_part(tmp_path / "0.json.gz", works())
    real_upsert = store.upsert
    calls = []

    def dying_upsert(batch):  # type: ignore[no-untyped-def]
        calls.append(len(batch))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_upsert(batch)

    monkeypatch.setattr(store, "upsert", dying_upsert)
    with pytest.raises(KeyboardInterrupt):
        load(store, [part])
    assert store.info()["works"] == 3  # the first batch was committed, the second rolled back
    monkeypatch.setattr(store, "upsert", real_upsert)
    resumed = load(store, [part])
    assert (resumed.loaded, resumed.skipped) == (len(RECORDS) - 3, 0)  # not one record read twice
    assert set(store.get_many(list(RECORDS))) == set(RECORDS)


def test_a_newer_record_replaces_an_older_one_and_crossref_wins_over_openalex(
    tmp_path: Path, store: MirrorStore
) -> None:
    old = copy.deepcopy(RECORDS[DOI])
    newer = copy.deepcopy(old)
    newer["indexed"] = {"date-time": "2099-01-01T00:00:00Z"}
    newer["updated-by"] = [{"DOI": "10.1038/retraction", "type": "retraction", "label": "Retraction"}]
    openalex = openalex_part(tmp_path / "oa.gz", [openalex_work(DOI, "Another title", ["X Y"], "J", 2015)])
    load(store, [crossref_part(tmp_path / "new.json.gz", [newer])])
    report = load(store, [crossref_part(tmp_path / "old.json.gz", [old]), openalex])
    assert (report.loaded, report.skipped) == (0, 2)
    assert store.get_many([DOI])[DOI]["updated-by"][0]["type"] == "retraction"
    # The other way: OpenAlex first, then Crossref's record replaces it, in the search index too.
    other = MirrorStore(tmp_path / "other.sqlite3", create=True)
    load(other, [openalex])
    assert other.search("Another title")[0]["DOI"].lower() == DOI
    assert load(other, [crossref_part(tmp_path / "cr.json.gz", [old])]).loaded == 1
    assert other.get_many([DOI])[DOI]["title"] == old["title"]
    assert other.search("Another title") == []
    assert other.info()["sources"] == {"crossref": 1}


@pytest.mark.parametrize("doi", sorted(RECORDS))
def test_a_search_finds_the_cited_work_first(tmp_path: Path, store: MirrorStore, doi: str) -> None:
    load(store, [crossref_part(tmp_path / "0.json.gz", works())])
    record = RECORDS[doi]
    family = record["author"][0]["family"]
    year = record["issued"]["date-parts"][0][0]
    citation = f"{family} et al. ({year}). {record['title'][0]}. {record['container-title'][0]}, 12(3), 45-67."
    hits = store.search(citation)
    assert hits and hits[0]["DOI"].lower() == doi
    assert store.search("Zzyzx quixotic nonexistent") == []


def test_a_file_that_is_not_a_mirror_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(MirrorError):
        MirrorStore(junk)
    with pytest.raises(MirrorError, match="no mirror there"):
        MirrorStore(tmp_path / "absent.sqlite3")


def test_gzip_part_with_a_single_line_json_is_read(tmp_path: Path, store: MirrorStore) -> None:
    path = tmp_path / "one-line.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        import json

        handle.write(json.dumps({"items": works()}))
    assert load(store, [path]).loaded == len(RECORDS)


@pytest.mark.parametrize("doi", sorted(RECORDS))
def test_a_slim_work_tells_a_check_what_the_whole_record_tells_it(doi: str) -> None:
    """The mirror keeps only the fields a check reads: matching, the confirming summary, `fix`'s added fields
    and `export --enrich` come out the same from the slim work as from Crossref's whole record."""
    from kratomref.export.csl import from_crossref
    from kratomref.fix import enrich_fixes
    from kratomref.matching import best_match, compare, describe, issued_year, record_years
    from kratomref.model import Location
    from kratomref.readers.freetext import parse_citation
    from kratomref.rules.crossref import summary

    whole = {k: v for k, v in RECORDS[doi].items() if k != "reference"}
    kept = slim(whole)
    assert len(json.dumps(kept)) < len(json.dumps(whole)) / 2
    family = whole["author"][0]["family"] if whole.get("author") else "Anon"
    year = issued_year(whole) or 2003
    for citation in (  # as cited, then with the wrong year and the wrong journal
        f"{family} ({year}). {whole['title'][0]}. {whole['container-title'][0]}, {whole.get('volume', '1')}.",
        f"{family} ({year - 3}). {whole['title'][0]}. Journal of Something Else, 99, 1-2.",
    ):
        ref = parse_citation(citation, Location("refs.md", 1, "ref-1"))
        assert compare(ref, kept) == compare(ref, whole)
        from_kept, from_whole = best_match(ref, [kept]), best_match(ref, [whole])
        assert (from_kept and (from_kept.doi, from_kept.comparison)) == (
            from_whole and (from_whole.doi, from_whole.comparison))
        assert enrich_fixes(ref, kept) == enrich_fixes(ref, whole)
    assert summary(kept, doi, "crossref") == summary(whole, doi, "crossref")
    assert from_crossref(kept) == from_crossref(whole)
    assert describe(kept) == describe(whole)
    assert record_years(kept) == record_years(whole)
    for name in ("updated-by", "subject", "ISSN", "ISBN", "publisher", "type"):  # notices (KR205/KR207) as they are
        assert kept.get(name) == (whole.get(name) or None)


def test_a_mirror_of_an_older_schema_says_to_load_it_again(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    MirrorStore(path, create=True).close()
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(MirrorError, match=r"schema 1\b.*load the data files again"):
        MirrorStore(path)
