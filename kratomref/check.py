"""The pipeline: read -> resolve -> judge -> select -> verdicts -> Report. The CLI only calls this."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kratomref import __version__
from kratomref.doi import is_doi_url, normalise_doi
from kratomref.model import (
    Document,
    DoiResolution,
    Evidence,
    Finding,
    LinkResult,
    LinkStatus,
    Lookup,
    Reference,
    ReferenceResult,
    Report,
    SearchResolution,
    Severity,
    Verdict,
    body_link_key,
)
from kratomref.options import Options
from kratomref.services.cache import Cache

# A progress callback: (stage, done, total). Stages: "read", "crossref", "search", "links".
Progress = Callable[[str, int, int], None]


@dataclass
class Resolved:
    """What the resolve step learnt for a whole run, before it is split per document."""

    dois: dict[str, DoiResolution] = field(default_factory=dict)  # normalised DOI -> resolution
    searches: dict[str, SearchResolution] = field(default_factory=dict)  # reference id -> search
    links: dict[str, LinkResult] = field(default_factory=dict)  # URL as written -> result
    extra: dict[str, Any] = field(default_factory=dict)  # other evidence, e.g. placeholder searches


def reference_id(ref: Reference) -> str:
    """Unique across documents: a key is only unique within its file."""
    return f"{ref.location.file}#{ref.key}"


def read_documents(options: Options) -> list[Document]:
    """Read every input, and the bibliographies that documents name (LaTeX, pandoc)."""
    from kratomref import readers

    documents = readers.expand([readers.read(path, options.input_format) for path in options.paths])
    if options.uncited_bib:
        return documents
    return [readers.cited_entries_only(doc) for doc in documents]


def checkable_urls(ref: Reference) -> list[str]:
    """The URLs of a reference to fetch: DOI URLs are verified through the DOI path instead."""
    return [u for u in ref.urls if not is_doi_url(u)]


def resolve(
    documents: Sequence[Document], options: Options, cache: Cache, progress: Progress | None = None
) -> Resolved:
    """All network I/O of a run: Crossref for DOIs and searches, then live links."""
    from kratomref.rules import crossref as crossref_rules
    from kratomref.services.crossref import CrossrefService

    resolved = Resolved()
    doi_set: set[str] = set()
    queries: dict[str, str] = {}
    for doc in documents:
        for ref in doc.references:
            doi = normalise_doi(ref.doi)
            if doi:
                doi_set.add(doi)
            elif query := crossref_rules.search_query(ref):
                queries[reference_id(ref)] = query
    dois = sorted(doi_set)

    crossref = CrossrefService(options, cache)
    if dois:
        with _stage(progress, "crossref", len(dois)):
            resolved.dois = crossref.resolve_dois(dois)
    if queries:
        with _stage(progress, "search", len(queries)):
            resolved.searches = crossref.search(queries)

    urls: dict[str, str | None] = {}
    for doc in documents:
        for ref in doc.references:
            for url in checkable_urls(ref):
                urls.setdefault(url, ref.year)
        for _, url in doc.body_links:
            if not is_doi_url(url):
                urls.setdefault(url, None)
    if urls:
        with _stage(progress, "links", len(urls)):
            resolved.links = network_down_is_not_broken(_check_links(urls, options, cache), resolved)

    resolved.extra.update(_resolve_placeholder_searches(documents, crossref))
    return resolved


@contextmanager
def _stage(progress: Progress | None, stage: str, total: int) -> Iterator[None]:
    """Report a stage as started, and as done once its body returns (not when it raises)."""
    if progress:
        progress(stage, 0, total)
    yield
    if progress:
        progress(stage, total, total)


NETWORK_DOWN = "no site and no service answered during this run, so the network is the likely cause"


def network_down_is_not_broken(links: Mapping[str, LinkResult], resolved: Resolved) -> dict[str, LinkResult]:
    """Could not check is never broken: when nothing at all answered (no link host with an HTTP status, no
    fresh Crossref answer), a DNS failure or a refused connection says more about this machine's network
    than about the link, so the unreachable links are unverified instead."""
    answered = any(link.http_status is not None for link in links.values()) or any(
        d.status is not Lookup.UNVERIFIED and not d.from_cache for d in resolved.dois.values()
    ) or any(s.status is not Lookup.UNVERIFIED and not s.from_cache for s in resolved.searches.values())
    if answered:
        return dict(links)
    adjusted: dict[str, LinkResult] = {}
    for url, link in links.items():
        if link.status is LinkStatus.UNREACHABLE and not link.from_cache:
            reason = f"{link.reason or 'unreachable'}; {NETWORK_DOWN}"
            link = dataclasses.replace(link, status=LinkStatus.UNVERIFIED, reason=reason)
        adjusted[url] = link
    return adjusted


def _check_links(urls: Mapping[str, str | None], options: Options, cache: Cache) -> dict[str, LinkResult]:
    from kratomref.services.links import LinkChecker

    checker = LinkChecker(options, cache)
    years = {u: y for u, y in urls.items() if y}
    return dict(checker.check(list(urls), years=years))


def _resolve_placeholder_searches(documents: Sequence[Document], crossref: Any) -> dict[str, Any]:
    """Searches for the works that placeholder sentences describe (issue 9), with the journal they name."""
    from kratomref.rules import placeholder_search

    queries: dict[str, str] = {}
    containers: dict[str, str] = {}
    for doc in documents:
        queries.update(placeholder_search.placeholder_queries(doc))
        containers.update(placeholder_search.placeholder_container_titles(doc))
    if not queries:
        return {}
    return dict(crossref.search(queries, containers))


def evidence_for(doc: Document, resolved: Resolved) -> dict[str, Evidence]:
    """The evidence map one document's rules see: reference key -> Evidence, plus body links."""
    evidence: dict[str, Evidence] = {}
    for ref in doc.references:
        doi = normalise_doi(ref.doi)
        links = {u: resolved.links[u] for u in checkable_urls(ref) if u in resolved.links}
        evidence[ref.key] = Evidence(
            doi=resolved.dois.get(doi) if doi else None,
            search=resolved.searches.get(reference_id(ref)),
            links=links,
        )
    body_links = {
        body_link_key(url): resolved.links[url] for _, url in doc.body_links if url in resolved.links
    }
    if body_links:
        evidence["body"] = Evidence(links=body_links)
    files = {doc.path} | {line.file for line in doc.body}  # a LaTeX document's \input files too
    for key, value in resolved.extra.items():
        if isinstance(value, SearchResolution) and key.startswith("placeholder:") and \
                key.removeprefix("placeholder:").rsplit(":", 1)[0] in files:
            evidence[key] = Evidence(search=value)
    return evidence


def _unverified_reasons(ref: Reference, ev: Evidence) -> list[str]:
    reasons: list[str] = []
    if ev.doi is not None and ev.doi.status is Lookup.UNVERIFIED:
        reasons.append(f"DOI {ev.doi.doi} could not be checked: {ev.doi.reason or 'unknown reason'}")
    if ev.search is not None and ev.search.status is Lookup.UNVERIFIED:
        reasons.append(f"Crossref search could not be made: {ev.search.reason or 'unknown reason'}")
    for url, link in ev.links.items():
        if link.status in (LinkStatus.UNVERIFIED, LinkStatus.BLOCKED):
            reasons.append(f"{url} could not be checked: {link.reason or link.status.value}")
    if not reasons:
        if ref.doi is None and not ref.urls and not ref.is_scholarly:
            reasons.append("no DOI or URL to check it against, and not a scholarly work Crossref would index")
        else:
            reasons.append("nothing confirmed this reference")
    return reasons


def count_unverified_checks(resolved: Resolved) -> int:
    """Look-ups that could not be made (offline, network failure, 429...): the cause of exit code 3."""
    n = sum(1 for d in resolved.dois.values() if d.status is Lookup.UNVERIFIED)
    n += sum(1 for s in resolved.searches.values() if s.status is Lookup.UNVERIFIED)
    n += sum(1 for link in resolved.links.values() if link.status is LinkStatus.UNVERIFIED)
    return n


def verdicts(
    documents: Sequence[Document],
    findings: Sequence[Finding],
    evidence_by_doc: Mapping[str, Mapping[str, Evidence]],
    options: Options,
) -> list[ReferenceResult]:
    """Verified when an authority confirms the reference, problem when a finding impugns it."""
    from kratomref.rules import Context, confirmations

    ctx = Context(options)
    impugned: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.location.key is None:
            continue
        if f.level >= Severity.ERROR or (f.level >= Severity.WARNING and not f.rule.advisory):
            impugned.setdefault((f.location.file, f.location.key), []).append(f)

    results: list[ReferenceResult] = []
    for doc in documents:
        ev_map = evidence_by_doc.get(doc.path, {})
        for ref in doc.references:
            ev = ev_map.get(ref.key, Evidence())
            bad = impugned.get((ref.location.file, ref.key))
            matched = confirmations(ref, ev, ctx)
            record = ev.doi.record if ev.doi is not None and matched is not None else None
            if record is None and matched is not None and ev.search is not None and matched.get("doi"):
                record = next(
                    (c for c in ev.search.candidates if str(c.get("DOI", "")).lower() == matched["doi"]),
                    None,
                )
            if bad:
                reasons = tuple(f"{f.rule.code} {f.rule.name}: {f.message}" for f in bad)
                results.append(ReferenceResult(ref, Verdict.PROBLEM, reasons, matched, record))
            elif matched is not None:
                results.append(ReferenceResult(ref, Verdict.VERIFIED, (), matched, record))
            else:
                reasons = tuple(_unverified_reasons(ref, ev))
                results.append(ReferenceResult(ref, Verdict.UNVERIFIED, reasons, None, None))
    return results


def check(
    options: Options,
    *,
    progress: Progress | None = None,
    cache: Cache | None = None,
    documents: Iterable[Document] | None = None,
) -> Report:
    """Check every input of `options` and return the report. Raises readers.InputError for a
    path that cannot be opened; everything else wrong with the input is a finding."""
    from kratomref import selection
    from kratomref.rules import Context, judge_document, judge_reference

    docs = list(documents) if documents is not None else read_documents(options)
    own_cache = cache is None
    cache = cache if cache is not None else Cache(options.cache_dir, enabled=options.use_cache)
    try:
        resolved = resolve(docs, options, cache, progress)
    finally:
        if own_cache:
            cache.close()

    ctx = Context(options)
    evidence_by_doc = {doc.path: evidence_for(doc, resolved) for doc in docs}
    raw: list[Finding] = []
    for doc in docs:
        ev_map = evidence_by_doc[doc.path]
        raw.extend(judge_document(doc, ev_map, ctx))
        for ref in doc.references:
            raw.extend(judge_reference(ref, ev_map.get(ref.key, Evidence()), ctx))

    findings = selection.select(raw, docs, options, evidence_by_doc)
    if options.baseline:
        from kratomref.baseline import filter_new

        findings = filter_new(findings, options.baseline)

    results = verdicts(docs, findings, evidence_by_doc, options)
    return Report(
        tool_version=__version__,
        documents=tuple(docs),
        results=tuple(results),
        findings=tuple(findings),
        fail_on=options.fail_on,
        allow_unverified=options.allow_unverified,
        unverified_checks=count_unverified_checks(resolved),
    )


def exit_code(report: Report, options: Options) -> int:
    """0 clean; 1 findings at or above --fail-on; 3 nothing failed but some references stay unverified
    (0 with --allow-unverified). 2 (usage, unreadable input, bad config) is the CLI's."""
    code = report.exit_code
    if code == 3 and options.allow_unverified:
        return 0
    return code
