"""Reports read an index, not the alerts: a covering index for statistics, top alerts and the
health trend (issue 18).

- ``final_duplicate_count``: ``duplicate_count`` once the alert is resolved or closed, NULL
  while it is open. Stored (generated), so it can sit in an index: a duplicate bumps
  ``duplicate_count`` of an *open* alert only, which leaves this column NULL, unchanged,
  and the bump a HOT update (``duplicate_count`` itself in an index would end that, see
  0016). A settled alert's count only changes when it reopens, a state change, which is
  never HOT anyway. Reports add the open alerts' ``duplicate_count`` from the table (the
  open alerts are few; one row per open fingerprint). Adding it rewrites ``alerts`` once
  (bench, 1M alerts: ~24 s under an exclusive lock).
- ``alerts_reports``: ``created_at`` with every column those reports read, so a period is
  one index range read without the heap (bench, 30 days: ~343k heap rows at ~1 us each).
  Nothing in it changes on a duplicate (no ``duplicate_count``, ``last_seen_at`` or
  ``updated_at``); its other columns change only with a state or severity change, which
  already touches indexed columns. Fixed-width columns first, never-null ones leading, text
  last: a row's values are found at fixed offsets as far as possible.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07
"""
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
alter table alerts add column final_duplicate_count integer generated always as (
    case when state in ('resolved', 'closed') then duplicate_count end) stored;
create index alerts_reports on alerts (created_at) include (
    tta_due_at, ttr_due_at, id, ttr_target_s, reopen_count, severity_rank, flapping,
    tta_s, ttr_s, acknowledged_at, resolved_at, final_duplicate_count, state, service, fingerprint);
""")


def downgrade() -> None:
    op.execute("""
drop index alerts_reports;
alter table alerts drop column final_duplicate_count;
""")
