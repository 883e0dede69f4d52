"""Audit log: one append-only row per configuration change (who, when, before → after).

Alert actions stay in alert_events; core/audit.py reads both as one stream, newest first:
a partial index on the people-facing alert actions (transition, note, assign) by time lets
that read stop after a page instead of sorting the whole event log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ENTITIES = ("sla_policy", "setting", "escalation_policy", "oncall_schedule", "oncall_override",
            "silence", "inhibition_rule", "user", "api_key")
SOURCES = ("ui", "api", "cli", "worker", "system", "webhook", "alertmanager")
ROLES = ("viewer", "operator", "manager", "admin")


def _list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.execute(f"""
        create table audit_log (
            id         bigserial primary key,
            at         timestamptz not null,
            actor      text not null check (actor <> ''),
            actor_role text check (actor_role in {_list(ROLES)}),
            source     text not null check (source in {_list(SOURCES)}),
            entity     text not null check (entity in {_list(ENTITIES)}),
            entity_id  text not null,
            action     text not null check (action ~ '^[a-z_]{{1,32}}$'),
            before     jsonb,
            after      jsonb,
            note       text
        );
        create index audit_log_at on audit_log (at desc, id desc);
        create index audit_log_entity on audit_log (entity, entity_id, at desc);
        create index audit_log_actor on audit_log (actor, at desc);
        create index alert_events_actions_at on alert_events (at desc, id desc)
            where kind in ('transition', 'note', 'assign');

        create function audit_log_append_only() returns trigger language plpgsql as $$
        begin
            raise exception 'audit_log is append-only: % is not allowed', tg_op
                using errcode = 'restrict_violation';
        end $$;
        create trigger audit_log_no_update_delete before update or delete on audit_log
            for each row execute function audit_log_append_only();
        create trigger audit_log_no_truncate before truncate on audit_log
            for each statement execute function audit_log_append_only();
    """)


def downgrade() -> None:
    op.execute("drop index alert_events_actions_at; drop table audit_log; "
               "drop function audit_log_append_only();")
