"""Suppression: marks that keep an open alert from notifying, without changing its state.

- ``silences``: matchers and time windows (pure: parse, validate, match, compile to SQL);
- ``inhibition``: rules "a source alert mutes its targets" (pure);
- ``silences_store``: silences in the database and ``apply_silences``, the set-based mark;
- ``inhibition_store``: inhibit rules in the database and ``apply_inhibitions``.

Ingest applies silence marks in its own transaction; inhibition marks come with the
worker's tick (``silences_tick``, ``inhibitions_tick``), before any job that notifies.
"""
