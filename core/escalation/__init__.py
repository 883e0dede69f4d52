"""Escalation: who is notified about an open alert, and when, until someone responds.

- ``rules``: policies (match, tiers, repeat, ack timeout, severity escalation) and the
  tier math (pure, ``now`` a parameter);
- ``store``: policies in the database (list, create, replace; targets sealed) and an
  alert's escalation timeline;
- ``jobs``: the worker jobs over ``alert_escalations`` (start, escalate due steps, ack
  timeouts, stop), rows claimed with ``FOR UPDATE SKIP LOCKED``;
- ``fire``: a claimed step turned into outbox rows (one per contact) and its event.
"""
