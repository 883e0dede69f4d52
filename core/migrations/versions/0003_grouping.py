"""Grouping: alert groups (incidents), settings as data, group counters kept by the database.

A statement-level trigger with transition tables keeps each group's member/open counts,
highest severity, last seen and status (active while a member is open, resolved when the
last one resolves) — set-based, so batch ingest and bulk actions stay one pass.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN = "('new','acknowledged','investigating','silenced')"

UPGRADE = f"""
create table settings (
    key        text primary key,
    value      jsonb not null,
    updated_at timestamptz not null default now(),
    updated_by text
);
insert into settings (key, value, updated_by) values
    ('grouping', '{{"group_by": ["service", "alertname"], "window_s": 300,
                    "wait_s": {{"critical": 0, "high": 15, "medium": 30, "low": 60, "info": 60}}}}',
     'system'),
    ('flap_window_s', '300', 'system');

create table alert_groups (
    id                bigserial primary key,
    group_key         text not null,
    group_by          jsonb not null,
    status            text not null default 'active' check (status in ('active','resolved')),
    first_seen_at     timestamptz not null,
    last_seen_at      timestamptz not null,
    resolved_at       timestamptz,
    notify_at         timestamptz not null,
    notified_at       timestamptz,
    member_count      integer not null default 0 check (member_count >= 0),
    open_count        integer not null default 0 check (open_count >= 0),
    max_severity_rank smallint not null default 5 check (max_severity_rank between 1 and 5),
    raw_events        bigint not null default 0 check (raw_events >= 0),
    check ((status = 'resolved') = (resolved_at is not null))
);
create index alert_groups_key on alert_groups (group_key, id desc);
create index alert_groups_last_seen on alert_groups (last_seen_at);
create index alert_groups_active on alert_groups (max_severity_rank, first_seen_at) where status = 'active';
create index alert_groups_notify_due on alert_groups (notify_at) where notified_at is null;

alter table alerts add constraint alerts_group_fk foreign key (group_id) references alert_groups (id);
create index alerts_group on alerts (group_id) where group_id is not null;

-- Both functions lock the group rows in id order first: concurrent batches touching the
-- same groups then queue instead of deadlocking.
create function alert_groups_on_insert() returns trigger language plpgsql as $$
begin
    perform 1 from alert_groups g
    where g.id in (select group_id from new_rows where group_id is not null)
    order by g.id for no key update;
    update alert_groups g set
        member_count = g.member_count + d.members,
        open_count = g.open_count + d.open,
        max_severity_rank = least(g.max_severity_rank, d.rank),
        last_seen_at = greatest(g.last_seen_at, d.last_seen),
        status = case when g.open_count + d.open > 0 then 'active' else g.status end,
        resolved_at = case when g.open_count + d.open > 0 then null else g.resolved_at end
    from (select group_id, count(*) as members, count(*) filter (where state in {OPEN}) as open,
                 min(severity_rank) as rank, max(last_seen_at) as last_seen
          from new_rows where group_id is not null group by group_id) d
    where g.id = d.group_id;
    return null;
end $$;

create function alert_groups_on_update() returns trigger language plpgsql as $$
begin
    perform 1 from alert_groups g
    where g.id in (select n.group_id from new_rows n join old_rows o on o.id = n.id
                   where n.group_id is not null and n.state is distinct from o.state)
    order by g.id for no key update;
    update alert_groups g set
        open_count = g.open_count + d.delta,
        last_seen_at = greatest(g.last_seen_at, d.last_seen),
        status = case when g.open_count + d.delta > 0 then 'active' else 'resolved' end,
        resolved_at = case when g.open_count + d.delta > 0 then null
                           else coalesce(g.resolved_at, d.changed_at) end
    from (select n.group_id,
                 sum((n.state in {OPEN})::int - (o.state in {OPEN})::int) as delta,
                 max(n.last_seen_at) as last_seen, max(n.updated_at) as changed_at
          from new_rows n join old_rows o on o.id = n.id
          where n.group_id is not null and n.state is distinct from o.state
          group by n.group_id) d
    where g.id = d.group_id and d.delta <> 0;
    return null;
end $$;

create trigger alerts_group_counts_insert after insert on alerts
    referencing new table as new_rows for each statement execute function alert_groups_on_insert();
create trigger alerts_group_counts_update after update on alerts
    referencing old table as old_rows new table as new_rows
    for each statement execute function alert_groups_on_update();
"""

DOWNGRADE = """
drop trigger alerts_group_counts_update on alerts;
drop trigger alerts_group_counts_insert on alerts;
drop function alert_groups_on_update();
drop function alert_groups_on_insert();
alter table alerts drop constraint alerts_group_fk;
drop index alerts_group;
drop table alert_groups;
drop table settings;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
