"""Word's "Strict Open XML Document" (.docx in ISO 29500 Strict), which python-docx cannot open, is read too."""

from __future__ import annotations

import zipfile
from pathlib import Path

from kratomref.readers import read
from kratomref.readers.docx import MAX_DOCUMENT_XML, MAX_RELATIONSHIPS

RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://purl.oclc.org/ooxml/officeDocument/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>')
W = "http://purl.oclc.org/ooxml/wordprocessingml/main"
CONTENT_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/></Types>')


def strict_docx(path: Path, paragraphs: list[str], padding: int = 0, rels_padding: int = 0) -> Path:
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    xml = f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body>{body}{" " * padding}</w:body></w:document>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS + " " * rels_padding)
        archive.writestr("word/document.xml", xml)
    return path


def test_a_strict_document_is_read_paragraph_by_paragraph(tmp_path: Path) -> None:
    doc = read(str(strict_docx(tmp_path / "s.docx", ["Kratom is popular [citation needed].", "Second."])))
    assert not doc.problems
    assert [line.text for line in doc.body][:2] == ["Kratom is popular [citation needed].", "Second."]
    assert doc.body[0].line == 1


def test_a_strict_document_too_large_to_unpack_is_refused_unread(tmp_path: Path) -> None:
    doc = read(str(strict_docx(tmp_path / "bomb.docx", ["x"], padding=MAX_DOCUMENT_XML + 1)))
    assert [p.code for p in doc.problems] == ["KR002"] and not doc.body


def test_a_relationships_part_too_large_to_unpack_is_refused_unread(tmp_path: Path) -> None:
    doc = read(str(strict_docx(tmp_path / "bomb.docx", ["x"], rels_padding=MAX_RELATIONSHIPS + 1)))
    assert [p.code for p in doc.problems] == ["KR002"] and not doc.body
