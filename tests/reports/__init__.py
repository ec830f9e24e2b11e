"""The report formats as a user reads them."""
