"""Normalisers: each source's payload -> ``core.ingest.signal.Signal`` list. Pure functions."""
