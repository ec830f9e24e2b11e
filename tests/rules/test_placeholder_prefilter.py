"""The placeholder pre-filter (one look per field instead of every pattern's scan) never hides a placeholder."""

from __future__ import annotations

import random

import pytest

from kratomref.rules import placeholders

# One or more texts for each kind of placeholder, as writers and assistants leave them, in several cases.
PLACEHOLDERS = [
    "[citation needed]", "Citation Needed", "REFERENCE NEEDED", "[ref?]", "(source?)", "[?]", "[??]", "(??)",
    "TODO: cite", "TBD", "FIXME add reference", "XXX", "19XX", "20??", "YYYY", "XX%", "XX.X %",
    "(Author, Year)", "[Surname, YYYY]", "Author et al. (Year)", "insert citation here", "[insert reference to trial]",
    "Journal Name", "Title of the Article", "[doi]", "John Doe", "Doe, J.", "Jane Bloggs", "Max Mustermann",
    "Dr. X", "Prof. [Name]", "Firstname Lastname", "[author name]", "Lorem ipsum dolor sit amet",
    "Remember to update the figures in this article.", "verify these links", "[check the sources]",
    "for illustrative purposes only",
    "replace this with the actual study", "note to self", "placeholder text",
    "Please replace the examples before publishing.", "As an AI language model, I cannot browse the internet.",
    "I hope this helps!", "Would you like me to add a table?", "Here is a revised version of the article:",
    "Feel free to adjust the tone for your audience.", "The statistics should be checked before publishing.",
    "Meta description: kratom", "The figures are purely illustrative.", "(add a link here)", "[link here]",
    "(link to the study)", "<insert link>", "[text]()", 'href="#"', "http://example.com/x", "see example.org",
    "localhost:8080", "Below are hypothetical examples.", "[update with data]",
]
# What re's case-insensitive matching equates with ASCII letters although str.lower() does not.
FOLDS = {"i": "\u0131", "s": "\u017f", "k": "\u212a", "I": "\u0130"}


def _without_prefilter(text: str, monkeypatch: pytest.MonkeyPatch) -> list[placeholders.Placeholder]:
    with monkeypatch.context() as patch:
        patch.setattr(placeholders, "_scanned", lambda text: list(range(len(placeholders.PATTERNS))))
        return placeholders._find_placeholders(text, frozenset())


def _variants(text: str) -> list[str]:
    rng = random.Random(text)
    folded = "".join(FOLDS.get(c, c) if rng.random() < 0.5 else c for c in text)
    return [text, text.upper(), text.lower(), text.title(), f"Some words before {text} and after.", folded]


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_every_placeholder_is_found_with_the_prefilter(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for variant in _variants(text):
        expected = _without_prefilter(variant, monkeypatch)
        assert placeholders.find_placeholders(variant) == expected, variant
    assert placeholders.find_placeholders(text), f"{text!r} is a placeholder"


def test_ordinary_fields_skip_most_scans() -> None:
    """A title, a journal or an author list without a placeholder is scanned by few patterns, if any."""
    fields = ["Kratom use and mitragynine pharmacology in a cohort of adults", "Drug and Alcohol Dependence",
              "Smith, J. and Nguyen, Wei and García, María", "2019", "10.1016/j.drugalcdep.2019.01.001", "12--34"]
    scanned = [len(placeholders._scanned(text)) for text in fields]
    assert sum(scanned) <= len(fields), scanned
    assert all(placeholders.find_placeholders(text) == [] for text in fields)
