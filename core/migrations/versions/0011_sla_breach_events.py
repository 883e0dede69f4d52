"""SLA-breach events: remember on the alert when each clock's breach was recorded, so the
worker writes exactly one 'sla_breach' event per clock (no scan of the event log).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        alter table alerts add column tta_breach_at timestamptz,
                           add column ttr_breach_at timestamptz;
    """)


def downgrade() -> None:
    op.execute("alter table alerts drop column tta_breach_at, drop column ttr_breach_at")
