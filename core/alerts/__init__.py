"""Alerts: what an alert is, how it moves through its states, and how it is read.

- ``model``: ``AlertIn``, the alert as it comes in, validated and normalised, and its
  dedup key (pure);
- ``store``: transitions in the database (lock, check, update, append events), notes,
  assignment, silence expiry; the state machine itself is the kernel's ``core.lifecycle``;
- ``queue``: the read side (the active queue, filtered lists, one alert with its timeline);
- ``export``: the streamed CSV export of a filtered list;
- ``flapping``: the flapping rule, the flag the worker sets and the damping escalation reads;
- ``recurrence``: when an alert's identity last fired (the health score's recurrences).
"""
