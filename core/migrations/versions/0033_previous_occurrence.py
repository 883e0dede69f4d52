"""Each alert knows when its identity last fired: ``prev_at``, the ``created_at`` of the previous
alert with the same fingerprint, and ``prev_service_at`` / ``prev_device_at``, that of the
previous one with the same fingerprint on the same service (device); NULL when there is none.

- The health score counts as recurrences "every alert after the first of its fingerprint" per
  service (device) and period; with the pointers that is a filtered count
  (``prev_service_at >= period start``) in the scan that already counts the period's alerts,
  instead of a hash of every (service, period, fingerprint). Two pointers, because a
  fingerprint may move: a source's own fingerprint (Alertmanager's, a PagerDuty dedup key)
  can come back on another service or device, and each key counts its own recurrences.
- Top alerts rank identities; those with one alert in the period need no aggregation. The
  identities with more than one are exactly those with an alert whose ``prev_at`` falls in
  the period, read from ``alerts_repeats``, a partial index of the alerts that have a
  previous occurrence at all (a first occurrence writes no entry to it), with the service
  and severity a report may filter on.
- Filled at ingest (core/ingest/sql.py), here for the history: the previous alert in
  ``created_at`` order (then id). Only rows whose pointers change are written.
- ``alerts_reports`` (0031) is rebuilt with ``prev_service_at`` in it, so the service trend
  stays index-only. It is dropped before the backfill so the update does not maintain it.
  Cost (bench, 1M alerts whose fingerprints never repeat): the backfill's window sorts and the
  index build, a few seconds; on a history where most alerts repeat the update writes most
  rows once (``apply.REWRITES`` vacuums ``alerts`` afterwards).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07
"""
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# Frozen copy of core.alerts.recurrence.BACKFILL_SQL (a migration must not change with the code).
BACKFILL = """
update alerts a set prev_at = p.prev_at, prev_service_at = p.prev_service_at,
                    prev_device_at = p.prev_device_at
from (select id,
             lag(created_at) over (partition by fingerprint order by created_at, id) as prev_at,
             lag(created_at) over (partition by fingerprint, service
                                   order by created_at, id) as prev_service_at,
             lag(created_at) over (partition by fingerprint, device_id
                                   order by created_at, id) as prev_device_at
      from alerts) p
where a.id = p.id
  and (a.prev_at is distinct from p.prev_at
       or a.prev_service_at is distinct from p.prev_service_at
       or a.prev_device_at is distinct from p.prev_device_at)
"""
# 0031's columns; fixed-width ones first, text last (0031), so prev_service_at goes before state.
REPORTS_0031 = """tta_due_at, ttr_due_at, id, ttr_target_s, reopen_count, severity_rank,
    flapping, tta_s, ttr_s, acknowledged_at, resolved_at, final_duplicate_count, state,
    service, fingerprint"""
REPORTS_0033 = """tta_due_at, ttr_due_at, id, ttr_target_s, reopen_count, severity_rank,
    flapping, tta_s, ttr_s, acknowledged_at, resolved_at, final_duplicate_count,
    prev_service_at, state, service, fingerprint"""


def upgrade() -> None:
    op.execute(f"""
drop index alerts_reports;
alter table alerts add column prev_at timestamptz, add column prev_service_at timestamptz,
    add column prev_device_at timestamptz;
{BACKFILL};
create index alerts_reports on alerts (created_at) include ({REPORTS_0033});
create index alerts_repeats on alerts (created_at)
    include (prev_at, severity_rank, service, fingerprint) where prev_at is not null;
""")


def downgrade() -> None:
    op.execute(f"""
drop index alerts_reports;
drop index alerts_repeats;
alter table alerts drop column prev_at, drop column prev_service_at, drop column prev_device_at;
create index alerts_reports on alerts (created_at) include ({REPORTS_0031});
""")
