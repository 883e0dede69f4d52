"""Default escalation policies that do what the README says, and one for low/info alerts.

- 'critical' opens a PagerDuty incident and tells Slack at once (it waited 5 min for
  PagerDuty), then widens to Slack again at 5 min and the console at 15 min; people get SMS
  when a tier names them (a user or schedule target: core.notify.routing).
- 'low and info' is new: Slack once. Before, low and info alerts matched no policy and
  never notified.

Only seeded rows nobody has edited change (``updated_by is null`` and the tiers as seeded);
an edited default is the owner's and stays as it is. A policy already named 'low and info'
is left alone.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

CONSOLE = '{"type": "console"}'
SLACK = '{"type": "slack", "webhook": "noc"}'
PAGERDUTY = '{"type": "pagerduty", "routing_key_ref": "noc"}'


def _tiers(*tiers: tuple[int, str]) -> str:
    return "[" + ", ".join(f'{{"delay_s": {d}, "targets": [{t}]}}' for d, t in tiers) + "]"


OLD_CRITICAL = _tiers((0, CONSOLE + ", " + SLACK), (300, CONSOLE + ", " + PAGERDUTY), (900, CONSOLE))
NEW_CRITICAL = _tiers((0, ", ".join((CONSOLE, SLACK, PAGERDUTY))), (300, CONSOLE + ", " + SLACK),
                      (900, CONSOLE))


def _swap(old: str, new: str, description: str) -> str:
    return f"""
update escalation_policies set tiers = '{new}'::jsonb, description = '{description}'
where name = 'critical' and created_by = 'system' and updated_by is null
  and tiers = '{old}'::jsonb;
"""


UPGRADE = _swap(OLD_CRITICAL, NEW_CRITICAL, "Slack and PagerDuty at once, widen at 5 and 15 "
                "min, repeat every 15 min (3 times)") + f"""
insert into escalation_policies (name, description, match, tiers, repeat, priority,
                                 created_by, created_at, updated_at)
select 'low and info', 'Team channel once',
       '{{"severity": ["low", "info"], "service": null, "labels": {{}}}}',
       '{_tiers((0, SLACK))}', null, 400, 'system', now(), now()
where not exists (select 1 from escalation_policies where name = 'low and info');
"""

DOWNGRADE = """
delete from escalation_policies p where p.name = 'low and info' and p.created_by = 'system'
  and p.updated_by is null
  and not exists (select 1 from alert_escalations e where e.policy_id = p.id);
""" + _swap(NEW_CRITICAL, OLD_CRITICAL, "Page at once, widen at 5 and 15 min, repeat every "
            "15 min (3 times)")


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
