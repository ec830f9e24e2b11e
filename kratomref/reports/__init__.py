"""Output formats: one module per format, each with `write(report, out)` (streamed) and `render(report) -> str`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING

from kratomref.model import Report, Verdict
from kratomref.rules.citations import UNDEFINED_CITATION

if TYPE_CHECKING:
    from kratomref.reports.stream import Out

Renderer = Callable[[Report], str]
Writer = Callable[[Report, "Out"], None]


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 error", "2 errors", "2 uncited entries": a number with the word that agrees with it."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def undefined_citations(report: Report, files: Collection[str] | None = None) -> int:
    """The in-text citations KR501 reports (in `files`, or anywhere): every format counts these.

    Not every citation without an entry: a KR503 mismatch names the entry it most likely means, and a
    bracketed number in a draft without a reference list is not known to be a citation.
    """
    return sum(
        1
        for f in report.findings
        # by name too: a code alone could be another catalogue's rule
        if f.rule.code == UNDEFINED_CITATION.code and f.rule.name == UNDEFINED_CITATION.name
        and (files is None or f.location.file in files)
    )


def confirmed_by(report: Report) -> str:
    """"Crossref 12, arXiv 3": who confirmed the verified references, most first ("" when none is)."""
    counts: dict[str, int] = {}
    for result in report.results:
        if result.verdict is Verdict.VERIFIED:
            who = result.confirmed_by or "Crossref"
            counts[who] = counts.get(who, 0) + 1
    return ", ".join(f"{who} {n}" for who, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


FORMATS = ("text", "json", "sarif", "junit", "github", "markdown", "html")


def _lazy(name: str) -> Renderer:
    def render(report: Report) -> str:
        import importlib

        module = importlib.import_module(f"kratomref.reports.{name}")
        rendered: str = module.render(report)
        return rendered

    return render


def renderers() -> dict[str, Renderer]:
    """Format name -> renderer. A format's module (and what it needs: rich for text) loads only when used."""
    return {name: _lazy(name) for name in FORMATS}


def _lazy_writer(name: str) -> Writer:
    def write(report: Report, out: Out) -> None:
        import importlib

        module = importlib.import_module(f"kratomref.reports.{name}")
        module.write(report, out)

    return write


def preload(names: Iterable[str]) -> None:
    """Import the modules of these formats' writers now (a run loads them while its links are fetched)."""
    import importlib

    for name in names:
        importlib.import_module(f"kratomref.reports.{name}")
    importlib.import_module("kratomref.reports.stream")


def writers() -> dict[str, Writer]:
    """Format name -> writer, which writes the report to a stream as it renders it, a chunk of lines at a time
    (the bytes its renderer returns), so that a report of 100,000 references is never held whole."""
    return {name: _lazy_writer(name) for name in FORMATS}
