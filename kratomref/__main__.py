"""`python -m kratomref` runs the command line."""

from kratomref.cli import main

main()
