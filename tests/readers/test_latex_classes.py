"""Classes of LaTeX that published papers use and that must not become false alarms: a thebibliography list, cite
commands and macros the document defines, a .bib found on TeX's search path, a .bib the document writes with
filecontents, a key cited in the wrong case, and macros a .bib's values use."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

import kratomref.readers as readers
from kratomref.check import check
from kratomref.model import NO_DOCUMENT_EVIDENCE, Document, Finding
from kratomref.options import Options
from kratomref.readers import latex
from kratomref.rules import Context
from kratomref.rules import citations as rules

CTX = Context(Options())
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "realworld" / "corpus" / "latex"
GOODMAN_BIB = "@article{goodman2010, author={Goodman, J. and Weare, J.}, title={Ensemble samplers}, year={2010}}\n"


@pytest.fixture(autouse=True)
def no_tex_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The tests run as if TeX were not installed: no search-path variables and no kpsewhich on PATH."""
    for variable in ("BIBINPUTS", "TEXINPUTS"):
        monkeypatch.delenv(variable, raising=False)
    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def expanded(path: Path) -> Document:
    """What check.py does for a document: read it and the bibliographies it names, and link them."""
    [doc] = readers.expand([readers.read(str(path))])
    return doc


def undefined(doc: Document) -> list[Finding]:
    return [f for f in rules.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX) if f.rule.code == "KR501"]


def targets(doc: Document) -> list[str]:
    return [c.target for c in doc.citations]


# --- 1. thebibliography ---------------------------------------------------------------------------------

PAPER_WITH_LIST = r"""\documentclass{aastex}
\newcommand{\etal}{et~al.}
\begin{document}
MCMC samplers \citep{Goodman:2010} are popular \citep[e.g.,][]{Dunkley:2005,
  Gregory:2005}, and so is \citet{bovy2012}.
\begin{thebibliography}{}
\bibitem[Goodman \& Weare(2010)]{Goodman:2010}
Goodman,~J. \& Weare,\ J.,
2010, Comm.\ App.\ Math.\ Comp.\ Sci., 5, 65

\bibitem[Dunkley\ \etal(2005)]{Dunkley:2005}
{Dunkley}, J., {Bucher}, M., \& {Skordis}, C.,
2005, \mnras, 356, 925--936  % http://adsabs.harvard.edu/abs/2005MNRAS.356..925D

\bibitem[Gregory(2005)]{Gregory:2005}
{Gregory}, P.~C.,
\emph{Bayesian Logical Data Analysis for the Physical Sciences},
Cambridge University Press, 2005

\bibitem{bovy2012} Bovy, J., Rix, H.-W., Liu, C., \etal\ 2012, \apj, 753, 148
\end{thebibliography}
\end{document}
"""


def test_thebibliography_items_are_the_documents_references(tmp_path: Path) -> None:
    (tmp_path / "ms.tex").write_text(PAPER_WITH_LIST)
    doc = expanded(tmp_path / "ms.tex")
    assert [(r.key, r.location.line) for r in doc.references] == [
        ("Goodman:2010", 7), ("Dunkley:2005", 11), ("Gregory:2005", 15), ("bovy2012", 20)]
    assert [c.resolved_key for c in doc.citations] == ["Goodman:2010", "Dunkley:2005", "Gregory:2005", "bovy2012"]
    assert undefined(doc) == []
    assert doc.meta["reference-list"] == "thebibliography"  # the document's own list (for KR502)


def test_thebibliography_items_are_read_as_text_not_latex(tmp_path: Path) -> None:
    (tmp_path / "ms.tex").write_text(PAPER_WITH_LIST)
    by_key = {r.key: r for r in expanded(tmp_path / "ms.tex").references}
    goodman, dunkley, gregory, bovy = (by_key[k] for k in ("Goodman:2010", "Dunkley:2005", "Gregory:2005", "bovy2012"))
    assert [str(a) for a in goodman.authors] == ["Goodman, J.", "Weare, J."]
    assert (goodman.year, goodman.container, goodman.volume, goodman.pages) == ("2010", "Comm. App. Math. Comp. Sci",
                                                                                 "5", "65")
    assert dunkley.container == "Monthly Notices of the Royal Astronomical Society"  # AASTeX's \mnras
    assert dunkley.pages == "925-936" and dunkley.type == "article"
    assert (gregory.title, gregory.publisher, gregory.type) == (
        "Bayesian Logical Data Analysis for the Physical Sciences", "Cambridge University Press", "book")
    assert bovy.et_al and bovy.container == "The Astrophysical Journal"  # \etal expanded, not glued to the year
    assert all("\\" not in (r.title or "") + (r.container or "") for r in by_key.values())


def test_natbib_label_gives_the_year_the_text_leaves_out(tmp_path: Path) -> None:
    (tmp_path / "ms.tex").write_text(
        "See \\citet{Gelman:1996}.\n\\begin{thebibliography}{}\n"
        "\\bibitem[{Gelman}, {Roberts}, \\& {Gilks}(1996)]{Gelman:1996}\n"
        "{Gelman}, A., {Roberts}, G.~O., \\& {Gilks}, W.~R.,\n"
        "in {\\em Bayesian Statistics 5}, ed.\\ J. Bernardo et al., Oxford University Press, 599--607\n"
        "\\end{thebibliography}\n")
    [ref] = expanded(tmp_path / "ms.tex").references
    assert (ref.year, ref.type, ref.container) == ("1996", "incollection", "Bayesian Statistics 5")
    assert ref.pages == "599-607"
    assert [a.family for a in ref.authors] == ["Gelman", "Roberts", "Gilks"]


def test_thebibliography_is_not_body_text(tmp_path: Path) -> None:
    (tmp_path / "ms.tex").write_text(
        "Intro \\cite{a}.\n\\begin{thebibliography}{9}\n\\bibitem{a} Studies show that TODO, 2020.\n"
        "\\end{thebibliography}\n")
    doc = expanded(tmp_path / "ms.tex")
    assert [line.line for line in doc.body] == [1]
    assert [f.rule.code for f in rules.judge_document(doc, NO_DOCUMENT_EVIDENCE, CTX)] == []


def test_a_bbl_file_input_by_the_document_is_its_reference_list(tmp_path: Path) -> None:
    (tmp_path / "paper.bbl").write_text(
        "\\begin{thebibliography}{1}\n\\providecommand{\\natexlab}[1]{#1}\n"
        "\\bibitem[{Hughes} et~al.(2018)]{hughes2018}\nHughes, T.~P., et~al. 2018, \\nat, 556, 492\n"
        "\\end{thebibliography}\n")
    (tmp_path / "paper.tex").write_text("Reefs bleach \\citep{hughes2018,baker2008}.\n\\input{paper.bbl}\n")
    doc = expanded(tmp_path / "paper.tex")
    assert [(os.path.basename(r.location.file), r.location.line, r.container) for r in doc.references] == [
        ("paper.bbl", 3, "Nature")]
    assert [f.location.key for f in undefined(doc)] == ["baker2008"]  # a key really missing is still reported


def test_emcee_paper_reads_its_34_references_and_resolves_every_citation() -> None:
    paper = CORPUS / "dfm__emcee" / "document" / "ms.tex"
    if not paper.is_file():
        pytest.skip(f"the real-world corpus is not here ({paper})")
    doc = expanded(paper)
    assert len(doc.references) == 34
    assert doc.citations and all(c.resolved_key for c in doc.citations)
    assert undefined(doc) == []


# --- 2. definitions are not citations; the cite commands they define are ---------------------------------


@pytest.mark.parametrize(
    ("preamble", "text", "cited"),
    [
        ("\\newcommand{\\citen}[1]{\\cite{#1}}", "\\citen{knuth}", ["knuth"]),
        ("\\newcommand\\mycite[1]{\\citep{#1}}", "\\mycite{knuth}", ["knuth"]),
        ("\\newcommand*{\\refer}[2][]{\\citep[#1]{#2}}", "\\refer[p.~3]{knuth}", ["knuth"]),
        ("\\renewcommand{\\see}[1]{see \\citet{#1}}", "\\see{knuth}", ["knuth"]),
        ("\\def\\sources#1{(\\cite{#1})}", "\\sources{knuth,lamport}", ["knuth", "lamport"]),
        ("\\let\\src\\citep", "\\src{knuth}", ["knuth"]),
        ("\\NewDocumentCommand{\\book}{m}{\\textcite{#1}}", "\\book{knuth}", ["knuth"]),
        ("\\newcommand{\\paperii}{\\cite{astropy:2018}}", "As in \\paperii, and", ["astropy:2018"]),
        ("\\defcitealias{knuth}{TeXbook}", "\\citetalias{knuth}", ["knuth"]),
        ("\\DeclareCiteCommand{\\citeonline}[\\mkbibbrackets]{\\usebibmacro{prenote}}{\\printfield{labelnumber}}"
         "{\\multicitedelim}{\\usebibmacro{postnote}}", "\\citeonline{knuth}", ["knuth"]),
        ("\\newenvironment*{notes}{\\def\\footcite##1{\\item\\Cite{##1}.}}{}", "\\footcite{knuth}", ["knuth"]),
        ("\\newcommand{\\citeneeded}[1]{\\textsuperscript{[#1]}}", "\\citeneeded{source}", []),
        ("\\newcommand*{\\code}[1]{\\detokenize\\expandafter{\\string#1}}", "\\code{\\cite{a1}}", []),
    ],
    ids=["newcommand wrapper", "newcommand without braces", "wrapper with an optional argument", "renewcommand",
         "def with a parameter", "let", "NewDocumentCommand", "macro citing a fixed key", "defcitealias",
         "DeclareCiteCommand", "def inside an environment definition", "a cite-named command that cites nothing",
         "cite printed as code"],
)
def test_definitions_are_not_citations_and_their_uses_are(tmp_path: Path, preamble: str, text: str,
                                                           cited: list[str]) -> None:
    (tmp_path / "paper.tex").write_text(f"{preamble}\n\\begin{{document}}\n{text}\n\\end{{document}}\n")
    doc = readers.read(str(tmp_path / "paper.tex"))
    assert targets(doc) == cited
    assert {c.location.line for c in doc.citations} <= {3}
    assert not any("#" in t or "\\" in t for t in targets(doc))


def test_a_wrapper_defined_in_an_input_file_applies_after_the_input(tmp_path: Path) -> None:
    (tmp_path / "macros.tex").write_text("\\newcommand{\\refs}[1]{\\citep{#1}}\n")
    (tmp_path / "paper.tex").write_text("\\input{macros}\nAs shown \\refs{knuth}.\n")
    doc = readers.read(str(tmp_path / "paper.tex"))
    assert [(os.path.basename(c.location.file), c.location.line, c.target) for c in doc.citations] == [
        ("paper.tex", 2, "knuth")]


def test_a_citation_over_several_lines_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "paper.tex").write_text("Used by many \\citep{sanders2013,\n  reis2013,\nweisz2013} papers.\n")
    doc = readers.read(str(tmp_path / "paper.tex"))
    assert [(c.target, c.location.line, c.location.column) for c in doc.citations] == [
        ("sanders2013", 1, 14), ("reis2013", 1, 14), ("weisz2013", 1, 14)]


def test_definitions_are_not_body_text(tmp_path: Path) -> None:
    (tmp_path / "paper.tex").write_text(
        "\\newcommand{\\todo}[1]{\\textcolor{red}{Studies show TODO: #1}}\nPlain text.\n")
    doc = readers.read(str(tmp_path / "paper.tex"))
    assert [line.text for line in doc.body] == ["Plain text."]


# --- 3. a .bib TeX finds on its search path ----------------------------------------------------------------


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A paper that names a .bib kept in a folder of the user's TeX setup, not next to it."""
    texmf = tmp_path / "texmf" / "bibtex" / "bib" / "shared"
    texmf.mkdir(parents=True)
    (texmf / "shared.bib").write_text(GOODMAN_BIB)
    paper = tmp_path / "paper"
    paper.mkdir()
    (paper / "ms.tex").write_text("Ensemble samplers \\citep{goodman2010}.\n\\addbibresource{shared.bib}\n")
    return texmf


@pytest.mark.parametrize("variable", ["BIBINPUTS", "TEXINPUTS"])
def test_a_bib_on_the_tex_search_path_is_read(monkeypatch: pytest.MonkeyPatch, elsewhere: Path,
                                              variable: str) -> None:
    monkeypatch.setenv(variable, f"{elsewhere}::")
    doc = expanded(elsewhere.parents[3] / "paper" / "ms.tex")
    assert [r.key for r in doc.references] == ["goodman2010"]
    assert [c.resolved_key for c in doc.citations] == ["goodman2010"]
    assert doc.problems == ()
    assert latex.related_paths(doc) == [str(elsewhere / "shared.bib")]


def test_a_search_path_entry_ending_in_two_slashes_is_searched_below(monkeypatch: pytest.MonkeyPatch,
                                                                      elsewhere: Path) -> None:
    monkeypatch.setenv("BIBINPUTS", f"!!{elsewhere.parents[2]}//")
    doc = expanded(elsewhere.parents[3] / "paper" / "ms.tex")
    assert [r.key for r in doc.references] == ["goodman2010"]


def test_kpsewhich_is_asked_when_it_is_installed(monkeypatch: pytest.MonkeyPatch, elsewhere: Path,
                                                 tmp_path: Path) -> None:
    programs = tmp_path / "no-programs"
    kpsewhich = programs / "kpsewhich"
    kpsewhich.write_text(f'#!/bin/sh\n[ "$1" = shared.bib ] && echo "{elsewhere}/$1"\n')
    kpsewhich.chmod(kpsewhich.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{programs}{os.pathsep}/bin{os.pathsep}/usr/bin")
    doc = expanded(elsewhere.parents[3] / "paper" / "ms.tex")
    assert [r.key for r in doc.references] == ["goodman2010"]


def test_only_a_bib_file_is_taken_from_the_search_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "texmf"
    folder.mkdir()
    (folder / "notes.txt").write_text(GOODMAN_BIB)
    (tmp_path / "ms.tex").write_text("\\cite{goodman2010}\n\\addbibresource{notes.txt}\n")
    monkeypatch.setenv("BIBINPUTS", str(folder))
    doc = expanded(tmp_path / "ms.tex")
    assert doc.references == ()
    assert [(p.code, "notes.txt" in p.message) for p in doc.problems] == [("KR002", True)]


def test_a_binary_bib_on_the_search_path_is_refused_not_read(monkeypatch: pytest.MonkeyPatch,
                                                             elsewhere: Path) -> None:
    (elsewhere / "shared.bib").write_bytes(b"@article{x,\x00\x00\x00}")
    monkeypatch.setenv("BIBINPUTS", str(elsewhere))
    doc = expanded(elsewhere.parents[3] / "paper" / "ms.tex")
    assert doc.references == ()
    assert [p.code for p in doc.problems] == ["KR002"]
    assert undefined(doc) == []  # the bibliography could not be read: its keys are not known to be missing


def test_a_bib_found_nowhere_is_one_kr002_and_no_undefined_citations(tmp_path: Path) -> None:
    (tmp_path / "ms.tex").write_text(
        "One \\cite{a}, two \\cite{b}, three \\cite{c}.\n\\addbibresource{biblatex-examples.bib}\n")
    report = check(Options(paths=(str(tmp_path / "ms.tex"),), offline=True, cache_dir=str(tmp_path / "cache")))
    found = [(f.rule.code, f.location.line) for f in report.findings if f.rule.code in ("KR002", "KR501")]
    assert found == [("KR002", 2)]
    [problem] = [f for f in report.findings if f.rule.code == "KR002"]
    assert "'biblatex-examples.bib'" in problem.message and "BIBINPUTS" in problem.message


# --- 4. a .bib the document writes with filecontents ----------------------------------------------------

WRITES_ITS_BIB = r"""\documentclass{article}
\begin{filecontents}[force]{\jobname.bib}
@book{tolstoy,
  author = {Tolstoy, Leo},
  title  = {War and Peace TODO},
  year   = {1869},
}
@book{dosto,
  author = {Dostoevsky, Fyodor},
  title  = {Crime and Punishment},
  year   = {1866},
}
\end{filecontents}
\usepackage{biblatex}
\addbibresource{\jobname.bib}
\begin{document}
\textcite{tolstoy,dosto}
\end{document}
"""


def test_filecontents_bib_named_by_jobname_is_the_bibliography(tmp_path: Path) -> None:
    (tmp_path / "nameparts.tex").write_text(WRITES_ITS_BIB)
    doc = expanded(tmp_path / "nameparts.tex")
    assert [(os.path.basename(r.location.file), r.location.line, r.key) for r in doc.references] == [
        ("nameparts.tex", 3, "tolstoy"), ("nameparts.tex", 8, "dosto")]
    assert doc.references[1].line_of("year") == 11
    assert [c.resolved_key for c in doc.citations] == ["tolstoy", "dosto"]
    assert doc.problems == ()  # no "\jobname.bib could not be read"
    assert [line.line for line in doc.body] == [1, 14, 15, 16, 17, 18]  # the written file is not body text
    assert str(tmp_path / "nameparts.tex") in latex.database_files(doc)


def test_filecontents_star_with_a_plain_name(tmp_path: Path) -> None:
    (tmp_path / "paper.tex").write_text(
        "\\begin{filecontents*}{refs.bib}\n" + GOODMAN_BIB + "\\end{filecontents*}\n"
        "Ensembles \\citep{goodman2010}.\n\\bibliography{refs}\n")
    doc = expanded(tmp_path / "paper.tex")
    assert [(r.key, r.location.line) for r in doc.references] == [("goodman2010", 2)]
    assert undefined(doc) == []


def test_a_cited_entry_that_cannot_be_parsed_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(
        "@article{ASDF,\n  title = {ASDF: A new data format},\n  year = 2015,\n\n"  # its closing brace is missing
        "@article{Mommert2019,\n  title = {sbpy},\n  year = {2019},\n}\n")
    (tmp_path / "ms.tex").write_text("Files \\citep{ASDF}, small bodies \\citep{Mommert2019}.\n\\bibliography{refs}\n")
    doc = expanded(tmp_path / "ms.tex")
    assert [(p.code, p.location.key) for p in doc.problems] == [("KR001", "ASDF")]
    assert undefined(doc) == []  # the entry is there, broken: KR001 says so, not "no entry has the key"


# --- 5. a key cited in another case, or nearly right ------------------------------------------------------


@pytest.mark.parametrize(
    ("cited", "suggestion"),
    [("GMPY", "did you mean 'gmpy'? (keys are case-sensitive)"), ("hughs2018", "did you mean 'hughes2018'?"),
     ("smith1999", "add the entry to the bibliography, or correct the key")],
    ids=["case differs", "near miss", "nothing close"],
)
def test_an_undefined_key_names_the_key_it_most_likely_means(tmp_path: Path, cited: str, suggestion: str) -> None:
    (tmp_path / "refs.bib").write_text("@misc{gmpy, title={GMPY}, year={2020}}\n"
                                       "@misc{hughes2018, title={Reefs}, year={2018}}\n")
    (tmp_path / "paper.tex").write_text(f"Fast \\cite{{{cited}}}.\n\\bibliography{{refs}}\n")
    [finding] = undefined(expanded(tmp_path / "paper.tex"))
    assert finding.suggestion == suggestion


# --- 6. the document's macros in the .bib it names ---------------------------------------------------------


def test_macros_the_document_defines_are_used_in_its_bib(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(
        "@article{a, author={A, B}, title={T}, journal={\\apjl}, year={2012}}\n"
        "@article{b, author={C, D}, title={U}, journal={\\mnras}, year={2013}}\n")
    (tmp_path / "paper.tex").write_text("\\newcommand{\\apjl}{ApJL}\n\\cite{a,b}\n\\bibliography{refs}\n")
    doc = expanded(tmp_path / "paper.tex")
    assert [r.container for r in doc.references] == ["ApJL", "Monthly Notices of the Royal Astronomical Society"]


# --- Long inputs stay fast --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "run",
    ["\\newcommand{", "{", "}", "\\newcommand{\\newcommand{", "\\bibitem[", "\\bibitem ", "\\cite{a,", "\\cite[",
     "\\citep[a]{", "\\def\\x#1", "\\begin{thebibliography}", "\\let\\a", "\\newcommand{\\m}[1]{\\cite{#1}}\\m{",
     "Bovy, J., ", "\\verb|", "\\code{", "\\bibliography{", "\\input{", "\\\\", "\\begin{filecontents}[",
     "\\newcommand{\\p}{\\cite{k}}\\p", "\\input{x}\n"],
)
def test_long_runs_of_latex_are_read_in_seconds(tmp_path: Path, run: str) -> None:
    text = "\\newcommand*{\\code}[1]{\\detokenize{#1}}\n" + run * (200_000 // len(run))
    if run == "\\newcommand{\\newcommand{":  # nested and balanced: each level's group holds all the others
        text += "}" * (200_000 // len(run))
    (tmp_path / "long.tex").write_text(text + "\n\\begin{thebibliography}{}\\bibitem{k} " + "Bovy, J., " * 2000
                                       + "2012, ApJ, 1, 2\n\\end{thebibliography}\n")
    start = time.perf_counter()
    expanded(tmp_path / "long.tex")
    assert time.perf_counter() - start < 10


def test_own_bibitems_stay_whole_beside_a_filecontents_database(tmp_path: Path) -> None:
    tex = tmp_path / "paper.tex"
    tex.write_text("\\begin{filecontents}{db.bib}\n@article{k1, author = {A, B}, title = {T}, journal = {J},"
                   " year = {2020}}\n@article{k2, author = {C, D}, title = {U}, journal = {J}, year = {2021}}\n"
                   "\\end{filecontents}\n\\addbibresource{db.bib}\n\\begin{document}\n"
                   "Text \\cite{own1} and \\cite{k1}.\n"
                   "\\begin{thebibliography}{9}\n\\bibitem{own1} Smith, J. 2019, ApJ, 1, 2\n"
                   "\\bibitem{own2} Lee, K. 2020, MNRAS, 3, 4\n\\end{thebibliography}\n\\end{document}\n")
    report = check(Options(paths=(str(tex),), offline=True, use_cache=False, archive=False))
    keys = sorted(r.reference.key for r in report.results)
    assert keys == ["k1", "own1", "own2"], "the uncited database entry k2 goes; the document's own own2 stays"
    assert [f.location.key for f in report.findings if f.rule.code == "KR502"] == ["own2"]
