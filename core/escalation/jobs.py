"""Escalation worker jobs: set-based statements over the indexed due columns of
``alert_escalations``, rows claimed with ``FOR UPDATE SKIP LOCKED`` (any number of workers).

When escalation starts: at the first worker tick that sees the alert (``start_escalations``,
not at ingest): an alert in 'new', not muted (no ``silence_id`` / ``inhibited_by``) and with
no escalation row gets one, with the first matching enabled policy (lowest priority, then
the most specific, then the oldest: core.escalation.rules.order_key) frozen in,
``started_at = created_at`` and tier 1 due at ``created_at + tiers[0].delay_s``. Alerts no
policy matches do not escalate. An alert of a group escalates with its incident instead
(core/escalation/incident.py).

Immediate triggers ("expedited", at most once per cycle, recorded on the row and in the
next escalation event): the ML flag (``alerts.metadata.auto_escalate = true``) makes tier 1
due at once when the escalation starts; an SLA breach (TTA target passed with no human
response while the alert is 'new') makes the pending step due at once. Later steps keep
their schedule.

Stop: an alert that leaves 'new' (acknowledged, investigating, resolved, closed, silenced)
or is muted has its escalation stopped (``stopped_reason``) by the claim in ``escalate_due``
and, for rows not due yet, by ``stop_finished``; its still-pending notifications are
cancelled in the outbox. An alert back in 'new' and unmuted (reopened, silence over, mark
lifted, forgotten ack) restarts from tier 1 under the same frozen policy: ``cycle + 1``
(part of every idempotency key, so the restart notifies again).

Forgotten acks (policy ``ack_timeout_s``; default off): when an ack stops the escalation,
``ack_due_at`` = last ack/investigate time + timeout; ``expire_acks`` then returns the alert
to 'new' through the lifecycle ('unacknowledge', worker actor, "ack expired after 1 h")
and restarts its escalation at once. Severity escalation (policy ``severity_escalation``):
``severity_due_at = started_at + after_s``; ``raise_severities`` raises a still-'new'
unmuted alert ``steps`` levels (core.escalation.rules.severity_after) with a
'severity_change' event saying how long it really went unacknowledged, and sets the next
raise ``after_s`` later: one raise per ``after_s`` until critical (then none is due). A
restart (a forgotten ack) starts the timer again. Its SLA targets stay frozen.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import WORKER
from core.alerts.store import ActionRequest, apply
from core.escalation import incident
from core.escalation.fire import fire_claimed
from core.notify.outbox import cancel_pending

BATCH = 500
LIVE = incident.LEAD_LIVE
AUTO = "coalesce(a.metadata ->> 'auto_escalate', '') = 'true'"
SLA_BREACHED = "a.acknowledged_at is null and a.tta_due_at <= :now"
SNAPSHOT = """jsonb_build_object('name', p.name, 'description', p.description, 'match', p.match,
    'tiers', p.tiers, 'repeat', p.repeat, 'ack_timeout_s', p.ack_timeout_s,
    'severity_escalation', p.severity_escalation, 'threshold', p.threshold,
    'renotify_after', p.renotify_after,
    'priority', p.priority, 'enabled', p.enabled)"""
# core.escalation.rules.matches, in SQL: empty severity list / null service match anything.
MATCH = """p.enabled
    and (jsonb_array_length(coalesce(p.match -> 'severity', '[]')) = 0
         or p.match -> 'severity' @> to_jsonb(a.severity))
    and (coalesce(p.match ->> 'service', '') = '' or p.match ->> 'service' = a.service)
    and a.labels @> coalesce(p.match -> 'labels', '{}')"""
# core.escalation.rules.specificity in SQL: 1 for a service, 1 per label.
SPECIFICITY = """(case when coalesce(p.match ->> 'service', '') <> '' then 1 else 0 end
    + (select count(*) from jsonb_object_keys(coalesce(p.match -> 'labels', '{}'))))"""
ORDER = f"p.priority, {SPECIFICITY} desc, p.id"
DELAY0 = "make_interval(secs => (snap -> 'tiers' -> 0 ->> 'delay_s')::int)"
SEV_AFTER = "make_interval(secs => (snap -> 'severity_escalation' ->> 'after_s')::int)"
START_GROUPS_SQL = incident.start_sql(SNAPSHOT, MATCH, ORDER, DELAY0, SEV_AFTER, AUTO)

START_SQL = f"""
with pick as (
    select a.id, a.created_at, p.id as policy_id, p.snap,
           case when {AUTO} then 'auto_escalate' end as why
    from alerts a cross join lateral (
        select p.id, {SNAPSHOT} as snap from escalation_policies p
        where {MATCH} order by {ORDER} limit 1) p
    where {LIVE} and a.group_id is null
      and not exists (select 1 from alert_escalations e where e.alert_id = a.id)
    order by a.id limit :batch
)
insert into alert_escalations (alert_id, policy_id, policy_snapshot, started_at, next_tier,
    repeats_done, next_at, state, cycle, expedited, severity_due_at, severity_raised,
    created_at, updated_at)
select id, policy_id, snap, created_at, 0, 0,
       case when why is null then created_at + {DELAY0} else least(created_at + {DELAY0}, :now) end,
       'active', 0, why, created_at + {SEV_AFTER}, false, :now, :now
from pick
on conflict (alert_id) do nothing
"""

RESTART_SQL = f"""
with cand as (
    select e.alert_id, {AUTO} as auto from alert_escalations e join alerts a on a.id = e.alert_id
    where e.state = 'stopped' and e.group_id is null and {LIVE} {{only}}
    order by e.alert_id limit :batch
    for update of e skip locked
)
update alert_escalations e set state = 'active', stopped_reason = null, stopped_at = null,
    cycle = e.cycle + 1,
    started_at = :now, next_tier = 0, repeats_done = 0,
    next_at = :now + make_interval(secs => (e.policy_snapshot -> 'tiers' -> 0 ->> 'delay_s')::int
                                           * (not cand.auto)::int),
    expedited = case when cand.auto then 'auto_escalate' end, ack_due_at = null,
    severity_due_at = :now + make_interval(  -- null without a rule; critical: a no-op raise
        secs => (e.policy_snapshot -> 'severity_escalation' ->> 'after_s')::int),
    updated_at = :now
from cand where e.alert_id = cand.alert_id
"""


def start_escalations(session: Session, now: datetime) -> int:
    """Worker job: start escalating new, unmuted alerts without a group and the groups whose
    wait is over (policy frozen in, core/escalation/incident.py), and restart stopped
    escalations that need a human again; returns how many rows changed."""
    params = {"now": now, "batch": BATCH}
    started = _count(session.execute(sa.text(START_SQL), params))
    started += _count(session.execute(sa.text(START_GROUPS_SQL), params))
    restarted = _count(session.execute(sa.text(RESTART_SQL.format(only="")), params))
    restarted += _count(session.execute(sa.text(incident.RESTART_SQL.format(only="")), params))
    return started + restarted


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)  # a CursorResult for DML


EXPEDITE_SQL = f"""
with due as (
    select e.alert_id from alert_escalations e join alerts a on a.id = e.alert_id
    where e.state = 'active' and e.next_at > :now and e.expedited is null
      and case when e.group_id is null then {LIVE} and {SLA_BREACHED}
          else exists (select 1 from alerts m where m.group_id = e.group_id
                       and {incident.MEMBER_LIVE}
                       and m.acknowledged_at is null and m.tta_due_at <= :now) end
    for update of e skip locked
)
update alert_escalations e set next_at = :now, expedited = 'sla_breach', updated_at = :now
from due where e.alert_id = due.alert_id
"""

ACKED = "('acknowledged','investigating')"
# Running rows of alerts that left 'new' or are muted; and rows stopped by a silence or a
# mark whose alert has since been acknowledged (straight from the silence: its ack timeout
# must still run) or resolved. Driven by the partial index alert_escalations_watch.
STOP_SQL = f"""
with gone as (
    select e.alert_id, case when a.state = 'new' then 'muted' else a.state end as reason,
           a.state in {ACKED} as acked
    from alert_escalations e join alerts a on a.id = e.alert_id
    where (e.state <> 'stopped' or e.stopped_reason in ('silenced','muted')) {{only}}
      and e.group_id is null
      and ((e.state <> 'stopped' and not ({LIVE}))
           or (e.state = 'stopped' and a.state not in ('new', 'silenced')))
    for update of e skip locked
)
update alert_escalations e set state = 'stopped', next_at = null, stopped_reason = gone.reason,
    stopped_at = :now, severity_due_at = null, updated_at = :now,
    ack_due_at = case when gone.acked then coalesce(
        (select max(v.at) from alert_events v where v.alert_id = e.alert_id
           and v.kind = 'transition' and v.to_state in {ACKED}), :now)
        + make_interval(secs => (e.policy_snapshot ->> 'ack_timeout_s')::int) end
from gone where e.alert_id = gone.alert_id
returning e.alert_id, gone.reason
"""


def stop_escalations(session: Session, now: datetime, due_only: bool = False) -> int:
    """Stop the escalations of alerts acknowledged, resolved, silenced or muted, and
    cancel their pending notifications; ``due_only``: just the rows due now (the claim)."""
    only = "and e.state = 'active' and e.next_at <= :now" if due_only else ""
    rows = list(session.execute(sa.text(STOP_SQL.format(only=only)), {"now": now}).all())
    rows += session.execute(sa.text(incident.STOP_SQL.format(only=only)), {"now": now}).all()
    if rows:
        pending = set(session.scalars(sa.text(
            "select distinct alert_id from notifications where alert_id = any(:ids) "
            "and status = 'pending'"), {"ids": [r.alert_id for r in rows]}))
        for r in rows:
            if r.alert_id in pending:
                cancel_pending(session, r.alert_id, now, f"escalation stopped: {r.reason}")
    return len(rows)


def stop_finished(session: Session, now: datetime) -> int:
    """Worker job: :func:`stop_escalations` over every row, due or not."""
    return stop_escalations(session, now)


CLAIM_SQL = f"""
select e.alert_id, e.policy_snapshot, e.started_at, e.next_tier, e.repeats_done, e.cycle,
       e.expedited, e.last_fired_at, a.severity, a.summary, a.service, a.device_id,
       a.description, a.state, a.flapping, a.group_id, e.group_id as incident_id
from alert_escalations e join alerts a on a.id = e.alert_id
where e.state = 'active' and e.next_at <= :now and {incident.UNIT_LIVE}
order by e.next_at, e.alert_id limit :batch
for update of e skip locked
"""


def escalate_due(session: Session, now: datetime) -> int:
    """Worker job: stop the due rows whose alert left 'new', claim the rest (one
    statement, SKIP LOCKED), fire their steps through the outbox with one 'escalation'
    event each, and advance them; returns how many escalations moved."""
    stop_escalations(session, now, due_only=True)
    claimed = session.execute(sa.text(CLAIM_SQL), {"now": now, "batch": BATCH}).mappings().all()
    return fire_claimed(session, [dict(r) for r in claimed], now) if claimed else 0


def expedite_breaches(session: Session, now: datetime) -> int:
    """Worker job: an SLA-breached, unacknowledged alert's pending step is due now (once)."""
    return _count(session.execute(sa.text(EXPEDITE_SQL), {"now": now}))


ACK_DUE_SQL = """
select e.alert_id, e.group_id, (e.policy_snapshot ->> 'ack_timeout_s')::int as timeout_s
from alert_escalations e
where e.ack_due_at <= :now
order by e.ack_due_at limit :batch
for update of e skip locked
"""
# The acknowledged alerts behind due rows: the row's alert, or every acknowledged member of
# the row's incident.
ACKED_SQL = f"""
select a.id, a.group_id from alerts a
where a.state in {ACKED} and (a.id = any(:alerts) or a.group_id = any(:groups))
order by a.id
for update
"""


def expire_acks(session: Session, now: datetime) -> int:
    """Worker job: forgotten acks go back to 'new' (lifecycle 'unacknowledge', worker
    actor, an event saying so), every acknowledged member of an incident at once, and
    their escalation restarts from tier 1 at once. Returns how many alerts went back."""
    rows = session.execute(sa.text(ACK_DUE_SQL), {"now": now, "batch": BATCH}).all()
    if not rows:
        return 0
    timeout = {("a", r.alert_id) if r.group_id is None else ("g", r.group_id): r.timeout_s
               for r in rows}
    members = session.execute(sa.text(ACKED_SQL), {
        "alerts": [r.alert_id for r in rows if r.group_id is None],
        "groups": [r.group_id for r in rows if r.group_id is not None]}).all()
    for m in members:
        secs = timeout.get(("a", m.id)) or timeout.get(("g", m.group_id)) or 0
        apply(session, m.id, ActionRequest(
            "unacknowledge", note=f"ack expired after {_duration(secs)}",
            metadata={"reason": "ack_expired", "ack_timeout_s": secs}), WORKER, now)
    ids = [r.alert_id for r in rows]
    session.execute(sa.text("update alert_escalations set ack_due_at = null "
                            "where alert_id = any(:ids)"), {"ids": ids})
    params = {"now": now, "batch": BATCH, "ids": ids}
    only = "and e.alert_id = any(:ids)"
    session.execute(sa.text(RESTART_SQL.format(only=only)), params)
    session.execute(sa.text(incident.RESTART_SQL.format(only=only)), params)
    return len(members)


def _duration(seconds: int) -> str:
    """1 h, 90 min, 45 s: the shortest exact unit."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


# The real time unacknowledged, as people say it: 45 s, 30 min, 2.5 h.
DURATION = """case when unacked_s < 120 then unacked_s || ' s'
    when unacked_s < 7200 then round(unacked_s / 60.0) || ' min'
    else trim_scale(round(unacked_s / 3600.0, 1)) || ' h' end"""
SEVERITY_SQL = f"""
with due as (
    select e.alert_id, a.severity as old, a.state,
           (array['critical','high','medium','low','info'])[greatest(1, a.severity_rank
               - coalesce((e.policy_snapshot -> 'severity_escalation' ->> 'steps')::int, 1))] as new,
           (e.policy_snapshot -> 'severity_escalation' ->> 'after_s')::int as after_s,
           greatest(0, round(extract(epoch from :now - case when e.cycle = 0
               then least(a.created_at, e.started_at) else e.started_at end)))::bigint
               as unacked_s  -- since it opened (an incident: its lead), or the restart
    from alert_escalations e join alerts a on a.id = e.alert_id
    where e.severity_due_at <= :now and {LIVE}
    order by e.severity_due_at limit :batch
    for update of e, a skip locked
), mark as (  -- the next raise after_s later, until critical (one raise per after_s)
    update alert_escalations e set severity_raised = true, updated_at = :now,
        severity_due_at = case when due.new <> 'critical'
            then e.severity_due_at + make_interval(secs => due.after_s) end
    from due where e.alert_id = due.alert_id
), upd as (
    update alerts a set severity = due.new, updated_at = greatest(a.updated_at, :now)
    from due where a.id = due.alert_id and due.new <> due.old
    returning a.id, a.state, a.group_id, a.severity_rank, due.old, due.new, due.after_s,
              due.unacked_s
), grp as (  -- the group's highest severity follows (its triggers count inserts/states only)
    update alert_groups g set max_severity_rank = least(g.max_severity_rank, r.rank)
    from (select group_id, min(array_position(array['critical','high','medium','low','info'],
                                              new))::smallint as rank
          from upd where group_id is not null group by group_id) r
    where g.id = r.group_id and r.rank < g.max_severity_rank
)
insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
select id, :now, :actor, :source, 'severity_change', state, state,
       'severity raised from ' || old || ' to ' || new || ' after ' || {DURATION}
           || ' unacknowledged',
       jsonb_build_object('from', old, 'to', new, 'rule', 'severity_escalation',
                          'after_s', after_s, 'unacknowledged_s', unacked_s)
from upd
"""


def raise_severities(session: Session, now: datetime) -> int:
    """Worker job: alerts still unacknowledged ``after_s`` into their escalation are raised
    ``steps`` levels, and again every ``after_s`` after that until critical, each raise with
    a 'severity_change' event naming the real time unacknowledged."""
    return _count(session.execute(sa.text(SEVERITY_SQL), {
        "now": now, "batch": BATCH, "actor": WORKER.name, "source": WORKER.source}))
