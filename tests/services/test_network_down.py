"""Could not check is never broken: on a machine whose network is down, unreachable links are unverified;
when anything answered during the run, an unreachable link is a finding (KR302)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import local_server
import pytest
from click.testing import CliRunner

from kratomref.cli import main

ENTRY = """@online{{{key},
  author = {{{{Example Agency}}}},
  title = {{{title}}},
  year = {{2025}},
  url = {{{url}}}
}}
"""


class _Page(local_server.Handler):
    def do_GET(self) -> None:
        body = b"<html><head><title>Kratom statement 2025</title></head><body><h1>Kratom</h1></body></html>"
        local_server.send_body(self, body, "text/html")

    def do_HEAD(self) -> None:  # the headers alone, without a Content-Length
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()


@pytest.fixture
def page() -> Iterator[str]:
    with local_server.running(_Page) as url:
        yield f"{url}/statements/kratom-2025"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check(bib: Path) -> tuple[int, dict[str, object]]:
    dead = f"http://127.0.0.1:{_closed_port()}"  # Crossref and doi.org: nothing listens
    result = CliRunner().invoke(main, [
        "check", str(bib), "--format", "json", "--crossref-url", dead, "--doi-url", dead, "--no-archive",
        "--allow-private", "--no-cache", "--timeout", "2", "--select", "KR3", "--today", "2026-11-25",
    ])
    return result.exit_code, json.loads(result.output)


def test_when_nothing_answers_unreachable_links_are_unverified_not_broken(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        ENTRY.format(key="a", title="Kratom statement", url="http://kratom-statement.invalid/2025")
        + ENTRY.format(key="b", title="Kratom report", url="http://kratom-report.invalid/2025/report"),
        encoding="utf-8",
    )
    code, report = _check(bib)
    assert code == 3, report
    assert [f["code"] for f in report["findings"]] == []  # type: ignore[index]
    verdicts = {r["key"]: r["verdict"] for r in report["references"]}  # type: ignore[attr-defined,index]
    assert verdicts == {"a": "unverified", "b": "unverified"}


def test_when_a_site_answers_an_unreachable_link_is_reported(tmp_path: Path, page: str) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        ENTRY.format(key="a", title="Kratom statement 2025", url=page)
        + ENTRY.format(key="b", title="Kratom report", url="http://kratom-report.invalid/2025/report"),
        encoding="utf-8",
    )
    code, report = _check(bib)
    assert code == 1, report
    findings = [(f["code"], f["key"]) for f in report["findings"]]  # type: ignore[index]
    assert ("KR302", "b") in findings
    verdicts = {r["key"]: r["verdict"] for r in report["references"]}  # type: ignore[attr-defined,index]
    assert verdicts == {"a": "verified", "b": "problem"}
