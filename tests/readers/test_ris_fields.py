"""The RIS reader keeps what RIS carries: organisations whole, editors and translators, place, ISBN/ISSN, month
and day, access dates; and a file of any shape is read in time that grows with its length."""

from __future__ import annotations

from pathlib import Path

from linear_time import assert_linear

from kratomref.model import Author, Reference
from kratomref.readers import read, ris


def _read(tmp_path: Path, text: str) -> Reference:
    path = tmp_path / "one.ris"
    path.write_text(text, encoding="utf-8")
    doc = read(str(path))
    assert doc.problems == ()
    return doc.references[0]


def test_an_organisation_beside_people_stays_one_name(tmp_path: Path) -> None:
    ref = _read(tmp_path, "TY  - RPRT\nAU  - Smith, John\nAU  - Micro Focus\nTI  - T\nER  - \n")
    assert ref.authors == (Author("Smith", "John"), Author("Micro Focus", literal=True))


def test_a_closing_comma_marks_an_organisation(tmp_path: Path) -> None:
    ref = _read(tmp_path, "TY  - RPRT\nAU  - Micro Focus,\nAU  - University of California, Berkeley,\nER  - \n")
    assert ref.authors == (Author("Micro Focus", literal=True),
                           Author("University of California, Berkeley", literal=True))


def test_names_without_commas_in_a_file_without_commas_are_people(tmp_path: Path) -> None:
    ref = _read(tmp_path, "TY  - JOUR\nAU  - Smith JA\nAU  - Jane Doe\nAU  - World Health Organization\nER  - \n")
    assert ref.authors == (Author("Smith", "JA"), Author("Doe", "Jane"),
                           Author("World Health Organization", literal=True))


def test_editors_translators_place_numbers_and_dates(tmp_path: Path) -> None:
    ref = _read(tmp_path, "\n".join([
        "TY  - BOOK", "AU  - Singh, Darshan", "A2  - Gaul, Anna", "ED  - Micro Focus", "A4  - Lee, Min",
        "TI  - Handbook", "CY  - Cham", "PB  - Springer", "SN  - 978-3-030-12345-6", "SN  - 0149-7634",
        "PY  - 2019", "DA  - 2019/05/03/", "Y2  - 2024/03/09/", "ET  - 2", "T3  - Lecture Notes",
        "M3  - Edited volume", "KW  - kratom", "KW  - mitragynine", "ER  - ", ""]))
    assert ref.authors == (Author("Singh", "Darshan"),)
    assert ref.fields["editor"] == "Gaul, Anna and {Micro Focus}"
    assert ref.fields["translator"] == "Lee, Min"
    assert (ref.fields["address"], ref.fields["isbn"], ref.fields["issn"]) == ("Cham", "978-3-030-12345-6",
                                                                                "0149-7634")
    assert (ref.year, ref.fields["month"], ref.fields["date"], ref.fields["urldate"]) == ("2019", "5", "2019-05-03",
                                                                                          "2024-03-09")
    assert (ref.fields["edition"], ref.fields["series"], ref.fields["type"]) == ("2", "Lecture Notes",
                                                                                 "Edited volume")
    assert ref.fields["keywords"] == "kratom, mitragynine"


def test_a_month_written_as_a_word_is_kept(tmp_path: Path) -> None:
    ref = _read(tmp_path, "TY  - JOUR\nAU  - Shannon, Claude E.\nPY  - 1948\nDA  - July\nER  - \n")
    assert (ref.year, ref.fields["date"]) == ("1948", "July 1948")


def test_a_value_wrapped_over_many_lines_is_read_in_linear_time() -> None:
    # Before: each wrapped line copied the whole value so far (40k lines: 1.3 s, 80k: 5 s, 100k: 5 s).
    def wrapped(n: int) -> str:
        return "TY  - JOUR\nTI  - start\n" + "".join(f"continued text line {i}\n" for i in range(n))

    assert_linear(wrapped, lambda text: ris.read("big.ris", text), 20_000, what="a wrapped value")


def test_records_without_er_lines_are_read_in_linear_time() -> None:
    def records(n: int) -> str:
        return "".join(f"TY  - JOUR\nAU  - Smith, J{i}\nTI  - Title {i}\nPY  - 2019\n" for i in range(n))

    assert_linear(records, lambda text: ris.read("big.ris", text), 500, what="records without ER lines")
