"""SLA: targets (time to acknowledge, time to resolve), live status, breaches, compliance.

- ``rules``: targets per severity with per-service overrides, an alert's live SLA status
  (pure, ``now`` a parameter);
- ``store``: SLA policies in the database (read at intake, edited by managers);
- ``jobs``: ``mark_sla_breaches``, the worker job that writes 'sla_breach' events;
- ``compliance``: compliance per severity / service / team over a period (SQL);
- ``trends``: compliance per local day and the list of breached alerts (SQL).
"""
