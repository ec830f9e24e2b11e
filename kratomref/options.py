"""Every setting a run takes, with its default; the CLI and config files only fill this in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kratomref.model import Severity

DEFAULT_CROSSREF_URL = "https://api.crossref.org"
DEFAULT_DOI_URL = "https://doi.org"  # the handle API lives at {doi_url}/api/handles/{doi}
DEFAULT_ARCHIVE_URL = "https://archive.org"  # {archive_url}/wayback/available?url=...


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...] = ("references.bib",)
    input_format: str | None = None  # None: detect from extension and content

    # selection
    select: tuple[str, ...] = ()  # codes, names or code prefixes; empty: every rule
    ignore: tuple[str, ...] = ()
    severity_overrides: tuple[tuple[str, Severity], ...] = ()  # (code or name, severity)
    fail_on: Severity | None = Severity.ERROR  # None: never exit 1
    allow_unverified: bool = False  # exit 0 rather than 3 when checks could not be made
    baseline: str | None = None

    # network
    offline: bool = False  # answer from the cache only; everything else stays unverified
    crossref_url: str = DEFAULT_CROSSREF_URL
    doi_url: str = DEFAULT_DOI_URL
    archive_url: str = DEFAULT_ARCHIVE_URL
    archive: bool = True  # look up Wayback Machine copies of broken links
    mailto: str | None = None
    timeout: float = 10.0  # seconds, connect and read
    max_concurrency: int = 32  # link checking worker pool
    max_per_host: int = 2  # link requests in flight against one host
    host_interval: float = 0.05  # seconds between two requests to one host
    max_retries: int = 2
    user_agent: str | None = None  # None: "kratomref/<version> (+project URL)"
    exclude: tuple[str, ...] = ()  # URL regular expressions not to check
    accept: tuple[int, ...] = ()  # extra HTTP status codes taken as OK
    allow_private: bool = False  # fetch loopback, private and link-local addresses

    # cache
    use_cache: bool = True
    cache_dir: str | None = None  # None: the user cache dir (platformdirs)
    ttl_found: float = 7 * 86400.0  # seconds a found record stays fresh
    ttl_not_found: float = 6 * 3600.0
    ttl_links: float = 86400.0

    # judging
    # Years after which a source is reported as old (KR401). Scholarly works are not judged by age unless
    # this is set: age alone does not make a study outdated. Web pages and grey literature age fast.
    max_age_scholarly: int | None = None
    max_age_web: int = 5
    # KR502 for the entries of a .bib or CSL-JSON database a LaTeX or pandoc document names: off, because
    # BibTeX and pandoc print only the entries cited. A document's own reference list is always checked.
    uncited_bib: bool = False
    today: dt.date = field(default_factory=dt.date.today)

    # output
    quiet: bool = False
