"""What to search Crossref for, for the sentence around a placeholder ("Studies show X [citation needed]")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kratomref.model import Document
from kratomref.readers.intext import prose
from kratomref.rules.claims import Sentence, paragraphs, sentence_holding, sentences
from kratomref.rules.placeholder_candidates import placeholder_id
from kratomref.rules.placeholders import SEARCHED_KINDS as SEARCHED_KINDS
from kratomref.rules.placeholders import placeholder_spans as placeholder_spans

# Words that say "a study exists" but not what it is about: dropped from the query.
QUERY_NOISE_RE = re.compile(
    r"\b(?:a|an|the|one|recent|new|study|studies|research|published|in|found|finds|showed|shows|that|has|have"
    r"|been|report|reported|according|to|suggests?|evidence|trial|survey|by|of|and|it|is|was|were|for|from"
    r"|with|on|at|as|this|these|those|that|there|here|its|they|their|them|we|our|you|your|can|could|should"
    r"|would|may|might|will|also|more|most|very|widely|come|comes|see|check|numbers|figures|data|source"
    r"|sources|needed|link|statement|against|about|some|many|much)\b",
    re.IGNORECASE,
)
JOURNAL_RE = re.compile(r"\b(?:Journal\s+of(?:\s+(?:the\s+)?[A-Z][\w&-]*)+|[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*\s+Journal"
                        r"|Nature|Science|The\s+Lancet|Lancet|PLOS\s+ONE|JAMA|BMJ|Cell|PNAS)\b")
MIN_QUERY_WORDS = 3  # a sentence with fewer content words says too little to search for


@dataclass(frozen=True)
class PlaceholderSearch:
    """What to search Crossref for, for the sentence around a placeholder."""

    query: str  # query.bibliographic: the sentence's content words
    container: str | None  # query.container-title: the journal the sentence names, if any


def placeholder_search(sentence: str) -> PlaceholderSearch | None:
    """The search a placeholder sentence calls for, or None when it says too little about the work."""
    pieces: list[str] = []
    last = 0
    for start, end in placeholder_spans(sentence, kinds=None):  # in order, without overlaps
        pieces += (sentence[last:start], " " * (end - start))
        last = end
    text = "".join(pieces) + sentence[last:]  # one copy: blanking span by span was quadratic in the spans
    journal = JOURNAL_RE.search(text)
    if journal is not None:
        text = text.replace(journal.group(0), " ")
    words = re.findall(r"[\w-]+", QUERY_NOISE_RE.sub(" ", text))
    words = [w for w in words if not w.isdigit() or len(w) == 4]  # keep years, drop "(1)" and the like
    if len(words) < MIN_QUERY_WORDS:
        return None
    return PlaceholderSearch(" ".join(words), journal.group(0) if journal else None)


def placeholder_searches(doc: Document) -> dict[str, PlaceholderSearch]:
    """Placeholder id -> search: keyed on each line that carries a placeholder (where KR101/KR102 report
    it), and on the first line of its sentence. A paragraph is split into sentences only when one of its lines
    holds a placeholder: most paragraphs hold none."""
    found: dict[str, PlaceholderSearch] = {}
    for paragraph in paragraphs(doc.body, one_per_line=doc.format == "docx"):
        in_paragraph: list[Sentence] | None = None
        searched: dict[int, PlaceholderSearch | None] = {}  # by sentence: a line of many markers searches once
        for line in paragraph:
            text = prose(line.text)
            owners: dict[str, Sentence | None] = {}  # by marker: "[?] [?] [?]" looks for its sentence once
            for start, end in placeholder_spans(text):
                if in_paragraph is None:
                    in_paragraph = sentences(paragraph)
                marker = text[start:end].strip()
                if marker not in owners:
                    owners[marker] = sentence_holding(in_paragraph, line.line, marker)
                owner = owners[marker]
                if owner is not None and id(owner) not in searched:
                    searched[id(owner)] = placeholder_search(owner.text)
                search = searched[id(owner)] if owner is not None else None
                if owner is None or search is None:
                    continue
                found.setdefault(placeholder_id(line.file, line.line), search)
                found.setdefault(placeholder_id(owner.file, owner.line), search)
    return found
