"""Every report format is written a chunk of lines at a time, with the bytes of the whole report, and the
memory it takes to write one does not grow with the number of references (JSON, SARIF, GitHub, Markdown)."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kratomref.cli import main
from kratomref.doi import normalise_doi
from kratomref.model import Report, Severity
from kratomref.reports import FORMATS, renderers, stream, writers
from kratomref.reports import json as json_report
from kratomref.reports import sarif as sarif_report
from kratomref.reports.sanitize import json_text

from . import sample

GOLDEN = Path(__file__).parent / "golden"
EXTENSIONS = {"text": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "github": "github.txt",
              "markdown": "md"}


class _Recording(io.StringIO):
    """A stream that remembers each write."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []

    def write(self, text: str, /) -> int:
        self.pieces.append(text)
        return super().write(text)


class _Counting:
    """A stream that keeps nothing of what it is given but its length."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str, /) -> int:
        self.size += len(text)
        return len(text)


def _redacted(url: str) -> str:
    """The sample's URLs with their secrets as the reports must show them."""
    return re.sub(r"api_key=[^&]*", "api_key=REDACTED", re.sub(r"://[^@/]*@", "://REDACTED@", url))


def _whole_json(document: dict[str, Any]) -> str:
    """The JSON report as it was rendered before it streamed: the whole document dumped at once."""
    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_written_in_chunks_of_whole_lines_with_the_bytes_of_the_whole_report(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = sample.report(600)
    monkeypatch.setattr(stream, "CHUNK", 4096)
    # SARIF's rule catalogue is one piece, whatever the number of references: the sample's own is short
    monkeypatch.setattr("kratomref.rules.RULES", (sample.PLACEHOLDER, sample.GENERIC, sample.FORM))
    rendered = renderers()[fmt](report)
    out = _Recording()
    writers()[fmt](report, out)
    assert out.getvalue() == rendered
    assert all(piece.endswith("\n") for piece in out.pieces)
    # a chunk at a time (a chunk's worth of lines, and at most one batch of encoded items more), never the
    # report at once
    assert len(out.pieces) >= 3 and len(rendered) > 30_000
    assert max(len(piece) for piece in out.pieces) <= 4096 + 64_000


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
@pytest.mark.parametrize("chunk", [1, 200, stream.CHUNK])
def test_each_format_renders_the_committed_golden_report(fmt: str, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # the golden files are the reports as they were rendered whole, before any format streamed; the rule
    # catalogue SARIF lists is the sample's own, so that a new rule does not change the golden
    monkeypatch.setattr("kratomref.rules.RULES", (sample.PLACEHOLDER, sample.GENERIC, sample.FORM))
    monkeypatch.setattr(stream, "CHUNK", chunk)  # a chunk boundary after every line, or every few lines
    expected = (GOLDEN / f"sample.{EXTENSIONS[fmt]}").read_bytes().decode("utf-8")
    out = io.StringIO()
    writers()[fmt](sample.report(6), out)
    written = out.getvalue()
    if fmt == "junit":  # ElementTree names the locale's encoding in the declaration
        declaration = ET.tostring(ET.Element("x"), encoding="unicode", xml_declaration=True).partition("\n")[0]
        expected = declaration + expected[expected.index("\n"):]
    assert written == expected


def test_json_report_is_the_document_a_reader_expects() -> None:
    report = sample.report(8, hostile=False)
    data = json.loads(json_report.render(report))
    # the document built here from the report, key by key, as the README's "JSON report" section describes it
    expected_refs = []
    for result in report.results:
        ref = result.reference
        urls = [_redacted(url) for url in ref.urls]
        expected_refs.append({
            "key": ref.key, "file": ref.location.file, "line": ref.location.line, "type": ref.type,
            "title": ref.title, "authors": [str(a) for a in ref.authors], "year": ref.year,
            "doi": normalise_doi(ref.doi), "doi_as_written": ref.doi, "url": urls[0] if urls else None, "urls": urls,
            "verdict": result.verdict.value, "reasons": list(result.reasons),
            "matched": dict(result.matched) if result.matched is not None else None,
            "confirmed_by": result.confirmed_by,
        })
        if ref.location.page is not None:
            expected_refs[-1] |= {"page": ref.location.page, "page_line": ref.location.page_line}
    assert data["references"] == expected_refs
    assert [(f["code"], f["file"], f["line"], f["key"], f["message"]) for f in data["findings"]] == [
        (f.rule.code, f.location.file, f.location.line, f.location.key, f.message) for f in report.findings
    ]
    assert data["citations"] == [
        {"file": "paper.md", "line": 1, "text": "[@key0]", "target": "key0", "style": "key", "resolved": "key0"},
        {"file": "paper.md", "line": 1, "text": "[@nokey]", "target": "nokey", "style": "key", "resolved": None},
    ]
    assert data["documents"] == [{"file": d.path, "format": d.format} for d in report.documents]
    summary = data["summary"]
    assert summary["references"] == len(report.results) == len(data["references"])
    assert summary["citations"] == 2 and summary["unverified_checks"] == 3
    assert summary["errors"] == report.count(Severity.ERROR) and summary["exit_code"] == report.exit_code


@pytest.mark.parametrize("n", [0, 1, 7, 250])
def test_streamed_json_and_sarif_are_the_whole_documents_dumped_at_once(n: int) -> None:
    for fail_on in (Severity.ERROR, None):
        report = sample.report(n, fail_on=fail_on)
        assert json_report.render(report) == _whole_json(json_report.as_dict(report))
        assert sarif_report.render(report) == _whole_json(sarif_report.as_dict(report))
    empty = Report("1.0", (), (), ())
    assert json.loads(json_report.render(empty))["references"] == []
    assert json.loads(sarif_report.render(empty))["runs"][0]["results"] == []


def test_a_key_repeated_in_another_file_is_one_member_of_sarif_confirmed_by() -> None:
    # as a dict keeps it: the first place, the last value
    confirmed = json.loads(sarif_report.render(sample.report(4)))["runs"][0]["properties"]["confirmedBy"]
    assert list(confirmed) == ["key2", "key3", "key1"] and confirmed["key1"] == "link"


def test_junit_counts_in_the_opening_tags_are_the_cases_below_them() -> None:
    root = ET.fromstring(renderers()["junit"](sample.report(40, fail_on=Severity.WARNING)))
    for suite in root:
        cases = list(suite)
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == sum(len(case.findall("failure")) for case in cases)
        assert int(suite.get("errors", "")) == sum(len(case.findall("error")) for case in cases)
        assert int(suite.get("skipped", "")) == sum(len(case.findall("skipped")) for case in cases)
    assert int(root.get("tests", "")) == sum(int(s.get("tests", "")) for s in root) > 40


def _peak_writing(fmt: str, report: Report) -> tuple[int, int]:
    """The peak memory traced while writing the report, and the length of what was written."""
    out = _Counting()
    tracemalloc.start()
    try:
        writers()[fmt](report, out)
        return tracemalloc.get_traced_memory()[1], out.size
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "markdown"])
def test_writing_a_report_four_times_as_long_takes_no_more_memory(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "CHUNK", 4096)  # chunks far shorter than either report
    small, large = sample.report(400), sample.report(1600)
    _peak_writing(fmt, sample.report(2))  # the format's module and its regular expressions, loaded
    (small_peak, small_size), (large_peak, large_size) = _peak_writing(fmt, small), _peak_writing(fmt, large)
    # the whole document held at once would grow the peak by at least the output's growth
    assert large_peak - small_peak < (large_size - small_size) // 10


def test_the_cli_streams_each_format_to_stdout_and_to_a_file_with_the_same_bytes(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    entries = [
        f"@article{{key{i},\n  title = {{TODO: title {i} \u202e with https://u:p@example.org/?token=t}},\n"
        f"  author = {{M\u00fcller, H.}},\n  year = {{20{i:02d}}},\n  doi = {{https://doi.org/10.1000/x{i}}},\n}}\n"
        for i in range(300)
    ]
    bib.write_text("".join(entries), encoding="utf-8")
    runner = CliRunner()
    for fmt in EXTENSIONS:
        target = tmp_path / f"report.{fmt}"
        args = ["check", "--offline", "--isolated", "--no-cache", "--no-color", "--format", fmt, str(bib)]
        printed = runner.invoke(main, args)
        written = runner.invoke(main, [*args, "-o", str(target)])
        assert printed.exit_code == written.exit_code == 1, printed.output
        assert printed.stdout_bytes == target.read_bytes()
        assert b"u:p@" not in printed.stdout_bytes and b"token=t" not in printed.stdout_bytes
        if fmt in ("json", "sarif"):
            assert len(json.loads(printed.stdout_bytes)["references" if fmt == "json" else "runs"]) >= 1
