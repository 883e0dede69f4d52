"""Retention: deleting resolved and closed alert history past an age.

- ``cleanup``: the rules (ages, what may go) and the run, batch by batch, with its report;
- ``sql``: the statements of one batch (one id range per statement);
- ``schedule``: the ``retention`` setting and the worker's once-a-day run of it.
"""
