"""The arXiv API (export.arxiv.org/api/query?id_list=…, Atom XML): does a cited preprint exist, who wrote it,
what it is about (its abstract), and has it been published since (its journal reference or DOI). One request
per 3 s, as arXiv asks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kratomref import lazy
from kratomref.identifiers import arxiv_id
from kratomref.model import AuthorityAnswer, AuthorityRecord, Reference
from kratomref.services.authorities.base import Authority, family_name, parse_xml, text_of, year_in

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
# id_list takes many ids at once; arXiv's manual pages results by max_results, up to 2,000 per call. A URL
# of 100 ids stays far under every proxy's limit.
MAX_IDS_PER_REQUEST = 100
_ABS_ID = lazy.regex(r"arxiv\.org/abs/(.+?)(?:v\d+)?$")


class Arxiv(Authority):
    name = "arxiv"
    label = "arXiv"
    interval = 3.0  # "no more than one request every three seconds" (arXiv API terms of use)

    def covers(self, ref: Reference) -> bool:
        return arxiv_id(ref) is not None

    def by_identifier(self, ref: Reference) -> bool:
        return True

    def _lookup(self, refs: Mapping[str, Reference]) -> dict[str, AuthorityAnswer]:
        ids = {key: arxiv_id(ref) for key, ref in refs.items()}
        answers = self.lookup_ids([i for i in ids.values() if i])
        return {key: answers[i] for key, i in ids.items() if i}

    def resolve(self, ids: Sequence[str]) -> dict[str, AuthorityAnswer]:
        """arXiv id -> answer (the DOI path asks about arXiv DOIs' published versions this way)."""
        if not ids:
            return {}
        with self._session():
            return self.lookup_ids(ids)

    def lookup_ids(self, ids: Sequence[str]) -> dict[str, AuthorityAnswer]:
        return self.batched(ids, key=lambda i: f"id:{i}", asked=lambda i: f"arXiv:{i}", identifier="arxiv",
                            per_request=MAX_IDS_PER_REQUEST, ask=self._ask_ids)

    def _ask_ids(self, chunk: list[str]) -> dict[str, list[AuthorityRecord]] | str:
        reply = self.get("/query", {"id_list": ",".join(chunk), "max_results": str(len(chunk))})
        if reply.error or reply.status != 200:
            return self.failure(reply)
        entries = parse_feed(reply.body)
        if entries is None:
            return "arXiv sent a malformed answer"
        if isinstance(entries, str):
            return f"arXiv refused the query: {entries}"
        return {ident: [r for r in entries if ident.lower() in (i.lower() for i in r.ids("arxiv"))][:1]
                for ident in chunk}


def parse_feed(body: bytes) -> list[AuthorityRecord] | str | None:
    """The entries of an arXiv Atom feed; a string when the feed is arXiv's error entry (its message); None
    when the body is not an Atom feed."""
    root = parse_xml(body)
    if root is None or root.tag != f"{ATOM}feed":
        return None
    records: list[AuthorityRecord] = []
    for entry in root.findall(f"{ATOM}entry"):
        ident = text_of(entry.findtext(f"{ATOM}id"))
        if ident and "/api/errors" in ident:
            return text_of(entry.findtext(f"{ATOM}summary")) or "error"
        m = _ABS_ID.search(ident or "")
        title = text_of(entry.findtext(f"{ATOM}title"))
        if m is None or title is None:
            continue
        authors = tuple(
            family_name(name) for name in (text_of(a.findtext(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author"))
            if name
        )
        published = year_in(entry.findtext(f"{ATOM}published"))
        updated = year_in(entry.findtext(f"{ATOM}updated"))
        years = tuple(sorted({y for y in (published, updated) if y}))
        doi = text_of(entry.findtext(f"{ARXIV}doi"))
        records.append(AuthorityRecord(
            authority="arxiv",
            title=title,
            authors=authors,
            year=published,
            years=years,
            venue="arXiv",
            identifiers=(("arxiv", m.group(1)),),
            url=f"https://arxiv.org/abs/{m.group(1)}",
            kind="preprint",
            published_doi=doi.lower() if doi else None,
            journal_ref=text_of(entry.findtext(f"{ARXIV}journal_ref")),
            # The entry's categories are codes ("cs.LG", "q-bio.NC"), not words a text uses: no subjects.
            abstract=text_of(entry.findtext(f"{ATOM}summary")),
        ))
    return records
