"""A run loads the code its inputs need: a bibliography alone loads no draft reader and no rule about a draft's text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kratomref
from kratomref import rules
from kratomref.model import NO_DOCUMENT_EVIDENCE, Document, Location, Reference, TextLine
from kratomref.options import Options

INPUTS = Path(__file__).parent / "inputs"
# Modules only drafts need: the Markdown/text, PDF and Word readers and the searches for placeholder sentences;
# the claim rules, and the LaTeX reader and in-text citations they read.
DRAFT_READERS = ("kratomref.readers.text", "kratomref.readers.pdf", "kratomref.readers.docx",
                 "kratomref.rules.placeholder_search")
DRAFT_RULES = ("kratomref.rules.claims", "kratomref.readers.latex", "kratomref.readers.intext")
# kratomref's command line in a fresh interpreter; the kratomref modules it loaded, as JSON on stderr's last line.
RUN_AND_LIST = (
    "import json, sys\n"
    "from kratomref.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "finally:\n"
    "    print(json.dumps(sorted(m for m in sys.modules if m.startswith('kratomref'))), file=sys.stderr)\n"
)


def environment() -> dict[str, str]:
    """The environment of a child run: this one's, with the kratomref under test first on the path (not another
    checkout's installed copy)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(Path(kratomref.__file__).resolve().parent.parent)
    return env


def check_offline(path: Path, tmp_path: Path) -> tuple[dict[str, object], set[str]]:
    """The JSON report of an offline check of path and the modules the run loaded."""
    env = environment()
    run = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, "check", str(path), "--offline", "--isolated", "--no-cache",
         "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    assert run.returncode in (0, 1, 3), run.stderr
    return json.loads(run.stdout), set(json.loads(run.stderr.strip().splitlines()[-1]))


def test_a_bibliography_alone_loads_no_draft_reader(tmp_path: Path) -> None:
    report, loaded = check_offline(INPUTS / "placeholders.bib", tmp_path)
    codes = {(f["code"], f["key"]) for f in report["findings"]}  # type: ignore[union-attr, index]
    assert ("KR101", "smith2019") in codes, codes  # the placeholder rules ran on the fields
    assert sorted(loaded.intersection(DRAFT_READERS)) == []


def test_a_bibliography_alone_loads_no_claim_rules(tmp_path: Path) -> None:
    _, loaded = check_offline(INPUTS / "placeholders.bib", tmp_path)
    assert sorted(loaded.intersection(DRAFT_RULES)) == []


def test_a_draft_loads_the_claim_rules_and_they_report(tmp_path: Path) -> None:
    report, loaded = check_offline(INPUTS / "claims-draft.md", tmp_path)
    codes = {(f["code"], f["line"]) for f in report["findings"]}  # type: ignore[union-attr, index]
    assert {("KR504", 3), ("KR504", 5), ("KR101", 5)} <= codes, codes
    assert {"kratomref.rules.claims", "kratomref.readers.intext"} <= loaded


def test_the_document_families_judge_documents_only_and_skip_those_they_cannot_apply_to() -> None:
    """rules.DOCUMENT_FAMILIES are not imported for a document that fails their test: that must lose nothing."""
    ref = Reference(Location("refs.bib", 2, "smith2019"), title="Kratom use in adults", year="2019")
    bibliography = Document("refs.bib", "bibtex", references=(ref,))
    ctx = rules.Context(Options())
    for name, applies in rules.DOCUMENT_FAMILIES.items():
        module = rules.family(name)
        assert not hasattr(module, "judge") and not hasattr(module, "confirms"), name
        assert not applies(bibliography)
        assert list(module.judge_document(bibliography, NO_DOCUMENT_EVIDENCE, ctx)) == [], name
    draft = Document("draft.md", "markdown", references=(ref,), body=(TextLine("draft.md", 1, "Studies show it."),))
    assert all(applies(draft) for applies in rules.DOCUMENT_FAMILIES.values())


# The command line in a fresh interpreter, counting the threads it starts; on stderr's last line, as JSON, those
# threads' names and which of the thread pool and the socket modules it loaded.
RUN_AND_COUNT_THREADS = (
    "import json, sys, threading\n"
    "started = []\n"
    "start = threading.Thread.start\n"
    "def counted(thread):\n"
    "    started.append(thread.name)\n"
    "    start(thread)\n"
    "threading.Thread.start = counted\n"
    "from kratomref.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "finally:\n"
    "    loaded = sorted(m for m in ('concurrent.futures', 'socket') if m in sys.modules)\n"
    "    print(json.dumps({'threads': started, 'loaded': loaded}), file=sys.stderr)\n"
)


@pytest.mark.parametrize("cache", ["--no-cache", "--cache-dir=cache"], ids=["without a cache", "with an empty cache"])
def test_an_offline_check_starts_no_thread_and_loads_no_thread_pool_or_socket(tmp_path: Path, cache: str) -> None:
    """Offline, every look-up is answered from the cache (or says "offline"): nothing to wait for in parallel."""
    env = environment()
    run = subprocess.run(
        [sys.executable, "-c", RUN_AND_COUNT_THREADS, "check", str(INPUTS / "looked-up.bib"), "--offline",
         "--isolated", cache, "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    assert run.returncode == 3, run.stderr  # nothing failed, nothing could be checked
    reasons = {r["key"]: r["reasons"] for r in json.loads(run.stdout)["references"]}
    assert reasons == {
        "hassan2013": ["DOI 10.1016/j.neubiorev.2012.11.012 could not be checked: offline",
                       "OpenAlex could not be checked for DOI 10.1016/j.neubiorev.2012.11.012: offline"],
        "prozialeck2012": ["Crossref search could not be made: offline",
                           "OpenAlex could not be checked for a title search: offline",
                           "PubMed could not be checked for a title search: offline"],
        "fda2023": ["https://www.fda.gov/news-events/public-health-focus/fda-and-kratom could not be checked: "
                    "offline, and not in the cache"],
    }, reasons
    assert json.loads(run.stderr.strip().splitlines()[-1]) == {"threads": [], "loaded": []}


def test_a_projects_pyproject_without_kratomref_settings_is_not_parsed(tmp_path: Path) -> None:
    """Most projects' pyproject.toml configures other tools: it is passed over without loading a TOML parser."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n')
    bib = tmp_path / "references.bib"
    bib.write_text((INPUTS / "placeholders.bib").read_text(encoding="utf-8"), encoding="utf-8")
    env = environment() | {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    probe = "import sys\nfrom kratomref.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n" \
            "    print('tomllib' in sys.modules, file=sys.stderr)\n"
    run = subprocess.run([sys.executable, "-c", probe, "check", "--offline", "--no-cache", "--format", "json"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert run.returncode in (0, 1, 3), run.stderr
    assert "KR101" in {f["code"] for f in json.loads(run.stdout)["findings"]}, "the check ran"
    assert run.stderr.strip().splitlines()[-1] == "False"
    (tmp_path / "pyproject.toml").write_text('[tool.kratomref]\nignore = ["KR101"]\n')  # a table: read, obeyed
    run = subprocess.run([sys.executable, "-c", probe, "check", "--offline", "--no-cache", "--format", "json"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert "KR101" not in {f["code"] for f in json.loads(run.stdout)["findings"]}
    assert run.stderr.strip().splitlines()[-1] == "True", run.stderr
