"""Tying link citations to a long article's reference list takes time linear in the article: each link is looked up
by its own path prefixes, not tried against every entry's link (issue 16: a 10 MB article read in quadratic time)."""

from __future__ import annotations

from pathlib import Path

from linear_time import best_seconds, best_seconds_until

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


def test_twice_the_article_takes_about_twice_the_time(tmp_path: Path) -> None:
    small, large = tmp_path / "small.md", tmp_path / "large.md"
    small.write_text(_article(3000), encoding="utf-8")
    large.write_text(_article(6000), encoding="utf-8")
    readers.read(str(small))  # warm: imports, compiled patterns
    once = best_seconds(lambda: readers.read(str(small)))
    ratio = best_seconds_until(lambda: readers.read(str(large)), under=3 * once) / once
    assert ratio < 3, f"doubling the article multiplied the time by {ratio:.1f}"
