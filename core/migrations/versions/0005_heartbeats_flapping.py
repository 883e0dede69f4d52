"""Flapping and heartbeats: a flag on alerts kept by the worker, the flapping rule as data,
heartbeat monitors whose misses raise alerts through the one ingest path.

- ``alerts.flapping`` / ``flapping_since`` (set together, a CHECK says so) and a partial
  index on the flagged alerts, so the worker finds the ones to clear without a scan;
- a partial index on real state changes in ``alert_events`` by time, so counting the
  changes of the last window is an index-only range scan;
- the ``alert_events.kind`` CHECK gains 'flapping' and 'heartbeat' (recreated with the
  full list, including 'silence_mark' and 'inhibit_mark' from silences/inhibition);
- ``settings['flapping']``: more than ``max_changes`` state changes within ``window_s``;
- ``heartbeats``: one row per monitor; the worker claims the expired 'ok' ones.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SEVERITIES = "('critical','high','medium','low','info')"
KINDS_0001 = ("'created','transition','note','assign','sla_breach','escalation',"
              "'notification','severity_change'")
KINDS = KINDS_0001 + ",'silence_mark','inhibit_mark','flapping','heartbeat'"

UPGRADE = f"""
alter table alerts add column flapping boolean not null default false;
alter table alerts add column flapping_since timestamptz;
alter table alerts add constraint alerts_flapping_since_check
    check (flapping = (flapping_since is not null));
create index alerts_flapping on alerts (id) where flapping;

create index alert_events_changes_at on alert_events (at, alert_id)
    where kind = 'transition' and from_state is distinct from to_state;

alter table alert_events drop constraint if exists alert_events_kind_check;
alter table alert_events add constraint alert_events_kind_check check (kind in ({KINDS}));

insert into settings (key, value, updated_by) values
    ('flapping', '{{"max_changes": 4, "window_s": 1800}}', 'system')
on conflict (key) do nothing;

create table heartbeats (
    id           bigserial primary key,
    name         text not null unique check (name ~ '^[A-Za-z0-9._-]{{1,100}}$'),
    timeout_s    integer not null check (timeout_s > 0),
    service      text not null default '',
    device_id    text not null default '',
    severity     text not null default 'high' check (severity in {SEVERITIES}),
    state        text not null default 'ok' check (state in ('ok','missed')),
    last_beat_at timestamptz not null,
    expires_at   timestamptz not null,
    created_at   timestamptz not null,
    alert_id     bigint references alerts (id),
    check (expires_at = last_beat_at + make_interval(secs => timeout_s))
);
create index heartbeats_due on heartbeats (expires_at) where state = 'ok';
"""

DOWNGRADE = f"""
drop table heartbeats;
delete from settings where key = 'flapping';
alter table alert_events drop constraint alert_events_kind_check;
alter table alert_events add constraint alert_events_kind_check
    check (kind in ({KINDS_0001},'silence_mark','inhibit_mark')) not valid;
drop index alert_events_changes_at;
drop index alerts_flapping;
alter table alerts drop constraint alerts_flapping_since_check;
alter table alerts drop column flapping_since;
alter table alerts drop column flapping;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
