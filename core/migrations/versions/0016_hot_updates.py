"""Room for HOT updates on the rows ingest updates over and over.

- ``alerts`` fillfactor 85: a duplicate bumps ``duplicate_count``/``last_seen_at`` of an
  open alert (Alertmanager re-sends every group_interval). None of those columns is
  indexed, so with free space on the page the new row version is a HOT update (no entry
  in any of the table's indexes); on full pages every bump wrote ~12 index entries. On
  the bench, HOT updates went from ~30 % to ~90 % of alert updates and the 70 %-duplicate
  stream from ~6.4k to ~7.6k alerts/s. Only pages written from now on keep the room (the
  open alerts are the newest rows); existing history is not rewritten.
- ``alert_groups`` fillfactor 50 and no index on ``last_seen_at``: every batch updates
  each group it touches, and ``last_seen_at`` always changes, so that index made every
  group update non-HOT — a new entry in all five group indexes per batch, which the next
  batches' lookups by group key had to step over. The groups list's "seen since" filter
  now reads the groups table (it is small beside ``alerts``: one row per incident).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        alter table alerts set (fillfactor = 85);
        alter table alert_groups set (fillfactor = 50);
        drop index alert_groups_last_seen;
    """)


def downgrade() -> None:
    op.execute("""
        create index alert_groups_last_seen on alert_groups (last_seen_at);
        alter table alert_groups reset (fillfactor);
        alter table alerts reset (fillfactor);
    """)
