"""Word documents (.docx) read as text drafts; a location's line is the paragraph number (1-based)."""

from __future__ import annotations

import dataclasses
import zipfile

from kratomref.model import Document, Location, Problem


def read(path: str, text: str = "") -> Document:
    """Read a .docx: each paragraph becomes one line of a text draft, so line N is paragraph N."""
    import docx  # python-docx; imported here so that other formats do not pay for it
    from docx.opc.exceptions import PackageNotFoundError

    from kratomref.readers.text import read_draft

    try:
        document = docx.Document(path)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        problem = Problem(Location(path), "KR002", f"the file is not a readable Word document ({exc})",
                          "save it again as .docx from Word or LibreOffice")
        return Document(path, "docx", problems=(problem,))
    # Paragraphs hold no line breaks of their own here: a soft break (Shift+Enter) becomes a space.
    paragraphs = [p.text.replace("\n", " ").replace("\v", " ") for p in document.paragraphs]
    draft = read_draft(path, "\n".join(paragraphs), "docx")
    return dataclasses.replace(draft, format="docx")
