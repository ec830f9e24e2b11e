"""The README's threat model: files a LaTeX or pandoc document names are followed only inside its directory, and
through the same guards (size, regular file, binary, encoding) as a file named on the command line."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import kratomref.readers as readers
from kratomref.cli import main
from kratomref.model import Document

SECRET_BIB = "@article{secretkey, title={Secret}, author={Keeper, Ann}, year={2020}}\n"
LOCAL_BIB = "@article{localkey, title={Local}, author={Near, Bo}, year={2021}}\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A document directory `doc/` with a neighbour `outside/` that holds secrets."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.tex").write_text("SECRET-INPUT studies show \\cite{secretkey}\n")
    (outside / "secret.bib").write_text(SECRET_BIB)
    doc = tmp_path / "doc"
    doc.mkdir()
    (doc / "local.bib").write_text(LOCAL_BIB)
    return doc


def expanded(path: Path) -> Document:
    [doc] = readers.expand([readers.read(str(path))])
    return doc


def refusals(doc: Document) -> list[tuple[int | None, str, str]]:
    return [(p.location.line, p.code, p.message) for p in doc.problems]


def leaked(doc: Document) -> bool:
    return (any("SECRET" in line.text for line in doc.body) or any(c.target == "secretkey" for c in doc.citations
                                                                   if c.resolved_key)
            or any(r.key == "secretkey" for r in doc.references))


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("\\input{../outside/secret}", "outside the document's directory"),
        ("\\include{../outside/secret}", "outside the document's directory"),
        ("\\input{{ABS}/outside/secret.tex}", "absolute path"),
        ("\\bibliography{../outside/secret,local}", "outside the document's directory"),
        ("\\addbibresource{link.bib}", "outside the document's directory"),
        ("\\input{sub/../../outside/secret}", "outside the document's directory"),
    ],
    ids=["input climbing out", "include climbing out", "input by absolute path", "bibliography climbing out",
         "addbibresource through a symlink that leads out", "input climbing out after a subdirectory"],
)
def test_latex_refuses_files_outside_the_document_directory(tree: Path, command: str, why: str) -> None:
    (tree / "link.bib").symlink_to("../outside/secret.bib")
    command = command.replace("{ABS}", str(tree.parent))
    (tree / "paper.tex").write_text(f"{command}\nWe cite \\cite{{localkey}} and \\cite{{secretkey}}.\n")
    doc = expanded(tree / "paper.tex")
    assert not leaked(doc)
    [(line, code, message)] = refusals(doc)
    named = command[command.index("{") + 1 : command.index("}")].split(",")[0]
    assert (line, code) == (1, "KR002")
    assert named in message and why in message and "not read" in message


def test_latex_bibliography_list_keeps_the_entries_inside(tree: Path) -> None:
    (tree / "paper.tex").write_text("\\bibliography{../outside/secret,local}\nWe cite \\cite{localkey}.\n")
    doc = expanded(tree / "paper.tex")
    assert [r.key for r in doc.references] == ["localkey"]
    assert [c.resolved_key for c in doc.citations] == ["localkey"]


def test_latex_still_follows_files_inside_its_directory(tree: Path) -> None:
    (tree / "chapters").mkdir()
    (tree / "chapters" / "intro.tex").write_text("Intro text \\cite{localkey}.\n")
    (tree / "alias.bib").symlink_to("local.bib")  # a symbolic link that stays inside is fine
    (tree / "paper.tex").write_text("\\input{chapters/intro}\n\\include{./chapters/../chapters/intro}\n"
                                    "\\addbibresource{alias.bib}\n")
    doc = expanded(tree / "paper.tex")
    assert refusals(doc) == []
    assert [(os.path.basename(c.location.file), c.resolved_key) for c in doc.citations] == [("intro.tex", "localkey")]


def test_pandoc_refuses_bibliographies_outside_the_note_directory(tree: Path) -> None:
    (tree / "note.md").write_text("---\ntitle: Note\nbibliography: [../outside/secret.bib, /etc/passwd, /dev/zero,"
                                  " local.bib]\n---\n\nText [@localkey] and [@secretkey].\n")
    doc = expanded(tree / "note.md")
    assert [r.key for r in doc.references] == ["localkey"]
    found = refusals(doc)
    assert [(line, code) for line, code, _ in found] == [(3, "KR002")] * 3
    for (_, _, message), name, why in zip(
        found, ("../outside/secret.bib", "/etc/passwd", "/dev/zero"),
        ("outside the document's directory", "absolute path", "absolute path"), strict=True,
    ):
        assert name in message and why in message


def test_pandoc_refuses_a_bibliography_list_item_that_climbs_out(tree: Path) -> None:
    (tree / "note.md").write_text("---\nbibliography:\n  - local.bib\n  - ../outside/secret.bib\n---\n\n"
                                  "Text [@localkey].\n")
    doc = expanded(tree / "note.md")
    assert [r.key for r in doc.references] == ["localkey"]
    assert [(line, code) for line, code, _ in refusals(doc)] == [(4, "KR002")]


def test_check_reports_the_refusal_and_does_not_read_the_secret(tree: Path) -> None:
    (tree / "paper.tex").write_text("\\input{../outside/secret}\n\\bibliography{local}\nWe cite \\cite{localkey}.\n")
    result = CliRunner().invoke(main, ["check", "--offline", "-f", "json", str(tree / "paper.tex")])
    data = json.loads(result.output)
    assert "secretkey" not in result.output and "SECRET" not in result.output
    kr002 = [f for f in data["findings"] if f["code"] == "KR002"]
    assert [(Path(f["file"]).name, f["line"]) for f in kr002] == [("paper.tex", 1)]
    assert "../outside/secret" in kr002[0]["message"]


# --- the guards of a followed file (issue 7: bounded input) -------------------------------------------


def test_input_of_a_file_over_the_size_limit_is_refused_before_reading(tree: Path) -> None:
    with open(tree / "big.tex", "wb") as handle:  # sparse: no disk space, but stat says 65 MiB
        handle.truncate(readers.MAX_INPUT_BYTES + 1024 * 1024)
    (tree / "paper.tex").write_text("Intro.\n\\input{big}\n")
    [(line, code, message)] = refusals(readers.read(str(tree / "paper.tex")))
    assert (line, code) == (2, "KR002") and "too large" in message and "'big'" in message


def test_input_of_a_binary_file_is_refused(tree: Path) -> None:
    (tree / "figure.tex").write_bytes(b"\\cite{localkey}\x00\x01\x02 binary")
    (tree / "paper.tex").write_text("\\input{figure}\n")
    doc = readers.read(str(tree / "paper.tex"))
    assert doc.citations == ()
    [(line, code, message)] = refusals(doc)
    assert (line, code) == (1, "KR002") and "binary" in message


def test_input_in_another_encoding_is_decoded_and_noted(tree: Path) -> None:
    (tree / "latin.tex").write_bytes("Caf\u00e9 cr\u00e8me \\cite{localkey}.\n".encode("cp1252"))
    (tree / "paper.tex").write_text("\\input{latin}\n")
    doc = readers.read(str(tree / "paper.tex"))
    assert [line.text for line in doc.body][-1] == "Caf\u00e9 cr\u00e8me \\cite{localkey}."
    [(_, code, message)] = refusals(doc)
    assert code == "KR002" and "cp1252" in message


def test_input_of_a_named_pipe_is_refused_without_waiting(tree: Path) -> None:
    fifo = tree / "pipe.tex"
    os.mkfifo(fifo)
    (tree / "paper.tex").write_text("\\input{pipe}\n")
    result: list[Document] = []
    reader = threading.Thread(target=lambda: result.append(readers.read(str(tree / "paper.tex"))), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # release the blocked open() so that the thread can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a document that \\inputs a named pipe blocked")
    [(line, code, message)] = refusals(result[0])
    assert (line, code) == (1, "KR002") and "not a regular file" in message


def test_bibliography_that_is_a_named_pipe_is_refused(tree: Path) -> None:
    os.mkfifo(tree / "refs.bib")
    (tree / "paper.tex").write_text("\\bibliography{refs}\n")
    result: list[Document] = []
    reader = threading.Thread(target=lambda: result.append(expanded(tree / "paper.tex")), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():
        os.close(os.open(tree / "refs.bib", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a bibliography that is a named pipe blocked")
    assert [(code, "not a regular file" in message) for _, code, message in refusals(result[0])] == [
        ("KR002", True)
    ]
