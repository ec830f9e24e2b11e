"""Everything that does I/O: Crossref, doi.org, live links, the Wayback Machine, and the cache.

A reference that could not be checked comes back as data (an UNVERIFIED result with its reason),
never as an exception.
"""

# Named in every User-Agent the services send (Crossref's etiquette asks for "+URL"), so that the staff of a
# site or service can reach us.
PROJECT_URL = "https://pypi.org/project/kratomref/"
