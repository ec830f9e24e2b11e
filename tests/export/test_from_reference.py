"""kratomref's own CSL conversion of a read reference (what the RIS and BibTeX exports start from): every name
role, the genre a .bib gives, and a .bib's institution or organization as the publisher, not a container."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kratomref.export.csl import from_reference
from kratomref.readers import read


def items(tmp_path: Path, name: str, text: str) -> dict[str, dict[str, Any]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    doc = read(str(path))
    assert doc.problems == ()
    return {ref.key: from_reference(ref) for ref in doc.references}


BIB = r"""
@techreport{who2020,
  author = {{World Health Organization}}, title = {Kratom: critical review report},
  institution = {World Health Organization}, type = {Technical report}, number = {WHO/1}, year = {2020}}
@misc{leaflet2021,
  author = {Gaul, Anna}, title = {Kratom leaflet}, organization = {Kratom Council}, year = {2021}}
@misc{preprint2022,
  author = {Gaul, Anna}, title = {A preprint}, howpublished = {SSRN preprint}, year = {2022}}
@online{fda,
  author = {{Food and Drug Administration}}, title = {FDA and Kratom}, organization = {U.S. FDA},
  url = {https://www.fda.gov/kratom}, year = {2020}}
@book{edited2019,
  editor = {Singh, Darshan}, translator = {Lee, Min}, title = {Handbook}, publisher = {Springer}, year = {2019},
  note = {Second printing}, abstract = {About plants.}, keywords = {kratom, botany}}
@dataset{data2021,
  author = {Singh, Darshan}, title = {Survey responses}, publisher = {Zenodo}, year = {2021}}
"""


def test_an_institution_or_organization_is_the_publisher_not_a_container(tmp_path: Path) -> None:
    found = items(tmp_path, "refs.bib", BIB)
    assert "container-title" not in found["who2020"]
    assert found["who2020"]["publisher"] == "World Health Organization"
    assert found["who2020"]["genre"] == "Technical report"
    assert "container-title" not in found["leaflet2021"]
    assert found["leaflet2021"]["publisher"] == "Kratom Council"
    # a howpublished field and a web page's site are containers
    assert found["preprint2022"]["container-title"]
    assert found["fda"]["container-title"] == "U.S. FDA"


def test_every_name_role_and_the_free_text_fields_are_carried(tmp_path: Path) -> None:
    book = items(tmp_path, "refs.bib", BIB)["edited2019"]
    assert "author" not in book, "the editor stands in for the missing author, once"
    assert book["editor"] == [{"family": "Singh", "given": "Darshan"}]
    assert book["translator"] == [{"family": "Lee", "given": "Min"}]
    assert (book["note"], book["abstract"], book["keyword"]) == ("Second printing", "About plants.", "kratom, botany")
    assert items(tmp_path, "refs.bib", BIB)["data2021"]["type"] == "dataset"


def test_a_csl_json_item_type_is_not_taken_for_a_genre(tmp_path: Path) -> None:
    data = [{"id": "a", "type": "article-journal", "title": "T", "issued": {"date-parts": [[2020]]}},
            {"id": "t", "type": "thesis", "genre": "Master's thesis", "title": "U", "publisher": "USM"}]
    found = items(tmp_path, "refs.json", json.dumps(data))
    assert "genre" not in found["a"]
    assert found["t"]["genre"] == "Master's thesis"


def test_a_ris_record_keeps_its_editors_and_genre(tmp_path: Path) -> None:
    ris = ("TY  - THES\nID  - th\nAU  - Gaul, Anna\nA2  - Singh, Darshan\nTI  - Alkaloids\nM3  - Doctoral "
           "dissertation\nPB  - Universiti Sains Malaysia\nPY  - 2018\nER  - \n")
    thesis = items(tmp_path, "refs.ris", ris)["th"]
    assert thesis["genre"] == "Doctoral dissertation"
    assert thesis["editor"] == [{"family": "Singh", "given": "Darshan"}]
    assert thesis["author"] == [{"family": "Gaul", "given": "Anna"}]
