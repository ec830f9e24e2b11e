"""Tying link citations to a long article's reference list takes time linear in the article: each link is looked up
by its own path prefixes, not tried against every entry's link (issue 16: a 10 MB article read in quadratic time)."""

from __future__ import annotations

from pathlib import Path

from linear_time import assert_linear

from kratomref import readers


def _article(n: int) -> str:
    body = [f"Finding {i} is described [in the docs](https://site{i}.example.org/docs/v1/page{i}/detail)."
            for i in range(n)]
    refs = [f"{i + 1}. Team {i}. Docs {i}. https://site{i}.example.org/docs/v1" for i in range(n)]
    return "# Article\n\n" + "\n\n".join(body) + "\n\n## References\n\n" + "\n".join(refs) + "\n"


def test_a_link_to_a_page_under_an_entry_is_tied_to_that_entry(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(_article(3), encoding="utf-8")
    doc = readers.read(str(path))
    tied = {c.target: c.resolved_key for c in doc.citations if c.style == "link"}
    assert tied["https://site1.example.org/docs/v1/page1/detail"] == doc.references[1].key


def test_four_times_the_article_takes_about_four_times_as_long(tmp_path: Path) -> None:
    def write(n: int) -> str:
        path = tmp_path / f"a{n}.md"
        path.write_text(_article(n), encoding="utf-8")
        return str(path)

    assert_linear(write, readers.read, 800, what="reading the article")
