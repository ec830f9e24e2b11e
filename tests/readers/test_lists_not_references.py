"""A list is a reference list only where its items look like references: FAQs, steps and tips never are."""

from __future__ import annotations

from kratomref.model import NO_DOCUMENT_EVIDENCE
from kratomref.readers.text import read_markdown

REFS = """# Running your first marathon

Build up slowly [1], and taper in the last weeks [2].

## References and FAQs

1. Nielsen, R. O. (2014). Excessive progression in weekly running. *J Orthop Sports Phys Ther*, 44(10), 739-747.
2. Hughes, C. (2021). *The Patient Runner*. Fellside Books.
3. New York General Obligations Law § 7-108.
4. How many long runs should I do before race day? Most plans include three to five runs.
5. **Should I walk during the marathon?** Planned walk breaks help many first-timers.
"""


def test_a_numbered_faq_after_the_references_is_not_read_as_references() -> None:
    doc = read_markdown("draft.md", REFS)
    assert [r.key for r in doc.references] == ["ref-1", "ref-2", "ref-3"]
    body = {line.line for line in doc.body}
    assert {10, 11} <= body, "the FAQ items are text the editor rules read"


def test_a_faq_under_a_sources_heading_is_no_reference_list() -> None:
    doc = read_markdown("faq.md", "Intro.\n\n## Sources\n\n1. What is kratom? A plant.\n"
                                  "2. Is it legal? It depends on the state.\n")
    assert doc.references == ()


def test_steps_and_tips_are_not_references() -> None:
    doc = read_markdown("tips.md", "Intro.\n\n## References\n\n- Drink water before the run.\n"
                                   "- Stretch for ten minutes.\n")
    assert doc.references == ()


def test_a_reference_whose_title_is_a_question_is_still_a_reference() -> None:
    doc = read_markdown("q.md", "See [1] and [2].\n\n## References\n\n"
                                "1. Zhang, C. (2017). Are deep nets overfitted? In *ICLR*.\n"
                                "2. [What is a variational autoencoder?](https://jaan.io/vae/) on jaan.io\n")
    assert [r.key for r in doc.references] == ["ref-1", "ref-2"]


def test_a_further_reading_list_is_read_and_checked_but_never_uncited() -> None:
    from kratomref.options import Options
    from kratomref.rules import Context, citations

    draft = ("Solar pays back [1].\n\n## References\n\n"
             "1. Jordan, D. C. (2013). Degradation rates. *Prog Photovolt*, 21(1).\n\n"
             "## Further Reading\n\n- Pelletier, S. (2022). *The Solar Home*. Brightwater Books.\n")
    doc = read_markdown("solar.md", draft)
    assert len(doc.references) == 2
    judged = citations.judge_document(doc, NO_DOCUMENT_EVIDENCE, Context(Options()))
    uncited = [f for f in judged if f.rule.code == "KR502"]
    assert uncited == []


def test_an_undated_agency_page_in_the_middle_of_the_list_is_still_a_reference() -> None:
    doc = read_markdown("k.md", "Kratom [1], the FDA [2], a survey [3].\n\n## References\n\n"
                                "1. Smith, J. (2019). Kratom use. *J Subst*, 4(2), 1-9.\n"
                                "2. U.S. Food and Drug Administration. FDA and Kratom.\n"
                                "3. Lee, K. (2021). A survey of users. *Addiction*, 7, 3-4.\n")
    assert [r.key for r in doc.references] == ["ref-1", "ref-2", "ref-3"]
    assert all(c.resolved_key for c in doc.citations)
