"""An offline check answers its links from the cache, or says "offline", without loading the HTTP stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from link_farm import Farm

from kratomref.cli import main

# kratomref's command line in a fresh interpreter; the HTTP modules it loaded, named on stderr's last line.
RUN_AND_LIST = (
    "import sys\n"
    "from kratomref.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "finally:\n"
    "    print('loaded:', *sorted(m for m in ('requests', 'urllib3') if m in sys.modules), file=sys.stderr)\n"
)


def write_bib(path: Path, entries: dict[str, str]) -> Path:
    path.write_text(
        "".join(
            f"@online{{{key},\n  author = {{{{Kratom Agency}}}},\n  title = {{Kratom report {key}}},\n"
            f"  year = {{2021}},\n  url = {{{url}}}\n}}\n\n"
            for key, url in entries.items()
        ),
        encoding="utf-8",
    )
    return path


def test_an_offline_check_answers_links_without_loading_requests_or_urllib3(farm: Farm, tmp_path: Path) -> None:
    dead, unseen = farm.url("/missing"), farm.url("/ok")
    cache = tmp_path / "cache"
    common = ["--allow-private", "--no-archive", "--select", "KR3", "--cache-dir", str(cache)]
    # A run online first, so that the dead link's 404 is in the cache; the other link was never fetched.
    online = CliRunner().invoke(main, ["check", str(write_bib(tmp_path / "dead.bib", {"dead": dead})),
                                       "--timeout", "1", "--format", "json", *common])
    assert online.exit_code == 1, online.output
    bib = write_bib(tmp_path / "links.bib", {"dead": dead, "unseen": unseen})
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # not the user's own configuration
    run = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, "check", str(bib), "--offline", "--format", "json", *common],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    assert run.returncode == 1, run.stderr  # the cached broken link is an error offline too
    report = json.loads(run.stdout)
    assert {(f["key"], f["code"]) for f in report["findings"]} == {("dead", "KR301")}, report["findings"]
    verdicts = {r["key"]: r["verdict"] for r in report["references"]}
    assert verdicts == {"dead": "problem", "unseen": "unverified"}, verdicts
    assert run.stderr.strip().splitlines()[-1] == "loaded:", "an offline check loaded the HTTP stack"
