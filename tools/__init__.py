"""Maintenance scripts (datasets, example notebooks); a package so tests import them as ``tools.<name>``."""
