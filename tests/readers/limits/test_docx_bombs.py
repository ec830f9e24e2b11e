"""A hostile .docx from a pull request (issue 17): a zip bomb stays packed, a header that lies is caught while
unpacking, and the XML parsers expand no entity bomb and read no external file (XXE)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from kratomref.readers import read
from kratomref.readers.docx import MAX_PART_BYTES, MAX_RATIO

from .peak import peak
from .zipbomb import bomb_docx, document_xml, plain_docx

SMALL_MEMORY_KIB = 150 * 1024  # Python with kratomref and python-docx loaded takes about 40 MiB here
TEXT = ["Kratom is popular [citation needed].", "Second paragraph."]


def test_a_two_megabyte_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = bomb_docx(tmp_path / "bomb.docx", megabytes=2048)  # 2 GiB of spaces in about 2 MB
    assert bomb.stat().st_size < 3 * 2**20
    result = peak(str(bomb))
    assert result["peak_kib"] < SMALL_MEMORY_KIB
    [[code, message]] = result["problems"]
    assert code == "KR002" and "word/document.xml" in message and "2048 MiB" in message


def test_a_part_whose_header_understates_its_size_is_refused_while_it_is_unpacked(tmp_path: Path) -> None:
    # The header says 15 MiB (within the limit, and a ratio Word's parts have); the packed data holds 2 GiB.
    # zipfile alone would inflate all of it in one piece before cutting it to the header's size.
    liar = bomb_docx(tmp_path / "liar.docx", megabytes=2048, declared=15 * 2**20)
    assert zipfile.ZipFile(liar).getinfo("word/document.xml").file_size <= MAX_PART_BYTES
    result = peak(str(liar))
    assert result["peak_kib"] < SMALL_MEMORY_KIB
    [[code, message]] = result["problems"]
    assert code == "KR002" and "more than its header says" in message


def test_a_part_compressed_far_beyond_what_word_writes_is_refused(tmp_path: Path) -> None:
    path = plain_docx(tmp_path / "dense.docx", document_xml(TEXT) + " " * (MAX_RATIO * 2**14))  # 3.2 MB -> ~3 KB
    doc = read(str(path))
    assert [p.code for p in doc.problems] == ["KR002"] and "compressed" in doc.problems[0].message
    assert not doc.body


def test_a_real_sized_document_is_still_read(tmp_path: Path) -> None:
    # The control for the tests above: the same package, honest and of a normal size, is read paragraph by paragraph.
    doc = read(str(plain_docx(tmp_path / "ok.docx", document_xml(TEXT))))
    assert not doc.problems
    assert [line.text for line in doc.body][:2] == TEXT


BILLION_LAUGHS = ('<!DOCTYPE w:document [<!ENTITY lol0 "lol">'
                  + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + "]>")


def _strict(path: Path, doctype: str, paragraph: str) -> Path:
    """A Strict Open XML package (read by kratomref's own ElementTree path, not python-docx)."""
    w = "http://purl.oclc.org/ooxml/wordprocessingml/main"
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"'
            ' Target="word/document.xml"/></Relationships>')
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in (paragraph, *TEXT[1:]))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", f'<?xml version="1.0"?>{doctype}<w:document xmlns:w="{w}"><w:body>'
                                              f"{body}</w:body></w:document>")
    return path


@pytest.mark.parametrize("strict", [False, True], ids=["Word (python-docx, lxml)", "Strict (ElementTree)"])
def test_billion_laughs_is_not_expanded(tmp_path: Path, strict: bool) -> None:
    text = "Start &lol9; end"
    laughs = tmp_path / "laughs.docx"
    if strict:
        _strict(laughs, BILLION_LAUGHS, text)
    else:
        plain_docx(laughs, document_xml([text, *TEXT[1:]], BILLION_LAUGHS))
    result = peak(str(laughs))
    assert result["peak_kib"] < SMALL_MEMORY_KIB
    # 10^9 "lol"s would be 3 GB: the parser refuses the document, and the reader says it could not read it
    assert [code for code, _ in result["problems"]] == ["KR002"]
    # the control: the same package without the entity bomb is read
    control = read(str(_strict(tmp_path / "c.docx", "", "Start end") if strict else
                       plain_docx(tmp_path / "c.docx", document_xml(["Start end", *TEXT[1:]]))))
    assert not control.problems and control.body[0].text == "Start end"


@pytest.mark.parametrize("strict", [False, True], ids=["Word (python-docx, lxml)", "Strict (ElementTree)"])
@pytest.mark.parametrize("form", ["entity", "dtd"], ids=["an external entity", "an external DTD"])
def test_an_external_entity_is_never_read(tmp_path: Path, strict: bool, form: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN-0123456789", encoding="utf-8")
    doctype = (f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>' if form == "entity" else
               f'<!DOCTYPE w:document SYSTEM "{secret.as_uri()}">')
    text = "Start &xxe; end" if form == "entity" else "Start end"
    path = (_strict(tmp_path / "xxe.docx", doctype, text) if strict else
            plain_docx(tmp_path / "xxe.docx", document_xml([text, *TEXT[1:]], doctype)))
    doc = read(str(path))
    seen = " ".join(line.text for line in doc.body) + " ".join(p.message for p in doc.problems)
    assert "TOKEN-0123456789" not in seen
    # either the reference is left out of the text, or the document is refused: never a crash
    assert doc.body or [p.code for p in doc.problems] == ["KR002"]
