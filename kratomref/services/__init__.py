"""Everything that does I/O: Crossref, doi.org, live links, the Wayback Machine, and the cache.

A reference that could not be checked comes back as data (an UNVERIFIED result with its reason),
never as an exception.
"""
