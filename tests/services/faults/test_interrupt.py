"""Stopping a run (Ctrl-C, or CI cancelling a job with SIGTERM) while it waits on a slow server: it exits
promptly with a short message and no traceback, and the cache file stays consistent."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from fake_crossref import RECORDS, FakeCrossref, bibtex_entry
from servers import HttpServer, Reply, Request

from kratomref.check import check
from kratomref.options import Options

CACHED = "10.1371/journal.pone.0033693"  # resolved by an earlier run, so the cache holds something
PENDING = ("10.1038/srep16696", "10.1002/jor.1100150407")  # the slow server sits on these
SERVER_DELAY = 30.0  # longer than the test would ever wait
PROMPT = 5.0  # seconds from the signal to the process having exited


def slow_for_pending(request: Request) -> Reply | None:
    """Sits on any request, single or batched, that names a pending DOI, however the service encodes it."""
    target = unquote(unquote(request.target)).lower()
    if any(doi in target for doi in PENDING):
        return Reply(200, "{}", {"Content-Type": "application/json"}, delay=SERVER_DELAY)
    return None


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["Ctrl-C (SIGINT)", "CI cancel (SIGTERM)"]
)
def test_an_interrupted_run_exits_promptly_and_leaves_the_cache_consistent(
    sig: signal.Signals, code: int, tmp_path: Path
) -> None:
    for module in ("kratomref.selection", "kratomref.config", "kratomref.rules.crossref"):
        pytest.importorskip(module, reason=f"{module} has not landed yet")
    cache_dir = tmp_path / "cache"
    first = tmp_path / "first.bib"
    first.write_text(bibtex_entry("cached", RECORDS[CACHED]), encoding="utf-8")
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "\n".join(bibtex_entry(f"ref{i}", RECORDS[doi]) for i, doi in enumerate((CACHED, *PENDING))),
        encoding="utf-8",
    )

    with HttpServer(FakeCrossref(fault=slow_for_pending)) as server:
        check(Options(paths=(str(first),), crossref_url=server.url, doi_url=server.url,
                      cache_dir=str(cache_dir), archive=False, today=dt.date(2026, 11, 25)))
        cache_file = cache_dir / "cache.sqlite3"
        assert cache_file.exists()
        already = len(server.requests)

        process = subprocess.Popen(
            [sys.executable, "-m", "kratomref", "check", str(bib), "--crossref-url", server.url,
             "--doi-url", server.url, "--cache-dir", str(cache_dir), "--timeout", "60", "--no-archive",
             "--today", "2026-11-25"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        try:
            deadline = time.monotonic() + 30
            while len(server.requests) == already and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.05)
            assert process.poll() is None, f"the run ended before it was interrupted: {process.communicate()}"
            assert len(server.requests) > already, "the run never reached the slow server"
            time.sleep(0.3)  # let it settle into waiting on the answer
            sent = time.monotonic()
            process.send_signal(sig)
            try:
                _, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _stdout, stderr = process.communicate()
                pytest.fail(f"still running 30 s after {sig.name}; stderr: {stderr[-2000:]}")
            elapsed = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert elapsed < PROMPT, f"took {elapsed:.1f} s to exit after {sig.name}"
    assert process.returncode == code, (process.returncode, stderr[-2000:])
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "interrupted" in stderr.lower(), stderr
    assert len(stderr.splitlines()) <= 5, f"a wall of text on {sig.name}: {stderr[-3000:]}"
    with sqlite3.connect(cache_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0] >= 1, "the earlier look-up was lost"
