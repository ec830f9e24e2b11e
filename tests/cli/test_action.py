"""The GitHub Action (action.yml at the repository's root): its check step, run by bash as a runner runs it,
writes SARIF, the job summary and the formats asked for, and hands kratomref's exit code on; no input is
pasted into the script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML (installed with mkdocs, a test dependency) reads action.yml")

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).parents[1] / "fixtures" / "web"


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def step(name: str) -> dict[str, Any]:
    return next(s for s in action()["runs"]["steps"] if s.get("name") == name)


def test_a_composite_action_with_the_documented_inputs() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    assert {"paths", "fail-on", "mailto", "formats", "upload-sarif", "version", "args"} <= set(data["inputs"])
    uses = [s.get("uses", "") for s in data["runs"]["steps"]]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)


def test_no_input_is_pasted_into_a_script() -> None:
    """${{ inputs.x }} inside `run:` would let a path or an argument inject a shell command."""
    for s in action()["runs"]["steps"]:
        assert "${{" not in s.get("run", ""), s.get("name")


def run_check_step(tmp_path: Path, **inputs: str) -> tuple[int, dict[str, str], str]:
    """Run the action's check step with bash, as a runner does, with kratomref on PATH; (bash's exit code, the
    step's outputs, the job summary)."""
    kratomref = shutil.which("kratomref", path=str(Path(sys.executable).parent))
    if kratomref is None:
        pytest.skip("the kratomref command is not installed beside this Python")
    outputs, summary = tmp_path / "output", tmp_path / "summary"
    outputs.touch()
    summary.touch()
    defaults = {k: str(v.get("default", "")) for k, v in action()["inputs"].items()}
    values = {**defaults, **inputs}
    env = {
        **os.environ,
        "PATH": f"{Path(kratomref).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
        "KRATOMREF_MAILTO": values["mailto"], "INPUT_PATHS": values["paths"], "INPUT_FAIL_ON": values["fail-on"],
        "INPUT_FORMATS": values["formats"], "INPUT_ARGS": values["args"], "OUTPUT_DIR": values["output-dir"],
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step("Check references")["run"]],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    found = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines() if "=" in line)
    return done.returncode, found, summary.read_text(encoding="utf-8") + done.stdout + done.stderr


def test_the_check_step_writes_sarif_the_summary_and_the_formats_asked_for(tmp_path: Path) -> None:
    page = tmp_path / "post.html"
    shutil.copy(PAGES / "wordpress-post.html", page)
    from kratomref.reports import FORMATS

    html = "html" in FORMATS
    code, outputs, summary = run_check_step(tmp_path, paths="post.html", formats="html json" if html else "json",
                                            args="--offline --no-cache")
    assert code == 0, summary  # the step records the code; the last step fails the job
    assert outputs["exit-code"] == "1"  # a placeholder is an error
    assert (tmp_path / outputs["sarif"]).is_file()
    assert "KR101" in summary and "**kratomref**" in summary
    report = tmp_path / "kratomref-report"
    assert (report / "kratomref.json").is_file()
    if html:
        assert (report / "kratomref.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_path_with_shell_syntax_is_a_path(tmp_path: Path) -> None:
    _, outputs, _ = run_check_step(tmp_path, paths="$(touch pwned) ;touch pwned2", args="--offline")
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    assert outputs["exit-code"] == "2"  # no such file: a usage error


def test_an_unknown_format_stops_the_step(tmp_path: Path) -> None:
    code, _, summary = run_check_step(tmp_path, paths="x.bib", formats="pdf")
    assert code == 2 and "unknown format" in summary
