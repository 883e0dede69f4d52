"""Force a page again after N more signals: a policy's ``renotify_after`` (the notification
system this product replaces had "force-send after N repeats"), and the signal count at the
last page on each escalation (``alert_escalations.signals_at_page``).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
alter table escalation_policies add column renotify_after integer
    check (renotify_after is null or renotify_after >= 2);
alter table alert_escalations add column signals_at_page bigint;
""")


def downgrade() -> None:
    op.execute("alter table alert_escalations drop column signals_at_page; "
               "alter table escalation_policies drop column renotify_after")
