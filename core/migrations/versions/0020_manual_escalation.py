"""An escalation can be made due by a person ("escalate now"): ``expedited`` 'manual'.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
alter table alert_escalations drop constraint alert_escalations_expedited_check;
alter table alert_escalations add constraint alert_escalations_expedited_check
    check (expedited in ('sla_breach', 'auto_escalate', 'manual'));
""")


def downgrade() -> None:
    op.execute("""
update alert_escalations set expedited = null where expedited = 'manual';
alter table alert_escalations drop constraint alert_escalations_expedited_check;
alter table alert_escalations add constraint alert_escalations_expedited_check
    check (expedited in ('sla_breach', 'auto_escalate'));
""")
