"""Open Library: books by ISBN in batches (/api/books?bibkeys=ISBN:…&format=json&jscmd=data) and by title
and author (/search.json)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kratomref.identifiers import isbn13, isbns
from kratomref.model import AuthorityAnswer, AuthorityRecord, Reference
from kratomref.services.authorities.base import Authority, family_name, obj, text_of, year_in

BOOK_TYPES = frozenset({"book", "inbook", "incollection", "chapter", "proceedings", "manual"})
MAX_ISBNS_PER_REQUEST = 50
SEARCH_ROWS = 5
SEARCH_FIELDS = "key,title,subtitle,author_name,first_publish_year,publish_year,isbn,publisher"


class OpenLibrary(Authority):
    name = "openlibrary"
    label = "Open Library"
    interval = 1.0  # Open Library asks identified clients for at most a few requests per second

    def covers(self, ref: Reference) -> bool:
        return bool(isbns(ref)) or (ref.type in BOOK_TYPES and bool(_book_title(ref)))

    def by_identifier(self, ref: Reference) -> bool:
        return bool(isbns(ref))

    def _lookup(self, refs: Mapping[str, Reference]) -> dict[str, AuthorityAnswer]:
        answers: dict[str, AuthorityAnswer] = {}
        by_isbn = {key: found[0] for key, ref in refs.items() if (found := isbns(ref))}
        books = self.lookup_isbns(list(by_isbn.values()))
        answers.update({key: books[isbn] for key, isbn in by_isbn.items()})
        for key, ref in refs.items():
            title = _book_title(ref)
            if key not in answers and title:
                author = next((a.family for a in ref.authors if a.family), None)
                answers[key] = self._search(title, author)
        return answers

    def lookup_isbns(self, wanted: Sequence[str]) -> dict[str, AuthorityAnswer]:
        return self.batched(wanted, key=lambda i: f"isbn:{i}", asked=lambda i: f"ISBN {i}", identifier="isbn",
                            per_request=MAX_ISBNS_PER_REQUEST, ask=self._ask_isbns)

    def _ask_isbns(self, chunk: list[str]) -> dict[str, list[AuthorityRecord]] | str:
        params = {"bibkeys": ",".join(f"ISBN:{i}" for i in chunk), "format": "json", "jscmd": "data"}
        body, reply = self.get_json("/api/books", params)
        if not isinstance(body, dict):
            return self.failure(reply) if body is None else "Open Library sent a malformed answer"
        return {isbn: [record] if (record := parse_book(body.get(f"ISBN:{isbn}"), isbn)) else [] for isbn in chunk}

    def _search(self, title: str, author: str | None) -> AuthorityAnswer:
        asked = "a title and author search"
        query = f"{title}|{author or ''}"
        cached = self.cached(f"search:{query}", asked)
        if cached is not None:
            return cached
        params = {"title": title, "limit": str(SEARCH_ROWS), "fields": SEARCH_FIELDS}
        if author:
            params["author"] = author
        body, reply = self.get_json("/search.json", params)
        docs = body.get("docs") if isinstance(body, dict) else None
        if not isinstance(docs, list):
            return self.unverified(self.failure(reply) if body is None else "Open Library sent a malformed answer",
                                   asked)
        records = [r for r in (parse_doc(d) for d in docs) if r is not None]
        return self.store(f"search:{query}", self.answer(records, asked))


def _book_title(ref: Reference) -> str | None:
    # A chapter is found through its book: Open Library knows books, not their chapters.
    title = ref.fields.get("booktitle") if ref.type in ("inbook", "incollection", "chapter") else None
    return title or ref.title


def parse_book(data: Any, isbn: str) -> AuthorityRecord | None:
    """An /api/books jscmd=data entry -> the record; None when absent or not one."""
    if not isinstance(data, dict):
        return None
    title = text_of(data.get("title"))
    if not title:
        return None
    subtitle = text_of(data.get("subtitle"))
    authors = tuple(family_name(n) for n in (text_of(a.get("name")) for a in data.get("authors") or []
                                            if isinstance(a, dict)) if n)
    ids = obj(data.get("identifiers"))
    identifiers: list[tuple[str, str]] = [("isbn", isbn)]
    for value in list(ids.get("isbn_13") or []) + list(ids.get("isbn_10") or []):
        other = isbn13(str(value))
        if other and ("isbn", other) not in identifiers:
            identifiers.append(("isbn", other))
    publishers = [text_of(p.get("name")) for p in data.get("publishers") or [] if isinstance(p, dict)]
    year = year_in(data.get("publish_date"))
    return AuthorityRecord(
        authority="openlibrary",
        title=f"{title}: {subtitle}" if subtitle else title,
        authors=authors,
        year=year,
        years=(year,) if year else (),
        venue=next((p for p in publishers if p), None),
        identifiers=tuple(identifiers),
        url=text_of(data.get("url")),
        kind="book",
    )


def parse_doc(doc: Any) -> AuthorityRecord | None:
    """A /search.json document (a work, with every edition's ISBNs and years) -> the record."""
    if not isinstance(doc, dict):
        return None
    title = text_of(doc.get("title"))
    if not title:
        return None
    subtitle = text_of(doc.get("subtitle"))
    authors = tuple(family_name(n) for n in (text_of(a) for a in doc.get("author_name") or []) if n)
    years = sorted({y for y in (year_in(v) for v in doc.get("publish_year") or []) if y})
    first = year_in(doc.get("first_publish_year"))
    listed: list[Any] = doc["isbn"] if isinstance(doc.get("isbn"), list) else []
    isbn_list = [i for i in (isbn13(str(v)) for v in listed[:200]) if i]
    key = text_of(doc.get("key"))
    publishers = [p for p in (text_of(v) for v in doc.get("publisher") or []) if p]
    return AuthorityRecord(
        authority="openlibrary",
        title=f"{title}: {subtitle}" if subtitle else title,
        authors=authors,
        year=first or (years[0] if years else None),
        years=tuple(sorted(set(years) | ({first} if first else set()))),
        venue=publishers[0] if publishers else None,
        identifiers=tuple(("isbn", i) for i in dict.fromkeys(isbn_list)),
        url=f"https://openlibrary.org{key}" if key else None,
        kind="book",
    )
