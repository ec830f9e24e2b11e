"""Problems with the input itself: files that cannot be read, entries that cannot be parsed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kratomref.model import Document, DocumentEvidence, Finding, Rule, Severity

if TYPE_CHECKING:
    from kratomref.rules import Context

PARSE_ERROR = Rule(
    "KR001",
    "parse-error",
    Severity.ERROR,
    "An entry or a part of the file could not be parsed.",
    """What it does
  Reports a block of the input that the reader could not parse: an unbalanced brace in a BibTeX
  entry, a duplicate key, a malformed CSL-JSON item or RIS record. The rest of the file is still checked.

Why it matters
  A reference that cannot be parsed is silently missing from the bibliography the reader builds:
  LaTeX, pandoc and reference managers will drop it or stop.

Example
  @article{smith2019, title = {An unclosed title, year = 2019}

How to fix
  Open the file at the line given and repair the syntax (balance braces and quotes, add commas
  between fields, give every entry a unique key).""",
)

UNREADABLE_INPUT = Rule(
    "KR002",
    "unreadable-input",
    Severity.ERROR,
    "The input file is empty, binary, too large or in an unknown encoding.",
    """What it does
  Reports an input that kratomref could not read as text: an empty file, a binary file, a file
  over the size limit, or text in an encoding it could not decode.

Why it matters
  Nothing in such a file was checked; a CI gate that stayed green would be lying.

Example
  kratomref check figure.png

How to fix
  Point kratomref at the bibliography or draft itself, saved as UTF-8 text.""",
)

RULES = (PARSE_ERROR, UNREADABLE_INPUT)
_BY_CODE = {r.code: r for r in RULES}


def judge_document(
    doc: Document, evidence: DocumentEvidence, ctx: Context
) -> Iterator[Finding]:
    from kratomref.rules import find_rule

    for problem in doc.problems:
        rule = _BY_CODE.get(problem.code) or find_rule(problem.code) or PARSE_ERROR
        yield Finding(rule, problem.location, problem.message, problem.suggestion)
