"""The incident (an alert group) as the unit of paging: the statements that start, stop
and restart a group's one escalation, and the facts its messages carry.

Rules (Grafana OnCall's and PagerDuty's, adapted to alerts that keep their own states):

- A group escalates once. Its escalation starts when the group's wait is over
  (``alert_groups.notify_at``: the per-severity wait of the grouping setting, so a burst
  arrives before anyone is paged) and a member still needs a human (in 'new', not
  muted). A policy with a ``threshold`` waits further, until N alerts of the incident
  arrived within M seconds (Grafana OnCall's threshold step); its tier timers then count
  from that moment. Alerts without a group are not held by a threshold. The policy is
  matched against the group's lead, its most severe such member (lowest id on ties), and
  frozen; the row is keyed by the lead (``alert_id``) and names
  the group (``group_id``, unique). Tier timers count from the end of the wait (or from
  the lead's arrival, when it joined a group whose wait ended long ago).
- Later members join the running escalation: no tier 1 of their own; every later step's
  message counts them ("3 alerts, 2 new since the last page").
- The incident needs a human while any member is in 'new' and not muted. When none is
  (every member acknowledged, resolved or silenced, or muted), the escalation stops and its
  queued pages are cancelled; ``stopped_reason`` says why: 'acknowledged' (a member is
  acknowledged or investigated), 'silenced', 'muted', else 'resolved'.
- An acknowledged incident stays acknowledged when new alerts join it: it restarts (tier 1,
  ``cycle + 1``) only when a member it already had at the stop needs a human again
  (reopened, ack expired, silence over). An incident stopped because everything was
  resolved, silenced or muted restarts when any member needs a human, a new one included:
  the problem is back.
- Alerts without a group (and escalations started before migration 0018) escalate alone,
  as core/escalation/jobs.py describes.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.lifecycle import OPEN_SQL, needs_human_sql


def live(alias: str) -> str:
    """SQL: the alert ``alias`` needs a human (in 'new', not muted): it may page."""
    return needs_human_sql(alias)


MEMBER_LIVE, LEAD_LIVE = live("m"), live("a")
# The group of escalation ``e`` has a member that may page (the partial index alerts_live_group).
GROUP_LIVE = f"exists (select 1 from alerts m where m.group_id = e.group_id and {MEMBER_LIVE})"
# Escalation ``e`` (its alert joined as ``a``) still needs a human: its alert, or its group.
UNIT_LIVE = f"case when e.group_id is null then {LEAD_LIVE} else {GROUP_LIVE} end"
ACKED = "('acknowledged','investigating')"
# The policy's threshold (core.escalation.rules.threshold_met): at least THRESHOLD alerts of
# the incident created within THRESHOLD_S seconds; SQL null when the policy has none.
THRESHOLD = "(p.snap -> 'threshold' ->> 'alerts')::int"
THRESHOLD_S = "(p.snap -> 'threshold' ->> 'within_s')::int"


def start_sql(snapshot: str, match: str, order: str, delay0: str, sev_after: str,
              auto: str) -> str:
    """The statement that starts the escalations of groups whose wait is over (the policy
    fragments are core/escalation/jobs.py's, shared with the single-alert start)."""
    return f"""
with cand as materialized (  -- active groups whose wait is over and that never escalated
    select g.id, g.notify_at from alert_groups g
    where g.status = 'active' and g.notify_at <= :now
      and not exists (select 1 from alert_escalations e where e.group_id = g.id)
), lead as (   -- (materialized: the lead is looked for only in those)
    select a.id, a.group_id, a.severity, a.service, a.labels, a.metadata,
           greatest(g.notify_at, a.created_at) as started_at
    from cand g cross join lateral (
        select a.* from alerts a where a.group_id = g.id and {LEAD_LIVE}
        order by a.severity_rank, a.id limit 1) a
    where not exists (select 1 from alert_escalations e where e.alert_id = a.id)
), pick as (
    select a.id, a.group_id, a.started_at, p.id as policy_id, p.snap,
           case when {auto} then 'auto_escalate' end as why
    from lead a cross join lateral (
        select p.id, {snapshot} as snap from escalation_policies p
        where {match} order by {order} limit 1) p
    order by a.group_id limit :batch
)
insert into alert_escalations (alert_id, group_id, policy_id, policy_snapshot, started_at,
    next_tier, repeats_done, next_at, state, cycle, expedited, severity_due_at,
    severity_raised, created_at, updated_at)
select id, group_id, policy_id, snap, started_at, 0, 0,
       case when why is null then started_at + {delay0}
            else least(started_at + {delay0}, :now) end,
       'active', 0, why, started_at + {sev_after}, false, :now, :now
from (select p.id, p.group_id, p.policy_id, p.snap, p.why,
             case when {THRESHOLD} is null then p.started_at else :now end as started_at
      from pick p
      where {THRESHOLD} is null or (
          select count(*) from alerts m where m.group_id = p.group_id
             and m.created_at > :now - make_interval(secs => {THRESHOLD_S})
             and m.created_at <= :now) >= {THRESHOLD}) pick
on conflict do nothing
"""


# Driven by the active groups (alert_groups_active), never by the stopped history (many).
RESTART_SQL = f"""
with cand as (
    select e.alert_id from alert_groups g join alert_escalations e on e.group_id = g.id
    where g.status = 'active' and e.state = 'stopped' {{only}}
      and exists (select 1 from alerts m where m.group_id = g.id and {MEMBER_LIVE}
                  and (e.stopped_reason not in {ACKED} or m.created_at <= e.stopped_at))
    order by e.alert_id limit :batch
    for update of e skip locked
)
update alert_escalations e set state = 'active', stopped_reason = null, stopped_at = null,
    cycle = e.cycle + 1, started_at = :now, next_tier = 0, repeats_done = 0,
    next_at = :now + make_interval(secs => (e.policy_snapshot -> 'tiers' -> 0 ->> 'delay_s')::int),
    expedited = null, ack_due_at = null,
    severity_due_at = :now + make_interval(  -- null without a rule; critical: a no-op raise
        secs => (e.policy_snapshot -> 'severity_escalation' ->> 'after_s')::int),
    updated_at = :now
from cand where e.alert_id = cand.alert_id
"""

# Running group escalations whose incident no longer needs a human, and group escalations
# stopped by a silence or a mark whose members have since been acknowledged or resolved
# (the reason changes; an acknowledgement starts the forgotten-ack clock).
STOP_SQL = f"""
with cand as materialized (   -- watched group escalations whose incident needs nobody now
    select e.alert_id from alert_escalations e
    where e.group_id is not null and not {GROUP_LIVE} {{only}}
      and (e.state <> 'stopped' or e.stopped_reason in ('silenced','muted'))
), gone as (
    select e.alert_id, s.reason
    from cand join alert_escalations e on e.alert_id = cand.alert_id cross join lateral (
        select case when bool_or(m.state in {ACKED}) then 'acknowledged'
                    when bool_or(m.state = 'silenced') then 'silenced'
                    when bool_or(m.state = 'new') then 'muted'
                    else 'resolved' end as reason
        from alerts m where m.group_id = e.group_id and m.state in {OPEN_SQL}) s
    where (e.state <> 'stopped' or s.reason in ('acknowledged','resolved'))
    for update of e skip locked
)
update alert_escalations e set state = 'stopped', next_at = null, stopped_reason = gone.reason,
    stopped_at = :now, severity_due_at = null, updated_at = :now,
    ack_due_at = case when gone.reason = 'acknowledged' then coalesce(
        (select max(v.at) from alerts m join alert_events v on v.alert_id = m.id
         where m.group_id = e.group_id and m.state in {ACKED}
           and v.kind = 'transition' and v.to_state in {ACKED}), :now)
        + make_interval(secs => (e.policy_snapshot ->> 'ack_timeout_s')::int) end
from gone where e.alert_id = gone.alert_id
returning e.alert_id, gone.reason
"""

FACTS_SQL = sa.text(f"""
select m.group_id, count(*) as open_alerts,
       count(*) filter (where {MEMBER_LIVE}) as unacknowledged,
       count(*) filter (where m.created_at > e.last_fired_at) as new_since,  -- 0 on a first page
       min(m.severity_rank) as top_rank
from alerts m join alert_escalations e on e.group_id = m.group_id
where m.group_id = any(cast(:ids as bigint[])) and m.state in {OPEN_SQL}
group by m.group_id
""")

SAMPLES_SQL = sa.text(f"""
select g.id as group_id, s.id, s.severity, s.summary, s.device_id
from unnest(cast(:ids as bigint[])) as g(id) cross join lateral (
    select m.id, m.severity, m.summary, m.device_id from alerts m
    where m.group_id = g.id and {MEMBER_LIVE}
    order by m.severity_rank, m.id limit :n) s
""")


def facts(session: Session, group_ids: Sequence[int], samples: int = 5
          ) -> dict[int, dict[str, Any]]:
    """Per group: open alerts, how many still need a human, how many arrived since the
    last page, the highest severity rank, and the first few members that need a human."""
    if not group_ids:
        return {}
    ids = sorted(set(group_ids))
    out: dict[int, dict[str, Any]] = {int(r.group_id): {"open_alerts": int(r.open_alerts),
                             "unacknowledged": int(r.unacknowledged),
                             "new_since": int(r.new_since), "top_rank": int(r.top_rank),
                             "members": []}
           for r in session.execute(FACTS_SQL, {"ids": ids})}
    for r in session.execute(SAMPLES_SQL, {"ids": ids, "n": samples}):
        if int(r.group_id) in out:
            members: list[dict[str, Any]] = out[int(r.group_id)]["members"]
            members.append(
                {"id": int(r.id), "severity": r.severity, "summary": r.summary,
                 "device_id": r.device_id})
    return out


def mark_notified(session: Session, group_ids: Sequence[int], now: datetime) -> None:
    """The group's first page went out (``alert_groups.notified_at``)."""
    if group_ids:
        session.execute(sa.text(
            "update alert_groups set notified_at = :now where id = any(cast(:ids as bigint[])) "
            "and notified_at is null"), {"ids": sorted(set(group_ids)), "now": now})
