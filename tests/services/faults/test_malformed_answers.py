"""A malformed Crossref answer is "could not check" (issue 17): every shape a broken proxy, a half-deployed
mirror or a hostile server may send, for each kind of request (a DOI's work, a batch of DOIs, a
bibliographic search), leaves the affected references unverified with the reason, is never a finding
(doi-not-found, reference-not-found, doi-mismatch...) and is never cached: the next run against a healthy
server verifies them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_crossref import RECORDS, FakeCrossref, bibtex_entry, doi_of, is_batch, is_search, is_single
from servers import HttpServer, Reply, Request, closed_port, json_reply

from kratomref.check import crossref_settings
from kratomref.model import Lookup
from kratomref.options import Options
from kratomref.services.cache import Cache

A = "10.1371/journal.pone.0033693"
B = "10.1038/srep16696"
D = "10.1016/j.neurobiolaging.2010.03.024"  # cited without its DOI: found by a bibliographic search
KEYS = {A: "sadasivan2012", B: "tosatto2015", D: "lee2012"}
TODAY = dt.date(2026, 11, 25)

Shape = Callable[[Request], Reply]


def _truncated(request: Request) -> Reply:
    """The first half of the healthy JSON, as a complete HTTP answer (a cut-off connection is
    test_crossref_faults' case)."""
    healthy = FakeCrossref().healthy(request)
    return Reply(healthy.status, healthy.data[: len(healthy.data) // 2], healthy.headers)


def _untitled(request: Request) -> list[dict[str, object]]:
    """The works asked for, with every field but their title (and type)."""
    wanted = [doi_of(request)] if is_single(request) else [A, B, D]
    return [{k: v for k, v in RECORDS[d].items() if k not in ("title", "type")} for d in wanted if d in RECORDS]


def _work_list(message: object, status: str = "ok") -> Reply:
    return json_reply(json.dumps({"status": status, "message-type": "work-list", "message": message}))


def _work(message: object, status: str = "ok") -> Reply:
    return json_reply(json.dumps({"status": status, "message-type": "work", "message": message}))


HTML = Reply(200, "<html><body>Please log in to the campus network</body></html>", {"Content-Type": "text/html"})

# Each shape for a list request (a batch of DOIs or a search)...
LIST_SHAPES: dict[str, Shape] = {
    "wrong JSON shape": lambda r: json_reply('[{"DOI": "10.1038/srep16696"}]'),
    "HTML instead of JSON": lambda r: HTML,
    "truncated JSON": _truncated,
    "missing message": lambda r: json_reply('{"status": "ok", "message-type": "work-list"}'),
    "items not a list": lambda r: _work_list({"total-results": 1, "items": {"DOI": B}}),
    "items without title": lambda r: _work_list({"total-results": 3, "items": _untitled(r)}),
    "an item of the wrong shape": lambda r: _work_list({"items": [RECORDS[D], "10.1038/srep16696"]}),
    "200 with an error body": lambda r: _work_list({"total-results": 0, "items": []}, status="failed"),
}
# ...and for a work asked by its DOI.
WORK_SHAPES: dict[str, Shape] = {
    "wrong JSON shape": lambda r: _work(["not", "a", "work"]),
    "HTML instead of JSON": lambda r: HTML,
    "truncated JSON": _truncated,
    "missing message": lambda r: json_reply('{"status": "ok", "message-type": "work"}'),
    "a work without a DOI": lambda r: _work({k: v for k, v in RECORDS[A].items() if k != "DOI"}),
    "a work without title": lambda r: _work(_untitled(r)[0]),
    "a title that is not a list": lambda r: _work(dict(RECORDS[A], title="Kratom")),
    "200 with an error body": lambda r: _work(dict(RECORDS[A], title=["Another work entirely"]), status="error"),
}


def _fault(endpoint: str, shape: Shape) -> Callable[[Request], Reply | None]:
    def fault(request: Request) -> Reply | None:
        if endpoint == "search" and is_search(request):
            return shape(request)
        if endpoint == "batch" and (is_batch(request) or is_single(request)):
            return shape(request)  # the fall-back to single look-ups gets the same
        if endpoint == "work":
            if is_batch(request):  # the batch leaves A out, so A is asked for on its own
                return FakeCrossref({d: r for d, r in RECORDS.items() if d != A}).healthy(request)
            if is_single(request) and doi_of(request) == A:
                return shape(request)
        return None

    return fault


AFFECTED = {"search": {D}, "batch": {A, B}, "work": {A}}
CASES = [
    *(pytest.param("search", name, id=f"search: {name}") for name in LIST_SHAPES),
    *(pytest.param("batch", name, id=f"batch: {name}") for name in LIST_SHAPES),
    *(pytest.param("work", name, id=f"work by DOI: {name}") for name in WORK_SHAPES),
]


def _shape(endpoint: str, name: str) -> Shape:
    return (WORK_SHAPES if endpoint == "work" else LIST_SHAPES)[name]


def _query(doi: str) -> str:
    record = RECORDS[doi]
    return f"{record['author'][0]['family']} {record['issued']['date-parts'][0][0]} {record['title'][0]}"


def _resolve(url: str, cache_dir: Path) -> dict[str, tuple[Lookup, str | None]]:
    from kratomref.services.crossref import CrossrefService

    options = Options(crossref_url=url, doi_url=url, timeout=2.0, max_retries=1)
    cache = Cache(cache_dir)
    try:
        service = CrossrefService(crossref_settings(options), cache)
        dois = service.resolve_dois([A, B])
        searches = service.search({D: _query(D)})
    finally:
        cache.close()
    answers = {k: (r.status, r.reason) for k, r in dois.items()}
    answers.update({k: (r.status, r.reason) for k, r in searches.items()})
    return answers


@pytest.mark.parametrize(("endpoint", "name"), CASES)
def test_a_malformed_answer_is_unverified_with_its_reason_and_not_cached(
    endpoint: str, name: str, tmp_path: Path
) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    with HttpServer(FakeCrossref(fault=_fault(endpoint, _shape(endpoint, name))), port=port):
        first = _resolve(url, tmp_path / "cache")
    for key, (status, reason) in first.items():
        if key in AFFECTED[endpoint]:
            assert status is Lookup.UNVERIFIED, (key, status)
            assert reason == "Crossref sent a malformed answer", reason
        else:
            assert status is Lookup.FOUND, (key, status, reason)

    with HttpServer(FakeCrossref(), port=port):
        second = _resolve(url, tmp_path / "cache")
    assert {key: status for key, (status, _) in second.items()} == dict.fromkeys(first, Lookup.FOUND)


def test_a_malformed_batch_falls_back_to_single_look_ups_that_verify() -> None:
    """Only the batch is malformed: the DOIs are asked one by one, and found."""
    from kratomref.services.crossref import CrossrefService

    shape = LIST_SHAPES["items without title"]
    fake = FakeCrossref(fault=lambda r: shape(r) if is_batch(r) else None)
    with HttpServer(fake) as server:
        options = Options(crossref_url=server.url, doi_url=server.url, timeout=2.0, max_retries=1)
        results = CrossrefService(crossref_settings(options), Cache(enabled=False)).resolve_dois([A, B])
        singles = [r for r in server.requests if is_single(r)]
    assert {d: r.status for d, r in results.items()} == {A: Lookup.FOUND, B: Lookup.FOUND}
    assert len(singles) == 2


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        pytest.param("search", "200 with an error body", id="search: an error with an empty list"),
        pytest.param("search", "items without title", id="search: items without title"),
        pytest.param("work", "200 with an error body", id="work: an error carrying another title"),
        pytest.param("work", "a work without title", id="work: a work without title"),
    ],
)
def test_a_malformed_answer_is_never_a_finding(endpoint: str, name: str, tmp_path: Path) -> None:
    """End to end: the reference is unverified, says why, and has no Crossref finding (KR2xx)."""
    pytest.importorskip("kratomref.check")
    from kratomref.check import check
    from kratomref.model import Verdict

    bib = tmp_path / "refs.bib"
    bib.write_text(
        "\n".join([bibtex_entry(KEYS[A], RECORDS[A]), bibtex_entry(KEYS[B], RECORDS[B]),
                   bibtex_entry(KEYS[D], RECORDS[D], with_doi=False)]),
        encoding="utf-8",
    )
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    options = Options(paths=(str(bib),), crossref_url=url, doi_url=url, cache_dir=str(tmp_path / "cache"),
                      timeout=2.0, max_retries=1, archive=False, today=TODAY)
    with HttpServer(FakeCrossref(fault=_fault(endpoint, _shape(endpoint, name))), port=port):
        report = check(options)
    (affected,) = AFFECTED[endpoint]
    result = next(r for r in report.results if r.reference.key == KEYS[affected])
    assert result.verdict is Verdict.UNVERIFIED
    assert any("malformed" in reason for reason in result.reasons), result.reasons
    crossref_findings = [f for f in report.findings if f.rule.code.startswith("KR2")
                         and f.location.key == KEYS[affected]]
    assert not crossref_findings, [f.message for f in crossref_findings]

    with HttpServer(FakeCrossref(), port=port):
        healthy = check(options)
    again = next(r for r in healthy.results if r.reference.key == KEYS[affected])
    assert again.verdict is Verdict.VERIFIED


def test_a_malformed_entry_in_the_cache_is_asked_again_not_judged(tmp_path: Path) -> None:
    """A cache entry of the wrong shape (stored by an older version, or edited by hand) is not trusted: the
    DOI and the search are asked again, and the healthy answers replace it."""
    from kratomref.services.crossref import (
        DOI_NAMESPACE,
        SEARCH_NAMESPACE,
        SEARCH_ROWS,
        CrossrefService,
        service_key,
    )

    with HttpServer(FakeCrossref()) as server:
        options = Options(crossref_url=server.url, doi_url=server.url, timeout=2.0, max_retries=1)
        cache = Cache(tmp_path / "cache")
        untitled = {k: v for k, v in RECORDS[A].items() if k not in ("title", "type")}
        cache.put(DOI_NAMESPACE, f"{service_key(server.url, server.url)}:{A}",
                  {"status": "found", "record": untitled, "agency": "crossref"}, 3600)
        cache.put(SEARCH_NAMESPACE, f"{service_key(server.url)}:rows={SEARCH_ROWS}:{_query(D)}", [{"DOI": D}], 3600)
        service = CrossrefService(crossref_settings(options), cache)
        dois = service.resolve_dois([A])
        searches = service.search({D: _query(D)})
        asked = {r.path for r in server.requests}
        cache.close()
    assert dois[A].status is Lookup.FOUND and not dois[A].from_cache
    assert dois[A].record is not None and dois[A].record["title"] == RECORDS[A]["title"]
    assert searches[D].status is Lookup.FOUND and not searches[D].from_cache
    assert "/works" in asked
