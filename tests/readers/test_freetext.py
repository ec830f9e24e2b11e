"""Free-text citations parsed into fields, in the styles drafts use."""

from __future__ import annotations

import pytest

from kratomref.model import Author, Location
from kratomref.readers.freetext import is_organisation, parse_authors, parse_citation

WHERE = Location("draft.md", 10, "ref-1")

CASES = [
    pytest.param(
        "Smith J, Doe AB, Lee C-H. Kratom use in the United States. J Psychoactive Drugs. 2019;51(2):123-30. "
        "doi:10.1080/02791072.2019.1580805",
        {"type": "article", "authors": ("Smith", "Doe", "Lee"), "year": "2019",
         "title": "Kratom use in the United States",
         "container": "J Psychoactive Drugs", "volume": "51", "issue": "2", "pages": "123-30",
         "doi": "doi:10.1080/02791072.2019.1580805", "urls": ()},
        id="vancouver with a doi: prefix",
    ),
    pytest.param(
        "Smith, J. and Doe, A. 2013. A study of things. Journal of Stuff, 12(3), pp.45-67.",
        {"type": "article", "authors": ("Smith", "Doe"), "year": "2013", "title": "A study of things",
         "container": "Journal of Stuff", "volume": "12", "issue": "3", "pages": "45-67"},
        id="harvard with a bare year",
    ),
    pytest.param(
        'Smith, John, and Jane Doe. "Kratom and the Law." Journal of Drug Policy, vol. 37, no. 2, 2013, pp. 138-151.',
        {"type": "article", "authors": ("Smith", "Doe"), "year": "2013", "title": "Kratom and the Law",
         "container": "Journal of Drug Policy", "volume": "37", "issue": "2", "pages": "138-151"},
        id="mla with a quoted title",
    ),
    pytest.param(
        "Grundmann, O. (2017). Patterns of kratom use and health impact in the US. *Drug and Alcohol Dependence*, "
        "*176*, 63–70. [https://doi.org/10.1016/j.drugalcdep.2017.03.007]",
        {"type": "article", "authors": ("Grundmann",), "year": "2017", "container": "Drug and Alcohol Dependence",
         "volume": "176", "pages": "63-70", "doi": "https://doi.org/10.1016/j.drugalcdep.2017.03.007", "urls": ()},
        id="markdown italics and a bracketed DOI URL",
    ),
    pytest.param(
        "World Health Organization. (2021). Pre-review report: kratom. Retrieved from [https://www.who.int/kratom.pdf]",
        {"type": "online", "literal": True, "year": "2021", "title": "Pre-review report: kratom",
         "urls": ("https://www.who.int/kratom.pdf",), "doi": None},
        id="organisation web page with retrieved from",
    ),
    pytest.param(
        "Jones, A. (2010). The Book of Kratom. Oxford University Press.",
        {"type": "book", "year": "2010", "title": "The Book of Kratom", "publisher": "Oxford University Press",
         "container": None},
        id="a book with its publisher",
    ),
    pytest.param(
        "Brown, K., & Green, L. (2015). Effects of leaves. In M. White (Ed.), Handbook of plants (pp. 10-20). "
        "Springer.",
        {"type": "incollection", "authors": ("Brown", "Green"), "title": "Effects of leaves",
         "container": "Handbook of plants", "pages": "10-20", "publisher": "Springer"},
        id="a chapter in an edited book",
    ),
    pytest.param(
        "Doe, J., et al. (2020). Something. Some Journal, 4, 1-2.",
        {"et_al": True, "authors": ("Doe",), "year": "2020"},
        id="et al. marks a truncated list",
    ),
    pytest.param(
        "Centers for Disease Control and Prevention. (2019, March 5). Kratom. Retrieved March 6, 2020, from "
        "https://www.cdc.gov/kratom",
        {"type": "online", "literal": True, "year": "2019", "title": "Kratom", "urls": ("https://www.cdc.gov/kratom",)},
        id="an APA date with month and a retrieval date that is not the year",
    ),
    pytest.param(
        'S. Smith and A. Doe, "Kratom detection in urine," IEEE Trans. Biomed. Eng., vol. 5, no. 3, pp. 1-10, 2019.',
        {"type": "article", "authors": ("Smith", "Doe"), "year": "2019", "title": "Kratom detection in urine",
         "container": "IEEE Trans. Biomed. Eng", "volume": "5", "issue": "3", "pages": "1-10"},
        id="ieee with an abbreviated journal",
    ),
    pytest.param(
        'Smith, John. 2019. "Kratom Markets." Journal of Trade 5 (2): 10–20. https://doi.org/10.1000/jt.5.2',
        {"type": "article", "year": "2019", "title": "Kratom Markets", "container": "Journal of Trade",
         "volume": "5", "issue": "2", "pages": "10-20", "doi": "https://doi.org/10.1000/jt.5.2"},
        id="chicago author-date",
    ),
    pytest.param(
        "Doe J. Kratom: a review [Internet]. Bethesda: NIH; 2017 [cited 2020 May 1]. Available from: "
        "https://www.ncbi.nlm.nih.gov/books/NBK1/",
        {"type": "online", "year": "2017", "title": "Kratom: a review", "urls": ("https://www.ncbi.nlm.nih.gov/books/NBK1/",)},
        id="vancouver web book with a cited date",
    ),
    pytest.param(
        "FDA. FDA and Kratom. https://www.fda.gov. Accessed 2 May 2020.",
        {"type": "online", "literal": True, "title": "FDA and Kratom", "year": None, "urls": ("https://www.fda.gov",)},
        id="an acronym as author and an access date that is not the year",
    ),
    pytest.param(
        "https://www.fda.gov/news-events/kratom",
        {"title": None, "authors": (), "urls": ("https://www.fda.gov/news-events/kratom",), "doi": None},
        id="a bare link",
    ),
    pytest.param(
        "Kratom facts (n.d.). https://example.org/kratom",
        {"year": None, "urls": ("https://example.org/kratom",), "doi": None},
        id="no date keeps the year empty",
    ),
]


@pytest.mark.parametrize(("citation", "expected"), CASES)
def test_a_citation_is_parsed_into_its_fields(citation: str, expected: dict[str, object]) -> None:
    ref = parse_citation(citation, WHERE)
    assert ref.raw == citation
    assert ref.location == WHERE
    for name, value in expected.items():
        if name == "authors":
            assert tuple(a.family for a in ref.authors) == value
        elif name == "literal":
            assert len(ref.authors) == 1 and ref.authors[0].literal is value
        else:
            assert getattr(ref, name) == value, name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Food and Drug Administration (FDA)", True),
        ("National Institute on Drug Abuse", True),
        ("U.S. Department of Health and Human Services", True),
        ("Mayo Clinic", True),
        ("Smith, J., & Jones, A.", False),
        ("Jane Austen", False),
        ("Hassan, Z., Muzaimi, M.", False),
    ],
    ids=["agency with an acronym", "institute", "department with initials in its name", "clinic",
         "two people", "a person named in full", "a list of people"],
)
def test_organisations_are_told_from_people(text: str, expected: bool) -> None:
    assert is_organisation(text) is expected


@pytest.mark.parametrize(
    ("text", "authors", "et_al"),
    [
        ("Hassan, Z., Muzaimi, M., ... & Jayabalan, N.", (Author("Hassan", "Z."), Author("Muzaimi", "M."),
                                                         Author("Jayabalan", "N.")), True),
        ("Yusoff, N. H. M., & Suhaimi, F. W.", (Author("Yusoff", "N. H. M."), Author("Suhaimi", "F. W.")), False),
        ("Smith J, Doe AB", (Author("Smith", "J"), Author("Doe", "AB")), False),
        ("Smith J, Doe AB, et al", (Author("Smith", "J"), Author("Doe", "AB")), True),
        ("J. Smith and A. Doe", (Author("Smith", "J."), Author("Doe", "A.")), False),
        ("Food and Drug Administration (FDA).", (Author("Food and Drug Administration (FDA)", literal=True),), False),
    ],
    ids=["APA with an ellipsis", "APA with several initials", "Vancouver", "Vancouver et al",
         "initials first", "organisation"],
)
def test_author_lists_are_parsed(text: str, authors: tuple[Author, ...], et_al: bool) -> None:
    assert parse_authors(text) == (authors, et_al)


@pytest.mark.parametrize(("text", "year"), [
    ("World Health Organization. Global report on kratom 2019-2020. Geneva: WHO.", "2020"),
    ("National Survey on Drug Use and Health 2021–2022. SAMHSA.", "2022"),
    ("Smith J. Title. J Med. 12:2019-2024.", None),
], ids=["a report's period", "with an en dash", "pages after a colon"])
def test_a_span_of_years_gives_its_last_year_but_pages_give_none(text: str, year: str | None) -> None:
    assert parse_citation(text, Location("refs.md", 1)).year == year
