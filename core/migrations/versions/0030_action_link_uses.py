"""Signed action links are single-use: a link (notification, action) is spent by the row
written in the same transaction as its action. The links themselves are never stored:
they are an HMAC of (notification, action) under the app secret, computed when the page
is sent (core/notify/links.py).

Also: the sources an alert event may come from gain the two-way ones (link, sms, voice,
slack, pagerduty), so the timeline says where a person acted from.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
create table action_link_uses (
    notification_id bigint not null,
    action text not null,
    used_at timestamptz not null,
    used_by text not null,
    outcome text not null,
    primary key (notification_id, action)
);
alter table alert_events drop constraint alert_events_source_check;
alter table alert_events add constraint alert_events_source_check check (source in
    ('ui', 'api', 'worker', 'system', 'webhook', 'alertmanager',
     'link', 'sms', 'voice', 'slack', 'pagerduty'));
""")


def downgrade() -> None:
    op.execute("""
drop table action_link_uses;
alter table alert_events drop constraint alert_events_source_check;
alter table alert_events add constraint alert_events_source_check check (source in
    ('ui', 'api', 'worker', 'system', 'webhook', 'alertmanager'));
""")
