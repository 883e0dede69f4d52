"""Exact response and resolution percentiles without sorting a period (issue 18).

``reports/statistics`` gives p50 and p90 of ``tta_s`` and ``ttr_s``. ``percentile_cont`` sorts
every value of the period (bench, 30 days: ~229k and ~333k values, ~75 ms of sorting). These
two partial indexes keep each value under its bucket, ``floor(ln(least(greatest(value, 0),
1e308) + 1) * 16)`` (a bucket is ~6 % wide; negatives in the first, an infinite time, which
PostgreSQL 17+ can compute, in the last instead of failing the write), then ``created_at``.
A report counts each bucket's values in the period (one index range per bucket), finds the
buckets that hold the ranks it needs (one, or two when a percentile falls between two
values on either side of an edge), and sorts only their values
(core/reports/percentiles.py): the same figures, exactly.

- Partial (``is not null``): a new alert has neither time, so intake writes no entry; an
  acknowledgement or resolution is a non-HOT update already (``alerts_reports`` holds both
  columns), which now writes one more index entry.
- ``severity_rank`` is included for a report of one severity; a report of one service sorts
  as before (a service's alerts are few).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

# Frozen copy of core.reports.percentiles.bucket_sql (a migration must not change with the code).
BUCKET = "(floor(ln(least(greatest({col}, 0), float8 '1e308') + 1) * 16)::int)"


def upgrade() -> None:
    for col in ("tta_s", "ttr_s"):
        op.execute(f"create index alerts_{col}_buckets on alerts ({BUCKET.format(col=col)}, "
                   f"created_at) include ({col}, severity_rank) where {col} is not null")


def downgrade() -> None:
    op.execute("drop index alerts_tta_s_buckets; drop index alerts_ttr_s_buckets")
