"""CrossrefService asks the mirror first: what it holds is answered locally, the rest goes live."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mirror_data import RECORDS, MirrorOptions, crossref_part

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "crossref"))
from crossref_server import FakeCrossref

from kratomref.check import crossref_settings
from kratomref.model import Lookup
from kratomref.services import mirror as mirror_service
from kratomref.services.cache import Cache
from kratomref.services.crossref import CrossrefService
from kratomref.services.mirror.fields import slim
from kratomref.services.mirror.loader import load
from kratomref.services.mirror.store import MirrorStore

IN_MIRROR = sorted(RECORDS)[:4]
NOT_IN_MIRROR = sorted(RECORDS)[4:]


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    path = tmp_path / "mirror.sqlite3"
    with MirrorStore(path, create=True) as store:
        load(store, [crossref_part(tmp_path / "0.json.gz", [RECORDS[d] for d in IN_MIRROR])])
    return path


def service(crossref: FakeCrossref, tmp_path: Path, mirror: Path | None, **changes: object) -> CrossrefService:
    options = MirrorOptions(crossref_url=crossref.url, doi_url=crossref.url, mailto="t@example.org", timeout=2.0,
                            mirror=str(mirror) if mirror else "none", **changes)  # type: ignore[arg-type]
    return CrossrefService(crossref_settings(options), Cache(tmp_path / "cache"),
                           mirror=lambda: mirror_service.open_setting(options.mirror))


def test_the_mirror_answers_what_it_holds_and_only_the_rest_goes_live(
    crossref: FakeCrossref, tmp_path: Path, mirror: Path
) -> None:
    live = service(crossref, tmp_path / "a", None).resolve_dois(sorted(RECORDS))
    asked_live = crossref.count()
    crossref.seen.clear()
    mixed = service(crossref, tmp_path / "b", mirror)
    answered = mixed.resolve_dois(sorted(RECORDS))
    assert asked_live > 0
    # Only the DOIs the mirror lacks were asked for, in one batch.
    asked = [part.strip().removeprefix("doi:") for seen in crossref.seen if seen.kind == "batch"
             for part in seen.query["filter"][0].split(",")]
    assert sorted(asked) == NOT_IN_MIRROR
    assert mixed.stats.mirror_hits == len(IN_MIRROR)
    # The same verdicts and the same records as far as a check reads them (the mirror keeps those fields: see
    # services/mirror/fields.py), so the same findings, whichever answered.
    for doi in RECORDS:
        record = live[doi].record
        expected = slim(record) if doi in IN_MIRROR and record else record
        assert (answered[doi].status, answered[doi].record, answered[doi].agency) == (
            live[doi].status, expected, live[doi].agency)


def test_offline_the_mirror_still_answers(crossref: FakeCrossref, tmp_path: Path, mirror: Path) -> None:
    answered = service(crossref, tmp_path, mirror, offline=True).resolve_dois(sorted(RECORDS))
    assert crossref.count() == 0
    assert all(answered[d].status is Lookup.FOUND for d in IN_MIRROR)
    for doi in NOT_IN_MIRROR:  # could not check is never "not found"
        assert answered[doi].status is Lookup.UNVERIFIED
        assert "not in the mirror" in (answered[doi].reason or "")


def test_a_search_is_answered_from_the_mirror(crossref: FakeCrossref, tmp_path: Path, mirror: Path) -> None:
    record = RECORDS[IN_MIRROR[0]]
    query = f"{record['author'][0]['family']} {record['title'][0]} {record['container-title'][0]}"
    found = service(crossref, tmp_path, mirror).search({"ref-1": query, "ref-2": "Zzyzx quixotic nonexistent work"})
    assert found["ref-1"].status is Lookup.FOUND
    assert found["ref-1"].candidates[0]["DOI"].lower() == IN_MIRROR[0]
    # What the mirror has nothing for goes live, and only that.
    assert crossref.count("search") == 1
    assert "Zzyzx" in crossref.seen[0].query["query.bibliographic"][0]


def test_a_mirror_that_cannot_be_used_never_stops_a_check(crossref: FakeCrossref, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"garbage" * 1000)
    with pytest.warns(UserWarning, match="mirror is not used"):
        answered = service(crossref, tmp_path, junk).resolve_dois(sorted(RECORDS))
    assert all(r.status is Lookup.FOUND for r in answered.values())




def test_a_partial_mirror_is_no_evidence_that_a_work_does_not_exist(
    crossref: FakeCrossref, tmp_path: Path, mirror: Path
) -> None:
    """The mirror's candidates share the query's journal and author but none has its title: the search goes
    live, and offline it stays unverified, so a work the mirror lacks is never "reference not found"."""
    record = RECORDS[IN_MIRROR[0]]
    query = f"{record['author'][0]['family']} A title no mirrored work has at all {record['container-title'][0]}"
    assert MirrorStore(mirror).search(query, None, 5), "the mirror does return candidates for it"
    found = service(crossref, tmp_path / "a", mirror).search({"ref-1": query})
    assert crossref.count("search") == 1, "asked live"
    assert found["ref-1"].status is not Lookup.FOUND or not found["ref-1"].from_cache
    offline = service(crossref, tmp_path / "b", mirror, offline=True).search({"ref-1": query})
    assert offline["ref-1"].status is Lookup.UNVERIFIED
    assert "nothing like it in the mirror" in (offline["ref-1"].reason or "")
