"""Markdown and pandoc writing as it is published: what kratomref reads as citations, and what it leaves alone.

Classes of false alarm found on real blog posts, JOSS papers and Manubot manuscripts (bench/realworld.py):
citations by identifier ([@doi:…]), author-year citations written as links, math and code holding brackets,
links whose text is a common word, and free-text reference items in the "Given Surname. [Title](…)" style.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from linear_time import assert_linear

from kratomref.check import check
from kratomref.model import Document, Finding, Location, Reference, TextLine
from kratomref.options import Options
from kratomref.readers import read
from kratomref.readers.freetext import parse_citation
from kratomref.readers.intext import find_citations, mask_lines
from kratomref.readers.text import read_draft
from kratomref.rules.placeholders import find_placeholders

MARKDOWN = Path(__file__).resolve().parents[1] / "fixtures" / "markdown"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "realworld" / "corpus"


def findings(*paths: Path) -> list[Finding]:
    report = check(Options(paths=tuple(str(p) for p in paths), offline=True, use_cache=False, archive=False,
                           today=dt.date(2026, 11, 27)))
    return list(report.findings)


def codes(found: list[Finding], *wanted: str) -> list[tuple[str, int | None]]:
    return [(f.rule.code, f.location.line) for f in found if f.rule.code in wanted]


def draft(tmp_path: Path, text: str, name: str = "draft.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- citations by identifier (Manubot) ---------------------------------------------------------------


def test_each_identifier_a_manubot_section_cites_is_one_reference_located_at_its_first_citation() -> None:
    doc = read(str(MARKDOWN / "manubot-section.md"))
    refs = {r.key: r for r in doc.references}
    assert list(refs) == ["doi:10.1038/nature14539", "pmid:26017442", "doi:10.1038/NATURE21056",
                          "arxiv:1706.03762", "isbn:978-0-387-84857-0",
                          "url:https://www.who.int/news-room/fact-sheets/detail/malaria", "pmcid:PMC4747862"]
    assert refs["doi:10.1038/nature14539"].doi == "10.1038/nature14539"
    assert refs["pmid:26017442"].fields["pmid"] == "26017442"
    assert refs["arxiv:1706.03762"].fields["eprint"] == "1706.03762"
    assert refs["arxiv:1706.03762"].urls == ("https://arxiv.org/abs/1706.03762",)
    assert refs["isbn:978-0-387-84857-0"].fields["isbn"] == "978-0-387-84857-0"
    assert refs["url:https://www.who.int/news-room/fact-sheets/detail/malaria"].urls == (
        "https://www.who.int/news-room/fact-sheets/detail/malaria",)
    assert refs["pmcid:PMC4747862"].fields["pmcid"] == "PMC4747862"
    # the same DOI cited in brackets and bare, in upper and lower case, is one work, found on its first line
    assert refs["doi:10.1038/NATURE21056"].location.line == 4
    nature = [c for c in doc.citations if c.resolved_key == "doi:10.1038/NATURE21056"]
    assert [c.location.line for c in nature] == [4, 5]
    # a tag and a code span are no identifiers
    assert not any("Kooi" in key or "not-cited" in key for key in refs)


def test_a_manubot_section_has_no_undefined_uncited_or_incomplete_reference() -> None:
    found = findings(MARKDOWN / "manubot-section.md")
    assert codes(found, "KR501", "KR502", "KR105") == []


def test_a_power_of_ten_in_a_manubot_section_is_no_numeric_citation() -> None:
    doc = read(str(MARKDOWN / "manubot-section.md"))
    assert all(c.style == "key" for c in doc.citations)


def test_a_pandoc_paper_with_a_bibliography_also_cites_by_identifier(tmp_path: Path) -> None:
    (tmp_path / "paper.bib").write_text("@article{smith2019, author = {Smith, Jane}, title = {Sleep},\n"
                                        "  journal = {Nature}, year = {2019}, doi = {10.1038/s1}}\n")
    paper = draft(tmp_path, "---\ntitle: A\nbibliography: paper.bib\n---\n\n"
                            "Sleep helps [@smith2019; @doi:10.1016/j.neuron.2009.12.010].\n"
                            "Again [@DOI:10.1016/J.NEURON.2009.12.010] and [@missing].\n", name="paper.md")
    found = findings(paper)
    assert codes(found, "KR501", "KR502", "KR105") == [("KR501", 7)]  # only @missing
    docs = check(Options(paths=(str(paper),), offline=True, use_cache=False)).documents
    assert [r.key for r in docs[0].references] == ["doi:10.1016/j.neuron.2009.12.010", "smith2019"]


@pytest.mark.parametrize("front", ["bibliography: []\n", ""], ids=["an empty bibliography", "no bibliography"])
def test_a_pandoc_note_without_a_bibliography_ties_its_identifier_citations(tmp_path: Path, front: str) -> None:
    note = tmp_path / "note.md"
    note.write_text(f"---\ntitle: A note\n{front}---\nDeep learning works [@doi:10.1038/nature14539].\n")
    report = check(Options(paths=(str(note),), input_format="pandoc", offline=True, use_cache=False, archive=False))
    assert [f.rule.code for f in report.findings if f.rule.code in ("KR501", "KR502")] == []
    assert [c.resolved_key for d in report.documents for c in d.citations] == ["doi:10.1038/nature14539"]


def test_a_key_in_braces_may_hold_any_character() -> None:
    doc = read_draft("d.md", "A page [@{url:https://www.who.int/a?b=c}] and @{doi:10.1002/(SICI)x}.\n", "markdown")
    assert [(r.key, r.urls, r.doi) for r in doc.references] == [
        ("url:https://www.who.int/a?b=c", ("https://www.who.int/a?b=c",), None),
        ("doi:10.1002/(SICI)x", (), "10.1002/(SICI)x")]


def test_a_key_without_an_identifier_is_no_reference_of_a_markdown_draft() -> None:
    doc = read_draft("d.md", "As shown [@smith2019; @tag:Kooi2016; @raw:note].\n", "markdown")
    assert doc.references == () and doc.citations == ()


# --- author-year citations written as links --------------------------------------------------------------


def test_author_year_links_in_a_blog_post_are_tied_to_its_reference_list() -> None:
    doc = read(str(MARKDOWN / "blog-post.md"))
    tied = {(c.location.line, c.resolved_key) for c in doc.citations}
    assert {(8, "ref-1"), (9, "ref-2"), (10, "ref-3"), (10, "ref-4"), (11, "ref-5")} <= tied
    assert all(c.resolved_key for c in doc.citations)


def test_a_blog_post_reports_only_the_entry_its_text_never_cites() -> None:
    found = findings(MARKDOWN / "blog-post.md")
    assert codes(found, "KR501", "KR502", "KR503", "KR101", "KR102", "KR103") == [("KR502", 48)]


@pytest.mark.parametrize(
    ("line", "target"),
    [
        ("([Kingma & Welling, 2014](https://a.org/k))", "Kingma 2014"),
        ("[Vaswani et al., 2017](https://a.org/v) showed", "Vaswani 2017"),
        ("[Vaswani, et al. 2017](https://a.org/v) showed", "Vaswani 2017"),
        ("[Zhang et al. (2017)](https://a.org/z) showed", "Zhang 2017"),
        ("[Junnan Li et al. 2020](https://a.org/l) showed", "Li 2020"),
        ("[Graves, Wayne & Danihelka, 2014](https://a.org/g)", "Graves 2014"),
        ("[Luong2015](https://a.org/l)", "Luong 2015"),
        ("[Wang et al.](https://a.org/w) (2016) showed", "Wang 2016"),
        ("as (Vincent et al. 2008) showed", "Vincent 2008"),
        ("Morin and Bengio ([2005](https://a.org/m)) proposed", "Morin 2005"),
    ],
    ids=["in parentheses", "narrative", "a comma before et al.", "year in parentheses", "given name first",
         "three authors", "no space before the year", "link then year", "no comma before the year",
         "only the year linked"],
)
def test_author_year_citation_forms_of_blog_posts(line: str, target: str) -> None:
    surname, year = target.split()
    ref = Reference(Location("d.md", 9, "ref-1"), authors=(parse_citation(f"{surname}, A. ({year}). T.", Location(
        "d.md", 9)).authors[0],), year=year)
    found = find_citations([TextLine("d.md", 1, line)], [ref])
    assert [(c.target, c.resolved_key) for c in found] == [(target, "ref-1")]


def test_a_linked_citation_of_a_work_the_list_lacks_is_not_undefined(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Post\n\nSee ([Chen et al., 2020](https://arxiv.org/abs/2002.05709)) and (Smith, 2019).\n"
                           "Also [Lee et al., 2018](https://arxiv.org/abs/1801.00001).\n\n## References\n\n"
                           "[1] Smith, J. (2019). Sleep. Nature, 1, 2.\n\n"
                           "[2] Tom Lee, et al. [\"Another paper by Lee.\"](https://arxiv.org/abs/1905.99999)"
                           " ICML 2019.\n")
    found = findings(path)
    # Chen: nobody in the list, the link is the source; Lee 2018: the list's Lee links to another paper
    assert codes(found, "KR501", "KR503") == []
    assert codes(found, "KR502") == [("KR502", 10)]


def test_an_unlinked_citation_missing_from_the_list_is_still_undefined(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Post\n\nSleep helps (Smith, 2019) and (Garcia, 2021).\n\n## References\n\n"
                           "1. Smith, J. (2019). Sleep. Nature, 1, 2.\n")
    assert codes(findings(path), "KR501", "KR502") == [("KR501", 3)]


def test_a_linked_citation_with_another_year_than_its_entry_is_still_a_mismatch(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Post\n\nLipton ([2017](https://arxiv.org/abs/1606.03490)) reviews it.\n\n"
                           "## References\n\n[1] Zachary C. Lipton. [\"The mythos of model interpretability.\"]"
                           "(https://arxiv.org/pdf/1606.03490.pdf) arXiv preprint arXiv:1606.03490 (2016).\n")
    found = findings(path)
    assert codes(found, "KR501", "KR502", "KR503") == []  # the same arXiv paper: the link ties it


def test_an_unlinked_citation_with_another_year_than_its_entry_is_a_mismatch(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Post\n\nLipton (2017) reviews it.\n\n## References\n\n"
                           "[1] Zachary C. Lipton. [\"The mythos of model interpretability.\"]"
                           "(https://arxiv.org/pdf/1606.03490.pdf) arXiv preprint arXiv:1606.03490 (2016).\n")
    assert codes(findings(path), "KR501", "KR502", "KR503") == [("KR503", 3)]


def test_a_link_to_the_same_work_as_a_list_item_cites_it(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Post\n\nThe [GAN paper](https://arxiv.org/abs/1406.2661v1) and a figure "
                           "(Image source: https://www.learnopencv.com/hog/).\n\n## References\n\n"
                           "[1] Goodfellow, Ian, et al. [\"Generative adversarial nets.\"](https://arxiv.org/pdf/1406.2661.pdf)"
                           " NIPS, 2014.\n\n[2] [Histogram of Oriented Gradients](https://www.learnopencv.com/hog/)\n")
    assert codes(findings(path), "KR501", "KR502") == []


def test_a_link_to_a_page_under_a_list_items_link_cites_it(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Post\n\nCall [tf.gather()](https://www.tensorflow.org/api_docs/python/tf/gather)"
                           " (Image source: https://www.learnopencv.com/hog/)* and [a page](https://www.example-site.org/a)"
                           "\n\n## References\n\n"
                           "[1] [Tensorflow API Docs](https://www.tensorflow.org/api_docs/)\n\n"
                           "[2] [Histogram of Oriented Gradients](https://www.learnopencv.com/hog/)\n\n"
                           "[3] [Another site](https://www.example-site.org/)\n")
    assert codes(findings(path), "KR502") == [("KR502", 11)]  # a bare site is no parent of its pages


def test_citations_inside_a_quotation_that_match_no_entry_are_the_quoted_authors(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Post\n\n> \"Information is spread evenly (UID; Levy and Jaeger, 2007).\"\n\n"
                           "Our view differs (Smith, 2019).\n\n## References\n\n"
                           "1. Smith, J. (2019). Sleep. Nature, 1, 2.\n")
    assert codes(findings(path), "KR501", "KR502", "KR503") == []


@pytest.mark.parametrize(
    "line",
    ["the **Hate Speech** Dataset (2017) holds tweets", "an area of 10<sup>14</sup> cells", "about 10^6^ cells",
     "values go from [0, 255] and (0) is off", "a block at [200, 200] is shown",
     "(Image source: Slide 12 in Kingma's NIPS 2015 workshop talk)"],
    ids=["a dataset and its year", "an html power of ten", "a markdown power of ten", "intervals holding 0",
         "a repeated number", "a conference and its year"],
)
def test_things_that_look_like_citations_but_are_not(line: str) -> None:
    refs = [Reference(Location("d.md", 9, f"ref-{n}")) for n in range(1, 6)]
    assert find_citations([TextLine("d.md", 1, line)], refs) == ()


# --- math and code --------------------------------------------------------------------------------------


def test_math_and_code_hold_no_citations_placeholders_or_claims(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Note\n\nThe weights lie in $$[0, 1]$$, the loss is $\\ell[2]$ and \\(x[3]\\).\n\n"
                           "$$\n\\mathbb{1}[y_i = y_j] [4] \\quad [citation needed]\n$$\n\n"
                           "\\[\n f[5] \\quad \\text{TODO}\n\\]\n\n"
                           "Call `cls.__dict__[name]` or <code>d[name]</code>.\n\n"
                           "```\nreturn d[name]  # [6] TODO\n```\n\n"
                           "    indented = x[7]  # FIXME\n\n"
                           "<pre>\ny = table[name]  (reference needed)\n</pre>\n\n"
                           "Studies show it works [1].\n\n## References\n\n1. Smith, J. (2019). Sleep. Nature, 1, 2.\n")
    assert codes(findings(path), "KR501", "KR502", "KR101", "KR103", "KR504") == []


def test_a_paragraph_that_opens_with_a_code_span_is_prose_not_an_indented_block(tmp_path: Path) -> None:
    (tmp_path / "paper.bib").write_text("@misc{jax, author = {Bradbury, J.}, title = {JAX}, year = {2018}}\n")
    paper = draft(tmp_path, "---\ntitle: A\nbibliography: paper.bib\n---\n\n# Summary\n\n"
                            "`multigrad` uses Jax [@jax] and $x$ too.\n", name="paper.md")
    doc = read(str(paper))
    assert [c.target for c in doc.citations] == ["jax"]
    assert codes(findings(paper), "KR501", "KR502") == []


def test_the_body_leaves_out_display_math_and_code_blocks(tmp_path: Path) -> None:
    source = "Text $x$ here.\n\n$$\nx = [1]\n$$\n\n```\ncode [2]\n```\n\nMore text.\n"
    doc = read_draft("d.md", source, "markdown")
    assert [(line.line, line.text.strip()) for line in doc.body] == [(1, "Text     here."), (11, "More text.")]


def test_a_placeholder_next_to_math_is_still_reported(tmp_path: Path) -> None:
    path = draft(tmp_path, "# Note\n\nThe range is $[0, 1]$ (reference needed).\n\nA stray $$ sign.\n\n"
                           "Kratom is safe [citation needed].\n")
    assert codes(findings(path), "KR101") == [("KR101", 3), ("KR101", 7)]


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("a $5 and $10 fee [1]", "a $5 and $10 fee [1]"),
        ("`pkg` does it", "`     does it"),
        ("where $$", "where   "),
    ],
    ids=["money is not math", "a code span opening a line keeps its first character", "display math opens"],
)
def test_inline_masking(source: str, kept: str) -> None:
    assert mask_lines([source, "$$"] if source.endswith("$$") else [source])[0] == kept


# --- links whose text is a common word -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("please check this [reference](https://jeremykun.com/2015/04/06/mcmc/).", []),
        ("see [here](https://a.org/x), [link](https://a.org/y) and [source](https://a.org/z)", []),
        ("the [reference][1] and [source]: https://a.org/z", []),
        ("Kratom is safe [reference].", ["KR101"]),
        ("Kratom is safe [citation needed].", ["KR101"]),
        ("Kratom is safe [source]().", ["KR102"]),
        ("the value cls.__dict__[name] is read", []),
        ("as [name] said", ["KR103"]),
    ],
    ids=["reference link", "here, link and source links", "reference-style links", "a bare [reference]",
         "citation needed", "an empty link target", "an index is no name", "a bare [name]"],
)
def test_common_words_as_link_text_are_not_placeholders(text: str, expected: list[str]) -> None:
    assert [p.rule.code for p in find_placeholders(text)] == expected


# --- free-text items of blog reference lists ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "surnames", "year", "title"),
    [
        ("Richard S. Sutton and Andrew G. Barto. [Reinforcement Learning: An Introduction; 2nd Edition]"
         "(http://incompleteideas.net/book/bookdraft2017nov5.pdf). 2017.", ["Sutton", "Barto"], "2017",
         "Reinforcement Learning: An Introduction; 2nd Edition"),
        ("Goodfellow, Ian, et al. [\"Generative adversarial nets.\"](https://arxiv.org/pdf/1406.2661.pdf) NIPS, 2014.",
         ["Goodfellow"], "2014", "Generative adversarial nets"),
        ("Pedro F. Felzenszwalb, and Daniel P. Huttenlocher. [\"Efficient graph-based image segmentation.\"]"
         "(http://cvcl.mit.edu/x.pdf) Intl. journal of computer vision 59.2 (2004): 167-181.",
         ["Felzenszwalb", "Huttenlocher"], "2004", "Efficient graph-based image segmentation"),
        ("Bhairav Mehta et al. [\"Active Domain Randomization\"](https://arxiv.org/abs/1904.04762) arXiv:1904.04762",
         ["Mehta"], None, "Active Domain Randomization"),
        ("Alireza Makhzani, Brendan Frey (2013). [\"k-sparse autoencoders.\"](https://arxiv.org/abs/1312.5663) "
         "ICLR 2014.", ["Makhzani", "Frey"], "2013", "k-sparse autoencoders"),
        ("Baehrens, David, et al. [\"How to explain individual classification decisions.\"](http://www.jmlr.org/x.pdf)"
         " Journal of Machine Learning Research 11.Jun (2010): 1803-1831.", ["Baehrens"], "2010",
         "How to explain individual classification decisions"),
    ],
    ids=["names then a linked title", "inverted first author", "comma before and", "an arXiv id is no year",
         "a year after the names", "the last page is no year"],
)
def test_blog_reference_items_give_their_authors_year_and_title(raw: str, surnames: list[str], year: str | None,
                                                                title: str) -> None:
    ref = parse_citation(raw, Location("d.md", 1, "ref-1"))
    assert [a.family for a in ref.authors] == surnames
    assert (ref.year, (ref.title or "").rstrip(".")) == (year, title)


def test_a_linked_title_after_a_site_name_is_not_read_as_names() -> None:
    ref = parse_citation("OpenAI Blog: [Evolution Strategies](https://blog.openai.com/es/)", Location("d.md", 1))
    assert ref.authors == () or ref.authors[0].family != "Blog"


# --- long runs ------------------------------------------------------------------------------------------

RUN_CHARS = 5_000  # the smaller run; assert_linear grows it until its time can be measured, and takes 4 times it


@pytest.mark.parametrize(
    "unit",
    ["`a", "``x", "$a", "\\(", "\\[", "<code", "[a](", "[Ab et al. 2019](", "[@doi:10.1/", "Ab Cd. [", "[[", "$x$ ",
     "[1]_", ".. [1] "],
    ids=["backticks", "double backticks", "dollars", "inline math openings", "display math openings",
         "code tags", "link openings", "author-year link openings", "identifier citations", "names and a bracket",
         "double brackets", "inline math", "rst footnote references", "rst footnotes"],
)
def test_a_long_run_of_markup_is_read_in_linear_time(unit: str) -> None:
    """Reading the draft, finding its citations and its placeholders stay linear in the run's length."""
    def read_run(run: str) -> None:
        for name in ("d.md", "d.rst"):
            doc = read_draft(name, f"# Draft\n\nSleep helps memory (Smith, 2019).\n\n{run}\n\n## References\n\n"
                                   "Smith, J. (2019). A title. Journal of Sleep, 1, 1-2.\n", "markdown")
            assert ("Smith 2019", "ref-1") in [(c.target, c.resolved_key) for c in doc.citations]
            for line in doc.body:
                find_placeholders(line.text)
        parse_citation(run, Location("d.md", 1))

    assert_linear(lambda n: unit * (n // len(unit)), read_run, RUN_CHARS, what=f"a run of {unit!r}")


@pytest.mark.parametrize("unit", ["a $$\n", "x\\]\n", "<pre>\n", "::\n  x\n", "    y\n"],
                         ids=["display math openings", "display math closings", "pre blocks", "rst literals",
                              "indented lines"])
def test_many_lines_of_block_markup_are_read_in_seconds(unit: str) -> None:
    import time

    start = time.perf_counter()
    mask_lines((unit * 20_000).splitlines(), rst=True)
    mask_lines((unit * 20_000).splitlines())
    assert time.perf_counter() - start < 10


# --- published writing ----------------------------------------------------------------------------------

LIL_LOG = CORPUS / "prose" / "lilianweng__lil-log" / "_posts"


@pytest.mark.parametrize("post", ["2018-02-19-a-long-peek-into-reinforcement-learning.md",
                                  "2021-05-31-contrastive-representation-learning.md"])
def test_published_blog_posts_have_no_undefined_citation(post: str) -> None:
    path = LIL_LOG / post
    if not path.exists():
        pytest.skip(f"the real-world corpus is not here ({path}); see ../shared/realworld/SOURCES.md")
    doc: Document = read(str(path))
    assert sum(1 for c in doc.citations if c.resolved_key) >= 10
    assert codes(findings(path), "KR501", "KR101", "KR103") == []
