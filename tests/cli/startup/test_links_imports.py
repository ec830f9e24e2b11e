"""Judging a draft's links (--select KR3) needs neither BibTeX's reader nor bibtexparser: both load for a
bibliography's url fields only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.startup.test_startup_imports import INPUTS, RUN_AND_LIST


def test_a_drafts_links_are_judged_without_loading_the_bibtex_reader(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, "check", str(INPUTS / "links-draft.md"), "--offline", "--isolated",
         "--no-cache", "--select", "KR3", "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    assert run.returncode == 3, run.stderr  # offline: the links could not be checked
    assert json.loads(run.stdout)["findings"] == []
    loaded = set(json.loads(run.stderr.strip().splitlines()[-1]))
    assert "kratomref.rules.links" in loaded  # they were judged
    assert "kratomref.readers.bibtex" not in loaded
