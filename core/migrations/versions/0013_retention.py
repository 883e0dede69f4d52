"""Retention: a sanctioned way to delete old history, and group counters that see it.

- ``alert_events`` and ``notification_attempts`` stay append-only, except for DELETE in a
  transaction that set ``alertdesk.retention = 'on'`` (``SET LOCAL``, as
  ``core/retention.py`` does). UPDATE and TRUNCATE stay refused. This is a guard against
  mistakes, not a security boundary: the application's database role owns the tables.
- ``alerts_group_counts_delete``: a statement trigger (like the insert/update ones of 0003)
  takes deleted members out of their group's ``member_count``/``open_count``, so a group
  that keeps an open member after its old resolved ones are removed counts what is left.
- ``audit_log`` (0012) accepts the entity ``retention`` (one row per cleanup run). The
  entity CHECK is rebuilt from its current definition, so any list 0012 holds is kept.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPEN = "('new','acknowledged','investigating','silenced')"


def _append_only(table: str, errcode: str, retention: bool) -> str:
    let_through = """
    if tg_op = 'DELETE' and current_setting('alertdesk.retention', true) = 'on' then
        return old;
    end if;""" if retention else ""
    using = f"\n        using errcode = '{errcode}'" if errcode else ""
    return f"""
create or replace function {table}_append_only() returns trigger language plpgsql as $$
begin{let_through}
    raise exception '{table} is append-only: % is not allowed', tg_op{using};
end $$;
"""


AUDIT_ENTITY = """
do $$
declare def text := (select pg_get_constraintdef(c.oid) from pg_constraint c
                     where c.conrelid = 'audit_log'::regclass
                       and c.conname = 'audit_log_entity_check');
begin
    if def is not null and {condition} then
        alter table audit_log drop constraint audit_log_entity_check;
        execute 'alter table audit_log add constraint audit_log_entity_check '
                || {new_def} || '{valid}';
    end if;
end $$;
"""

GROUP_COUNTS = f"""
create function alert_groups_on_delete() returns trigger language plpgsql as $$
begin
    perform 1 from alert_groups g
    where g.id in (select group_id from old_rows where group_id is not null)
    order by g.id for no key update;
    update alert_groups g set
        member_count = greatest(g.member_count - d.members, 0),
        open_count = greatest(g.open_count - d.open, 0)
    from (select group_id, count(*) as members,
                 count(*) filter (where state in {OPEN}) as open
          from old_rows where group_id is not null group by group_id) d
    where g.id = d.group_id;
    return null;
end $$;
create trigger alerts_group_counts_delete after delete on alerts
    referencing old table as old_rows for each statement
    execute function alert_groups_on_delete();
"""


def upgrade() -> None:
    op.execute(_append_only("alert_events", "restrict_violation", retention=True))
    op.execute(_append_only("notification_attempts", "", retention=True))
    op.execute(GROUP_COUNTS)
    op.execute(AUDIT_ENTITY.format(
        condition="def not like '%''retention''%'",
        new_def="replace(def, 'ARRAY[', 'ARRAY[''retention''::text, ')", valid=""))


def downgrade() -> None:
    # Retention rows stay in the append-only audit log, hence NOT VALID on the way down.
    op.execute(AUDIT_ENTITY.format(
        condition="def like '%''retention''%'",
        new_def="replace(def, '''retention''::text, ', '')", valid=" not valid"))
    op.execute("drop trigger alerts_group_counts_delete on alerts;"
               "drop function alert_groups_on_delete();")
    op.execute(_append_only("notification_attempts", "", retention=False))
    op.execute(_append_only("alert_events", "restrict_violation", retention=False))
