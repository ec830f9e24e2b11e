"""Judging authority answers: an identifier match is strong evidence, a search candidate needs the usual
fields, a could-not-check keeps KR205 away, and KR205's message names every authority asked."""

from __future__ import annotations

from kratomref.identifiers import arxiv_id, isbn13, isbns, pmcid, pmid
from kratomref.model import Author, AuthorityAnswer, AuthorityRecord, Evidence, Location, Lookup, Reference
from kratomref.rules import authorities as rules

VASWANI = AuthorityRecord("arxiv", "Attention Is All You Need", ("Vaswani", "Shazeer"), 2017, (2017,),
                          identifiers=(("arxiv", "1706.03762"),))
CORMEN = AuthorityRecord("openlibrary", "Introduction to Algorithms", ("Cormen", "Leiserson"), 1990,
                         (1990, 2001, 2009), identifiers=(("isbn", "9780262033848"),))


def cited(title: str | None, *surnames: str, year: str = "2017", type_: str = "misc", **fields: str) -> Reference:
    return Reference(Location("r.bib", 1, "k"), type=type_, title=title, year=year,
                     authors=tuple(Author(s) for s in surnames), fields=fields)


def by_id(record: AuthorityRecord, kind: str, asked: str = "") -> AuthorityAnswer:
    return AuthorityAnswer(record.authority, Lookup.FOUND, (record,), asked=asked, identifier=kind)


def test_an_arxiv_id_with_its_title_or_an_author_confirms() -> None:
    arxiv = {"eprint": "1706.03762", "archiveprefix": "arXiv"}
    assert rules.confirmation(cited("Attention is all you need", "Vaswani", **arxiv), by_id(VASWANI, "arxiv"))
    # The title mangled but an author right: the id carries it.
    assert rules.confirmation(cited("Attention networks", "Shazeer", **arxiv), by_id(VASWANI, "arxiv"))
    # A bare identifier (a pandoc [@arxiv:…] citation) is confirmed by the id alone.
    assert rules.confirmation(cited(None, **arxiv), by_id(VASWANI, "arxiv"))


def test_an_identifier_of_another_work_confirms_nothing() -> None:
    ref = cited("Capsule Transformers for Alkaloid Discovery", "Hinton", eprint="1706.03762", archiveprefix="arXiv")
    assert rules.confirmation(ref, by_id(VASWANI, "arxiv")) is None


def test_a_book_is_cited_with_any_of_its_editions_years() -> None:
    ref = cited("Introduction to Algorithms", "Cormen", year="2009", type_="book")
    search = AuthorityAnswer("openlibrary", Lookup.FOUND, (CORMEN,), asked="a title and author search")
    found = rules.confirmation(ref, search)
    assert found is not None and "year" in found.supporting


def test_a_search_candidate_needs_more_than_an_author_and_a_year() -> None:
    ref = cited("Algorithms for Ethnobotanical Pharmacology", "Cormen", year="1990", type_="book")
    search = AuthorityAnswer("openlibrary", Lookup.FOUND, (CORMEN,), asked="a title and author search")
    assert rules.confirmation(ref, search) is None


def test_kr205_names_every_authority_and_what_the_identifier_led_to() -> None:
    ref = cited("Capsule Transformers for Alkaloid Discovery", "Hinton", eprint="1706.03762", archiveprefix="arXiv")
    evidence = Evidence(authorities={
        "arxiv": by_id(VASWANI, "arxiv", "arXiv:1706.03762"),
        "openalex": AuthorityAnswer("openalex", Lookup.NOT_FOUND, asked="a title search"),
    })
    message = rules.not_found_message(ref, evidence)
    assert message == ("not in Crossref, arXiv or OpenAlex (arXiv:1706.03762 is 'Attention Is All You Need' by"
                       " Vaswani and Shazeer, 2017, not the cited work): it may be fabricated, mis-cited or not"
                       " indexed")


def test_kr205_waits_while_an_authority_could_not_be_asked() -> None:
    ref = cited("Algorithms for Ethnobotanical Pharmacology", "Cormen", type_="book")
    evidence = Evidence(authorities={
        "openlibrary": AuthorityAnswer("openlibrary", Lookup.UNVERIFIED, asked="ISBN 9781473200012", identifier="isbn",
                                       reason="Open Library answered HTTP 503"),
        "openalex": AuthorityAnswer("openalex", Lookup.NOT_FOUND, asked="a title search"),
    })
    assert rules.not_found_message(ref, evidence) is None
    assert rules.could_not_check_reasons(evidence) == [
        "Open Library could not be checked for ISBN 9781473200012: Open Library answered HTTP 503"]


def test_without_a_crossref_search_only_an_identifier_not_found_is_reported() -> None:
    ref = cited("Sparse kratom attention", "Shazeer", eprint="2301.99999", archiveprefix="arXiv")
    nothing = Evidence(authorities={"openalex": AuthorityAnswer("openalex", Lookup.NOT_FOUND, asked="a title search")})
    assert rules.not_found_message(ref, nothing, crossref=False) is None
    missing = Evidence(authorities={"arxiv": AuthorityAnswer("arxiv", Lookup.NOT_FOUND, asked="arXiv:2301.99999",
                                                             identifier="arxiv")})
    assert rules.not_found_message(ref, missing, crossref=False) == (
        "not in arXiv (arXiv has no arXiv:2301.99999): it may be fabricated, mis-cited or not indexed")


def test_identifiers_are_read_from_every_place_people_put_them() -> None:
    def ref(**kw: object) -> Reference:
        return Reference(Location("r", 1, "k"), **kw)  # type: ignore[arg-type]

    assert arxiv_id(ref(fields={"eprint": "arXiv:1706.03762v5", "archiveprefix": "arXiv"})) == "1706.03762"
    assert arxiv_id(ref(fields={"eprint": "hep-th/9901001"})) == "hep-th/9901001"
    assert arxiv_id(ref(fields={"eprint": "1706.03762", "archiveprefix": "HAL"})) is None
    assert arxiv_id(ref(doi="10.48550/arXiv.1412.6980")) == "1412.6980"
    assert arxiv_id(ref(urls=("https://arxiv.org/pdf/1512.03385v1.pdf",))) == "1512.03385"
    assert arxiv_id(ref(container="arXiv preprint arXiv:1810.04805")) == "1810.04805"
    assert isbn13("0-262-03384-4") == "9780262033848"
    assert isbn13("978-0-262-03384-9") is None  # wrong check digit
    assert isbns(ref(fields={"isbn": "978-0-262-03384-8, 0262533057"})) == ("9780262033848", "9780262533058")
    assert pmid(ref(urls=("https://pubmed.ncbi.nlm.nih.gov/24698080/",))) == "24698080"
    assert pmid(ref(raw="Makar AB. Formate assay. Biochem Med. 1975. PMID: 1")) == "1"
    assert pmcid(ref(fields={"pmcid": "pmc5799002"})) == "PMC5799002"
    # in any case, and with a letter outside ASCII the case-blind patterns pair with an ASCII one
    assert arxiv_id(ref(container="ARXIV preprint ARXIV:1810.04805")) == "1810.04805"
    assert arxiv_id(ref(container="ARXıV:1810.04805")) == "1810.04805"
    assert pmid(ref(urls=("https://PUBMED.ncbi.nlm.nih.gov/42/",))) == "42"
    assert pmcid(ref(raw="Free full text: pmc 123.")) == "PMC123"


def test_each_reference_keeps_its_own_identifiers_when_they_are_asked_for_in_turn() -> None:
    """The identifiers are remembered for the last reference asked (authorities.plan asks three times each):
    references asked in alternation, and an equal reference that is another object, get their own answers."""
    first = Reference(Location("r", 1, "a"), urls=("https://arxiv.org/abs/1706.03762",), fields={"pmid": "12"})
    second = Reference(Location("r", 2, "b"), fields={"eprint": "1810.04805", "pmcid": "PMC7"})
    for _ in range(2):
        assert (arxiv_id(first), pmid(first), pmcid(first)) == ("1706.03762", "12", None)
        assert (arxiv_id(second), pmid(second), pmcid(second)) == ("1810.04805", None, "PMC7")
    bare = Reference(Location("r", 1, "a"))
    assert arxiv_id(bare) is None and arxiv_id(Reference(Location("r", 1, "a"), fields={"arxiv": "1412.6980"})) == \
        "1412.6980"
