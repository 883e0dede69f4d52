"""Escalation policies in the database (list, create, replace) and the per-alert
escalation timeline (read side). The rules live in core/escalation/rules.py; the worker jobs
in core/escalation/jobs.py.

Editing a policy never touches escalations under way: each alert carries the copy frozen
when its escalation started (``alert_escalations.policy_snapshot``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Conflict, FieldError, Forbidden, NotFound
from core.escalation.rules import Policy, order_key, parse_policy
from core.lifecycle import ESCALATION_NEXT_AT_SQL, ESCALATION_REASON_SQL, ESCALATION_STATE_SQL
from core.notify.vault import seal_target
from core.oncall.store import missing_schedules
from core.secret import public_target
from core.tables import alert_escalations, alert_events, alerts, escalation_policies, users

COLUMNS = ("match", "tiers", "repeat", "ack_timeout_s", "severity_escalation", "threshold",
           "renotify_after", "priority", "enabled", "description")


def list_policies(session: Session) -> list[dict[str, Any]]:
    """Every policy in evaluation order (priority, then the most specific, then id:
    ``rules.order_key``), with how many alerts are escalating under it now."""
    active = (sa.select(sa.func.count()).select_from(alert_escalations)
              .where(alert_escalations.c.policy_id == escalation_policies.c.id,
                     alert_escalations.c.state == "active").scalar_subquery())
    rows = list(session.execute(sa.select(escalation_policies, active.label("active_escalations"))
                                .order_by(escalation_policies.c.id)).mappings())
    ranked = sorted(enumerate(rows), key=lambda ir: order_key(as_policy(ir[1]), ir[0]))
    return [public(r) for _, r in ranked]


def as_policy(row: Any) -> Policy:
    """A stored policy row as the rules see it."""
    return parse_policy({"name": row["name"], **{k: row[k] for k in COLUMNS}})


def get_policy(session: Session, policy_id: int) -> dict[str, Any]:
    row = session.execute(sa.select(escalation_policies).where(
        escalation_policies.c.id == policy_id)).mappings().one_or_none()
    if row is None:
        raise NotFound(f"escalation policy {policy_id} does not exist")
    return public(row)


def check_users(session: Session, policy: Policy) -> None:
    """Every user target names an active user; FieldError names the target's username."""
    wanted = {str(t["username"]) for tier in policy.tiers for t in tier.targets
              if t["type"] == "user"}
    if not wanted:
        return
    found = set(session.scalars(sa.select(users.c.username).where(
        users.c.username.in_(wanted), users.c.is_active)))
    for i, tier in enumerate(policy.tiers):
        for j, target in enumerate(tier.targets):
            if target["type"] == "user" and target["username"] not in found:
                raise FieldError(f"tiers[{i}].targets[{j}].username",
                                 f"no active user {target['username']!r}")


def check_schedules(session: Session, policy: Policy) -> None:
    """Every schedule target names an on-call schedule; FieldError names its schedule_id."""
    missing = missing_schedules(session, (int(t["schedule_id"]) for tier in policy.tiers
                                          for t in tier.targets if t["type"] == "schedule"))
    for i, tier in enumerate(policy.tiers):
        for j, target in enumerate(tier.targets):
            if target["type"] == "schedule" and target["schedule_id"] in missing:
                raise FieldError(f"tiers[{i}].targets[{j}].schedule_id",
                                 f"no on-call schedule {target['schedule_id']}")


def _values(body: object, session: Session) -> tuple[Policy, dict[str, Any]]:
    """Checked columns; secrets given in clear are sealed (never stored in clear)."""
    policy = parse_policy(body)
    check_users(session, policy)
    check_schedules(session, policy)
    stored = policy.to_json()
    for tier in stored["tiers"]:
        tier["targets"] = [t if t["type"] == "user" else seal_target(t["type"], t)
                           for t in tier["targets"]]
    return policy, {"name": policy.name, **{k: stored[k] for k in COLUMNS}}


def public(row: Any) -> dict[str, Any]:
    """A policy row fit for an API answer or a page: sealed values masked."""
    out = dict(row)
    out["tiers"] = [{**t, "targets": [public_target(x) for x in t["targets"]]}
                    for t in out["tiers"]]
    return out


def create_policy(session: Session, body: object, actor: Actor, now: datetime) -> dict[str, Any]:
    """Validate (FieldError naming the field) and store a new policy (manager+)."""
    if not actor.can("manager"):
        raise Forbidden("editing escalation policies needs the manager role")
    policy, values = _values(body, session)
    _unique_name(session, policy.name, None)
    row = session.execute(escalation_policies.insert().values(
        **values, created_by=actor.name, created_at=now, updated_by=actor.name, updated_at=now,
    ).returning(*escalation_policies.c)).mappings().one()
    audit.record(session, actor, "escalation_policy", row["id"], "create", None, public(row), now)
    return public(row)


def replace_policy(session: Session, policy_id: int, body: object, actor: Actor,
                   now: datetime) -> dict[str, Any]:
    """Replace a policy whole (manager+). Alerts already escalating keep their snapshot;
    the new version applies to escalations that start afterwards."""
    if not actor.can("manager"):
        raise Forbidden("editing escalation policies needs the manager role")
    before = get_policy(session, policy_id)
    policy, values = _values(body, session)
    _unique_name(session, policy.name, policy_id)
    row = session.execute(sa.update(escalation_policies)
                          .where(escalation_policies.c.id == policy_id)
                          .values(**values, updated_by=actor.name, updated_at=now)
                          .returning(*escalation_policies.c)).mappings().one()
    audit.record(session, actor, "escalation_policy", policy_id, "update", before, public(row), now)
    return public(row)


def _unique_name(session: Session, name: str, policy_id: int | None) -> None:
    query = sa.select(escalation_policies.c.id).where(escalation_policies.c.name == name)
    if policy_id is not None:
        query = query.where(escalation_policies.c.id != policy_id)
    if session.scalar(query) is not None:
        raise Conflict(f"an escalation policy named {name!r} already exists")


NOTIFICATIONS_SQL = """
select id, channel, recipient, status, attempts, last_error, created_at, sent_at,
       idempotency_key
from notifications where alert_id = :alert_id order by created_at, id
"""


# The row as it stands: stopped as soon as nobody needs paging (core.lifecycle), not at the
# worker's next tick.
SHOWN_SQL = f"""
select {ESCALATION_STATE_SQL} as state, {ESCALATION_REASON_SQL} as stopped_reason,
       {ESCALATION_NEXT_AT_SQL} as next_at
from alert_escalations e join alerts a on a.id = e.alert_id where e.alert_id = :alert_id
"""


def alert_timeline(session: Session, alert_id: int) -> dict[str, Any]:
    """One alert's escalation: its row (policy frozen, progress, next step), the
    escalation and severity events (which tier fired when, to whom, over what), and the
    outbox rows with their delivery status."""
    if session.scalar(sa.select(alerts.c.id).where(alerts.c.id == alert_id)) is None:
        raise NotFound(f"alert {alert_id} does not exist")
    esc = session.execute(sa.select(alert_escalations).where(
        alert_escalations.c.alert_id == alert_id)).mappings().one_or_none()
    events = session.execute(
        sa.select(alert_events.c.at, alert_events.c.actor, alert_events.c.kind,
                  alert_events.c.note, alert_events.c.metadata)
        .where(alert_events.c.alert_id == alert_id,
               alert_events.c.kind.in_(("escalation", "severity_change")))
        .order_by(alert_events.c.at, alert_events.c.id)).mappings().all()
    has_outbox = session.scalar(sa.text("select to_regclass('notifications') is not null"))
    notes = (session.execute(sa.text(NOTIFICATIONS_SQL), {"alert_id": alert_id}).mappings().all()
             if has_outbox else [])
    by_id = {n["id"]: dict(n) for n in notes}
    steps = [{**dict(e), "notifications": [by_id[i] for i in e["metadata"].get(
        "notification_ids", []) if i in by_id]} for e in events]
    row = dict(esc) if esc else None
    if row:
        row["policy_snapshot"] = public(row["policy_snapshot"])
        row.update(session.execute(sa.text(SHOWN_SQL), {"alert_id": alert_id}).mappings().one())
    return {"alert_id": alert_id, "escalation": row,
            "steps": steps, "notifications": list(by_id.values())}
