"""Real papers committed as PDF beside their LaTeX source (../shared/pdfs): what the PDF gives vs what the source cites.

Each directory under the `shared` directory's pdfs/ holds one paper: its PDF, its .tex (or pandoc .md) and its .bib,
copied unchanged from a public repository (see SOURCES.md there). The source's cited entries are the truth: every
one should be found in the PDF's reference list, by title, and by DOI where the entry has one. Run this file as a
script for the table in bench/RESULTS.md.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from kratomref import readers
from kratomref.model import Reference
from kratomref.readers import pdf

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "pdfs"
TITLE_MATCH = 90  # rapidfuzz partial_ratio of a source title against a PDF reference's text (line breaks, accents)
FOUND_SHARE = 0.9  # of the source's cited entries, found as PDF references (one list item each)
TITLE_SHARE = 0.8  # of the source's titles, found in the PDF's reference list
RESOLVED_SHARE = 0.8  # of the PDF's in-text citations, tied to one of its references

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no PDF corpus at {CORPUS} (it is in ../shared beside "
                                                             "the clone)")


@dataclass(frozen=True)
class Comparison:
    paper: str
    pages: int
    source_entries: int  # entries the source cites (its .bib's cited entries, or its \bibitems)
    pdf_references: int
    titles: int  # source entries with a title
    titles_matched: int
    dois: int  # source entries with a DOI that the PDF prints
    dois_matched: int
    source_citations: int  # citation commands in the source (one per key)
    pdf_citations: int
    pdf_citations_resolved: int
    problems: tuple[str, ...]


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]+", " ", "".join(c for c in text if not unicodedata.combining(c)).lower()).strip()


def _source(directory: Path) -> tuple[list[Reference], int]:
    """The entries the paper's source cites and the number of its citations."""
    for tex in sorted(directory.rglob("*.tex")):
        document = readers.expand([readers.read(str(tex))])[0]
        cited = readers.cited_entries_only(document)
        if cited.references:
            return list(cited.references), len(cited.citations)
    # A pandoc paper whose .bib is passed on the command line: the entries whose keys the Markdown cites.
    markdown = "\n".join(path.read_text(encoding="utf-8") for path in directory.rglob("*.md"))
    keys = set(re.findall(r"@([\w:.-]+)", markdown))
    entries = [ref for bib in sorted(directory.rglob("*.bib")) for ref in readers.read(str(bib)).references
               if ref.key in keys]
    return entries, len(re.findall(r"(?<![\w])@[\w:.-]+", markdown))


def compare(directory: Path) -> Comparison:
    (paper,) = [path for path in sorted(directory.rglob("*.pdf")) if path.name == "paper.pdf"][:1]
    document = pdf.read(str(paper))
    entries, source_citations = _source(directory)
    raws = [_plain(ref.raw) for ref in document.references]
    titled = [ref for ref in entries if ref.title]
    titles_matched = sum(1 for ref in titled
                         if any(fuzz.partial_ratio(_plain(ref.title or ""), raw) >= TITLE_MATCH for raw in raws))
    # A style may leave a .bib's DOI out: only the DOIs the PDF prints (anywhere, line breaks aside) count.
    extraction = pdf.extract(str(paper))
    printed = re.sub(r"\s+", "", " ".join(line.text for line in extraction.lines)).lower()
    with_doi = [ref for ref in entries if ref.doi and ref.doi.lower() in printed]
    references_text = " ".join(ref.raw.lower() for ref in document.references)
    dois_matched = sum(1 for ref in with_doi if (ref.doi or "").lower() in references_text)
    return Comparison(
        paper=directory.name.replace("__", "/"),
        pages=int(document.meta.get("pdf-page-count", "0")),
        source_entries=len(entries),
        pdf_references=len(document.references),
        titles=len(titled),
        titles_matched=titles_matched,
        dois=len(with_doi),
        dois_matched=dois_matched,
        source_citations=source_citations,
        pdf_citations=len(document.citations),
        pdf_citations_resolved=sum(1 for c in document.citations if c.resolved_key is not None),
        problems=tuple(p.message for p in document.problems),
    )


def papers() -> list[Path]:
    return sorted(path for path in CORPUS.iterdir() if path.is_dir()) if CORPUS.is_dir() else []


@pytest.mark.parametrize("directory", papers(), ids=lambda path: path.name)
def test_a_real_pdf_gives_the_references_its_source_cites(directory: Path) -> None:
    result = compare(directory)
    assert result.problems == ()
    assert result.source_entries > 0, "the source cites nothing: not a useful paper for this comparison"
    assert result.pdf_references >= FOUND_SHARE * result.source_entries, result
    assert result.pdf_references <= result.source_entries + 1, result  # an appendix read as references
    assert result.titles_matched >= TITLE_SHARE * result.titles, result
    assert result.dois_matched == result.dois, result
    assert result.pdf_citations_resolved >= RESOLVED_SHARE * result.pdf_citations, result


def table(results: list[Comparison]) -> str:
    rows = ["| paper | pages | cited in source | references from PDF | titles matched | DOIs matched "
            "| citations in source | in-text citations from PDF (tied to a reference) |",
            "|---|---|---|---|---|---|---|---|"]
    rows += [f"| {r.paper} | {r.pages} | {r.source_entries} | {r.pdf_references} | {r.titles_matched}/{r.titles} "
             f"| {r.dois_matched}/{r.dois} | {r.source_citations} | {r.pdf_citations} ({r.pdf_citations_resolved}) |"
             for r in results]
    return "\n".join(rows)


if __name__ == "__main__":
    print(table([compare(path) for path in papers()]))
    sys.exit(0)
