"""Notifications: the outbox every channel message goes through, and its delivery log.

- ``notifications``: one row per message to one contact over one channel. Writers insert
  with ``ON CONFLICT (idempotency_key) DO NOTHING`` ("esc:<alert>:<tier>:<repeat>:<target>"),
  so a re-run escalation step never queues a message twice. Workers claim due rows with
  ``FOR UPDATE SKIP LOCKED``; a claimed row is 'sending' until ``claimed_until`` (kept equal
  to ``next_attempt_at``, so one partial index finds both due and abandoned rows). Targets
  hold secret *names* or Fernet-sealed values, never a token in clear (core/notify/vault.py).
- ``recipient`` is the contact key used for throttling (email address, phone number,
  webhook host+path, a Slack/PagerDuty reference); a partial index over sent rows answers
  "when did this contact last get a message / how many SMS this hour".
- ``notification_attempts``: append-only, one row per delivery attempt (or per decision:
  rate_limited, cancelled), with the error and the provider's id.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CHANNELS = "('email','slack','webhook','sms','pagerduty','console')"
STATUSES = "('pending','sending','sent','failed','rate_limited','bundled','cancelled')"
OUTCOMES = "('sent','retry','failed','rate_limited','cancelled')"

UPGRADE = f"""
create table notifications (
    id              bigserial primary key,
    idempotency_key text not null unique check (idempotency_key <> ''),
    alert_id        bigint references alerts (id),
    group_id        bigint references alert_groups (id),
    channel         text not null check (channel in {CHANNELS}),
    target          jsonb not null default '{{}}',
    recipient       text not null,
    payload         jsonb not null default '{{}}',
    reason          text not null default '',
    status          text not null default 'pending' check (status in {STATUSES}),
    attempts        integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null,
    claimed_until   timestamptz,
    last_error      text,
    provider_id     text,
    created_at      timestamptz not null,
    sent_at         timestamptz,
    bundled_into    bigint references notifications (id),
    check (status <> 'sending' or claimed_until is not null),
    check (status <> 'bundled' or bundled_into is not null),
    check (bundled_into is distinct from id)
);
create index notifications_due on notifications (next_attempt_at)
    where status in ('pending','sending');
create index notifications_alert on notifications (alert_id, created_at);
create index notifications_contact on notifications (recipient, channel, created_at);
create index notifications_contact_sent on notifications (recipient, channel, sent_at)
    where status = 'sent';
create index notifications_bundled_into on notifications (bundled_into)
    where bundled_into is not null;
create index notifications_created on notifications (created_at);

create table notification_attempts (
    id              bigserial primary key,
    notification_id bigint not null references notifications (id),
    attempt         integer not null,
    at              timestamptz not null,
    outcome         text not null check (outcome in {OUTCOMES}),
    error           text,
    provider_id     text,
    duration_ms     integer not null default 0 check (duration_ms >= 0)
);
create index notification_attempts_notification on notification_attempts (notification_id, at);

create function notification_attempts_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'notification_attempts is append-only: % is not allowed', tg_op;
end $$;
create trigger notification_attempts_no_update_delete
    before update or delete on notification_attempts
    for each row execute function notification_attempts_append_only();
"""

DOWNGRADE = """
drop table notification_attempts;
drop function notification_attempts_append_only();
drop table notifications;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
