"""An input named inside the repository that is a symbolic link out of it (committed by a pull request to
point at a secret on the runner) is not read: a KR002 problem says why, and nothing of the target reaches a
report. Links inside the repository, files named outside it and --follow-symlinks still read."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from trust_kit import User, run, write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")

SECRET_BIB = "@misc{runner-secret,\n  title = {ghs-token-value-that-must-not-leak},\n  year = {2024},\n}\n"
BIB = "@book{k,\n  title = {A Book},\n  author = {Smith, Anna},\n  year = {2020},\n  publisher = {P},\n}\n"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    return write(tmp_path / "outside" / "secret.bib", SECRET_BIB)


def test_a_link_out_of_the_repository_is_not_read(repo: Path, secret: Path) -> None:
    (repo / "refs.bib").symlink_to(secret)
    result = run("check", "--offline", "--format", "json", "refs.bib")
    assert "must-not-leak" not in result.output and "runner-secret" not in result.output
    [problem] = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "KR002"]
    assert problem["file"] == "refs.bib" and problem["severity"] == "error"
    assert "symbolic link" in problem["message"] and "outside the checked tree" in problem["message"]
    assert "--follow-symlinks" in problem["suggestion"]
    assert result.exit_code == 1


def test_a_link_through_a_linked_directory_is_not_read_either(repo: Path, secret: Path) -> None:
    (repo / "refs").symlink_to(secret.parent, target_is_directory=True)
    result = run("check", "--offline", "--format", "json", "refs/secret.bib")
    assert "must-not-leak" not in result.output


def test_the_default_target_named_by_the_repository_config_is_guarded_too(repo: Path, secret: Path) -> None:
    write(repo / "kratomref.toml", 'paths = ["refs.bib"]\n')
    (repo / "refs.bib").symlink_to(secret)
    result = run("check", "--offline", "--format", "json")
    assert "must-not-leak" not in result.output and "symbolic link" in result.output


def test_a_link_inside_the_repository_is_read(repo: Path) -> None:
    write(repo / "bib" / "real.bib", BIB)
    (repo / "refs.bib").symlink_to(repo / "bib" / "real.bib")
    result = run("check", "--offline", "--format", "json", "refs.bib")
    report = json.loads(result.stdout)
    assert [r["key"] for r in report["references"]] == ["k"]
    assert not [f for f in report["findings"] if f["code"] == "KR002"]


def test_a_file_the_user_names_outside_the_repository_is_read(repo: Path, secret: Path) -> None:
    result = run("check", "--offline", "--format", "json", str(secret))
    assert "runner-secret" in result.stdout, "naming it is the user's own choice"


def test_follow_symlinks_on_the_command_line_reads_the_link(repo: Path, secret: Path) -> None:
    (repo / "refs.bib").symlink_to(secret)
    result = run("check", "--offline", "--format", "json", "--follow-symlinks", "refs.bib")
    assert "runner-secret" in result.stdout


def test_the_users_own_config_may_follow_links(repo: Path, secret: Path, user: User) -> None:
    user.configure("follow-symlinks = true\n")
    (repo / "refs.bib").symlink_to(secret)
    assert "runner-secret" in run("check", "--offline", "--format", "json", "refs.bib").stdout


def test_the_repository_config_cannot_follow_links(repo: Path, secret: Path) -> None:
    write(repo / "kratomref.toml", "follow-symlinks = true\n")
    (repo / "refs.bib").symlink_to(secret)
    result = run("check", "--offline", "--format", "json", "refs.bib")
    assert "must-not-leak" not in result.output
    assert "cannot make kratomref follow symbolic links" in result.stderr
