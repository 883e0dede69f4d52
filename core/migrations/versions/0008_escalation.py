"""Escalation: policies as data, and one escalation row per alert with its frozen policy.

- ``escalation_policies``: match (severity list, service, labels), tiers, repeat, the
  optional forgotten-ack timeout and severity-escalation rule; the first enabled policy by
  ``priority`` (then id) that matches an alert wins. The JSON shapes are checked in Python
  (core/escalation.py ``parse_policy``) and their outline here. Seeded with defaults:
  critical 0/5/15 min + repeat every 15 min x3, high 0/15/60 min, medium one tier.
- ``alert_escalations``: the policy frozen when the alert's escalation starts
  (``policy_snapshot``), progress (``next_tier`` = tiers fired, ``repeats_done``), the due
  time of the next step (``next_at``, indexed where active), ``cycle`` (restarts, part of
  the notifications' idempotency keys), and two more due times the worker reads through
  partial indexes: ``ack_due_at`` (forgotten ack) and ``severity_due_at``;
- ``alerts_escalation_live``: a partial index over the alerts that may escalate ('new',
  not muted), so starting escalations reads thousands of rows, not the alert history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CONSOLE = '{"type": "console"}'
# Secrets by name only (ALERTDESK_SLACK_WEBHOOK_NOC, ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC).
SLACK = '{"type": "slack", "webhook": "noc"}'
PAGERDUTY = '{"type": "pagerduty", "routing_key_ref": "noc"}'


def _tiers(*tiers: tuple[int, str]) -> str:
    return "[" + ", ".join(f'{{"delay_s": {d}, "targets": [{t}]}}' for d, t in tiers) + "]"


UPGRADE = f"""
create table escalation_policies (
    id                  bigserial primary key,
    name                text not null unique check (name <> ''),
    description         text not null default '',
    match               jsonb not null default '{{}}' check (jsonb_typeof(match) = 'object'),
    tiers               jsonb not null check (jsonb_typeof(tiers) = 'array'
                                              and jsonb_array_length(tiers) between 1 and 10),
    repeat              jsonb check (jsonb_typeof(repeat) = 'object'),
    ack_timeout_s       integer check (ack_timeout_s > 0),
    severity_escalation jsonb check (jsonb_typeof(severity_escalation) = 'object'),
    priority            integer not null default 100 check (priority >= 0),
    enabled             boolean not null default true,
    created_by          text not null check (created_by <> ''),
    created_at          timestamptz not null,
    updated_by          text,
    updated_at          timestamptz not null
);
create index escalation_policies_order on escalation_policies (priority, id) where enabled;

insert into escalation_policies (name, description, match, tiers, repeat, priority,
                                 created_by, created_at, updated_at) values
    ('critical', 'Page at once, widen at 5 and 15 min, repeat every 15 min (3 times)',
     '{{"severity": ["critical"], "service": null, "labels": {{}}}}',
     '{_tiers((0, CONSOLE + ", " + SLACK), (300, CONSOLE + ", " + PAGERDUTY), (900, CONSOLE))}',
     '{{"every_s": 900, "times": 3}}', 100, 'system', now(), now()),
    ('high', 'Notify at once, widen at 15 and 60 min',
     '{{"severity": ["high"], "service": null, "labels": {{}}}}',
     '{_tiers((0, CONSOLE + ", " + SLACK), (900, CONSOLE), (3600, CONSOLE))}',
     null, 200, 'system', now(), now()),
    ('medium', 'Team channel only',
     '{{"severity": ["medium"], "service": null, "labels": {{}}}}',
     '{_tiers((0, SLACK))}', null, 300, 'system', now(), now());

create table alert_escalations (
    alert_id        bigint primary key references alerts (id),
    policy_id       bigint references escalation_policies (id) on delete set null,
    policy_snapshot jsonb not null check (jsonb_typeof(policy_snapshot -> 'tiers') = 'array'),
    started_at      timestamptz not null,
    next_tier       integer not null default 0 check (next_tier >= 0),
    repeats_done    integer not null default 0 check (repeats_done >= 0),
    next_at         timestamptz,
    state           text not null default 'active' check (state in ('active','stopped','done')),
    stopped_reason  text,
    cycle           integer not null default 0 check (cycle >= 0),
    expedited       text check (expedited in ('sla_breach','auto_escalate')),
    last_fired_at   timestamptz,
    ack_due_at      timestamptz,
    severity_due_at timestamptz,
    severity_raised boolean not null default false,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    check ((state = 'active') = (next_at is not null)),
    check ((state = 'stopped') = (stopped_reason is not null))
);
create index alert_escalations_due on alert_escalations (next_at) where state = 'active';
create index alert_escalations_ack_due on alert_escalations (ack_due_at)
    where ack_due_at is not null;
create index alert_escalations_severity_due on alert_escalations (severity_due_at)
    where severity_due_at is not null;
create index alert_escalations_policy on alert_escalations (policy_id);
-- The rows the stop job watches (running, or stopped by a silence/mark that may turn into an
-- ack): stopped rows pile up with history, so the job never scans them.
create index alert_escalations_watch on alert_escalations (alert_id)
    where state <> 'stopped' or stopped_reason in ('silenced','muted');
-- Alerts that may escalate: in 'new' and not muted (start and restart read only these).
create index alerts_escalation_live on alerts (id)
    where state = 'new' and silence_id is null and inhibited_by is null;
"""

DOWNGRADE = """
drop index if exists alerts_escalation_live;
drop table alert_escalations;
drop table escalation_policies;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
