"""A placeholder's suggestion: the works a Crossref search on its sentence found, as candidates to verify."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kratomref.model import Document, DocumentEvidence, Lookup, SearchResolution, TextLine

if TYPE_CHECKING:
    from kratomref.rules.claims import Sentence

MAX_SUGGESTIONS = 3  # the issue: "up to three candidate works"
# With the semantic extra, the candidates are ordered by how close each one's title (with its subjects and
# abstract when Crossref's record has them) is in meaning to the placeholder's context (kratomref.semantic):
# its paragraph, PARAGRAPH_SHARE of it, and its sentence, the rest; less POSITION_WEIGHT for each place
# Crossref put it lower, so that Crossref's order breaks near-ties. Chosen by bench/placeholder_rank_bench.py
# on half A of the real-world corpus (the paragraph alone did as well there; the sentence keeps a say for a
# paragraph whose placeholders stand for different works).
PARAGRAPH_SHARE = 0.9
POSITION_WEIGHT = 0.005


class Spans(Protocol):
    """Where a text holds placeholders: for a source by default, of every kind with kinds=None. It is
    rules.placeholders.placeholder_spans, handed in by the rule that asks (that module imports this one)."""

    def __call__(self, text: str, kinds: frozenset[str] | None = ...) -> list[tuple[int, int]]: ...


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


def candidate_text(work: Mapping[str, object], journal: bool = False) -> str:
    """What a candidate work is about, in words: its title (and journal: it did worse with it), then its
    subjects and abstract when Crossref's record holds them."""
    from kratomref.semantic import plain

    def texts(value: object) -> list[str]:
        if isinstance(value, list):
            return [str(v) for v in value if v]
        return [str(value)] if value else []

    parts = texts(work.get("title"))[:1]
    if journal:
        parts += texts(work.get("container-title"))[:1]
    parts += [", ".join(texts(work.get("subject")))] if texts(work.get("subject")) else []
    parts += texts(work.get("abstract"))[:1]
    return plain(". ".join(parts))


def sentence_text(sentence: str, spans: Spans) -> str:
    """A placeholder's sentence as words for the model: the placeholders, citation marks and markup removed."""
    from kratomref.rules.offtopic import clean

    pieces: list[str] = []
    last = 0
    for start, end in spans(sentence, kinds=None):
        pieces += (sentence[last:start], " ")
        last = end
    return clean("".join(pieces) + sentence[last:])


def rank_candidates(
    candidates: Sequence[Mapping[str, object]], sentence: str, paragraph: str, spans: Spans
) -> list[Mapping[str, object]]:
    """The candidates, those closest in meaning to the placeholder's paragraph and sentence first (see
    PARAGRAPH_SHARE). Without the semantic extra, or with fewer than two candidates: Crossref's order, and
    the model's packages are never imported."""
    from kratomref import semantic

    if len(candidates) < 2 or not semantic.available():
        return list(candidates)
    texts = [sentence_text(sentence, spans), sentence_text(paragraph, spans)]
    if not texts[0] and not texts[1]:
        return list(candidates)
    try:
        vectors = semantic.embed([*texts, *(candidate_text(work) for work in candidates)])
    except semantic.SemanticUnavailable:
        return list(candidates)
    share = PARAGRAPH_SHARE if texts[1] else 0.0
    context = (1 - share) * vectors[0] + share * vectors[1]
    size = float(context @ context) ** 0.5
    scores = [float(vectors[i + 2] @ context) / max(size, 1e-9) - POSITION_WEIGHT * i
              for i in range(len(candidates))]
    return [candidates[i] for i in sorted(range(len(candidates)), key=lambda i: -scores[i])]


def placeholder_suggestion(resolution: SearchResolution, context: tuple[str, str] | None = None,
                           spans: Spans | None = None) -> str | None:
    """The suggestion text for a placeholder: up to three candidate works to verify, best first.

    context: the placeholder's sentence and paragraph, to order the candidates by meaning (rank_candidates,
    with the placeholder detector `spans`); without them, or without the semantic extra, Crossref's order."""
    if resolution.status is not Lookup.FOUND or not resolution.candidates:
        return None
    ranked = (resolution.candidates if context is None or spans is None
              else rank_candidates(resolution.candidates, *context, spans))
    listed = "; ".join(f"{n}) {_candidate(work)}" for n, work in enumerate(ranked[:MAX_SUGGESTIONS], start=1))
    return ("candidate works to verify before citing (Crossref search on this sentence, best first): "
            + listed)


@dataclass
class _Paragraphs:
    """A document's paragraphs by body line, and the sentences of those asked about (split once each)."""

    doc: Document
    by_line: dict[tuple[str, int], int]  # (file, line) -> paragraph index
    paragraphs: list[list[TextLine]]
    sentences: dict[int, list[Sentence]]


_last: list[_Paragraphs] = []  # the last document asked about: its placeholders are asked about in a row


def placeholder_context(doc: Document, file: str, line: int, spans: Spans) -> tuple[str, str] | None:
    """The sentence that holds the (first searched) placeholder on a body line of doc, and its paragraph, as
    written; None when the line is not in a paragraph or holds none. The sentence is the one
    rules.placeholder_search searched on."""
    from kratomref.readers.intext import prose
    from kratomref.rules.claims import paragraphs, sentence_holding, sentences
    known = _last[0] if _last else None
    if known is None or known.doc is not doc:
        paras = paragraphs(doc.body, one_per_line=doc.format == "docx")
        known = _Paragraphs(doc, {(b.file, b.line): i for i, p in enumerate(paras) for b in p}, paras, {})
        _last[:] = [known]
    index = known.by_line.get((file, line))
    if index is None:
        return None
    paragraph = known.paragraphs[index]
    split = known.sentences.get(index)
    if split is None:
        split = known.sentences[index] = sentences(paragraph)
    text = prose(next(b.text for b in paragraph if (b.file, b.line) == (file, line)))
    for start, end in spans(text):
        marker = text[start:end].strip()
        owner = sentence_holding(split, line, marker)
        if owner is not None:
            return owner.text, " ".join(s.text for s in split)
    return None


def placeholder_candidates(
    doc: Document, line: int, evidence: DocumentEvidence, file: str | None = None, spans: Spans | None = None
) -> str | None:
    """The suggestion for a KR101/KR102 placeholder finding at (file, line) of doc, from the evidence the
    check gathered (a Crossref search keyed placeholder:{file}:{line}); None offline or without candidates.

    file defaults to doc.path; give it for a placeholder in a LaTeX \\input file. spans (the placeholder
    detector) lets the candidates be ordered by meaning (see rank_candidates); without it, Crossref's order.
    """
    found = evidence.placeholders.get(placeholder_id(file or doc.path, line))
    if found is None:
        return None
    context = None
    if spans is not None and found.status is Lookup.FOUND and len(found.candidates) > 1:
        context = placeholder_context(doc, file or doc.path, line, spans)
    return placeholder_suggestion(found, context, spans)
