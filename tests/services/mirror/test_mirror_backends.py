"""The same mirror behaviours on both backends: the embedded SQLite file and a shared PostgreSQL server."""

from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import local_server
import pytest
from click.testing import CliRunner
from mirror_data import RECORDS, crossref_part, openalex_part, openalex_work, works
from test_mirror_commands import IndexedCrossref

from kratomref.cli import main
from kratomref.services import mirror
from kratomref.services.mirror import loader
from kratomref.services.mirror.loader import load
from kratomref.services.mirror.store import SQL_VARIABLES, MirrorError, MirrorStore
from kratomref.services.mirror.update import since

DOI = "10.1038/srep16696"
PASSWORD = "s3cret-Pa55word"  # the password of the session's server (conftest.py); no output may show it
Opener = Callable[..., Any]  # open(create=False) -> a store of the backend, at the test's one location


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the test's mirror lives: a file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "mirror.sqlite3")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def opener(location: str) -> Iterator[Opener]:
    opened: list[Any] = []

    def open_store(create: bool = False) -> Any:
        if mirror.is_server(location):
            from kratomref.services.mirror.postgres import PostgresMirror

            store: Any = PostgresMirror(location, create=create)
        else:
            store = MirrorStore(location, create=create)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Opener) -> Any:
    return opener(create=True)


def citation(record: dict[str, Any]) -> str:
    family = record["author"][0]["family"]
    year = record["issued"]["date-parts"][0][0]
    return f"{family} et al. ({year}). {record['title'][0]}. {record['container-title'][0]}, 12(3), 45-67."


def distractors() -> list[dict[str, Any]]:
    """For each recorded work, three others by the same first author in the same journal and year, whose
    titles share some of its words: a search must still put the cited one first."""
    others = []
    for n, record in enumerate(RECORDS[d] for d in sorted(RECORDS)):
        words = record["title"][0].split()
        for k in range(3):
            other = copy.deepcopy(record)
            other["DOI"] = f"10.9999/distractor.{n}.{k}"
            kept = words[k::4] or words[:1]
            other["title"] = [" ".join([*kept, "quarterly", "survey", f"part{k}", "methodology", "revisited"])]
            others.append(other)
    return others


def test_a_load_finds_each_work_by_its_doi(tmp_path: Path, store: Any) -> None:
    report = load(store, [crossref_part(tmp_path / "0.json.gz", works())])
    assert (report.loaded, report.skipped, report.malformed) == (len(RECORDS), 0, 0)
    found = store.get_many([*RECORDS, "10.1234/not-there"])
    assert set(found) == set(RECORDS)
    work = loader.as_work(copy.deepcopy(RECORDS[DOI]))
    assert not isinstance(work, str)
    assert found[DOI] == work[3]  # the record as the loader keeps it, exactly
    assert store.get_many([]) == {}
    assert store.info()["works"] == len(RECORDS)


def test_many_dois_at_once(tmp_path: Path, store: Any) -> None:
    """More DOIs than one SQL statement of the SQLite store takes (it asks for them in lists of SQL_VARIABLES),
    from a part longer than the loader reads at a time: every one is loaded, and a look-up of as many, some held
    and some not in every list, finds exactly the ones held."""
    count = 2 * SQL_VARIABLES + SQL_VARIABLES // 2  # two whole lists and part of a third
    # the smallest recorded work: what counts here is how many DOIs there are, not how long each record is
    record = min(RECORDS.values(), key=lambda r: len(json.dumps(r)))
    many = [{**copy.deepcopy(record), "DOI": f"10.5555/many.{n}"} for n in range(count)]
    part = crossref_part(tmp_path / "many.json.gz", many)
    with gzip.open(part, "rt", encoding="utf-8") as text:
        assert len(text.read()) > 2 * loader.CHUNK  # the loader reads it in several pieces
    assert load(store, [part]).loaded == count
    asked = [f"10.5555/{'many' if n % 3 else 'absent'}.{n}" for n in range(count)]  # held and not, in every list
    assert set(store.get_many(asked)) == {d for d in asked if "/many." in d}


def test_loading_again_changes_nothing(tmp_path: Path, store: Any) -> None:
    part = crossref_part(tmp_path / "0.json.gz", works())
    load(store, [part])
    again = load(store, [part])
    assert (again.loaded, again.parts_already) == (0, 1)
    third = load(store, [crossref_part(tmp_path / "copy.json.gz", works() + works()[:1])])
    assert (third.loaded, third.skipped) == (0, len(RECORDS) + 1)
    info = store.info()
    assert info["works"] == len(RECORDS)
    assert (info["parts"], info["parts_finished"]) == (2, 2)


def test_an_interrupted_load_goes_on_where_it_stopped(
    tmp_path: Path, store: Any, opener: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "BATCH", 3)
    part = crossref_part(tmp_path / "0.json.gz", works())
    real_upsert = store.upsert
    calls = []

    def dying_upsert(batch: Any) -> Any:
        calls.append(len(batch))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_upsert(batch)

    monkeypatch.setattr(store, "upsert", dying_upsert)
    with pytest.raises(KeyboardInterrupt):
        load(store, [part])
    assert store.info()["works"] == 3  # the first batch was committed, the second rolled back
    # Another process goes on where the first stopped: not one record read twice.
    resumed = load(opener(), [part])
    assert (resumed.loaded, resumed.skipped) == (len(RECORDS) - 3, 0)
    assert set(store.get_many(list(RECORDS))) == set(RECORDS)


def test_a_newer_record_replaces_an_older_one_and_crossref_wins_over_openalex(tmp_path: Path, store: Any) -> None:
    old = copy.deepcopy(RECORDS[DOI])
    newer = copy.deepcopy(old)
    newer["indexed"] = {"date-time": "2099-01-01T00:00:00Z"}
    newer["updated-by"] = [{"DOI": "10.1038/retraction", "type": "retraction", "label": "Retraction"}]
    openalex = openalex_part(tmp_path / "oa.gz", [openalex_work(DOI, "Zebrafish lullaby", ["X Y"], "J", 2015)])
    load(store, [crossref_part(tmp_path / "new.json.gz", [newer])])
    report = load(store, [crossref_part(tmp_path / "old.json.gz", [old]), openalex])
    assert (report.loaded, report.skipped) == (0, 2)
    assert store.get_many([DOI])[DOI]["updated-by"][0]["type"] == "retraction"
    assert store.search("Zebrafish lullaby") == []


def test_crossref_replaces_an_openalex_work_in_the_search_index_too(tmp_path: Path, store: Any) -> None:
    openalex = openalex_part(tmp_path / "oa.gz", [openalex_work(DOI, "Zebrafish lullaby", ["X Y"], "J", 2015)])
    load(store, [openalex])
    assert store.search("Zebrafish lullaby")[0]["DOI"].lower() == DOI
    assert store.info()["sources"] == {"openalex": 1}
    assert load(store, [crossref_part(tmp_path / "cr.json.gz", [RECORDS[DOI]])]).loaded == 1
    assert store.get_many([DOI])[DOI]["title"] == RECORDS[DOI]["title"]
    assert store.search("Zebrafish lullaby") == []
    assert store.info()["sources"] == {"crossref": 1}
    assert store.info()["works"] == 1


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def search_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A store of each backend holding the recorded works and their distractors, loaded and optimised once
    for the searches of test_a_search_ranks_the_cited_work_first, which only read it."""
    folder = tmp_path_factory.mktemp("search")
    server: Any = None
    if request.param == "sqlite":
        store: Any = MirrorStore(str(folder / "mirror.sqlite3"), create=True)
    else:
        from kratomref.services.mirror.postgres import PostgresMirror

        server = request.getfixturevalue("postgres_server")
        url = server.database()
        store = PostgresMirror(url, create=True)
    try:
        load(store, [crossref_part(folder / "0.json.gz", works() + distractors())])
        store.optimize()
        yield store
    finally:
        store.close()
        if server is not None:
            server.admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


@pytest.mark.parametrize("doi", sorted(RECORDS))
def test_a_search_ranks_the_cited_work_first(search_store: Any, doi: str) -> None:
    store = search_store
    hits = store.search(citation(RECORDS[doi]))
    assert hits and hits[0]["DOI"].lower() == doi, [h["DOI"] for h in hits]
    n = sorted(RECORDS).index(doi)
    for distractor in distractors()[3 * n:3 * n + 3]:  # and each work like it, by its own citation
        found = store.search(citation(distractor))
        assert found and found[0]["DOI"] == distractor["DOI"], [h["DOI"] for h in found]
    assert store.search("Zzyzx quixotic nonexistent") == []


def test_a_search_narrowed_to_a_container(tmp_path: Path, store: Any) -> None:
    load(store, [crossref_part(tmp_path / "0.json.gz", works())])
    record = RECORDS[DOI]
    query = f"{record['author'][0]['family']} {record['title'][0]}"
    assert store.search(query, record["container-title"][0])[0]["DOI"].lower() == DOI
    assert store.search(query, "Journal of Entirely Other Things") == []


def test_info_says_what_the_mirror_holds(tmp_path: Path, store: Any) -> None:
    empty = store.info()
    assert (empty["works"], empty["sources"], empty["parts"], empty["loaded"]) == (0, {}, 0, None)
    openalex = openalex_part(tmp_path / "oa.gz", [openalex_work("10.5555/oa.1", "A title", ["A B"], "J", 2000)])
    load(store, [crossref_part(tmp_path / "0.json.gz", works()), openalex])
    info = store.info()
    assert info["works"] == len(RECORDS) + 1
    assert info["sources"] == {"crossref": len(RECORDS), "openalex": 1}
    assert info["newest_indexed"].startswith("2026-06-15")
    assert info["loaded"] and info["created"] and info["bytes"] > 0
    assert info["backend"] == ("postgresql" if mirror.is_server(str(info["path"])) else "sqlite")
    assert PASSWORD not in json.dumps(info)


def test_update_asks_from_the_newest_record_and_brings_retractions(
    tmp_path: Path, store: Any, location: str
) -> None:
    assert since(store) is None
    load(store, [crossref_part(tmp_path / "0.json.gz", works())])
    store.optimize()
    assert since(store) == "2026-06-15"
    retracted = copy.deepcopy(RECORDS[DOI])
    retracted["indexed"] = {"date-time": "2026-07-01T10:00:00Z"}
    retracted["updated-by"] = [{"DOI": "10.1038/srep99999", "type": "retraction", "label": "Retraction"}]
    new = copy.deepcopy(RECORDS[DOI])  # a work of words no other has: a search finds it by them
    new.update(DOI="10.1038/new.1", indexed={"date-time": "2026-07-02T00:00:00Z"},
               title=["Quorbling frimbles of the zyxwvian tardigrade"], author=[{"family": "Plimsoll", "given": "A."}])
    server = IndexedCrossref([*works(), retracted, new])
    local_server.serve(server)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = CliRunner().invoke(main, ["mirror", "update", "--mirror", location, "--crossref-url", url])
    finally:
        local_server.stop(server)
    assert result.exit_code == 0, result.output
    assert server.asked[0]["filter"] == ["from-index-date:2026-06-15"]
    assert "loaded 2, skipped 1" in result.output  # the record of 2026-06-15 is seen again
    assert store.get_many([DOI])[DOI]["updated-by"][0]["type"] == "retraction"
    assert since(store) == "2026-07-02"
    assert store.search(citation(new))[0]["DOI"] == "10.1038/new.1"
    assert store.search("Plimsoll, Quorbling frimbles")[0]["DOI"] == "10.1038/new.1"
    assert PASSWORD not in result.output


def test_the_commands_load_and_describe_a_mirror(tmp_path: Path, location: str) -> None:
    part = crossref_part(tmp_path / "0.json.gz", [*works(), "junk"])
    runner = CliRunner()
    result = runner.invoke(main, ["mirror", "load", "--mirror", location, str(part)])
    assert result.exit_code == 0, result.output
    assert f"loaded {len(RECORDS)}, skipped 0, malformed 1" in result.output
    again = runner.invoke(main, ["mirror", "load", "--mirror", location, str(part)])
    assert "loaded 0" in again.output and "1 parts were loaded before" in again.output
    info = runner.invoke(main, ["mirror", "info", "--mirror", location])
    assert info.exit_code == 0, info.output
    assert f"works: {len(RECORDS)} ({len(RECORDS)} crossref)" in info.output
    assert "newest record indexed: 2026-06-15" in info.output
    for output in (result.output, again.output, info.output):
        assert PASSWORD not in output


# --- PostgreSQL only ------------------------------------------------------------------------------------


def test_info_on_a_database_without_a_mirror_says_so(postgres_url: str) -> None:
    result = CliRunner().invoke(main, ["mirror", "info", "--mirror", postgres_url])
    assert result.exit_code == 2
    assert "no mirror there" in result.output
    assert PASSWORD not in result.output


def test_a_server_that_cannot_be_reached_warns_once_without_the_password(
    postgres_server: Any, postgres_url: str
) -> None:
    from kratomref.services.mirror.postgres import PostgresMirror

    PostgresMirror(postgres_url, create=True).close()
    wrong = postgres_url.replace(PASSWORD, "Wr0ng-" + PASSWORD)
    with pytest.raises(MirrorError) as refused:
        PostgresMirror(wrong)
    assert "password authentication failed" in str(refused.value)
    assert PASSWORD not in str(refused.value)
    closed = postgres_server.url("postgres").replace(f":{postgres_server.port}/", f":{_closed_port()}/")
    for url in (wrong, closed):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert mirror.open_setting(url) is None
            assert mirror.open_setting(url) is None  # opened (and refused) once
        messages = [str(w.message) for w in caught if issubclass(w.category, mirror.MirrorWarning)]
        assert len(messages) == 1, messages
        assert "the mirror is not used" in messages[0]
        assert PASSWORD not in messages[0] and f"{postgres_server.user}@" in messages[0]


@pytest.mark.parametrize("url", [
    "postgresql://kr:Pw%20Secret-1@[::1:5432/db",  # libpq's message quotes the whole URL
    "postgresql://kr:Pw-Secret-1@127.0.0.1:5432/db?bogus=1",
    "postgres://kr@127.0.0.1:notaport/db?password=Pw-Secret-1",
])
def test_a_bad_connection_string_is_refused_without_its_password(url: str) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'kratomref[postgres]')")
    from kratomref.services.mirror.postgres import PostgresMirror

    with pytest.raises(MirrorError) as refused:
        PostgresMirror(url)
    message = str(refused.value)
    assert "Secret" not in message and "kr@" in message, message
    result = CliRunner().invoke(main, ["mirror", "info", "--mirror", url])
    assert result.exit_code == 2 and "Secret" not in result.output, result.output


def test_a_server_that_goes_away_during_a_run_is_left_out_with_one_warning(
    tmp_path: Path, postgres_server: Any, postgres_url: str
) -> None:
    from kratomref.services.mirror.postgres import PostgresMirror

    store = PostgresMirror(postgres_url, create=True)
    load(store, [crossref_part(tmp_path / "0.json.gz", works())])
    name = postgres_url.rsplit("/", 1)[1]
    postgres_server.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert store.get_many([DOI]) == {}
        assert store.search(citation(RECORDS[DOI])) == []
    messages = [str(w.message) for w in caught if issubclass(w.category, mirror.MirrorWarning)]
    assert len(messages) == 1 and PASSWORD not in messages[0], messages


def test_a_reader_role_checks_against_the_mirror_but_cannot_load_it(
    tmp_path: Path, postgres_server: Any, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The set-up docs/mirror.md recommends: the loader owns the mirror, the checkers' role may only read it,
    and its password comes from PGPASSWORD (or ~/.pgpass), not the URL."""
    from kratomref.services.mirror.postgres import PostgresMirror

    with PostgresMirror(postgres_url, create=True) as owner:
        load(owner, [crossref_part(tmp_path / "0.json.gz", works())])
    role = f"reader_{postgres_url.rsplit('_', 1)[1]}"
    database = postgres_url.rsplit("/", 1)[1]
    postgres_server.admin(f"CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'")
    try:
        with __import__("psycopg").connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"GRANT USAGE ON SCHEMA kratomref TO {role}")
            conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA kratomref TO {role}")
        reader_url = f"postgresql://{role}@127.0.0.1:{postgres_server.port}/{database}"
        monkeypatch.setenv("PGPASSWORD", "reader-pw")
        with PostgresMirror(reader_url) as reader:
            assert set(reader.get_many(list(RECORDS))) == set(RECORDS)
            assert reader.search(citation(RECORDS[DOI]))[0]["DOI"].lower() == DOI
        more = copy.deepcopy(RECORDS[DOI])
        more["DOI"] = "10.5555/more"
        result = CliRunner().invoke(main, ["mirror", "load", "--mirror", reader_url,
                                           str(crossref_part(tmp_path / "1.json.gz", [more]))])
        assert result.exit_code == 2, result.output  # refused, as every user error of kratomref
        assert "permission denied" in result.output and "Traceback" not in result.output
    finally:
        postgres_server.admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        postgres_server.admin(f"DROP ROLE IF EXISTS {role}")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens on it once closed


BIB = """@article{tosatto2015,
  author = {Tosatto, Laura and others},
  title = {{%(title)s}},
  journal = {%(journal)s},
  year = {%(year)s},
  doi = {%(doi)s}
}
"""


def test_an_offline_check_is_answered_by_the_postgresql_mirror(tmp_path: Path, postgres_url: str) -> None:
    record = RECORDS[DOI]
    from kratomref.services.mirror.postgres import PostgresMirror

    with PostgresMirror(postgres_url, create=True) as store:
        load(store, [crossref_part(tmp_path / "0.json.gz", [record])])
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB % {"title": record["title"][0], "journal": record["container-title"][0],
                          "year": record["issued"]["date-parts"][0][0], "doi": DOI}, encoding="utf-8")

    def run(setting: str) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        done = subprocess.run(
            [sys.executable, "-m", "kratomref", "check", str(bib), "--offline", "--no-archive", "--format", "json",
             "--mirror", setting, "--select", "KR1,KR2"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
        )
        assert PASSWORD not in done.stdout + done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    answered, alone = run(postgres_url), run("none")
    verdict = {r["key"]: r["verdict"] for r in answered["references"]}
    assert verdict == {"tosatto2015": "verified"}, answered
    assert {r["key"]: r["verdict"] for r in alone["references"]} == {"tosatto2015": "unverified"}


def test_a_check_without_a_server_mirror_does_not_import_psycopg(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB % {"title": "A title", "journal": "J", "year": 2000, "doi": DOI}, encoding="utf-8")
    sqlite = tmp_path / "m.sqlite3"
    MirrorStore(sqlite, create=True).close()
    code = ("import sys\nfrom kratomref.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n"
            "    print('psycopg' in sys.modules, file=sys.stderr)\n")
    for setting in ("none", str(sqlite)):
        done = subprocess.run(
            [sys.executable, "-c", code, "check", str(bib), "--offline", "--format", "json", "--mirror", setting],
            capture_output=True, text=True, cwd=tmp_path, timeout=120,
        )
        assert done.stderr.strip().splitlines()[-1] == "False", done.stderr
