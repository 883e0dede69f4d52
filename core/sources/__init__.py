"""Normalisers: each source's payload -> ``core.ingest.Signal`` list. Pure functions."""
