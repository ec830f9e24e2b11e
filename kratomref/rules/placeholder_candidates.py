"""A placeholder's suggestion: the works a Crossref search on its sentence found, as candidates to verify."""

from __future__ import annotations

from collections.abc import Mapping

from kratomref.model import Document, DocumentEvidence, Lookup, SearchResolution

MAX_SUGGESTIONS = 3  # the issue: "up to three candidate works"


def placeholder_id(file: str, line: int) -> str:
    """Evidence key of the Crossref search for the placeholder(s) on a body line."""
    return f"placeholder:{file}:{line}"


def _candidate(work: Mapping[str, object]) -> str:
    """One candidate work: first author (et al.), year, title, journal, DOI."""
    def first(value: object) -> str:
        if isinstance(value, list):
            return str(value[0]) if value else ""
        return str(value) if value else ""

    authors = work.get("author")
    people = [a for a in authors if isinstance(a, dict)] if isinstance(authors, list) else []
    name = str(people[0].get("family") or people[0].get("name") or "") if people else ""
    if name and len(people) > 1:
        name += " et al."
    issued = work.get("issued")
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    year = parts[0][0] if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] else None
    head = f"{name} ({year})" if name and year else name or (f"({year})" if year else "")
    title = first(work.get("title"))
    pieces = [p for p in (head, f"“{title}”" if title else "", first(work.get("container-title"))) if p]
    doi = str(work.get("DOI") or "")
    return ", ".join(pieces) + (f", https://doi.org/{doi}" if doi else "")


def placeholder_suggestion(resolution: SearchResolution) -> str | None:
    """The suggestion text for a placeholder: up to three candidate works to verify, best first."""
    if resolution.status is not Lookup.FOUND or not resolution.candidates:
        return None
    listed = "; ".join(f"{n}) {_candidate(work)}"
                       for n, work in enumerate(resolution.candidates[:MAX_SUGGESTIONS], start=1))
    return ("candidate works to verify before citing (Crossref search on this sentence, best first): "
            + listed)


def placeholder_candidates(
    doc: Document, line: int, evidence: DocumentEvidence, file: str | None = None
) -> str | None:
    """The suggestion for a KR101/KR102 placeholder finding at (file, line) of doc, from the evidence the
    check gathered (a Crossref search keyed placeholder:{file}:{line}); None offline or without candidates.

    file defaults to doc.path; give it for a placeholder in a LaTeX \\input file.
    """
    found = evidence.placeholders.get(placeholder_id(file or doc.path, line))
    return None if found is None else placeholder_suggestion(found)
