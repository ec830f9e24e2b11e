"""Pass rate of kratomref's CSL rendering on the bibliography fixtures of the CSL processor test suite.

Reads `processor-tests/humans/*.txt` of the CSL test suite in place (the `shared` directory next to the
repository: ../shared/csl-test-suite; or --suite DIR), keeps the fixtures whose MODE is `bibliography`, and
renders each through kratomref.export.render.render (the function `kratomref export --to html` uses) with the
fixture's own CSL and items. The items rendered are those the fixture cites (CITATION-ITEMS or CITATIONS, in
citation order), else every INPUT item in input order. BIBENTRIES and BIBSECTION sections (none of the
bibliography fixtures at commit 13724f9 has one) would be reported as unsupported, never silently passed.

The comparison is the suite's HTML after a normalisation of markup that says the same thing: pandoc writes
<em>/<strong>/<span class="smallcaps"> where citeproc-js writes <i>/<b>/<span style="font-variant:small-caps;">,
entities are decoded, a Unicode superscript letter (ᵉ) is the letter in <sup>, white space between tags and runs
of white space are collapsed, and white space at the start or end of a <div> (which a browser does not show) is
dropped. This is more lenient than the suite's own runners, never stricter: citeproc-js's runner
(Juris-M/citeproc-test-runner, lib/templateJS.js and lib/sys.js) compares RESULT with `assert.equal` after
normalising line endings only, and pandoc's citeproc compares its CSL-JSON-HTML rendering exactly (test/Spec.hs);
neither has a rule that would pass any of the remaining failures. The runner names each failure; their causes are
in bench/RESULTS.md.

    .venv/bin/python bench/csl_suite.py [--suite DIR] [--jobs 2] [--show NAME]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kratomref.export.render import RenderError, render  # noqa: E402
from kratomref.export.styles import Style  # noqa: E402

DEFAULT_SUITE = ROOT.parent / "shared" / "csl-test-suite"
_SECTION = re.compile(r">>=+\s*([A-Z-]+)\s*=+>>\n(.*?)\n<<=+\s*\1\s*=+<<", re.DOTALL)
UNSUPPORTED = ("BIBENTRIES", "BIBSECTION")


def sections(text: str) -> dict[str, str]:
    return {name: body for name, body in _SECTION.findall(text)}


def cited_ids(fixture: dict[str, str], items: list[dict[str, Any]]) -> list[str]:
    """The ids the fixture cites, in citation order (each once), else every item's id."""
    order: list[str] = []
    if "CITATION-ITEMS" in fixture:
        for citation in json.loads(fixture["CITATION-ITEMS"]):
            order += [str(c["id"]) for c in citation]
    elif "CITATIONS" in fixture:
        # citations processed in turn: a citation with the id of an earlier one replaces it (the suite's
        # "update" fixtures), so the bibliography holds the items of each citation's last version
        latest: dict[str, list[str]] = {}
        for n, citation in enumerate(json.loads(fixture["CITATIONS"])):
            key = str(citation[0].get("citationID") or n)
            latest[key] = [str(c["id"]) for c in citation[0].get("citationItems", [])]
        for ids in latest.values():
            order += ids
    else:
        order = [str(i["id"]) for i in items]
    return list(dict.fromkeys(order))


_TAGS = [
    (re.compile(r"<em>"), "<i>"), (re.compile(r"</em>"), "</i>"),
    (re.compile(r"<strong>"), "<b>"), (re.compile(r"</strong>"), "</b>"),
    (re.compile(r'<span class="smallcaps">'), '<span style="font-variant:small-caps;">'),
    (re.compile(r'<span class="underline">'), '<span style="text-decoration:underline;">'),
    (re.compile(r'<span style="font-style:normal;">'), '<span style="font-style:normal;">'),
]


# Unicode's superscript letters (the French locale's ordinal "1ᵉʳ"): citeproc-js writes each as the letter in
# <sup>, pandoc keeps the character; a reader sees the same.
_SUPERSCRIPTS = dict(zip("ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", "abcdefghijklmnoprstuvwxyz", strict=True))


def normalise(text: str) -> str:
    for pattern, replacement in _TAGS:
        text = pattern.sub(replacement, text)
    text = html.unescape(text)
    text = "".join(f"<sup>{_SUPERSCRIPTS[c]}</sup>" if c in _SUPERSCRIPTS else c for c in text)
    text = re.sub(r">\s+<", "><", text)
    text = re.sub(r"\s+", " ", text)
    # A browser does not show white space at the start or end of a block (a <div>): citeproc-js puts the
    # space after a citation number at the start of csl-right-inline, pandoc at the end of csl-left-margin.
    text = re.sub(r"(<div[^>]*>) ", r"\1", text)
    text = re.sub(r" (</div>)", r"\1", text)
    return text.strip()


def run_fixture(path: Path) -> tuple[str, str, str, str]:
    """(name, outcome, expected, got): outcome is "pass", "fail", "error: ..." or "unsupported: ..."."""
    fixture = sections(path.read_text("utf-8"))
    name = path.stem
    expected = fixture["RESULT"]
    unsupported = [s for s in UNSUPPORTED if s in fixture]
    if unsupported:
        return name, f"unsupported: {', '.join(unsupported)}", expected, ""
    items = json.loads(fixture["INPUT"])
    by_id = {str(i["id"]): i for i in items}
    chosen = [by_id[i] for i in cited_ids(fixture, items) if i in by_id]
    with tempfile.TemporaryDirectory(prefix="csl-suite-") as folder:
        style_path = Path(folder) / "style.csl"
        style_path.write_text(fixture["CSL"], "utf-8")
        try:
            rendered = render(chosen, Style(name, style_path, name), "html")
        except RenderError as exc:
            return name, f"error: {str(exc).splitlines()[-1][:120]}", expected, ""
    got = '<div class="csl-bib-body">\n' + "".join(
        f'  <div class="csl-entry">{r.text}</div>\n' for r in rendered) + "</div>"
    return name, "pass" if normalise(got) == normalise(expected) else "fail", expected, got


def bibliography_fixtures(suite: Path) -> list[Path]:
    out = []
    for path in sorted((suite / "processor-tests" / "humans").glob("*.txt")):
        mode = sections(path.read_text("utf-8")).get("MODE", "").strip()
        if mode == "bibliography":
            out.append(path)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="the CSL test suite's directory")
    parser.add_argument("--jobs", type=int, default=2, help="pandoc runs at once")
    parser.add_argument("--show", action="append", default=[], help="print expected and got for this fixture")
    args = parser.parse_args()
    if not (args.suite / "processor-tests" / "humans").is_dir():
        print(f"no CSL test suite at {args.suite} (the shared directory next to the repository)", file=sys.stderr)
        return 2
    fixtures = bibliography_fixtures(args.suite)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_fixture, fixtures))
    elapsed = time.perf_counter() - start
    passed = sum(1 for _, outcome, _, _ in results if outcome == "pass")
    print(f"CSL test suite, MODE bibliography: {passed}/{len(results)} pass "
          f"({100 * passed / max(1, len(results)):.1f}%) in {elapsed:.1f} s")
    groups: dict[str, list[str]] = defaultdict(list)
    for name, outcome, _, _ in results:
        if outcome != "pass":
            groups[outcome].append(name)
    for outcome, names in sorted(groups.items()):
        print(f"  {outcome} ({len(names)}):")
        for name in names:
            print(f"    {name}")
    by_category = Counter(name.split("_")[0] for name, outcome, _, _ in results if outcome != "pass")
    if by_category:
        print("  failures by fixture group: " + ", ".join(f"{k} {v}" for k, v in by_category.most_common()))
    for name, _, expected, got in results:
        if name in args.show:
            print(f"\n== {name}\n-- expected\n{expected}\n-- got\n{got}\n-- normalised\n{normalise(expected)}\n"
                  f"{normalise(got)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
