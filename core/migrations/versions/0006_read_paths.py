"""Read paths measured on the 1M-alert bench (bench/README.md):

- compliance: a covering index in (severity_rank, service, created_at) order lets the
  30-day compliance query run as an index-only skip scan with no sort (412 -> ~200 ms);
- the queue filtered by service: a partial index over open alerts in queue order;
- autovacuum on alerts after 1 % of rows change (not 20 %): the queue's partial index
  otherwise carries up to ~200k dead entries on a 1M-row table between vacuums.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN = "('new','acknowledged','investigating','silenced')"

UPGRADE = f"""
create index alerts_compliance on alerts (severity_rank, service, created_at)
    include (severity, acknowledged_at, resolved_at, tta_due_at, ttr_due_at, tta_s, ttr_s);
create index alerts_queue_service on alerts (service, severity_rank, sla_due_at, id)
    where state in {OPEN};
alter table alerts set (autovacuum_vacuum_scale_factor = 0.01,
                        autovacuum_analyze_scale_factor = 0.01);
"""

DOWNGRADE = """
alter table alerts reset (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor);
drop index alerts_queue_service;
drop index alerts_compliance;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
