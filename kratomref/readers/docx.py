"""Word documents (.docx) read as text drafts; a location's line is the paragraph number (1-based)."""

from __future__ import annotations

import dataclasses
import zipfile
from xml.etree import ElementTree

from kratomref.model import Document, Location, Problem

# ISO/IEC 29500 Strict documents name their parts in these namespaces; python-docx reads only Transitional.
STRICT_RELATIONSHIP = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
STRICT_MAIN = "{http://purl.oclc.org/ooxml/wordprocessingml/main}"
MAX_DOCUMENT_XML = 32 * 1024 * 1024  # uncompressed bytes of word/document.xml read from a Strict document
MAX_RELATIONSHIPS = 1024 * 1024  # uncompressed bytes of _rels/.rels (a few hundred in a real document)


def strict_paragraphs(path: str) -> list[str] | None:
    """The paragraphs of a Strict Open XML document (Word's "Strict Open XML Document" format), or None when
    the file is not one. Each part's uncompressed size is checked before it is read (a zip bomb stays
    packed), and ElementTree resolves no external entity."""
    try:
        with zipfile.ZipFile(path) as archive:
            rels = archive.getinfo("_rels/.rels")
            if rels.file_size > MAX_RELATIONSHIPS or STRICT_RELATIONSHIP not in archive.read(rels).decode(
                    "utf-8", "replace"):
                return None
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_DOCUMENT_XML:
                return None
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return None
    text, breaks = f"{STRICT_MAIN}t", (f"{STRICT_MAIN}br", f"{STRICT_MAIN}tab")
    return ["".join(node.text or "" if node.tag == text else " " for node in paragraph.iter()
                    if node.tag == text or node.tag in breaks)
            for paragraph in root.iter(f"{STRICT_MAIN}p")]


def read(path: str, text: str = "") -> Document:
    """Read a .docx: each paragraph becomes one line of a text draft, so line N is paragraph N."""
    import docx  # python-docx; imported here so that other formats do not pay for it
    from docx.opc.exceptions import PackageNotFoundError

    from kratomref.readers.text import read_draft

    try:
        document = docx.Document(path)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        strict = strict_paragraphs(path)
        if strict is None:
            problem = Problem(Location(path), "KR002", f"the file is not a readable Word document ({exc})",
                              "save it again as .docx from Word or LibreOffice")
            return Document(path, "docx", problems=(problem,))
        paragraphs = strict
    else:
        # Paragraphs hold no line breaks of their own here: a soft break (Shift+Enter) becomes a space.
        paragraphs = [p.text.replace("\n", " ").replace("\v", " ") for p in document.paragraphs]
    draft = read_draft(path, "\n".join(paragraphs), "docx")
    return dataclasses.replace(draft, format="docx")
