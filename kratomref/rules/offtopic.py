"""Editor rule KR506: an in-text citation whose cited work is about something far from the sentence citing it.

The cited work (its title, with its abstract and subjects where the entry, Crossref or another authority has
them) is compared with the citing sentence, its paragraph, the text's other cited works and the works cited
beside it by meaning, with the embedding model of kratomref.semantic (loaded only when this rule runs on a text
with tied citations), and by the words it shares with the text; the weighted sum of these signals is how well
the citation fits, and a work that shares an author or a journal with another cited work always fits.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kratomref.model import Citation, Document, DocumentEvidence, Evidence, Finding, Lookup, Reference, Rule, Severity

if TYPE_CHECKING:
    import numpy as np

    from kratomref.rules import Context
    from kratomref.rules.claims import Sentence

# --- the weights and the threshold, fitted by bench/offtopic_bench.py --fit on published papers ---------------
# A citation's fit is INTERCEPT plus the sum of its signals, each times its weight in WEIGHTS: a log-odds score,
# fitted on published papers' real citations against the same citations swapped for another paper's entry,
# that the citation is as its authors wrote it. The signals: the cited work's cosine similarity to the citing
# sentence, to its paragraph and to the draft's other cited works (the mean of the NEIGHBOURS most similar to
# it: a real citation's work belongs with the rest of its bibliography; the nearest few, not all, so that a
# few off-topic entries in the list do not pull the others down), the share of the work's telling words that
# the text also uses (semantic.shared_words), and its similarity to the nearest work cited beside it in the
# same sentence ("beside": works cited together are about the same thing), or, for a work cited alone in its
# sentence, the "alone" weight instead. A citation is reported when its fit is below THRESHOLD. Not by
# meaning: a work that shares an author or a journal with another cited work ("coupling": a paper cites its
# authors' and its field's other work; a work cited for something else seldom shares either) is never
# reported.
# Fitted on the real-world corpus and a third set of 36 papers (4,074 real citations), the threshold keeping
# false alarms at 0.7% there: thresholds set at 1% on the papers seen gave 1.1-1.5% on papers no choice had
# seen. Measured once on a fourth set of 36 papers: 0.85% false alarms, 74.5% of swaps caught. History and
# figures: bench/RESULTS.md.
WEIGHTS = {"sentence": 4.67, "paragraph": 5.85, "bibliography": 6.06, "words": 4.21, "beside": 3.64, "alone": 1.0}
INTERCEPT = -7.43
THRESHOLD = -2.66
NEIGHBOURS = 3
# Too little to judge by: a title of fewer content words than this with no abstract ("NetLogo", "A = B",
# "PhyloDB" name a tool, they say nothing of a topic), or a sentence of fewer words ("Image source: [1]").
MIN_TITLE_WORDS = 3
MIN_SENTENCE_WORDS = 4

_WEIGHTS_TEXT = " + ".join(f"{weight:g} x {name}" for name, weight in WEIGHTS.items())

OFF_TOPIC_CITATION = Rule(
    "KR506", "citation-off-topic", Severity.WARNING,
    "A citation's cited work is about something far from the sentence that cites it (opt-in).",
    f"""What it does
  For each in-text citation tied to an entry, asks whether the cited work fits the text that cites it. What
  the work is about is its title, with its abstract and subjects when the entry, Crossref's record of its
  DOI or an authority that confirmed it (OpenAlex, PubMed, arXiv, DataCite) holds them. Four signals by
  meaning (cosine similarity with a small text-embedding model that ships inside the `wordllama` package:
  install `kratomref[semantic]`; it runs on the CPU and nothing is downloaded), the work compared with:
    sentence      the sentence that cites it
    paragraph     its paragraph
    bibliography  the other works the text cites (the {NEIGHBOURS} most like it): a real citation's work
                  belongs with the rest of its bibliography, an invented one often does not
    beside        the nearest of the works cited beside it in the same sentence ("[3, 4, 7]"): works
                  cited together are about the same thing (for a work cited alone, "alone" counts instead)
  one by words:
    words         the share of the work's telling words (weighted by how much each says) the text also uses
  and one by names:
    coupling      1 when the work shares an author (surname and first initial) or a journal with another
                  work the text cites, else 0 (a preprint server is not a journal): a text cites its
                  authors' and its field's other work, a work cited for something else seldom shares either.
                  A coupled work is never reported. An author or a journal that more than a third of the
                  cited works share couples none of them (a field that publishes in one journal), and
                  neither does what is no one's name ("et al.", "Anonymous", an organisation) or a bare
                  "Proceedings"
  The signals are added up, each weighted, into the fit (a log-odds score of real against swapped citations,
  fitted on published papers):
    {INTERCEPT:g} + {_WEIGHTS_TEXT}
  and the citation is reported when the fit is below {THRESHOLD:g}. The finding names the work, quotes the
  sentence and gives each signal. A reference cited in several places is judged at each place. Opt-in: it
  runs only when selected (`--select KR506`).

How the weights and the threshold were chosen
  In published papers (LaTeX and pandoc papers with their .bib files, and blog posts with reference lists),
  every citation as its authors wrote it is a control, and each citation swapped for a random entry of
  another paper (listed in the bibliography under the same key, as a draft citing the wrong work would
  list it) is a positive. The weights are a logistic regression of the one against the other, titles
  alone, fitted on 4,074 real citations of 91 papers (the real-world corpus and a third set gathered
  for this) and their swaps. The threshold keeps false alarms on those real citations at 0.7% or under,
  not 1%: thresholds set at 1% on the papers seen have reported 1.1-1.5% of the real citations of papers
  no choice had seen. Measured once on 36 papers outside both that no choice had seen
  (bench/offtopic_bench.py --fit and --fresh; bench/RESULTS.md): it reported 0.85% of their 2,834 real
  citations and caught 74.5% of the same citations swapped for another paper's entry. Opt-in, since even
  so it reports about 1 real citation in 100. Not judged:
  a work whose title has fewer than {MIN_TITLE_WORDS} content words and no abstract (a bare name such as
  "NetLogo" says nothing of a topic), a sentence of fewer than {MIN_SENTENCE_WORDS} words ("Image source: [3]"),
  and a text that cites one work only (no bibliography to compare it with).

Why it matters
  The most convincing fabricated citation is a real, correctly formatted work cited for a claim it has
  nothing to do with: every other check passes it.

Example
  Eating oily fish twice a week reduces the risk of depression by a third [4].
  (where [4] is a paper on muscle strength in dogs)

How to fix
  Cite a work that supports the sentence, or check that the citation points at the entry you meant.""",
    advisory=True,
    default_on=False,
)
RULES = (OFF_TOPIC_CITATION,)

SENTENCE_QUOTE_CHARS = 160  # of the sentence quoted in a finding
TITLE_QUOTE_CHARS = 120

# Citation marks, taken out of the text before it is compared: a surname or a key says nothing of the topic.
_MARK_RE = re.compile(
    r"\\[A-Za-z]*cite[A-Za-z]*\*?\s*(?:\[[^\]]*\]\s*){0,2}\{[^}]*\}"  # \citep[p. 3]{key}
    r"|\[[^\[\]]*@[^\[\]]*\]"  # [@key; see @other, p. 3]
    r"|(?<![\w.])-?@[A-Za-z_][\w:.#$%&+?<>~/-]*"  # @key in the text
    r"|\[\d{1,3}(?:\s*[-–,]\s*\d{1,3})*\]"  # [4], [2, 5-7]
    # (Smith, 2019; Lee, 2020a)
    r"|\((?:[^()]{0,80}?\b(?:1[5-9]\d\d|20\d\d)[a-z]?)(?:;[^()]{0,80}?\b(?:1[5-9]\d\d|20\d\d)[a-z]?)*\)"
)


def has_tied_citations(doc: Document) -> bool:
    """Whether a document has in-text citations tied to entries (the rule's judge_document begins with it)."""
    return any(c.resolved_key is not None for c in doc.citations)


def explicitly_selected(select: Sequence[str]) -> bool:
    """Whether --select (or the configuration's select) names this rule itself, by code or name: an opt-in
    rule is not turned on by a prefix ("KR5") or by selecting everything."""
    return any(s.strip().upper() == OFF_TOPIC_CITATION.code or s.strip().lower() == OFF_TOPIC_CITATION.name
               for s in select)


@dataclass(frozen=True)
class Citing:
    """One in-text citation with what it is compared on."""

    citation: Citation
    reference: Reference
    sentence: str  # as written, for the message
    sentence_text: str  # citation marks and markup removed, for the model
    paragraph_text: str


@dataclass(frozen=True)
class Judged:
    citing: Citing
    score: float  # the fit (see Judged.fit): reported when below THRESHOLD
    sentence_similarity: float
    paragraph_similarity: float
    bibliography_similarity: float  # to the NEIGHBOURS most similar other cited works
    shared_words: float  # the share of the work's telling words the whole text also uses (semantic.shared_words)
    beside_similarity: float | None = None  # to the nearest work cited in the same sentence; None: cited alone
    coupled: bool = False  # an author or a journal in common with another cited work

    def signals(self) -> dict[str, float]:
        """Each signal by name, as the fit adds them up (unweighted; see WEIGHTS)."""
        return {"sentence": self.sentence_similarity, "paragraph": self.paragraph_similarity,
                "bibliography": self.bibliography_similarity,
                "words": self.shared_words, "beside": self.beside_similarity or 0.0,
                "alone": float(self.beside_similarity is None)}

    def fit(self, weights: Mapping[str, float] = WEIGHTS, intercept: float = INTERCEPT) -> float:
        """The intercept plus each signal times its weight (the rule's by default; the benchmark fits others);
        a coupled work fits whatever its signals."""
        if self.coupled:
            return float("inf")
        return intercept + sum(weights[name] * value for name, value in self.signals().items())


def work_text(ref: Reference, evidence: Evidence | None) -> str:
    """What the cited work is about, in words: its title, then its subjects and abstract when known. They are
    taken from the entry first, then from Crossref's record of its DOI, then from the record of an authority
    that confirmed it as the cited work (OpenAlex's abstract and topics, PubMed's abstract and MeSH headings,
    arXiv's abstract, DataCite's description and subjects)."""
    from kratomref.rules.authorities import confirming
    from kratomref.semantic import plain

    parts = [ref.title or ""]
    keywords = ref.fields.get("keywords")
    abstract = ref.fields.get("abstract")
    record = evidence.doi.record if evidence and evidence.doi and evidence.doi.status is Lookup.FOUND else None
    if record:
        subjects = record.get("subject")
        if isinstance(subjects, list) and not keywords:
            keywords = ", ".join(str(s) for s in subjects)
        if not abstract and isinstance(record.get("abstract"), str):
            abstract = record["abstract"]
        if not parts[0] and isinstance(record.get("title"), list) and record["title"]:
            parts[0] = str(record["title"][0])
    if evidence is not None and evidence.authorities and not (keywords and abstract):
        confirmed = confirming(ref, evidence)
        if confirmed is not None:
            keywords = keywords or ", ".join(confirmed.record.subjects)
            abstract = abstract or confirmed.record.abstract
    if keywords:
        parts.append(keywords)
    if abstract:
        parts.append(abstract)
    return plain(". ".join(p for p in parts if p))


# Where anyone's work goes: a preprint server, a repository, an encyclopedia or the web is no sign of a field.
_NOT_A_JOURNAL_RE = re.compile(
    r"arxiv|\bcorr\b|biorxiv|medrxiv|chemrxiv|techrxiv|ssrn|research\s*square|openreview|authorea|\bhal\b|\bosf\b"
    r"|preprint|zenodo|figshare|github|wikipedia|encyclop|dictionary|website|online|technical report|tech\.? rep",
    re.IGNORECASE)
# Words that name no particular venue: "Proceedings", "Journal", "In Proceedings of the Conference".
_VENUE_FILLER = frozenset({"proceedings", "proc", "journal", "conference", "workshop", "symposium", "international",
                           "annual", "meeting", "in", "of", "the", "on", "and", "pp"})
# What a reader may take for an author when a list is cut short or unsigned.
_NOT_A_PERSON = frozenset({"et", "al", "others", "anonymous", "anon", "unknown", "n d", "nd", "various", "staff"})
_GROUP_WORDS = frozenset({"collaboration", "team", "investigators", "members", "authors", "writing", "study"})
# A name or a venue that more than this share of the cited works hold says nothing of any one of them (a field
# published in one journal, a name a reader got wrong in every entry); counted from this many works up.
_COMMON_SHARE = 1 / 3
_COMMON_FROM = 6


def _people(ref: Reference) -> set[tuple[str, str]]:
    """A work's authors as (surname, first initial), lower-cased; organisations and what is no one's name
    ("et al.", "Anonymous") left out."""
    from kratomref.matching import normalise_text
    from kratomref.readers.freetext import is_organisation

    people = set()
    for author in ref.authors:
        family = normalise_text(author.family)
        if (author.literal or len(family) < 2 or family in _NOT_A_PERSON or _GROUP_WORDS.intersection(family.split())
                or is_organisation(str(author))):
            continue
        people.add((family, author.given.strip(" {}.")[:1].lower()))
    return people


def _journal(ref: Reference) -> str:
    """A work's journal or proceedings as its entry names it (journal, journaltitle, booktitle: not a publisher
    or a site), normalised as titles are (matching.normalise_text); "" for none, a preprint server, an encyclopedia, a
    web site, or a name of no particular venue ("Proceedings")."""
    from kratomref.matching import normalise_text

    venue = normalise_text(ref.fields.get("journal") or ref.fields.get("journaltitle") or ref.fields.get("booktitle"))
    if not venue or _NOT_A_JOURNAL_RE.search(venue) or set(venue.split()) <= _VENUE_FILLER:
        return ""
    return venue


def _marks(ref: Reference) -> list[tuple[str, str] | str]:
    """What a work may share with another: its authors and its journal."""
    marks: list[tuple[str, str] | str] = [*_people(ref)]
    journal = _journal(ref)
    if journal:
        marks.append(journal)
    return marks


def couplings(bibliography: Sequence[Reference]) -> Callable[[Reference], bool]:
    """Whether a work shares an author or a journal with another work of `bibliography`: one under another key
    and with another title (a work listed twice is not its own partner). A name or a journal that many of the
    works share couples none of them."""
    from kratomref.matching import normalise_text

    title_of = {ref.key: normalise_text(ref.title or "") for ref in bibliography}
    keys_of: dict[tuple[str, str] | str, set[str]] = {}
    for ref in bibliography:
        for mark in _marks(ref):
            keys_of.setdefault(mark, set()).add(ref.key)
    if len(title_of) >= _COMMON_FROM:
        keys_of = {mark: keys for mark, keys in keys_of.items() if len(keys) <= _COMMON_SHARE * len(title_of)}

    def coupled(ref: Reference) -> bool:
        own = normalise_text(ref.title or "")
        return any(key != ref.key and title_of[key] != own for mark in _marks(ref) for key in keys_of.get(mark, ()))

    return coupled


def clean(text: str) -> str:
    """A sentence or paragraph as words for the model: citation marks and markup removed."""
    from kratomref.semantic import plain

    return plain(_MARK_RE.sub(" ", text))


def _sentence_at(found: Sequence[Sentence], starts: Sequence[tuple[int, int]], citation: Citation,
                 nth: int = 0) -> Sentence:
    """The sentence of a paragraph that holds the citation: the last to start before it (`starts`: each
    sentence's line and column). Without a column (a reader that keeps none, as for a web page), the sentence
    of its line that shows the citation's text for the `nth` time (0: the first) among the citations of that
    line with the same text."""
    line, column = citation.location.line or 0, citation.location.column
    if column is not None:
        return found[max(0, bisect.bisect_right(starts, (line, column)) - 1)]
    low = max(0, bisect.bisect_left(starts, (line, 0)) - 1)  # one that began on a line before may go on here
    high = max(low + 1, bisect.bisect_right(starts, (line, sys.maxsize)))
    for sentence in found[low:high]:
        nth -= sentence.text.count(citation.text)
        if nth < 0:
            return sentence
    return found[high - 1]


def citings(doc: Document) -> list[Citing]:
    """Each tied citation of the document with its sentence and paragraph (in the document's order)."""
    from kratomref.rules.claims import paragraphs, sentences

    entries = {ref.key: ref for ref in doc.references}
    tied = [c for c in doc.citations if c.resolved_key is not None and c.resolved_key in entries]
    if not tied:
        return []
    where: dict[tuple[str, int], int] = {}  # (file, line) -> its paragraph
    paras = paragraphs(doc.body, one_per_line=doc.format == "docx")
    split = [sentences(p) for p in paras]
    starts = [[(s.line, s.column) for s in found] for found in split]
    for p_index, paragraph in enumerate(paras):
        for line in paragraph:
            where[(line.file, line.line)] = p_index
    found_citings: list[Citing] = []
    paragraph_texts: dict[int, str] = {}
    seen_on_line: dict[tuple[str, int, str], int] = {}  # for citations without a column: the same text before
    for citation in tied:
        p_index = where.get((citation.location.file, citation.location.line or 0), -1)
        if p_index < 0 or not split[p_index]:
            continue  # in a table, a caption or a footnote the reader kept apart: no sentence to judge it by
        found = split[p_index]
        same = (citation.location.file, citation.location.line or 0, citation.text)
        nth = seen_on_line[same] = seen_on_line.get(same, -1) + 1
        sentence = _sentence_at(found, starts[p_index], citation, nth).text
        if p_index not in paragraph_texts:
            paragraph_texts[p_index] = clean(" ".join(s.text for s in found))
        found_citings.append(Citing(citation, entries[citation.resolved_key or ""], sentence, clean(sentence),
                                    paragraph_texts[p_index]))
    return found_citings


_WORD_RE = re.compile(r"[^\W\d_]{3,}")
_STOP_WORDS = frozenset({"the", "and", "for", "with", "from", "that", "this", "are", "was", "were", "its", "into",
                         "using", "use", "via", "based", "our", "their", "which", "not", "but", "all", "new", "too"})


def _content_words(text: str) -> int:
    return sum(word.lower() not in _STOP_WORDS for word in _WORD_RE.findall(text))


def judge_citings(found: Sequence[Citing], evidence: DocumentEvidence, document_text: str,
                  bibliography: Sequence[Reference] | None = None) -> list[Judged]:
    """The score of each citation that can be judged (see THRESHOLD, MIN_TITLE_WORDS), in the order given.
    `bibliography`: the entries the document cites (by default those of `found`); each citation's work is
    compared with the others, never with its own entry. Embeds each distinct text once, in one batch."""

    import numpy as np

    from kratomref.semantic import embed, shared_words

    if not found:
        return []
    if bibliography is None:
        bibliography = list({c.reference.key: c.reference for c in found}.values())
    beside = _cited_beside(found)  # every citation of a sentence counts, judged or not
    pairs = [(c, work_text(c.reference, evidence.references.get(c.reference.key))) for c in found]
    pairs = [(c, w) for c, w in pairs if _content_words(w) >= MIN_TITLE_WORDS
             and len(c.sentence_text.split()) >= MIN_SENTENCE_WORDS]
    listed = [(ref.key, work_text(ref, evidence.references.get(ref.key))) for ref in bibliography]
    listed = [(key, w) for key, w in listed if _content_words(w) >= MIN_TITLE_WORDS]
    if not pairs or not listed:
        return []
    found = [c for c, _ in pairs]
    works = [w for _, w in pairs]
    texts = list(dict.fromkeys([*works, *(w for _, w in listed), *(c.sentence_text for c in found),
                                *(c.paragraph_text for c in found)]))
    index = {text: i for i, text in enumerate(texts)}
    vectors: np.ndarray = embed(texts)
    listed_keys = np.array([key for key, _ in listed], dtype=object)
    listed_vectors = vectors[[index[w] for _, w in listed]]
    distinct_works = list(dict.fromkeys(works))
    shared = dict(zip(distinct_works, shared_words(distinct_works, document_text), strict=True))
    coupled = couplings(bibliography)
    listed_at = {key: row for row, (key, _) in enumerate(listed)}
    judged = []
    for citing, work in zip(found, works, strict=True):
        others = listed_vectors[listed_keys != citing.reference.key]
        if not len(others):
            continue  # nothing else cited: no bibliography to judge the work against
        w = vectors[index[work]]
        nearest = np.sort(others @ w)[::-1][:NEIGHBOURS]
        partners = [listed_at[key] for key in beside[id(citing)] if key in listed_at]
        one = Judged(citing, 0.0, float(vectors[index[citing.sentence_text]] @ w),
                     float(vectors[index[citing.paragraph_text]] @ w), float(nearest.mean()),
                     shared[work], float((listed_vectors[partners] @ w).max()) if partners else None,
                     coupled(citing.reference))
        judged.append(dataclasses.replace(one, score=one.fit()))
    return judged


def _cited_beside(found: Sequence[Citing]) -> dict[int, set[str]]:
    """For each citation (by id), the keys of the other works its sentence cites."""
    keys: dict[tuple[str, str, str], set[str]] = {}
    for citing in found:
        keys.setdefault(_sentence_of(citing), set()).add(citing.reference.key)
    return {id(citing): keys[_sentence_of(citing)] - {citing.reference.key} for citing in found}


def _sentence_of(citing: Citing) -> tuple[str, str, str]:
    return citing.citation.location.file, citing.paragraph_text, citing.sentence


def document_text(doc: Document) -> str:
    """The whole text as words, for the model (cut: the model averages its tokens)."""
    from kratomref.semantic import plain

    return plain(_MARK_RE.sub(" ", " ".join(line.text for line in doc.body)), limit=20_000)


def _quote(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _finding(judged: Judged) -> Finding:
    citing = judged.citing
    ref = citing.reference
    title = _quote(ref.title or ref.key, TITLE_QUOTE_CHARS)
    beside = ("" if judged.beside_similarity is None
              else f", the nearest work cited beside it ({judged.beside_similarity:.2f})")
    message = (f"{citing.citation.text} cites {ref.key}, “{title}”, which is about something far from what "
               f"its sentence says: “{_quote(citing.sentence, SENTENCE_QUOTE_CHARS)}”. Its similarity to the "
               f"sentence ({judged.sentence_similarity:.2f}), its paragraph ({judged.paragraph_similarity:.2f})"
               f"{beside} and the other works cited ({judged.bibliography_similarity:.2f}) is low taken together, "
               f"it has no author or journal in common with them, and the text uses {judged.shared_words:.0%} of "
               f"its telling words (weighted together: {judged.score:.2f}, below {THRESHOLD:g})")
    return Finding(OFF_TOPIC_CITATION, citing.citation.location, message,
                   "check that the citation points at the work you meant, or cite one that supports the sentence")


_warned: set[str] = set()


def judge_document(doc: Document, evidence: DocumentEvidence, ctx: Context) -> Iterator[Finding]:
    if not has_tied_citations(doc) or not explicitly_selected(ctx.options.select):
        return
    from kratomref import semantic

    try:
        semantic.load()
    except semantic.SemanticUnavailable as exc:
        if "unavailable" not in _warned:  # once a run, not once a document
            _warned.add("unavailable")
            print(f"kratomref: KR506 citation-off-topic skipped: {exc}", file=sys.stderr)
        return
    entries = {ref.key: ref for ref in doc.references}
    cited = [entries[key] for key in dict.fromkeys(c.resolved_key for c in doc.citations)
              if key is not None and key in entries]
    for judged in judge_citings(citings(doc), evidence, document_text(doc), cited):
        if judged.score < THRESHOLD:
            yield _finding(judged)
