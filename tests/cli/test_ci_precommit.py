"""The pre-commit hook, run the way a user sets it up: a .pre-commit-config.yaml naming this repository (as in
docs/ci.md, here by its path and commit), then `pre-commit run --all-files`.

Offline: pre-commit builds the hook's own virtualenv and runs `pip install .` in it. Here pip is given no
index (PIP_NO_INDEX, no configuration files); the build backend comes from the setuptools wheel that
virtualenv ships, and kratomref's runtime dependencies are lent from the environment running the tests
(PYTHONPATH), so pip finds them installed instead of downloading them. What the test checks is ours: the
hook definition, that pre-commit can build and install this repository, which files it passes, and the
exit status. The fixture repository's kratomref.toml sets offline = true, so the hook itself makes no
network request either. The cases share one PRE_COMMIT_HOME and one hook repository, even in different
pytest-xdist workers, so the hook's virtualenv is built once in a test run and used by each (`pre-commit
try-repo`, which runs the same configuration, keeps its store in a temporary directory and would build it
again for every case). Skipped when git, pre-commit or virtualenv's setuptools
wheel is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
GOOD = (
    "@article{a,\n  title = {Kratom alkaloids},\n  author = {Smith, J.},\n"
    "  year = {2019},\n  doi = {10.1000/xyz}\n}\n"
)
BROKEN = "@article{b,\n title = {Broken\n"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]


def _pre_commit() -> str:
    found = shutil.which("pre-commit") or shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    return found


def _fixture_repo(root: Path, bib: str, hook_repo: Path) -> Path:
    """A user's repository: a bibliography, a file the hook must not receive, kratomref's configuration and
    pre-commit's, which names the hook at the commit of `hook_repo` (JSON is YAML)."""
    repo = root / "paper"
    repo.mkdir()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, check=True, capture_output=True,
                          text=True).stdout.strip()
    config = {"repos": [{"repo": str(hook_repo), "rev": head, "hooks": [{"id": "kratomref"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (repo / "refs.bib").write_text(bib, encoding="utf-8")
    (repo / "notes.py").write_text("print('not a reference file')\n", encoding="utf-8")
    (repo / "kratomref.toml").write_text("offline = true\nallow-unverified = true\n", encoding="utf-8")
    _commit(repo)
    return repo


@contextlib.contextmanager
def _shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The directory of this test run that pytest-xdist's workers share (a worker's own without them), held
    under a lock: the cases run in different workers, and what one builds the others use."""
    fcntl = pytest.importorskip("fcntl", reason="the workers share the hook's environment under a POSIX lock")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with (shared / "pre-commit.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield shared


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree (tracked and untracked files, not ignored ones) committed in a fresh repository: the
    commit the fixture repositories' configuration names, so that pre-commit builds the code under test,
    uncommitted changes and new files included. One per test run, so that pre-commit builds its hook once."""
    with _shared(tmp_path_factory) as shared:
        copy = shared / "hook-repo"
        if copy.is_dir():
            return copy
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO, check=True, capture_output=True, text=True,
        ).stdout.split("\0")
        partial = shared / f"hook-repo.{os.getpid()}"
        for name in filter(None, listed):
            source = REPO / name
            if source.is_file():
                (partial / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, partial / name)
        _commit(partial)
        partial.rename(copy)  # whole or not at all
        return copy


def _commit(repo: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "fixture"], cwd=repo, check=True)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's store, shared by the cases, in whichever worker they run: the first builds the hook's
    virtualenv, the next use it (pre-commit locks its store while it installs)."""
    with _shared(tmp_path_factory) as shared:
        home = shared / "pre-commit-home"
        home.mkdir(exist_ok=True)
        return home


def _offline_pip_environment() -> dict[str, str]:
    """Environment variables that make pre-commit's `pip install .` work without any package index."""
    try:
        import virtualenv.seed.wheels.embed as embedded
    except ImportError:
        pytest.skip("virtualenv (a dependency of pre-commit) is not importable here")
    wheels = Path(embedded.__file__).parent
    if not any(wheels.glob("setuptools-*.whl")):
        pytest.skip("virtualenv ships no setuptools wheel here, so kratomref cannot be built without an index")
    site = dict.fromkeys(sysconfig.get_paths()[name] for name in ("purelib", "platlib"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHONPATH"))}
    return {
        **env,
        "PIP_CONFIG_FILE": os.devnull,  # no index or find-links from the machine's pip configuration
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),  # setuptools for the isolated build of kratomref
        "PYTHONPATH": os.pathsep.join(site),  # kratomref's dependencies, already installed
    }


def _run_hook(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**_offline_pip_environment(), "PRE_COMMIT_HOME": str(home),
           "KRATOMREF_CACHE_DIR": str(repo.parent / "cache"), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [_pre_commit(), "run", "--all-files", "--verbose"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize(
    ("bib", "passes"),
    [
        pytest.param(GOOD, True, id="a sound bibliography passes the hook offline"),
        pytest.param(BROKEN, False, id="a broken entry fails the hook with its finding"),
    ],
)
def test_hook_runs_with_pre_commit(
    tmp_path: Path, hook_repo: Path, pre_commit_home: Path, bib: str, passes: bool
) -> None:
    result = _run_hook(_fixture_repo(tmp_path, bib, hook_repo), pre_commit_home)
    output = result.stdout + result.stderr
    assert (result.returncode == 0) is passes, output
    assert "kratomref" in output
    if not passes:
        assert "KR001" in output
    assert "notes.py" not in output, "the hook only receives .bib, .md and .txt files"
