"""Links checked through a real forward proxy (HTTP_PROXY / HTTPS_PROXY), as on a CI runner: a host the
proxy cannot reach is unreachable when the proxy reaches others, and unverified when nothing gets through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from proxy_farm import ForwardProxy, Origin, Reply, closed_port, page

from kratomref.check import link_settings
from kratomref.cli import main
from kratomref.model import LinkResult, LinkStatus
from kratomref.options import Options
from kratomref.services.cache import Cache
from kratomref.services.links import LinkChecker

WORKS = "http://www.drugabuse.gov/publications/kratom"
HOME = "http://www.drugabuse.gov/"
NEW_HOME = "http://nida.nih.gov/"
# Names the proxy has no route to (its DNS failure: 502), answers 504 or 503 for, or resets.
NO_SUCH_HOST = "kratom-archive.org"
TIMES_OUT = "slow-gateway.org"
UNAVAILABLE = "busy-upstream.org"
RESETS = "reset-tunnel.org"


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    """drugabuse.gov (whose home page moved to nida.nih.gov) and nida.nih.gov behind a proxy that every
    request goes through: NO_PROXY is unset, so even a name that is on this machine is the proxy's."""
    old = Origin({
        "/": Reply(301, "", {"Location": NEW_HOME}),
        "/publications/kratom": Reply(200, page("Kratom DrugFacts")),
        "/maintenance": Reply(503, page("Down for maintenance")),
    })
    new = Origin({"/": Reply(200, page("National Institute on Drug Abuse (NIDA)"))})
    running = ForwardProxy({"www.drugabuse.gov": old, "nida.nih.gov": new})
    running.answers.update({TIMES_OUT: 504, UNAVAILABLE: 503})
    running.reset.add(RESETS)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, running.url)
    yield running
    running.close()
    old.close()
    new.close()


def check(urls: list[str], tmp_path: Path) -> dict[str, LinkResult]:
    options = Options(timeout=3.0, max_retries=1, archive=False, use_cache=False, host_interval=0.0)
    return LinkChecker(link_settings(options), Cache(tmp_path / "cache", enabled=False)).check(urls)


UNREACHABLE_BEHIND_PROXY = {
    f"http://{NO_SUCH_HOST}/report": "HTTP 502 from the proxy",
    f"https://{NO_SUCH_HOST}/report": "HTTP 502 to CONNECT",
    f"http://{TIMES_OUT}/report": "HTTP 504 from the proxy",
    f"https://{TIMES_OUT}/report": "HTTP 504 to CONNECT",
    f"http://{UNAVAILABLE}/report": "HTTP 503 from the proxy",
    f"https://{UNAVAILABLE}/report": "HTTP 503 to CONNECT",
    f"https://{RESETS}/report": "reset",
    f"http://{RESETS}/report": "reset",
}


def test_a_host_the_proxy_cannot_reach_is_unreachable_when_the_proxy_reaches_others(
    proxy: ForwardProxy, tmp_path: Path
) -> None:
    results = check([WORKS, *UNREACHABLE_BEHIND_PROXY], tmp_path)
    assert results[WORKS].status is LinkStatus.OK, results[WORKS]
    for url, words in UNREACHABLE_BEHIND_PROXY.items():
        result = results[url]
        assert result.status is LinkStatus.UNREACHABLE, (url, result)
        assert "the proxy could not reach the host" in (result.reason or "") and words in (result.reason or ""), \
            (url, result.reason)
    assert f"CONNECT {NO_SUCH_HOST}:443" in proxy.seen and f"GET http://{NO_SUCH_HOST}/report" in proxy.seen, \
        "the requests went through the proxy"


def test_when_nothing_gets_through_the_proxy_the_links_stay_unverified(proxy: ForwardProxy, tmp_path: Path) -> None:
    urls = [f"http://{NO_SUCH_HOST}/report", f"https://{TIMES_OUT}/report", f"https://{RESETS}/report"]
    results = check(urls, tmp_path)
    for url in urls:
        assert results[url].status is LinkStatus.UNVERIFIED, (url, results[url])
        assert "no host answered through the proxy" in (results[url].reason or ""), results[url].reason


def test_a_proxy_that_cannot_be_reached_leaves_links_unverified(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port()}")
    results = check([WORKS, f"https://{NO_SUCH_HOST}/report"], tmp_path)
    for url, result in results.items():
        assert result.status is LinkStatus.UNVERIFIED, (url, result)
        assert "proxy" in (result.reason or ""), result.reason


def test_a_sites_own_503_through_the_proxy_is_the_sites_answer(proxy: ForwardProxy, tmp_path: Path) -> None:
    """The proxy relays the site's 503 (it has no Proxy-Status header): the site answered, so it is judged
    as it would be without a proxy, not as a host the proxy could not reach."""
    url = "http://www.drugabuse.gov/maintenance"
    result = check([url], tmp_path)[url]
    assert result.status is LinkStatus.BROKEN and result.http_status == 503, result


def run_check(tmp_path: Path, entries: dict[str, tuple[str, str]]) -> dict[str, Any]:
    bib = tmp_path / "refs.bib"
    bib.write_text("".join(
        f"@online{{{key},\n  author = {{{{National Institute on Drug Abuse}}}},\n  title = {{{title}}},\n"
        f"  year = {{2020}},\n  url = {{{url}}}\n}}\n\n" for key, (title, url) in entries.items()
    ), encoding="utf-8")
    result = CliRunner().invoke(main, [
        "check", str(bib), "--no-archive", "--no-cache", "--timeout", "3", "--format", "json", "--select", "KR3",
    ])
    report: dict[str, Any] = json.loads(result.stdout)
    report["exit_code"] = result.exit_code
    return report


def test_a_home_page_that_moved_to_another_site_is_moved_and_generic(proxy: ForwardProxy, tmp_path: Path) -> None:
    report = run_check(tmp_path, {
        "nida": ("Kratom and the brain", HOME),
        "dead": ("Kratom use in the United States", f"http://{NO_SUCH_HOST}/report"),
        "facts": ("Kratom DrugFacts", WORKS),
    })
    found = {(f["key"], f["code"]): f for f in report["findings"]}
    assert set(found) == {("nida", "KR303"), ("nida", "KR304"), ("dead", "KR302")}, sorted(found)
    moved = found["nida", "KR303"]
    assert NEW_HOME in moved["message"] and NEW_HOME in moved["suggestion"], moved
    assert moved["fix"] == {"field": "url", "old": HOME, "new": NEW_HOME}
    assert "site:nida.nih.gov" in found["nida", "KR304"]["suggestion"], "search the site where it is now"
    assert "the proxy could not reach the host" in found["dead", "KR302"]["message"]
    assert report["exit_code"] == 1


def test_through_a_proxy_that_reaches_nothing_no_link_is_reported_unreachable(proxy: ForwardProxy,
                                                                              tmp_path: Path) -> None:
    report = run_check(tmp_path, {
        "dead": ("Kratom use in the United States", f"http://{NO_SUCH_HOST}/report"),
        "slow": ("Kratom and opioids", f"https://{TIMES_OUT}/report"),
    })
    assert not [f for f in report["findings"] if f["code"] in ("KR301", "KR302")], report["findings"]
    assert {r["verdict"] for r in report["references"]} == {"unverified"}
    assert report["exit_code"] == 3
