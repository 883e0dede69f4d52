"""Silences (label-matcher maintenance windows) and inhibition rules, as data.

A silence or an inhibition is a *mark* on an open alert, separate from its lifecycle state
('silenced' stays the operator's per-alert snooze): ``silence_id`` names the silence that
matched, ``inhibited_by`` + ``inhibit_rule_id`` the open alert and rule that suppress it.
A marked alert is stored and visible but never notifies. The marks are derived state,
kept by core.silences_store.apply_silences / core.inhibition_store.apply_inhibitions, and
every change of a mark appends a 'silence_mark' / 'inhibit_mark' event to the timeline.

Matchers are JSON arrays of {"name", "op": "=" | "!=" | "=~" | "!~", "value"}; their shape
and regexes are validated in Python (core.silences) and by PostgreSQL before storing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KINDS_0001 = ("'created','transition','note','assign','sla_breach','escalation','notification',"
              "'severity_change'")
MATCHERS = "jsonb_typeof({0}) = 'array' and jsonb_array_length({0}) between 1 and 50"

UPGRADE = f"""
create table silences (
    id          bigserial primary key,
    matchers    jsonb not null check ({MATCHERS.format('matchers')}),
    starts_at   timestamptz not null,
    ends_at     timestamptz not null,
    created_by  text not null check (created_by <> ''),
    comment     text not null check (comment <> ''),
    created_at  timestamptz not null,
    expired_at  timestamptz,            -- expired by hand (a silence also ends at ends_at)
    expired_by  text,
    check (ends_at > starts_at),
    check ((expired_at is null) = (expired_by is null))
);
-- Active and pending silences: the only ones apply_silences reads.
create index silences_live on silences (ends_at, starts_at) where expired_at is null;

create table inhibit_rules (
    id           bigserial primary key,
    name         text not null unique check (name <> ''),
    source_match jsonb not null check ({MATCHERS.format('source_match')}),
    target_match jsonb not null check ({MATCHERS.format('target_match')}),
    equal        text[] not null default '{{}}' check (array_position(equal, null) is null),
    enabled      boolean not null default true,
    created_by   text not null check (created_by <> ''),
    created_at   timestamptz not null default now(),
    updated_by   text,
    updated_at   timestamptz not null default now()
);
insert into inhibit_rules (name, source_match, target_match, equal, created_by) values
    ('critical-suppresses-warning',
     '[{{"name": "severity", "op": "=", "value": "critical"}},
       {{"name": "alertname", "op": "!=", "value": ""}}]',
     '[{{"name": "severity", "op": "=~", "value": "medium|low|info"}}]',
     '{{alertname,service}}', 'system'),
    ('db-pool-exhausted-suppresses-slow-queries',
     '[{{"name": "alertname", "op": "=", "value": "DatabaseConnectionPoolExhausted"}},
       {{"name": "database", "op": "!=", "value": ""}}]',
     '[{{"name": "alertname", "op": "=", "value": "SlowDatabaseQueries"}}]',
     '{{database}}', 'system'),
    ('node-down-suppresses-its-device',
     '[{{"name": "alertname", "op": "=~", "value": "NodeDown|HostDown|InstanceDown"}},
       {{"name": "device_id", "op": "!=", "value": ""}}]',
     '[{{"name": "alertname", "op": "!~", "value": "NodeDown|HostDown|InstanceDown"}}]',
     '{{device_id}}', 'system');

alter table alerts
    add column silence_id      bigint references silences (id),
    add column inhibited_by    bigint references alerts (id),
    add column inhibit_rule_id bigint references inhibit_rules (id),
    add constraint alerts_inhibit_mark check ((inhibited_by is null) = (inhibit_rule_id is null)),
    add constraint alerts_not_self_inhibited check (inhibited_by <> id);
create index alerts_silence on alerts (silence_id) where silence_id is not null;
create index alerts_inhibited_by on alerts (inhibited_by) where inhibited_by is not null;

alter table alert_events drop constraint alert_events_kind_check;
alter table alert_events add constraint alert_events_kind_check check (kind in (
    {KINDS_0001}, 'silence_mark', 'inhibit_mark'));
"""

# Events of the new kinds stay (the table is append-only), hence NOT VALID on the way down.
DOWNGRADE = f"""
alter table alert_events drop constraint alert_events_kind_check;
alter table alert_events add constraint alert_events_kind_check check (kind in ({KINDS_0001}))
    not valid;
drop index alerts_inhibited_by;
drop index alerts_silence;
alter table alerts drop constraint alerts_not_self_inhibited,
    drop constraint alerts_inhibit_mark,
    drop column inhibit_rule_id,
    drop column inhibited_by,
    drop column silence_id;
drop table inhibit_rules;
drop table silences;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
