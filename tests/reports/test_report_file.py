"""A report written with -o appears whole or not at all: a run stopped while writing leaves the previous file
(or none), never half a SARIF or JSON file; the file keeps its mode, and a device is written directly."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kratomref.cli import main
from kratomref.reports import json as json_report

BIB = "@book{k,\n  title = {A Book},\n  author = {Smith, Anna},\n  year = {2020},\n  publisher = {P},\n}\n"


def _run(tmp_path: Path, out: str) -> Any:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    return CliRunner().invoke(main, ["check", "--offline", "--no-cache", "-f", "json", "-o", out, str(bib)])


def test_a_run_stopped_while_writing_leaves_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report.json"
    out.write_text('{"previous": true}\n', encoding="utf-8")
    real_write = json_report.write

    def stopped(report: Any, handle: Any) -> None:
        handle.write('{\n  "schema_version": 2,\n')  # the first chunk, then the run is stopped
        raise KeyboardInterrupt

    monkeypatch.setattr(json_report, "write", stopped)
    result = _run(tmp_path, str(out))
    assert result.exit_code != 0
    assert json.loads(out.read_text(encoding="utf-8")) == {"previous": True}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    monkeypatch.setattr(json_report, "write", real_write)
    assert _run(tmp_path, str(out)).exit_code == 3
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["references"] == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_report_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text("{}", encoding="utf-8")
    kept.chmod(0o640)
    _run(tmp_path, str(kept))
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    new = tmp_path / "new.json"
    _run(tmp_path, str(new))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_device_is_written_directly(tmp_path: Path) -> None:
    assert _run(tmp_path, "/dev/null").exit_code == 3
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "still the device, not replaced by a file"
