"""Word documents (.docx) read as text drafts; a location's line is the paragraph number (1-based)."""

from __future__ import annotations

import dataclasses
import os
import struct
import zipfile
import zlib
from typing import BinaryIO
from xml.etree import ElementTree

from kratomref.model import Document, Location, Problem

# ISO/IEC 29500 Strict documents name their parts in these namespaces; python-docx reads only Transitional.
STRICT_RELATIONSHIP = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
STRICT_MAIN = "{http://purl.oclc.org/ooxml/wordprocessingml/main}"
MAX_DOCUMENT_XML = 16 * 1024 * 1024  # uncompressed bytes of word/document.xml read from a Strict document
MAX_RELATIONSHIPS = 1024 * 1024  # uncompressed bytes of _rels/.rels (a few hundred in a real document)
# The whole package, checked before python-docx unpacks any part of it (README, "Safety"): a zip bomb stays packed.
MAX_PART_BYTES = 16 * 1024 * 1024  # uncompressed bytes of any one part (word/document.xml of a 1,000-page book: 5 MB;
# its DOM costs about 14x its size: 16 MiB keeps a whole check under 512 MiB, issue 17)
MAX_PACKAGE_BYTES = 64 * 1024 * 1024  # uncompressed bytes of all the parts together
MAX_PARTS = 10_000  # files in the package (a document with many images: a few hundred)
MAX_RATIO = 200  # uncompressed / compressed size of a part above RATIO_FROM bytes (Word's XML parts: about 10)
RATIO_FROM = 1024 * 1024
READ_CHUNK = 1024 * 1024  # a part is unpacked this much at a time, never past the size its header gives
_END_OF_DIRECTORY = b"PK\x05\x06"


def _part_count(path: str) -> int | None:
    """The number of files the zip's end-of-directory record announces, read before the directory itself is
    (a directory of a million empty files is a memory bomb of its own), or None when there is no such record."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 65_536 - 22))  # the record (22 bytes) is followed by a comment of at most 64 KiB
        tail = handle.read()
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) < at + 22:
        return None
    count: int = struct.unpack_from("<H", tail, at + 10)[0]
    return count


def package_problem(path: str) -> str | None:
    """Why the .docx package at path may not be unpacked, or None when it may (or is not a zip at all: the reader
    then says so). Its directory's sizes are checked first, then each part is unpacked in chunks and thrown away,
    since a directory can lie: no part is ever read past MAX_PART_BYTES, whatever its header says."""
    try:
        count = _part_count(path)
        if count is not None and count > MAX_PARTS:
            return f"the Word document holds {count} files (the limit is {MAX_PARTS})"
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                return f"the Word document holds {len(parts)} files (the limit is {MAX_PARTS})"
            total = 0
            for info in parts:
                total += info.file_size
                if info.file_size > MAX_PART_BYTES:
                    return (f"its part {info.filename} would unpack to {info.file_size / 2**20:.0f} MiB (the limit is"
                            f" {MAX_PART_BYTES // 2**20} MiB)")
                if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    return (f"its part {info.filename} is compressed {info.file_size // max(info.compress_size, 1)}"
                            f" times (the limit is {MAX_RATIO}): a zip bomb, not a document")
                if total > MAX_PACKAGE_BYTES:
                    return f"it would unpack to more than {MAX_PACKAGE_BYTES // 2**20} MiB"
        with open(path, "rb") as handle:
            for info in parts:
                why = _unpacks_as_declared(handle, info)
                if why is not None:
                    return f"its part {info.filename} {why}"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error):
        return None  # not a zip, or a damaged one: python-docx says so
    return None


def _unpacks_as_declared(handle: BinaryIO, info: zipfile.ZipInfo) -> str | None:
    """Why a part may not be unpacked, or None. Its compressed bytes are inflated here a chunk at a time and thrown
    away: zipfile stops at the size the header gives, but only after inflating everything it read in one piece,
    so a part whose header lies (30 MiB said, 2 GiB packed) would take all the memory on the way."""
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"is packed with a method Word does not use (zip method {info.compress_type})"
    handle.seek(info.header_offset)
    local = handle.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        return None  # zipfile reports it
    name_length, extra_length = struct.unpack_from("<2H", local, 26)
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    if info.compress_type == zipfile.ZIP_STORED:
        return None if info.compress_size <= info.file_size else "holds more than its header says"
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    left, unpacked = info.compress_size, 0
    while left > 0 and not inflater.eof:
        packed = handle.read(min(READ_CHUNK, left))
        if not packed:
            break
        left -= len(packed)
        while packed and not inflater.eof:
            try:
                unpacked += len(inflater.decompress(packed, READ_CHUNK))
            except zlib.error:
                return None  # damaged: zipfile reports it
            if unpacked > info.file_size:
                return "unpacks to more than its header says"
            packed = inflater.unconsumed_tail
    return None


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

    refused = package_problem(path)
    if refused is not None:
        problem = Problem(Location(path), "KR002", f"the Word document was not unpacked: {refused}",
                          "save it again as .docx from Word or LibreOffice, or check the draft's text on its own")
        return Document(path, "docx", problems=(problem,))
    try:
        document = docx.Document(path)
    # SyntaxError: lxml's XMLSyntaxError, raised for an entity that expands past its amplification limit (billion
    # laughs); python-docx's parser resolves no entity and loads no DTD or external file (XXE).
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError) as exc:
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
