"""Ingest: every way an alert comes in, down to one batch path.

- ``signal``: ``Signal``, one alert firing or resolved, as a source reports it (pure);
- ``sources/``: one normaliser per source payload (Alertmanager, generic webhook,
  anomalies) -> ``Signal``s (pure);
- ``batch``: ``ingest_batch``, the batch applied in a fixed number of set-based statements
  (resolve, lookup/reopen, group, upsert, silence marks), and ``ingest``, a batch of one;
- ``context``: what a batch reads first, in one round trip (flap window, grouping, SLA
  targets, active silences);
- ``sql``: the statements of the batch, prepared once per connection;
- ``heartbeats``: dead man's switches; the worker raises an overdue beat as a signal;
- ``anomaly``: false-positive rate per anomaly model (SQL).
"""
