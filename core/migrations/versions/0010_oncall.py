"""On-call schedules: schedules (IANA zone), their rotation layers, overrides.

- ``oncall_schedules``: name (unique), ``timezone`` (an IANA name, checked in Python by
  core/oncall_parse.py), description, enabled.
- ``oncall_layers``: one rotation each; ``position`` orders them (higher wins), ``rotation``
  daily | weekly | custom (custom needs ``shift_hours`` > 0, the others none), ``handoff``
  local time of day, ``start`` local date, ``participants`` usernames in rotation order,
  ``restrictions`` [{days, from, to}] (core/oncall.py evaluates them).
- ``oncall_overrides``: someone on call for [starts_at, ends_at); may overlap (the latest
  created wins, core/oncall.py), so no exclusion constraint. The username must be a user.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
create table oncall_schedules (
    id          bigserial primary key,
    name        text not null unique check (name <> ''),
    timezone    text not null check (timezone <> ''),
    description text not null default '',
    enabled     boolean not null default true,
    created_by  text not null check (created_by <> ''),
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);

create table oncall_layers (
    id           bigserial primary key,
    schedule_id  bigint not null references oncall_schedules (id) on delete cascade,
    position     integer not null check (position >= 0),
    name         text not null check (name <> ''),
    rotation     text not null check (rotation in ('daily', 'weekly', 'custom')),
    shift_hours  integer check (shift_hours > 0),
    handoff      time not null,
    start        date not null,
    participants text[] not null check (cardinality(participants) >= 1),
    restrictions jsonb not null default '[]' check (jsonb_typeof(restrictions) = 'array'),
    unique (schedule_id, position),
    unique (schedule_id, name),
    check ((rotation = 'custom') = (shift_hours is not null))
);

create table oncall_overrides (
    id          bigserial primary key,
    schedule_id bigint not null references oncall_schedules (id) on delete cascade,
    username    text not null references users (username),
    starts_at   timestamptz not null,
    ends_at     timestamptz not null,
    created_by  text not null check (created_by <> ''),
    created_at  timestamptz not null,
    check (ends_at > starts_at)
);
create index oncall_overrides_range on oncall_overrides (schedule_id, ends_at, starts_at);
"""

DOWNGRADE = """
drop table oncall_overrides;
drop table oncall_layers;
drop table oncall_schedules;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
