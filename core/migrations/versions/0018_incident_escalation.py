"""The incident (alert group) escalates as one.

- ``alert_escalations.group_id``: the group an escalation pages for; at most one per group
  (``alert_escalations_one_per_group``). The row stays keyed by an alert, the group's lead
  (the first member that could page), so the timeline, the idempotency keys and the outbox
  rows of a group of one are what they were for a lone alert.
- ``alert_escalations.stopped_at``: when it stopped; an acknowledged incident restarts only
  when a member it already had needs a human again (new members join silently).
- ``alerts_live_group``: the members of a group that may page (in 'new', not muted), for the
  "does this incident still need a human" test of every escalation job.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

UPGRADE = """
alter table alert_escalations add column group_id bigint references alert_groups (id);
alter table alert_escalations add column stopped_at timestamptz;
create unique index alert_escalations_one_per_group on alert_escalations (group_id)
    where group_id is not null;
create index alerts_live_group on alerts (group_id)
    where group_id is not null and state = 'new' and silence_id is null and inhibited_by is null;
"""

DOWNGRADE = """
drop index if exists alerts_live_group;
drop index if exists alert_escalations_one_per_group;
alter table alert_escalations drop column stopped_at;
alter table alert_escalations drop column group_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
