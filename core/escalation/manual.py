"""Manual steps on a running escalation, by a person (operators and above):

- **escalate now**: the next tier is due at once (``expedited`` 'manual'); the worker fires
  it on its next tick, as it fires any due step, and says so in the tier's event;
- **add a responder**: a user, or whoever a schedule has on call now, is paged at once about
  the incident (or alert), on their contacts, whatever the tiers say; such a page is not
  cancelled when the incident is acknowledged meanwhile (someone asked for that person).

Both are recorded on the lead alert's timeline (an 'escalation' event naming who did it).
An incident is found by its group, an alert without a group by itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.errors import Conflict, FieldError, Forbidden, NotFound
from core.escalation import incident
from core.escalation.fire import contacts_for, incident_or_alert_payload, sends_for
from core.notify.outbox import enqueue
from core.notify.vault import recipient_for
from core.oncall.store import missing_schedules, resolve_schedule_targets
from core.tables import alert_events

ROW_SQL = """
select e.alert_id, e.group_id as incident_id, e.state, e.stopped_reason, e.cycle,
       e.policy_snapshot ->> 'name' as policy, a.severity, a.summary, a.service,
       a.device_id, a.description, a.state as alert_state, a.group_id
from alert_escalations e join alerts a on a.id = e.alert_id
where {where}
for update of e
"""


def _row(session: Session, group_id: int | None, alert_id: int | None) -> Mapping[str, Any]:
    params: dict[str, Any]
    if group_id is not None:
        where, params = "e.group_id = :g", {"g": group_id}
        what = f"incident {group_id}"
        exists = "select 1 from alert_groups where id = :g"
    else:
        where = ("e.alert_id = :a or e.group_id = (select group_id from alerts where id = :a)")
        params, what = {"a": alert_id}, f"alert {alert_id}"
        exists = "select 1 from alerts where id = :a"
    if session.scalar(sa.text(exists), params) is None:
        raise NotFound(f"{what} does not exist")
    row = session.execute(sa.text(ROW_SQL.format(where=where)), params).mappings().first()
    if row is None:
        raise Conflict(f"{what} has no escalation (its wait is not over, nothing needs a "
                       "human, or no policy matches)")
    return dict(row)


def _event(session: Session, row: Mapping[str, Any], actor: Actor, now: datetime, note: str,
           meta: dict[str, Any]) -> None:
    session.execute(alert_events.insert().values(
        alert_id=row["alert_id"], at=now, actor=actor.name, source=actor.source,
        kind="escalation", from_state=row["alert_state"], to_state=row["alert_state"],
        note=note, metadata={"manual": True, **meta}))


def escalate_now(session: Session, actor: Actor, now: datetime, *, group_id: int | None = None,
                 alert_id: int | None = None) -> dict[str, Any]:
    """Make the escalation's next tier due now; 409 unless it is running."""
    if not actor.can("operator"):
        raise Forbidden("escalating needs the operator role")
    row = _row(session, group_id, alert_id)
    if row["state"] != "active":
        why = {"done": "every tier and repeat has fired",
               "stopped": f"it stopped ({row['stopped_reason']})"}.get(row["state"], row["state"])
        raise Conflict(f"nothing to escalate: {why}")
    session.execute(sa.text(
        "update alert_escalations set next_at = :now, expedited = 'manual', updated_at = :now "
        "where alert_id = :a"), {"now": now, "a": row["alert_id"]})
    _event(session, row, actor, now, f"escalate now, by {actor.name}: the next tier is due",
           {"action": "escalate_now"})
    return {"alert_id": row["alert_id"], "group_id": row["incident_id"], "next_at": now}


def add_responder(session: Session, target: object, actor: Actor, now: datetime, *,
                  group_id: int | None = None, alert_id: int | None = None) -> dict[str, Any]:
    """Page ``target`` (``{"type": "user", "username"}`` or ``{"type": "schedule",
    "schedule_id"}``) about the incident now; returns who was paged on what."""
    if not actor.can("operator"):
        raise Forbidden("adding a responder needs the operator role")
    t = _responder(session, target)
    row = _row(session, group_id, alert_id)
    on_call = (resolve_schedule_targets(session, [t["schedule_id"]], now)
               if t["type"] == "schedule" else {})
    names = {str(t.get("username") or "")} | {w for _, w in on_call.values() if w}
    facts = incident.facts(session, [row["incident_id"]]) if row["incident_id"] else {}
    reason = f"added as a responder by {actor.name}"
    payload = {**incident_or_alert_payload(row, reason, facts.get(row["incident_id"] or 0)),
               "kind": "responder"}
    sends, problems = sends_for([t], str(payload["severity"]), contacts_for(session, names),
                                on_call)
    labels = []
    for s in sends:
        enqueue(session, channel=s.channel, target=s.target,
                recipient=recipient_for(s.channel, s.target), payload=payload,
                idempotency_key=f"resp:{row['alert_id']}:{s.key}:{now.isoformat()}", now=now,
                alert_id=int(row["alert_id"]), group_id=row["group_id"], reason=reason)
        labels.append(s.label)
    _event(session, row, actor, now, f"responder added by {actor.name}: "
           + (", ".join(labels) or "no reachable target"),
           {"action": "add_responder", "target": t, "targets": labels, "skipped": problems})
    return {"alert_id": row["alert_id"], "group_id": row["incident_id"], "paged": labels,
            "skipped": problems}


def _responder(session: Session, target: object) -> dict[str, Any]:
    if not isinstance(target, Mapping) or target.get("type") not in ("user", "schedule"):
        raise FieldError("type", "must be 'user' or 'schedule'")
    if target["type"] == "schedule":
        sid = target.get("schedule_id")
        if isinstance(sid, bool) or not isinstance(sid, int) or sid < 1 \
                or missing_schedules(session, [sid]):
            raise FieldError("schedule_id", f"no on-call schedule {sid!r}")
        return {"type": "schedule", "schedule_id": sid}
    name = target.get("username")
    if not isinstance(name, str) or not contacts_for(session, {name.strip().lower()}):
        raise FieldError("username", f"no active user {name!r}")
    return {"type": "user", "username": name.strip().lower()}
