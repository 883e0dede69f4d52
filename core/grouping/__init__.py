"""Grouping: which alerts make one incident (a group), and the noise it saves.

- ``rules``: the grouping setting, the values an alert groups by, the group key, the
  per-severity wait (pure);
- ``store``: assigning a batch's alerts to groups under advisory locks, the backfill (SQL;
  the ingest upsert keeps the group counters, core/ingest/batch/sql.py);
- ``read``: the read side (lists, one group with its members, noise-reduction stats).
"""
