"""People and how to reach them: contact methods, notification rules, the voice channel.

- ``contact_methods``: a user's ways to be reached (sms/voice: E.164 phone; email; slack:
  member id), unique per user, type and address;
- ``notification_rules``: per user and urgency (high: critical/high alerts; low: the rest),
  a contact method and a delay from the start of the page (core/people/rules.py);
- ``notifications.channel`` accepts 'voice' (Twilio's Calls API).

Existing users' ``email`` and ``phone`` become contact methods, so nobody's reach changes.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

CHANNELS = "('email','slack','webhook','sms','voice','pagerduty','console')"
OLD_CHANNELS = "('email','slack','webhook','sms','pagerduty','console')"

UPGRADE = f"""
create table contact_methods (
    id         bigserial primary key,
    user_id    bigint not null references users (id),
    type       text not null check (type in ('sms', 'voice', 'email', 'slack')),
    address    text not null check (address <> '' and length(address) <= 254),
    label      text not null default '',
    created_at timestamptz not null,
    unique (user_id, type, address)
);
create table notification_rules (
    id                bigserial primary key,
    user_id           bigint not null references users (id),
    urgency           text not null check (urgency in ('high', 'low')),
    contact_method_id bigint not null references contact_methods (id) on delete cascade,
    delay_s           integer not null check (delay_s between 0 and 86400),
    unique (user_id, urgency, contact_method_id, delay_s)
);
create index notification_rules_user on notification_rules (user_id);
insert into contact_methods (user_id, type, address, created_at)
select id, 'email', lower(email), now() from users where coalesce(email, '') <> ''
union all
select id, 'sms', phone, now() from users where coalesce(phone, '') <> '';
alter table notifications drop constraint notifications_channel_check;
alter table notifications add constraint notifications_channel_check
    check (channel in {CHANNELS});
"""

DOWNGRADE = f"""
delete from notification_attempts where notification_id in
    (select id from notifications where channel = 'voice');
delete from notifications where channel = 'voice';
alter table notifications drop constraint notifications_channel_check;
alter table notifications add constraint notifications_channel_check
    check (channel in {OLD_CHANNELS});
drop table notification_rules;
drop table contact_methods;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
