"""The pipeline: read -> resolve -> judge -> select -> verdicts -> Report. The CLI only calls this."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kratomref import __version__
from kratomref.doi import is_doi_url, normalise_doi
from kratomref.model import (
    NO_DOCUMENT_EVIDENCE,
    AuthorityAnswer,
    Document,
    DocumentEvidence,
    DoiResolution,
    Evidence,
    Finding,
    LinkResult,
    LinkStatus,
    Location,
    Lookup,
    Reference,
    ReferenceResult,
    Report,
    SearchResolution,
    Severity,
    Verdict,
)
from kratomref.options import Options
from kratomref.services.cache import Cache

if TYPE_CHECKING:  # the services load with the first look-up (an offline run from the cache needs few of them)
    from kratomref.rules import Context
    from kratomref.services.authorities import AuthoritySettings
    from kratomref.services.crossref import CrossrefSettings
    from kratomref.services.links import LinkSettings
    from kratomref.services.pages_fetch import PageSettings

# A progress callback: (stage, done, total). Stages: "read", "datacite", "crossref", "search", "authorities",
# "links".
Progress = Callable[[str, int, int], None]


@dataclass
class Resolved:
    """What the resolve step learnt for a whole run, before it is split per document."""

    dois: dict[str, DoiResolution] = field(default_factory=dict)  # normalised DOI -> resolution
    searches: dict[str, SearchResolution] = field(default_factory=dict)  # reference id -> search
    links: dict[str, LinkResult] = field(default_factory=dict)  # URL as written -> result
    # document path -> placeholder id (rules.placeholder_candidates.placeholder_id) -> search on its sentence
    placeholder_searches: dict[str, dict[str, SearchResolution]] = field(default_factory=dict)
    # reference id -> authority name -> answer, in the order asked (issue 15); DataCite's DOI answers by DOI
    authorities: dict[str, dict[str, AuthorityAnswer]] = field(default_factory=dict)
    datacite: dict[str, AuthorityAnswer] = field(default_factory=dict)
    asked: dict[str, Reference] = field(default_factory=dict)  # reference id -> the reference they were asked about


def reference_id(ref: Reference) -> str:
    """Unique across documents: a key is only unique within its file."""
    return f"{ref.location.file}#{ref.key}"


def read_documents(options: Options) -> list[Document]:
    """Read every input, and the bibliographies that documents name (LaTeX, pandoc)."""
    from kratomref import readers

    def read_input(path: str) -> Document:
        if path[:8].lower().startswith(("http://", "https://")):  # a web page (issue 20)
            from kratomref.web import read_address

            cache = cache_for(options) if options.use_cache else None
            try:
                return read_address(path, page_settings(options), cache)
            finally:
                if cache is not None:
                    cache.close()
        reason = None if options.follow_symlinks else readers.leaves_tree(path, options.tree)
        if reason is not None:
            return readers.refused(path, reason, "name the file it points to, or give --follow-symlinks")
        return readers.read(path, options.input_format)

    limits = readers.bibliography_limits(options.max_entries, options.max_bibliography_mib, options.max_draft_mib)
    with limits, readers.edit_spans(False):  # only `fix` needs where each field is (it asks first)
        documents = readers.expand([read_input(path) for path in options.paths])
    if options.uncited_bib:
        return documents
    return [readers.cited_entries_only(doc) for doc in documents]


def checkable_urls(ref: Reference) -> list[str]:
    """The URLs of a reference to fetch: DOI URLs are verified through the DOI path instead."""
    return [u for u in ref.urls if not is_doi_url(u)]


def crossref_settings(options: Options) -> CrossrefSettings:
    """What CrossrefService takes of the run's options (a crossref.CrossrefSettings)."""
    from kratomref.services.crossref import CrossrefSettings

    return CrossrefSettings(
        crossref_url=options.crossref_url, doi_url=options.doi_url, mailto=options.mailto,
        user_agent=options.user_agent, timeout=options.timeout, max_retries=options.max_retries,
        offline=options.offline, ttl_found=options.ttl_found, ttl_not_found=options.ttl_not_found,
    )


def _open_mirror(options: Options) -> Any:
    """The run's local mirror, opened when a look-up first needs it (None: none)."""
    from kratomref.services import mirror

    return mirror.open_setting(options.mirror)


def cache_for(options: Options, *, clock: Callable[[], float] = time.time) -> Cache:
    """The cache of a run: its directory (or its team's server, --cache-server), whether it is on, and which
    service (base URLs) answers each namespace, so that an entry another service answered is a miss."""
    crossref = options.crossref_url.rstrip("/").lower()
    services = {
        "crossref-doi": f"{crossref} {options.doi_url.rstrip('/').lower()}",
        "crossref-search": crossref,
        "wayback": options.archive_url.rstrip("/").lower(),
    }
    if options.cache_server:
        from kratomref.services.cache_server import ServerCache

        return ServerCache(options.cache_server, enabled=options.use_cache, clock=clock, services=services)
    return Cache(options.cache_dir, enabled=options.use_cache, clock=clock, services=services)


def page_settings(options: Options) -> PageSettings:
    """What fetching a page to check (`kratomref check https://…`) takes of the run's options."""
    from kratomref.services.pages_fetch import PageSettings

    return PageSettings(
        timeout=options.timeout, user_agent=options.user_agent, allow_private=options.allow_private,
        offline=options.offline, ttl_links=options.ttl_links,
    )


def link_settings(options: Options) -> LinkSettings:
    """What the link checker takes of the run's options (a links.LinkSettings)."""
    from kratomref.services.links import LinkSettings

    return LinkSettings(
        timeout=options.timeout, max_retries=options.max_retries, max_concurrency=options.max_concurrency,
        max_per_host=options.max_per_host, host_interval=options.host_interval, user_agent=options.user_agent,
        exclude=options.exclude, accept=options.accept, allow_private=options.allow_private,
        offline=options.offline, use_cache=options.use_cache, ttl_links=options.ttl_links,
        archive=options.archive, archive_url=options.archive_url,
    )


def authorities_on(options: Options) -> tuple[str, ...]:
    """The names of the authorities a run may ask (--no-openalex and the like turn one off)."""
    from kratomref.services.authorities import NAMES

    return tuple(name for name in NAMES if getattr(options, f"use_{name}"))


def authority_settings(options: Options, name: str) -> AuthoritySettings:
    """What the authority `name` ("openalex") takes of the run's options (an authorities.AuthoritySettings)."""
    from kratomref.services.authorities import AuthoritySettings

    return AuthoritySettings(
        base_url=getattr(options, f"{name}_url"), mailto=options.mailto, user_agent=options.user_agent,
        timeout=options.timeout, max_retries=options.max_retries, offline=options.offline,
        ttl_found=options.ttl_found, ttl_not_found=options.ttl_not_found, pacing=options.authority_pacing,
    )


def resolve(
    documents: Sequence[Document], options: Options, cache: Cache, progress: Progress | None = None,
    warm_up: Callable[[], object] | None = None,
) -> Resolved:
    """All network I/O of a run: DOIs (DataCite's own prefixes from DataCite, the rest from Crossref, which
    sends the DataCite DOIs it lacks on), Crossref searches, the other authorities for the references Crossref
    did not confirm, and the placeholder searches; the live links meanwhile, in a thread of their own.
    `warm_up` is called in this thread while the links are still being fetched, if they are (see
    _start_links)."""
    links = _start_links(_link_urls(documents), options, cache, progress)  # fetched while the rest is asked
    from kratomref.rules import crossref as crossref_rules
    from kratomref.services import authorities as authority_services
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

    authorities = authority_services.build(
        {name: authority_settings(options, name) for name in authorities_on(options)}, cache
    )
    crossref = CrossrefService(crossref_settings(options), cache, mirror=lambda: _open_mirror(options))
    _resolve_dois(dois, crossref, authorities, resolved, progress)
    if queries:
        with _stage(progress, "search", len(queries)):
            resolved.searches = crossref.search(queries)
    _ask_authorities(documents, authorities, resolved, progress, offline=options.offline)
    if "pubmed" in authorities and _offtopic_rule_runs(options):
        _add_pubmed_abstracts(documents, authorities["pubmed"], resolved, progress)

    if _placeholder_rules_run(options):  # the searches only feed the placeholder rules' suggestions
        resolved.placeholder_searches = _resolve_placeholder_searches(documents, crossref)
    resolved.links = network_down_is_not_broken(links(warm_up), resolved)
    return resolved


def _resolve_dois(
    dois: Sequence[str], crossref: Any, authorities: Mapping[str, Any], resolved: Resolved,
    progress: Progress | None,
) -> None:
    """DOIs with a DataCite prefix (arXiv, Zenodo, figshare, Dryad) from DataCite, the rest from Crossref; the
    DataCite DOIs Crossref finds registered elsewhere then from DataCite too, so that both are compared
    field by field. What DataCite could not answer goes the Crossref way (which asks doi.org)."""
    from kratomref.identifiers import is_datacite_doi
    from kratomref.services.authorities.datacite import as_crossref_work

    datacite = authorities.get("datacite")

    def ask_datacite(wanted: list[str]) -> None:
        if datacite is None or not wanted:
            return
        with _stage(progress, "datacite", len(wanted)):
            answers = datacite.resolve(wanted)
        for doi, answer in answers.items():
            resolved.datacite[doi] = answer
            if answer.status is Lookup.FOUND:
                previous = resolved.dois.get(doi)
                resolved.dois[doi] = DoiResolution(doi, Lookup.FOUND, as_crossref_work(answer.records[0]), "datacite",
                                                   from_cache=answer.from_cache and (previous is None or
                                                                                     previous.from_cache))

    ask_datacite([d for d in dois if is_datacite_doi(d)])
    rest = [d for d in dois if d not in resolved.dois]
    if rest:
        with _stage(progress, "crossref", len(rest)):
            resolved.dois.update(crossref.resolve_dois(rest))
    ask_datacite([d for d, r in resolved.dois.items() if r.status is Lookup.FOUND and r.record is None
                  and r.agency == "datacite" and d not in resolved.datacite])
    _published_preprints(resolved, authorities, progress)


def _published_preprints(resolved: Resolved, authorities: Mapping[str, Any], progress: Progress | None) -> None:
    """arXiv DOIs: arXiv's own record says whether the preprint has been published since (KR208), which
    DataCite's record of it does not."""
    from kratomref.identifiers import ARXIV_DOI_PREFIX

    arxiv = authorities.get("arxiv")
    ids = {doi: doi.removeprefix(ARXIV_DOI_PREFIX) for doi, r in resolved.dois.items()
           if doi.startswith(ARXIV_DOI_PREFIX) and r.status is Lookup.FOUND and r.record is not None}
    if arxiv is None or not ids:
        return
    with _stage(progress, "authorities", len(ids)):
        answers = arxiv.resolve(list(ids.values()))
    for doi, ident in ids.items():
        answer = answers.get(ident)
        published = answer.records[0].published_doi if answer is not None and answer.records else None
        record = resolved.dois[doi].record
        if published and record is not None and not (record.get("relation") or {}).get("is-preprint-of"):
            relation = {"is-preprint-of": [{"id": published, "id-type": "doi"}]}
            resolved.dois[doi] = dataclasses.replace(resolved.dois[doi], record={**record, "relation": relation})


def _authority_plan(ref: Reference, resolved: Resolved, authorities: Mapping[str, Any]) -> list[str]:
    """Which authorities to ask about a reference, in order: none when Crossref (or the DOI's agency) settled it.
    A DOI Crossref could not check goes to OpenAlex; a reference without one to the authorities its type and
    identifiers call for, when Crossref's search found no match or could not be made."""
    from kratomref.matching import best_match
    from kratomref.services.authorities import plan

    doi = normalise_doi(ref.doi)
    if doi:
        resolution = resolved.dois.get(doi)
        if resolution is not None and resolution.status is Lookup.UNVERIFIED and "openalex" in authorities:
            return ["openalex"]
        return []
    search = resolved.searches.get(reference_id(ref))
    if search is not None and search.status is Lookup.FOUND and best_match(ref, search.candidates) is not None:
        return []
    return plan(ref, dict(authorities))


def _ask_authorities(
    documents: Sequence[Document], authorities: Mapping[str, Any], resolved: Resolved, progress: Progress | None,
    *, offline: bool = False,
) -> None:
    """Ask each reference's authorities in turn, in waves: every authority of a wave gets its references in one
    call (batched where its API allows) and the authorities of a wave run side by side (offline, one after
    another); a reference leaves the waves at the first authority that confirms it."""
    from kratomref.rules import authorities as authority_rules

    plans: dict[str, list[str]] = {}
    for doc in documents:
        for ref in doc.references:
            rid = reference_id(ref)
            if rid not in plans and (order := _authority_plan(ref, resolved, authorities)):
                plans[rid] = order
                resolved.asked[rid] = ref
    if not plans:
        return
    with _stage(progress, "authorities", len(plans)):
        while True:
            wave: dict[str, dict[str, Reference]] = {}
            for rid, order in plans.items():
                if order:
                    wave.setdefault(order.pop(0), {})[rid] = resolved.asked[rid]
            if not wave:
                break
            for name, answers in _ask_wave(wave, authorities, offline).items():
                for rid, answer in answers.items():
                    resolved.authorities.setdefault(rid, {})[name] = answer
                    if authority_rules.confirmation(resolved.asked[rid], answer) is not None:
                        plans[rid] = []


def _ask_wave(
    wave: Mapping[str, Mapping[str, Reference]], authorities: Mapping[str, Any], offline: bool
) -> dict[str, dict[str, AuthorityAnswer]]:
    """Authority name -> its answers for the references of one wave: the authorities side by side, or, offline
    (only the cache answers, nothing to wait for), one after another in this thread."""
    if offline:
        return {name: authorities[name].lookup(refs) for name, refs in wave.items()}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(wave), thread_name_prefix="authority") as pool:
        futures = {name: pool.submit(authorities[name].lookup, refs) for name, refs in wave.items()}
    return {name: future.result() for name, future in futures.items()}


def _offtopic_rule_runs(options: Options) -> bool:
    """Whether KR506 will judge: opt-in, it runs when --select (or the configuration's select) names it itself
    and --ignore does not (the judging's own test, rules.Context.for_options)."""
    from kratomref.rules import Context

    return "offtopic" in Context.for_options(options).family_names


def _add_pubmed_abstracts(
    documents: Sequence[Document], pubmed: Any, resolved: Resolved, progress: Progress | None
) -> None:
    """KR506 compares a citing sentence with what the cited work is about, and PubMed's esummary holds no
    abstract: the works PubMed confirmed for the references a draft cites get theirs and their MeSH headings
    from efetch. Only what KR506 reads, and optional: an efetch that fails leaves the records as they were, and
    counts as no check that could not be made (the answers are not kept as the reference's evidence)."""
    from kratomref.rules import authorities as authority_rules
    from kratomref.rules import offtopic

    wanted: dict[str, tuple[int, str]] = {}  # reference id -> (the record's place in PubMed's answer, its PMID)
    for doc in documents:
        if not offtopic.has_tied_citations(doc):
            continue
        for ref in doc.references:
            rid = reference_id(ref)
            answer = resolved.authorities.get(rid, {}).get("pubmed")
            if answer is None or (found := authority_rules.confirmation(ref, answer)) is None:
                continue
            if found.record.abstract is None and found.record.ids("pmid"):
                wanted[rid] = (answer.records.index(found.record), found.record.ids("pmid")[0])
    if not wanted:
        return
    with _stage(progress, "authorities", len(wanted)):
        fetched = pubmed.abstracts(sorted({uid for _, uid in wanted.values()}))
    for rid, (place, uid) in wanted.items():
        got = fetched.get(uid)
        if got is None or got.status is not Lookup.FOUND or not got.records:
            continue
        answer = resolved.authorities[rid]["pubmed"]
        record = answer.records[place]
        extra = got.records[0]
        record = dataclasses.replace(record, abstract=extra.abstract or record.abstract,
                                     subjects=extra.subjects or record.subjects)
        records = (*answer.records[:place], record, *answer.records[place + 1:])
        resolved.authorities[rid]["pubmed"] = dataclasses.replace(answer, records=records)


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
        d.status.answered() and not d.from_cache for d in resolved.dois.values()
    ) or any(s.status.answered() and not s.from_cache for s in resolved.searches.values()) or any(
        a.status.answered() and not a.from_cache
        for answers in resolved.authorities.values() for a in answers.values()
    )
    if answered:
        return dict(links)
    adjusted: dict[str, LinkResult] = {}
    for url, link in links.items():
        if link.status is LinkStatus.UNREACHABLE and not link.from_cache:
            reason = f"{link.reason or 'unreachable'}; {NETWORK_DOWN}"
            link = dataclasses.replace(link, status=LinkStatus.UNVERIFIED, reason=reason)
        adjusted[url] = link
    return adjusted


def _link_urls(documents: Sequence[Document]) -> dict[str, str | None]:
    """The URLs to fetch, in reading order, each with its reference's year (for the archive's copy)."""
    urls: dict[str, str | None] = {}
    for doc in documents:
        for ref in doc.references:
            for url in checkable_urls(ref):
                urls.setdefault(url, ref.year)
        for _, url in doc.body_links:
            if not is_doi_url(url):
                urls.setdefault(url, None)
    return urls


def _start_links(
    urls: Mapping[str, str | None], options: Options, cache: Cache, progress: Progress | None
) -> Callable[[Callable[[], object] | None], dict[str, LinkResult]]:
    """Start checking `urls` in a thread of its own, so that the links are fetched while Crossref and the
    other authorities are asked; the function returned waits for the results (and raises what the check
    raised). When the rest of the run fails before it waits, the link check ends on its own. Offline (the cache
    answers, nothing is fetched) no thread is started: the function returned checks the links when called.

    The function returned takes a `warm_up`: called once the link check has run WARM_UP_AFTER seconds and is
    still going, it does what the run will need after the links (loading the rules and the report writers)
    while the link workers wait on the network, rather than after the last answer. Not at once: the link
    thread's own start (its HTTP stack, the first requests) would share the interpreter with it."""
    if not urls:
        return lambda warm_up: {}
    if options.offline:  # answered from the cache, no request to wait for: no thread, checked when asked for
        def answer(warm_up: Callable[[], object] | None) -> dict[str, LinkResult]:
            with _stage(progress, "links", len(urls)):
                return _check_links(urls, options, cache)

        return answer
    import threading

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with _stage(progress, "links", len(urls)):
                outcome["links"] = _check_links(urls, options, cache)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="kratomref-links", daemon=True)
    thread.start()

    def wait(warm_up: Callable[[], object] | None) -> dict[str, LinkResult]:
        if warm_up is not None:
            thread.join(WARM_UP_AFTER)
            if thread.is_alive():
                warm_up()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        links: dict[str, LinkResult] = outcome["links"]
        return links

    return wait


# Seconds after the link check starts before the waiting thread loads what it needs later: the link thread
# imports its HTTP stack and sends the pool's first requests in about 0.1-0.3 s (2,000 links, a loaded machine).
WARM_UP_AFTER = 0.5


def _check_links(urls: Mapping[str, str | None], options: Options, cache: Cache) -> dict[str, LinkResult]:
    from kratomref.services.links import LinkChecker

    checker = LinkChecker(link_settings(options), cache)
    years = {u: y for u, y in urls.items() if y}
    return dict(checker.check(list(urls), years=years))


def _placeholder_rules_run(options: Options) -> bool:
    from kratomref.rules import placeholders

    return any(rule.selected(options.select, options.ignore) for rule in placeholders.RULES)


def _resolve_placeholder_searches(
    documents: Sequence[Document], crossref: Any
) -> dict[str, dict[str, SearchResolution]]:
    """Searches for the works that placeholder sentences describe (issue 9), with the journal they name, by
    document path: a placeholder of a file two documents read (a LaTeX \\input) is searched for once."""
    queries: dict[str, str] = {}
    containers: dict[str, str] = {}
    asked: dict[str, list[str]] = {}
    for doc in documents:
        if not doc.body:
            continue  # no sentence to search for; the draft rules placeholder_search reads are not loaded (start-up)
        from kratomref.rules import placeholder_search

        own = placeholder_search.placeholder_searches(doc)
        asked.setdefault(doc.path, []).extend(own)
        queries.update((key, search.query) for key, search in own.items())
        containers.update((key, search.container) for key, search in own.items() if search.container)
    if not queries:
        return {}
    found: dict[str, SearchResolution] = crossref.search(queries, containers)
    return {path: {key: found[key] for key in keys if key in found} for path, keys in asked.items()}


def evidence_for(doc: Document, resolved: Resolved) -> DocumentEvidence:
    """What one document's rules see: its references' evidence, its body links, its placeholder searches."""
    evidence: dict[str, Evidence] = {}
    for ref in doc.references:
        doi = normalise_doi(ref.doi)
        links = {u: resolved.links[u] for u in checkable_urls(ref) if u in resolved.links}
        answers = dict(resolved.authorities.get(reference_id(ref), {}))
        if doi and doi in resolved.datacite:
            answers = {"datacite": resolved.datacite[doi], **answers}
        evidence[ref.key] = Evidence(
            doi=resolved.dois.get(doi) if doi else None,
            search=resolved.searches.get(reference_id(ref)),
            links=links,
            authorities=answers,
        )
    body_links = {url: resolved.links[url] for _, url in doc.body_links if url in resolved.links}
    # its \input files' placeholders too
    return DocumentEvidence(evidence, body_links, dict(resolved.placeholder_searches.get(doc.path, {})))


def _unverified_reasons(ref: Reference, ev: Evidence) -> list[str]:
    reasons: list[str] = []
    if ev.doi is not None and ev.doi.status.is_unverified():
        reasons.append(f"DOI {ev.doi.doi} could not be checked: {ev.doi.reason or 'unknown reason'}")
    if ev.search is not None and ev.search.status.is_unverified():
        reasons.append(f"Crossref search could not be made: {ev.search.reason or 'unknown reason'}")
    from kratomref.rules import authorities as authority_rules

    reasons.extend(authority_rules.could_not_check_reasons(ev))
    for url, link in ev.links.items():
        if link.status.could_not_check():
            reasons.append(f"{url} could not be checked: {link.reason or link.status.value}")
    if not reasons:
        if ref.doi is None and not ref.urls and not ref.is_scholarly:
            reasons.append("no DOI or URL to check it against, and not a scholarly work Crossref would index")
        else:
            reasons.append("nothing confirmed this reference")
    return reasons


def count_unverified_checks(resolved: Resolved) -> int:
    """Look-ups that could not be made (offline, network failure, 429...): the cause of exit code 3."""
    n = sum(1 for d in resolved.dois.values() if d.status.is_unverified())
    n += sum(1 for s in resolved.searches.values() if s.status.is_unverified())
    n += sum(1 for link in resolved.links.values() if link.status.is_unverified())  # a blocked site answered
    # An authority that could not be asked counts only when no other one confirmed the reference: a reference
    # arXiv confirmed is checked even if PubMed was down.
    from kratomref.rules import authorities as authority_rules

    for rid, answers in resolved.authorities.items():
        ref = resolved.asked.get(rid)
        if ref is None or any(authority_rules.confirmation(ref, a) is not None for a in answers.values()):
            continue
        n += sum(1 for a in answers.values() if a.status.is_unverified())
    return n


def verdicts(
    documents: Sequence[Document],
    findings: Sequence[Finding],
    evidence_by_doc: Mapping[str, DocumentEvidence],
    options: Options,
) -> list[ReferenceResult]:
    """Verified when an authority confirms the reference, problem when a finding impugns it."""
    from kratomref.rules import Context, confirmations
    from kratomref.rules import authorities as authority_rules

    ctx = Context(options)
    impugned: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.location.key is None:
            continue
        if f.level >= Severity.ERROR or (f.level >= Severity.WARNING and not f.rule.advisory):
            impugned.setdefault((f.location.file, f.location.key), []).append(f)

    results: list[ReferenceResult] = []
    for doc in documents:
        doc_evidence = evidence_by_doc.get(doc.path, NO_DOCUMENT_EVIDENCE)
        for ref in doc.references:
            ev = doc_evidence.of(ref.key)
            bad = impugned.get((ref.location.file, ref.key))
            matched = confirmations(ref, ev, ctx)
            if matched is None or matched.get("source") == "link":
                # Another authority's record of the work outweighs a working link (issue 15).
                matched = dict(authority_rules.confirms(ref, ev, ctx) or matched or {}) or None
            if matched is not None:
                matched = {**matched, "authority": _confirmed_by(matched)}
            record = ev.doi.record if ev.doi is not None and matched is not None else None
            if record is None and matched is not None and ev.search is not None and matched.get("doi"):
                record = next(
                    (c for c in ev.search.candidates if str(c.get("DOI", "")).lower() == matched["doi"]),
                    None,
                )
            if bad:
                reasons = tuple(f"{f.rule.code} {f.rule.name}: {f.message}" for f in bad)
                results.append(ReferenceResult(ref, Verdict.PROBLEM, reasons, matched, record,
                                               matched["authority"] if matched else None))
            elif matched is not None:
                results.append(ReferenceResult(ref, Verdict.VERIFIED, (), matched, record, matched["authority"]))
            else:
                reasons = tuple(_unverified_reasons(ref, ev))
                results.append(ReferenceResult(ref, Verdict.UNVERIFIED, reasons, None, None))
    return results


AGENCY_LABELS = {"crossref": "Crossref", "datacite": "DataCite", "medra": "mEDRA", "jalc": "JaLC",
                 "kisti": "KISTI", "cnki": "CNKI", "airiti": "Airiti", "op": "OP"}


def _confirmed_by(matched: Mapping[str, Any]) -> str:
    """Who confirmed a reference, as the reports name it: the authority, the DOI's registration agency (or
    doi.org when only its handle answered), or "link"."""
    if matched.get("authority"):
        return str(matched["authority"])
    if matched.get("source") == "link":
        return "link"
    agency = matched.get("agency")
    if agency:
        return AGENCY_LABELS.get(str(agency).lower(), str(agency))
    return "doi.org"


def check(
    options: Options,
    *,
    progress: Progress | None = None,
    cache: Cache | None = None,
    documents: Iterable[Document] | None = None,
    warm_up: Callable[[], object] | None = None,
) -> Report:
    """Check every input of `options` and return the report. Raises readers.InputError for a
    path that cannot be opened; everything else wrong with the input is a finding. `warm_up` (the CLI loads
    its report writers) is called while the links are fetched, if they take long enough (see _start_links)."""
    from kratomref import selection
    from kratomref.forked import keep_read
    from kratomref.rules import Context, judge_all

    docs = list(documents) if documents is not None else read_documents(options)
    keep_read(sum(len(doc.references) for doc in docs))

    def load_judges() -> None:
        _load_judges(Context.for_options(options), docs)
        if warm_up is not None:
            warm_up()

    own_cache = cache is None
    cache = cache if cache is not None else cache_for(options)
    try:
        resolved = resolve(docs, options, cache, progress, load_judges)
    finally:
        if own_cache:
            cache.close()

    ctx = Context.for_options(options)
    evidence_by_doc = {doc.path: evidence_for(doc, resolved) for doc in docs}
    raw: list[Finding] = []
    for doc in docs:
        raw.extend(judge_all(doc, evidence_by_doc[doc.path], ctx))

    findings = selection.select(raw, docs, options, evidence_by_doc)
    if options.baseline:
        from kratomref.baseline import filter_new

        findings = filter_new(findings, options.baseline)

    results = verdicts(docs, findings, evidence_by_doc, options)
    if any(doc.meta.get("where") for doc in docs):  # a page read from its address: heading and paragraph
        from kratomref.readers import html

        findings, results = _relocated(findings, results, html.sectioner(docs))
    if any(doc.format == "pdf" for doc in docs):  # a PDF's locations name the page and the line on it
        from kratomref.readers import pdf

        findings, results = _relocated(findings, results, pdf.pager(docs))
    return Report(
        tool_version=__version__,
        documents=tuple(docs),
        results=tuple(results),
        findings=tuple(findings),
        fail_on=options.fail_on,
        allow_unverified=options.allow_unverified,
        unverified_checks=count_unverified_checks(resolved),
    )


def _load_judges(ctx: Context, docs: Sequence[Document]) -> None:
    """Import the rule families that will judge `docs` (and only those: judge_document and judge_reference
    import them at their first use otherwise)."""
    from kratomref.rules import DOCUMENT_FAMILIES, family

    for name in ctx.family_names:
        applies = DOCUMENT_FAMILIES.get(name)
        if applies is None or any(applies(doc) for doc in docs):
            family(name)


def _relocated(
    findings: Sequence[Finding], results: Sequence[ReferenceResult], locate: Callable[[Location], Location]
) -> tuple[list[Finding], list[ReferenceResult]]:
    """Findings and results with every location passed through `locate` (a PDF's page, a web page's section)."""
    moved = [dataclasses.replace(f, location=locate(f.location)) for f in findings]
    relocated = [
        dataclasses.replace(r, reference=dataclasses.replace(r.reference, location=locate(r.reference.location)))
        for r in results
    ]
    return moved, relocated


def exit_code(report: Report, options: Options) -> int:
    """0 clean; 1 findings at or above --fail-on; 3 nothing failed but some references stay unverified
    (0 with --allow-unverified). 2 (usage, unreadable input, bad config) is the CLI's."""
    code = report.exit_code
    if code == 3 and options.allow_unverified:
        return 0
    return code
