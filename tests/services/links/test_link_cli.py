"""`kratomref check` over a bibliography whose links point at the local farm: what a user sees."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from link_farm import Farm

from kratomref.cli import main

# Other rule families (placeholders, entries) have their own opinion of a link to 127.0.0.1; these tests
# select the link rules only.
ENTRIES = {
    "working": ("Kratom: a specific statement", "/ok"),
    "dead": ("A withdrawn report", "/missing"),
    "moved": ("The moved report", "/moved"),
    "home": ("FDA and Kratom", "/"),
    "soft": ("A page that went away", "/soft"),
    "walled": ("A page behind a bot wall", "/challenge"),
}


def write_bib(tmp_path: Path, farm: Farm) -> Path:
    bib = tmp_path / "links.bib"
    bib.write_text(
        "".join(
            f"@online{{{key},\n  author = {{{{Kratom Agency}}}},\n  title = {{{title}}},\n  year = {{2021}},\n"
            f"  url = {{{farm.url(path)}}}\n}}\n\n"
            for key, (title, path) in ENTRIES.items()
        ),
        encoding="utf-8",
    )
    return bib


def test_check_reports_each_link_problem_on_its_line(farm: Farm, tmp_path: Path) -> None:
    bib = write_bib(tmp_path, farm)
    result = CliRunner().invoke(main, [
        "check", str(bib), "--allow-private", "--no-archive", "--timeout", "1", "--format", "json",
        "--cache-dir", str(tmp_path / "cache"), "--select", "KR3",
    ])
    assert result.exit_code == 1, result.output  # a broken link is an error
    report = json.loads(result.output)
    found = {(f["key"], f["code"]) for f in report["findings"]}
    assert found == {("dead", "KR301"), ("moved", "KR303"), ("home", "KR304"), ("soft", "KR307"),
                     ("walled", "KR306")}, found
    moved = next(f for f in report["findings"] if f["code"] == "KR303")
    assert moved["fix"] == {"field": "url", "old": farm.url("/moved"), "new": farm.other.url + "/reports/kratom"}
    assert moved["line"] == 5 + 7 * 2, "the url field of the third entry"
    verdicts = {r["key"]: r["verdict"] for r in report["references"]}
    assert verdicts["working"] == "verified", "a working specific link verifies a reference without a DOI"
    assert verdicts["walled"] == "unverified"
    assert verdicts["dead"] == verdicts["home"] == verdicts["soft"] == "problem"
    working = next(r for r in report["references"] if r["key"] == "working")
    assert working["matched"]["source"] == "link"


def test_without_allow_private_nothing_local_is_fetched(farm: Farm, tmp_path: Path) -> None:
    bib = tmp_path / "one.bib"
    bib.write_text(
        f"@online{{local,\n  author = {{{{Kratom Agency}}}},\n  year = {{2021}},\n"
        f"  title = {{Kratom: a specific statement}},\n  url = {{{farm.url('/ok')}}}\n}}\n",
        encoding="utf-8",
    )
    before = farm.counts["GET /ok"]
    result = CliRunner().invoke(main, ["check", str(bib), "--no-archive", "--select", "KR3",
                                       "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 3, result.output  # could not check: unverified, not broken
    assert "private address refused" in result.output
    assert farm.counts["GET /ok"] == before


def test_a_link_kept_only_by_accept_is_not_verified_by_a_later_run_without_it(farm: Farm, tmp_path: Path) -> None:
    bib = tmp_path / "walled.bib"
    bib.write_text(
        f"@online{{walled,\n  author = {{{{Kratom Agency}}}},\n  year = {{2021}},\n"
        f"  title = {{A page behind a bot wall}},\n  url = {{{farm.url('/challenge')}}}\n}}\n",
        encoding="utf-8",
    )
    common = ["check", str(bib), "--allow-private", "--no-archive", "--select", "KR3", "--format", "json",
              "--cache-dir", str(tmp_path / "cache")]
    accepted = json.loads(CliRunner().invoke(main, [*common, "--accept", "403"]).output)
    assert accepted["references"][0]["verdict"] == "verified"
    later = CliRunner().invoke(main, common)
    report = json.loads(later.output)
    assert report["references"][0]["verdict"] == "unverified", "the bot wall is not remembered as a working page"
    assert [f["code"] for f in report["findings"]] == ["KR306"]
    assert "Just a moment" not in json.dumps(report["references"][0].get("matched"))
