"""Group counts of new members move from the insert trigger into the ingest statement.

The statement-level insert trigger of 0003 updated every touched group once, and the
ingest path then updated the same rows again (raw signal count, last seen, aggregation
wait): two new versions of each group row per batch, with the row locks held across the
rest of the transaction. The upsert (core/ingest_sql.py) now does both in one update per
group. Ingest is the only path that inserts alerts into a group; bulk loads (demo, bench)
insert without one and group with ``grouping_store.backfill``, which sets the counts
itself. The update trigger (open count and status on state changes) stays.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OPEN = "('new','acknowledged','investigating','silenced')"


def upgrade() -> None:
    op.execute("""
        drop trigger alerts_group_counts_insert on alerts;
        drop function alert_groups_on_insert();
    """)


def downgrade() -> None:
    op.execute(f"""
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
create trigger alerts_group_counts_insert after insert on alerts
    referencing new table as new_rows for each statement execute function alert_groups_on_insert();
""")
