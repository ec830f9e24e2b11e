"""How close two texts are in meaning: a small text-embedding model shipped inside a package, run on the CPU.

The model is WordLlama's `l2_supercat` at 256 dimensions (the token embeddings of a large language model,
distilled and averaged; about 19 MB of weights inside the `wordllama` wheel, installed by the
`kratomref[semantic]` extra). It is loaded from the package's own folder, never downloaded: a missing
package is `SemanticUnavailable`, said once by whoever asked, never a crash. Loading takes a fraction of a
second and is done at the first use only, so a run that does not ask for meaning never pays for it.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MODEL_PACKAGE = "wordllama"
MODEL_NAME = "WordLlama l2_supercat (256 dimensions)"
INSTALL_HINT = "pip install 'kratomref[semantic]'"
TEXT_CHARS = 2_000  # of an abstract or a paragraph: the model averages its tokens, so more only dilutes them


class SemanticUnavailable(RuntimeError):
    """The embedding model cannot be loaded here (its package is not installed, or its files are missing)."""


def available() -> bool:
    """Whether the model's package is installed (without importing it)."""
    return importlib.util.find_spec(MODEL_PACKAGE) is not None and importlib.util.find_spec("numpy") is not None


@functools.cache
def _model() -> Any:
    if not available():
        raise SemanticUnavailable(f"the {MODEL_PACKAGE} package is not installed ({INSTALL_HINT})")
    import logging
    import os

    import wordllama  # type: ignore[import-untyped]

    logging.getLogger("wordllama").setLevel(logging.ERROR)  # it logs each file it resolves
    folder = os.path.dirname(wordllama.__file__)
    try:  # the weights and tokenizer ship in the package's folder: nothing is fetched
        return wordllama.WordLlama.load(cache_dir=folder, disable_download=True)
    except (OSError, ValueError) as exc:
        raise SemanticUnavailable(f"the {MODEL_PACKAGE} model could not be loaded: {exc}") from exc


def load() -> None:
    """Load the model now (raises SemanticUnavailable when it cannot be)."""
    _model()


_TAG_RE = re.compile(r"<[^>]{1,200}>")  # JATS tags of a Crossref abstract: <jats:p>, <jats:title>
_LATEX_COMMAND_RE = re.compile(r"\\[A-Za-z@]+\*?")
_NOISE_RE = re.compile(r"[{}\\$^_~|*#`]+")
_SPACES_RE = re.compile(r"\s+")


def plain(text: str, limit: int = TEXT_CHARS) -> str:
    """A text as words: markup (JATS tags, LaTeX commands, braces, Markdown emphasis) removed, cut to `limit`."""
    text = _TAG_RE.sub(" ", text)
    text = _LATEX_COMMAND_RE.sub(" ", text)
    text = _NOISE_RE.sub(" ", text)
    return _SPACES_RE.sub(" ", text).strip()[:limit]


def embed(texts: Sequence[str]) -> np.ndarray:
    """One unit vector per text (a row each); an empty text is the zero vector, similar to nothing."""
    import numpy as np

    model = _model()
    if not texts:
        return np.zeros((0, 256), dtype=np.float32)
    # in order of length: the model pads each batch to its longest text, so like lengths go together
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    pooled = np.asarray(model.embed([texts[i] or " " for i in order], norm=False), dtype=np.float32)
    vectors = np.empty_like(pooled)
    vectors[order] = pooled
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    for row, text in enumerate(texts):
        if not text.strip():
            unit[row] = 0.0
    return unit


# A token whose vector is shorter than this says little ("the", "of", "using"): the model's vectors are long
# for words that carry meaning (about 15 for "depression" or "quadriceps", 2 for "the"), since it averages them.
TOKEN_WEIGHT_FLOOR = 3.0


def shared_words(texts: Sequence[str], within: str) -> list[float]:
    """For each text, the share of its meaning (its tokens weighted by their squared vector length, the
    little words left out) carried by tokens that `within` also has: 1 when every telling word of the text
    occurs in `within`, 0 when none does (or the text has no telling word)."""
    import numpy as np

    model = _model()
    norms = _token_norms()
    # in lower case: a title's capitals ("Deep Neural Networks") are the same words as the text's. The text
    # apart from the works: the tokenizer pads a batch to its longest member, and keeps only what it attends to
    encoded = [model.tokenizer.encode(within.lower(), add_special_tokens=False),
               *model.tokenizer.encode_batch([t.lower() for t in texts], add_special_tokens=False)]
    tokens = [np.asarray(one.ids, dtype=np.int64)[np.asarray(one.attention_mask, dtype=bool)] for one in encoded]
    present = np.zeros(len(norms), dtype=bool)
    present[tokens[0]] = True
    shares = []
    for ids in tokens[1:]:
        ids = ids[norms[ids] > TOKEN_WEIGHT_FLOOR]
        weights = norms[ids] ** 2
        total = float(weights.sum())
        shares.append(float(weights @ present[ids]) / total if total > 0 else 0.0)
    return shares


@functools.cache
def _token_norms() -> np.ndarray:
    import numpy as np

    norms: np.ndarray = np.linalg.norm(np.asarray(_model().embedding, dtype=np.float32), axis=1)
    return norms


def similarity(a: str, b: str) -> float:
    """Cosine similarity of two texts, from -1 to 1 (about 0 for unrelated texts)."""
    va, vb = embed([a, b])
    return float(va @ vb)


def rank(query: str, candidates: Sequence[str]) -> list[tuple[int, float]]:
    """The candidates' indexes with their similarity to the query, most similar first (ties keep their order)."""
    if not candidates:
        return []
    vectors = embed([query, *candidates])
    scores: np.ndarray = vectors[1:] @ vectors[0]
    return sorted(((i, float(s)) for i, s in enumerate(scores)), key=lambda pair: -pair[1])
