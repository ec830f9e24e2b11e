"""Crossref through the API services' one HTTP layer (services/http.py): the requests habanero sent, the
environment's proxy and CA bundle (the variables the link checker reads), Retry-After in both of its forms,
and no habanero loaded by a look-up."""

from __future__ import annotations

import email.utils
import json
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import local_server
import pytest
from crossref_server import RECORDS, FakeCrossref, Server, _Handler, serve

from kratomref.check import crossref_settings
from kratomref.model import Lookup
from kratomref.options import Options
from kratomref.services.cache import Cache
from kratomref.services.crossref import CrossrefService
from kratomref.services.http import parse_retry_after

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "proxy"))
from proxy_farm import ForwardProxy

A, B = sorted(RECORDS)[:2]
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
                   "NO_PROXY", "no_proxy")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def crossref_service(options: Options, cache: Cache) -> CrossrefService:
    return CrossrefService(crossref_settings(options), cache)


def test_the_requests_are_the_ones_habanero_sent(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    """Batch, single look-up, agency and search: the paths and query strings habanero 2.9 built for the
    same calls (recorded from the code this replaced), so that Crossref sees no change."""
    odd = "10.9999/nothing?x#y%z"  # a DOI with characters a URL gives meaning to
    crossref.left_out_of_batches.add(B)
    service = crossref_service(options, cache)
    service.resolve_dois([A, B, odd])
    service.search({"r": "Lee umbilical cord blood Alzheimer 2012"}, {"r": "Neurobiology of Aging"})
    targets = sorted((s.kind, s.target) for s in crossref.seen if s.kind != "handle")
    quoted = {d: d.replace("/", "%2F") for d in (A, B)}
    assert targets == sorted([
        ("batch", f"/works?filter=doi%3A{quoted[A]}%2Cdoi%3A{quoted[B]}%2Cdoi%3A10.9999%2Fnothing%3Fx%23y%25z&rows=3"),
        ("single", f"/works/{B}"),
        ("single", "/works/10.9999/nothing%3Fx%23y%25z"),
        ("agency", "/works/10.9999/nothing%3Fx%23y%25z/agency"),
        ("search", "/works?rows=5&query.bibliographic=Lee+umbilical+cord+blood+Alzheimer+2012"
                   "&query.container-title=Neurobiology+of+Aging"),
    ])


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES + CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_crossref_is_asked_through_the_environments_proxy(
    crossref: FakeCrossref, cache: Cache, monkeypatch: pytest.MonkeyPatch, no_proxy_settings: None
) -> None:
    """HTTP_PROXY, as on a CI runner whose only way out is its proxy: a name only the proxy knows."""
    proxy = ForwardProxy()
    proxy.routes["api.crossref.test"] = ("127.0.0.1", int(crossref.url.rsplit(":", 1)[1]))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    try:
        options = Options(crossref_url="http://api.crossref.test", doi_url="http://api.crossref.test",
                          mailto="test@example.org", timeout=2.0, max_retries=0)
        results = crossref_service(options, cache).resolve_dois([A])
    finally:
        proxy.close()
    assert results[A].status is Lookup.FOUND, results[A]
    assert any(s.startswith("GET http://api.crossref.test/works?filter=") for s in proxy.seen), proxy.seen


@pytest.fixture
def tls_crossref(tmp_path: Path) -> Iterator[tuple[FakeCrossref, Path]]:
    """The local Crossref over https, with a self-signed certificate (the CA bundle of a company proxy)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    fake = FakeCrossref()
    server = Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    fake.url = f"https://127.0.0.1:{server.server_address[1]}"
    local_server.serve(server)
    try:
        yield fake, cert
    finally:
        local_server.stop(server)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_the_ca_bundle_the_link_checker_trusts_is_the_one_crossref_trusts(
    tls_crossref: tuple[FakeCrossref, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    no_proxy_settings: None, variable: str,
) -> None:
    fake, cert = tls_crossref
    options = Options(crossref_url=fake.url, doi_url=fake.url, mailto="test@example.org", timeout=2.0, max_retries=0)
    untrusted = crossref_service(options, Cache(tmp_path / "a", enabled=False)).resolve_dois([A])[A]
    assert untrusted.status is Lookup.UNVERIFIED and "unreachable" in (untrusted.reason or ""), untrusted
    monkeypatch.setenv(variable, str(cert))
    trusted = crossref_service(options, Cache(tmp_path / "b", enabled=False)).resolve_dois([A])[A]
    assert trusted.status is Lookup.FOUND, trusted


def test_a_ca_bundle_that_cannot_be_read_does_not_stop_the_run(
    crossref: FakeCrossref, options: Options, cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "no-such-bundle.pem"))
    assert crossref_service(options, cache).resolve_dois([A])[A].status is Lookup.FOUND


def test_retry_after_is_read_in_seconds_and_as_an_http_date() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= (parse_retry_after(in_a_minute) or 0) <= 61
    assert parse_retry_after(email.utils.formatdate(time.time() - 60, usegmt=True)) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None and parse_retry_after(None) is None


def test_an_http_date_retry_after_is_waited_out(crossref: FakeCrossref, options: Options, cache: Cache) -> None:
    """A 429 whose Retry-After is a date (as some proxies send) holds the next request back as long."""
    refused = []

    def once(seen: object) -> tuple[int, str, dict[str, str]] | None:
        if refused:
            return None
        refused.append(seen)
        return 429, "Too Many Requests", {"Retry-After": email.utils.formatdate(time.time() + 8, usegmt=True)}

    crossref.fault = once
    assert crossref_service(options, cache).resolve_dois([A])[A].status is Lookup.FOUND
    assert crossref.seen[1].at - crossref.seen[0].at >= 6.0, "the date's delay was waited out"


def test_a_lookup_loads_the_http_stack_but_not_habanero(tmp_path: Path) -> None:
    """habanero is no longer how Crossref is asked: a run that asks Crossref never imports it."""
    fake = FakeCrossref()
    server = serve(fake)
    script = (
        "import sys, json\n"
        "from kratomref.check import crossref_settings\n"
        "from kratomref.options import Options\n"
        "from kratomref.services.cache import Cache\n"
        "from kratomref.services.crossref import CrossrefService\n"
        f"options = Options(crossref_url={fake.url!r}, doi_url={fake.url!r}, mirror='none')\n"
        f"found = CrossrefService(crossref_settings(options), Cache(enabled=False)).resolve_dois([{A!r}])\n"
        "print(json.dumps([found[next(iter(found))].status.value, 'httpx2' in sys.modules,"
        " any(m.split('.')[0] == 'habanero' for m in sys.modules)]))\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                             cwd=tmp_path).stdout
    finally:
        local_server.stop(server)
    assert json.loads(out.strip().splitlines()[-1]) == ["found", True, False]
