"""Threshold paging: a policy may page an incident only once N of its alerts arrived within
M seconds (``escalation_policies.threshold``: ``{"alerts", "within_s"}``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
alter table escalation_policies add column threshold jsonb
    check (threshold is null or (jsonb_typeof(threshold) = 'object'
           and (threshold ->> 'alerts')::int >= 2 and (threshold ->> 'within_s')::int >= 60));
""")


def downgrade() -> None:
    op.execute("alter table escalation_policies drop column threshold")
