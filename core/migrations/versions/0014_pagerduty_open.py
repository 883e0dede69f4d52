"""PagerDuty incidents still open from Alertdesk's side: sent PagerDuty triggers whose
resolve has not been queued yet. The follow-up job (core/notify/followups.py) reads only
this partial index, so its cost follows the number of open incidents, not the history or
a burst of transitions.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23
"""
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        create index notifications_pagerduty_open on notifications (alert_id)
            where channel = 'pagerduty' and status = 'sent'
              and not (payload ? 'event_action') and not (payload ? 'followed_up');
    """)


def downgrade() -> None:
    op.execute("drop index notifications_pagerduty_open")
