"""Force-send after N repeats: an alert (or incident) that keeps firing while nobody has
acknowledged it pages again once ``renotify_after`` more signals (duplicates) arrived since
its last page, to the targets of the tier it has reached, whatever the tier timers say.

The count is the alert's ``duplicate_count``, or the sum over the incident's open members;
it is taken as the baseline on the first tick after the escalation starts (and after each
forced page). Only running or spent escalations count ('active', 'done'): an acknowledged,
resolved or muted one is stopped and is never forced. Each forced page has its own
idempotency keys (``…:d<count>``) and an 'escalation' event saying why.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import WORKER
from core.escalation import incident
from core.escalation.fire import fire_step, step_context
from core.escalation.rules import Step, parse_policy
from core.lifecycle import OPEN_SQL
from core.tables import alert_events

DUE_SQL = f"""
select * from (
    select e.alert_id, e.policy_snapshot, e.started_at, e.next_tier, e.repeats_done, e.cycle,
           e.signals_at_page as seen, (e.policy_snapshot ->> 'renotify_after')::int as every,
           a.severity, a.summary, a.service, a.device_id, a.description, a.state, a.group_id,
           e.group_id as incident_id,
           case when e.group_id is null then a.duplicate_count
                else (select coalesce(sum(m.duplicate_count), 0) from alerts m
                      where m.group_id = e.group_id and m.state in {OPEN_SQL}) end as signals
    from alert_escalations e join alerts a on a.id = e.alert_id
    where e.state in ('active', 'done') and e.policy_snapshot ->> 'renotify_after' is not null
      and {incident.UNIT_LIVE}
    for update of e skip locked
) r
where r.seen is null or r.signals >= r.seen + r.every
limit 500
"""
SEEN_SQL = """
update alert_escalations e set signals_at_page = v.signals, updated_at = :now
from jsonb_to_recordset(cast(:rows as jsonb)) as v(alert_id bigint, signals bigint)
where e.alert_id = v.alert_id
"""


def renotify_duplicates(session: Session, now: datetime) -> int:
    """Worker job: page again the escalations whose alerts kept firing ``renotify_after``
    more times since their last page; returns how many were paged."""
    rows = [dict(r) for r in session.execute(sa.text(DUE_SQL)).mappings()]
    if not rows:
        return 0
    due = [r for r in rows if r["seen"] is not None]
    if due:
        _page(session, due, now)
    session.execute(sa.text(SEEN_SQL), {"now": now, "rows": json.dumps(
        [{"alert_id": r["alert_id"], "signals": int(r["signals"])} for r in rows])})
    return len(due)


def _page(session: Session, rows: list[dict[str, Any]], now: datetime) -> None:
    on_call, contacts, facts = step_context(session, rows, now)
    events = []
    for r in rows:
        policy = parse_policy(r["policy_snapshot"])
        tier = min(max(int(r["next_tier"]), 1), len(policy.tiers))
        more = int(r["signals"]) - int(r["seen"])
        step = Step(tier, int(r["repeats_done"]), now, policy.tiers[tier - 1].targets)
        meta = fire_step(session, r, policy, step, contacts, now, on_call,
                          facts.get(int(r["incident_id"] or 0)), suffix=f":d{r['signals']}",
                          why=f"; forced: {more} more signals since the last page")
        events.append({
            "alert_id": r["alert_id"], "at": now, "actor": WORKER.name, "source": WORKER.source,
            "kind": "escalation", "from_state": r["state"], "to_state": r["state"],
            "note": f"tier {tier} paged again: {more} more signals since the last page "
                    f"(renotify after {r['every']}): " + (", ".join(meta["labels"])
                                                          or "no reachable target"),
            "metadata": {"tier": tier, "repeat": r["repeats_done"], "cycle": r["cycle"],
                         "policy": policy.name, "forced": "renotify_after",
                         "signals": int(r["signals"]), "targets": meta["labels"],
                         "notification_ids": meta["notification_ids"],
                         "skipped": meta["skipped"]}})
    session.execute(alert_events.insert(), events)
