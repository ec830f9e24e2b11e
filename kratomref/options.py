"""Every setting a run takes, with its default; the CLI and config files only fill this in (each setting's key,
parser, environment variable and flag are declared once, in settings.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kratomref.model import Severity

DEFAULT_CROSSREF_URL = "https://api.crossref.org"
DEFAULT_DOI_URL = "https://doi.org"  # the handle API lives at {doi_url}/api/handles/{doi}
DEFAULT_ARCHIVE_URL = "https://archive.org"  # {archive_url}/wayback/available?url=...
DEFAULT_OPENALEX_URL = "https://api.openalex.org"
DEFAULT_DATACITE_URL = "https://api.datacite.org"
DEFAULT_ARXIV_URL = "https://export.arxiv.org/api"  # {arxiv_url}/query?id_list=...
DEFAULT_PUBMED_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"  # {pubmed_url}/esummary.fcgi
DEFAULT_DBLP_URL = "https://dblp.org"  # {dblp_url}/search/publ/api
DEFAULT_OPENLIBRARY_URL = "https://openlibrary.org"

DAY = 86400.0
# The longest a cached answer may stay fresh, whoever sets the TTL: a record Crossref found, and an answer that
# something is not there (a DOI or a search Crossref does not know, a link's state), which changes faster.
MAX_TTL_FOUND = 90 * DAY
MAX_TTL_NOT_FOUND = 7 * DAY
MAX_TTL_LINKS = 7 * DAY
# How much of a bibliography one run reads (issue 17; readers/bibtex.py, "How much one run reads"): the worst file
# these let through is checked in under 512 MB. Only the user raises them; a repository's configuration only lowers.
DEFAULT_MAX_ENTRIES = 50_000
DEFAULT_MAX_BIBLIOGRAPHY_MIB = 16
DEFAULT_MAX_DRAFT_MIB = 8  # a draft's text (Markdown, text, LaTeX, pandoc, HTML): a book is about 1 MiB


@dataclass(frozen=True)
class Options:
    """Every setting of a run, after the command line, the environment and the configuration files."""

    paths: tuple[str, ...] = ("references.bib",)
    input_format: str | None = None  # None: detect from extension and content
    # An input named inside the checked tree that is a symbolic link to a file outside it (a pull request can
    # commit one pointing at a runner's secret) is refused unless the user allows it (CLI or user config).
    follow_symlinks: bool = False
    # not a setting: the checked tree's roots, filled in by config.build_options (two runs with the same settings
    # from different directories have equal options)
    tree: tuple[str, ...] = field(default=(), compare=False)

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
    # authorities beyond Crossref (issue 15): base URLs, one switch each, and a factor on their documented
    # request spacing (arXiv 3 s, PubMed 1/3 s, DBLP and Open Library 1 s, OpenAlex and DataCite 0.1 s);
    # 0 only for a local mirror or a test server. mailto is reused: OpenAlex's polite pool, NCBI's email.
    openalex_url: str = DEFAULT_OPENALEX_URL
    datacite_url: str = DEFAULT_DATACITE_URL
    arxiv_url: str = DEFAULT_ARXIV_URL
    pubmed_url: str = DEFAULT_PUBMED_URL
    dblp_url: str = DEFAULT_DBLP_URL
    openlibrary_url: str = DEFAULT_OPENLIBRARY_URL
    use_openalex: bool = True
    use_datacite: bool = True
    use_arxiv: bool = True
    use_pubmed: bool = True
    use_dblp: bool = True
    use_openlibrary: bool = True
    authority_pacing: float = 1.0
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
    cache_server: str | None = None  # a postgresql:// URL: the look-up cache on a team's server, not in cache_dir
    # local metadata mirror asked before Crossref (issue 19): a file; None: the user's default one when it
    # exists; "none": no mirror
    mirror: str | None = None
    ttl_found: float = 7 * DAY  # seconds a found record stays fresh (at most MAX_TTL_FOUND)
    ttl_not_found: float = 6 * 3600.0  # at most MAX_TTL_NOT_FOUND
    ttl_links: float = DAY  # at most MAX_TTL_LINKS

    # size guards: the most entries (BibTeX entries, RIS records) of one bibliography, and its largest size
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_bibliography_mib: int = DEFAULT_MAX_BIBLIOGRAPHY_MIB
    max_draft_mib: int = DEFAULT_MAX_DRAFT_MIB

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
