"""Initial schema: users, API keys, SLA policies, alerts, append-only alert events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEVERITIES = "('critical','high','medium','low','info')"
ROLES = "('viewer','operator','manager','admin')"
STATES = "('new','acknowledged','investigating','resolved','closed','silenced')"
OPEN = "('new','acknowledged','investigating','silenced')"

UPGRADE = f"""
create table users (
    id            bigserial primary key,
    username      text not null unique check (username ~ '^[a-z0-9][a-z0-9._@-]{{0,62}}$'),
    display_name  text not null default '',
    email         text,
    phone         text,
    timezone      text not null default 'UTC',
    role          text not null check (role in {ROLES}),
    password_hash text,
    is_active     boolean not null default true,
    created_at    timestamptz not null default now()
);

create table api_keys (
    id           bigserial primary key,
    name         text not null check (name <> ''),
    key_prefix   text not null,
    key_hash     text not null unique,
    role         text not null check (role in {ROLES}),
    created_by   text,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

create table sla_policies (
    id         bigserial primary key,
    severity   text not null check (severity in {SEVERITIES}),
    service    text,
    tta_s      integer not null check (tta_s > 0),
    ttr_s      integer not null check (ttr_s > 0),
    updated_at timestamptz not null default now(),
    updated_by text,
    check (ttr_s >= tta_s),
    unique nulls not distinct (severity, service)
);
insert into sla_policies (severity, service, tta_s, ttr_s, updated_by) values
    ('critical', null,   300,   1800, 'system'),
    ('high',     null,   900,   7200, 'system'),
    ('medium',   null,  3600,  28800, 'system'),
    ('low',      null, 14400,  86400, 'system'),
    ('info',     null, 86400, 604800, 'system');

create table alerts (
    id                   bigserial primary key,
    fingerprint          text not null check (fingerprint <> ''),
    source               text not null check (source <> ''),
    service              text not null default '',
    device_id            text not null default '',
    severity             text not null check (severity in {SEVERITIES}),
    severity_rank        smallint generated always as (
        case severity when 'critical' then 1 when 'high' then 2 when 'medium' then 3
                      when 'low' then 4 else 5 end) stored,
    state                text not null default 'new' check (state in {STATES}),
    state_before_silence text check (state_before_silence in ('new','acknowledged','investigating')),
    silenced_until       timestamptz,
    summary              text not null check (summary <> ''),
    description          text not null default '',
    labels               jsonb not null default '{{}}',
    annotations          jsonb not null default '{{}}',
    metadata             jsonb not null default '{{}}',
    assignee             text,
    group_id             bigint,
    duplicate_count      integer not null default 1 check (duplicate_count >= 1),
    reopen_count         integer not null default 0 check (reopen_count >= 0),
    created_at           timestamptz not null,
    last_seen_at         timestamptz not null,
    acknowledged_at      timestamptz,
    resolved_at          timestamptz,
    closed_at            timestamptz,
    updated_at           timestamptz not null,
    tta_target_s         integer not null check (tta_target_s > 0),
    ttr_target_s         integer not null check (ttr_target_s > 0),
    tta_due_at           timestamptz not null,
    ttr_due_at           timestamptz not null,
    sla_due_at           timestamptz generated always as (
        case when acknowledged_at is null then tta_due_at else ttr_due_at end) stored,
    tta_s                double precision generated always as (
        extract(epoch from acknowledged_at - created_at)) stored,
    ttr_s                double precision generated always as (
        extract(epoch from resolved_at - created_at)) stored,
    check ((state = 'silenced') = (silenced_until is not null)),
    check ((state = 'silenced') = (state_before_silence is not null)),
    check ((state in ('resolved','closed')) = (resolved_at is not null)),
    check ((state = 'closed') = (closed_at is not null))
);
-- One open alert per fingerprint: deduplication is the database's job, not the app's.
create unique index alerts_open_fingerprint on alerts (fingerprint) where state in {OPEN};
-- The active queue: severity first, then the SLA deadline that is running.
create index alerts_queue on alerts (severity_rank, sla_due_at, id) where state in {OPEN};
create index alerts_created_at on alerts (created_at);
create index alerts_service_created on alerts (service, created_at);
create index alerts_device_created on alerts (device_id, created_at);
create index alerts_silence_due on alerts (silenced_until) where state = 'silenced';

create table alert_events (
    id         bigserial primary key,
    alert_id   bigint not null references alerts (id) on delete restrict,
    at         timestamptz not null,
    actor      text not null check (actor <> ''),
    source     text not null check (source in ('ui','api','worker','system','webhook','alertmanager')),
    kind       text not null check (kind in ('created','transition','note','assign','sla_breach',
                                             'escalation','notification','severity_change')),
    from_state text check (from_state in {STATES}),
    to_state   text check (to_state in {STATES}),
    note       text,
    metadata   jsonb not null default '{{}}'
);
create index alert_events_alert on alert_events (alert_id, at, id);

create function alert_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'alert_events is append-only: % is not allowed', tg_op
        using errcode = 'restrict_violation';
end $$;
create trigger alert_events_no_update_delete before update or delete on alert_events
    for each row execute function alert_events_append_only();
create trigger alert_events_no_truncate before truncate on alert_events
    for each statement execute function alert_events_append_only();
"""

DOWNGRADE = """
drop table alert_events;
drop function alert_events_append_only();
drop table alerts;
drop table sla_policies;
drop table api_keys;
drop table users;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
