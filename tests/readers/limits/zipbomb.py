"""Hostile .docx packages for the tests: zip bombs built without unpacking them, billion laughs and XXE parts."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                 'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/'
                 'word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
                 'document.main+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def document_xml(paragraphs: list[str], doctype: str = "") -> str:
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<w:document xmlns:w="{W}"><w:body>{body}</w:body>'
            "</w:document>")


def plain_docx(path: Path, document: str) -> Path:
    """A Word (Transitional) package whose main part is `document`, as python-docx reads it."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", document)
    return path


def _spaces_deflated(megabytes: int) -> bytes:
    """A raw deflate stream of `megabytes` MiB of spaces, built from one compressed MiB repeated: a full flush
    makes each MiB's blocks independent of the ones before, so they can be repeated as they are."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(b" " * 2**20) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * megabytes + compressor.flush(zlib.Z_FINISH)


def _member(name: bytes, data: bytes, crc: int, size: int, offset: int) -> tuple[bytes, bytes]:
    """The local header (with the data) and the central directory record of one deflated member."""
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0) + name + data
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0, 0,
                          0, 0, 0, offset) + name
    return local, central


def bomb_docx(path: Path, megabytes: int, declared: int | None = None) -> Path:
    """A .docx whose word/document.xml is `megabytes` MiB of spaces packed into about megabytes KiB. declared: the
    size its headers give (the real one when None): a header that lies."""
    members = [(b"[Content_Types].xml", CONTENT_TYPES.encode()), (b"_rels/.rels", RELS.encode())]
    out, directory = b"", b""
    for name, content in members:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = compressor.compress(content) + compressor.flush()
        local, central = _member(name, data, zlib.crc32(content), len(content), len(out))
        out, directory = out + local, directory + central
    # The CRC is not computed (2 GiB to read): a reader that unpacked the whole part would find it wrong, but only
    # after holding all of it in memory, which is what the tests look for.
    size = megabytes * 2**20 if declared is None else declared
    local, central = _member(b"word/document.xml", _spaces_deflated(megabytes), 0, size, len(out))
    out, directory = out + local, directory + central
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 3, 3, len(directory), len(out), 0)
    path.write_bytes(out + directory + end)
    return path
