"""A total deadline per service request (issue 17): a Crossref, doi.org or Wayback server on loopback that
accepts the connection and then trickles its status line or its headers, a byte every BYTE_EVERY seconds, is
cut off at --timeout; the reference stays unverified with a reason that says it timed out, and the whole run
ends within a bound."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner
from fake_crossref import RECORDS, bibtex_entry
from servers import Behaviour, RawServer

from kratomref.check import crossref_settings
from kratomref.model import Lookup
from kratomref.options import Options
from kratomref.services.cache import Cache

A = "10.1371/journal.pone.0033693"
B = "10.1038/srep16696"
D = "10.1016/j.neurobiolaging.2010.03.024"  # cited without its DOI: a bibliographic search
TIMEOUT = 0.4
BYTE_EVERY = TIMEOUT / 2  # seconds between two bytes: each read is well inside the timeout, the whole never ends


def _trickle(conn: socket.socket, data: bytes, closing: threading.Event) -> None:
    for i in range(len(data)):
        if closing.wait(BYTE_EVERY):
            return
        conn.sendall(data[i : i + 1])


def status_line_trickle(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """Not even the status line arrives in time: 'HTTP/1.1 200 OK' a byte at a time, then headers."""
    _trickle(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Pad: a\r\n" * 1000, closing)


def header_trickle(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """The status line at once, then one endless header, a byte at a time."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    _trickle(conn, b"X-Padding: " + b"a" * 10_000, closing)


def short_header_trickle(conn: socket.socket, head: bytes, closing: threading.Event) -> None:
    """Eight header bytes BYTE_EVERY apart (8 x BYTE_EVERY = 4 x TIMEOUT), then a complete answer."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    _trickle(conn, b"X-Pad: a", closing)
    conn.sendall(b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")


TRICKLES: dict[str, Behaviour] = {"status line": status_line_trickle, "headers": header_trickle}


@pytest.fixture(params=list(TRICKLES), ids=list(TRICKLES))
def trickling(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    with RawServer(TRICKLES[request.param]) as server:
        yield server


def test_crossref_trickling_its_headers_is_cut_off_at_the_timeout(trickling: RawServer, tmp_path: Path) -> None:
    from kratomref.services.crossref import CrossrefService

    options = Options(crossref_url=trickling.url, doi_url=trickling.url, timeout=TIMEOUT, max_retries=2)
    cache = Cache(tmp_path / "cache")
    started = time.monotonic()
    try:
        service = CrossrefService(crossref_settings(options), cache)
        dois = service.resolve_dois([A, B])
        searches = service.search({"lee2012": "Lee 2012 Human umbilical cord blood-derived mesenchymal"})
    finally:
        cache.close()
    elapsed = time.monotonic() - started
    answers = [(r.status, r.reason) for r in dois.values()] + [(r.status, r.reason) for r in searches.values()]
    assert answers == [(Lookup.UNVERIFIED, f"Crossref timed out after {TIMEOUT:g} s")] * 3
    # A batch, two single look-ups behind the circuit breaker and one search probe: about 4 timeouts.
    # Without a total deadline each request would go on for the 30 s the server keeps trickling.
    assert elapsed < 10 * TIMEOUT, f"the look-ups took {elapsed:.1f} s with a {TIMEOUT:g} s timeout"


def test_doi_org_trickling_its_headers_is_cut_off_at_the_timeout(trickling: RawServer) -> None:
    from kratomref.services.doiorg import keep_deadlines, lookup_handle

    with keep_deadlines(httpx2.Client()) as client:
        started = time.monotonic()
        answer = lookup_handle(client, trickling.url, A, TIMEOUT)
        elapsed = time.monotonic() - started
    assert answer.status is Lookup.UNVERIFIED
    assert answer.reason == f"doi.org timed out after {TIMEOUT:g} s"
    assert elapsed < 3 * TIMEOUT, f"{elapsed:.1f} s"


def test_the_archive_trickling_its_headers_is_cut_off_at_the_timeout(trickling: RawServer) -> None:
    import requests

    from kratomref.services.archive import lookup_snapshot

    started = time.monotonic()
    answer = lookup_snapshot(requests.Session(), trickling.url, "https://example.org/gone", "2019", timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert not answer.answered  # asked again next time, never "no archived copy"
    assert elapsed < 3 * TIMEOUT, f"{elapsed:.1f} s"


def test_a_plain_httpx_client_outlives_the_deadline_and_a_kept_one_does_not() -> None:
    """Why keep_deadlines exists: httpx's own timeout bounds each read, so headers that trickle for 4 x TIMEOUT
    pass a read timeout of 1.5 x TIMEOUT; the kept client ends the request at the TIMEOUT deadline."""
    from kratomref.services.doiorg import bounded_get, keep_deadlines

    with RawServer(short_header_trickle) as server:
        with httpx2.Client() as plain:
            started = time.monotonic()
            with pytest.raises(httpx2.TimeoutException):  # only noticed once the whole answer is in
                bounded_get(plain, server.url, time.monotonic() + TIMEOUT, timeout=3 * BYTE_EVERY)
            plain_elapsed = time.monotonic() - started
        with keep_deadlines(httpx2.Client()) as kept:
            started = time.monotonic()
            with pytest.raises(httpx2.TimeoutException):
                bounded_get(kept, server.url, time.monotonic() + TIMEOUT, timeout=3 * BYTE_EVERY)
            kept_elapsed = time.monotonic() - started
    assert plain_elapsed > 7 * BYTE_EVERY, plain_elapsed
    assert kept_elapsed < 2 * TIMEOUT, kept_elapsed


def test_the_cli_run_against_a_trickling_crossref_ends_with_the_timeout(trickling: RawServer, tmp_path: Path) -> None:
    """The attack of issue 17: a short --timeout against a server trickling its headers (a byte every half
    timeout, so no single read times out) ends in seconds, exit 3."""
    pytest.importorskip("kratomref.cli")
    from kratomref.cli import main

    bib = tmp_path / "refs.bib"
    bib.write_text(
        bibtex_entry("sadasivan2012", RECORDS[A]) + bibtex_entry("lee2012", RECORDS[D], with_doi=False),
        encoding="utf-8",
    )
    started = time.monotonic()
    result = CliRunner().invoke(
        main,
        ["check", str(bib), "--crossref-url", trickling.url, "--doi-url", trickling.url,
         "--archive-url", trickling.url, "--cache-dir", str(tmp_path / "c"), "--timeout", f"{TIMEOUT:g}",
         "--format", "json"],
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 3, result.output
    assert f"timed out after {TIMEOUT:g} s" in result.output
    assert "Traceback" not in result.output
    assert elapsed < 30 * TIMEOUT, f"--timeout {TIMEOUT:g} let the run go on for {elapsed:.0f} s"
