"""Routing you can see: which policy an alert would get, why the others would not, and who
each tier would reach, on which contact, at the time it would fire.

The answer is computed by the same rules the worker applies (``rules.matches``,
``rules.order_key``, ``fire.sends_for``, the on-call schedules at each tier's time), so it
names the people the worker then pages. A tier's time counts from the end of the group wait
of the alert's severity (the incident's wait), as a new alert would escalate; the preview
writes nothing and unseals nothing it shows (channel targets appear masked).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.alerts.model import AlertIn
from core.errors import FieldError, NotFound
from core.escalation.fire import contacts_for, sends_for
from core.escalation.rules import Policy, matches, order_key, specificity
from core.escalation.store import as_policy
from core.grouping.store import load_config
from core.ingest.sources.generic import FIELDS
from core.oncall.store import resolve_schedule_targets
from core.secret import public_target
from core.tables import alerts, escalation_policies


def preview(session: Session, body: object, now: datetime) -> dict[str, Any]:
    """``body``: ``{"alert_id": N}`` or an alert object (the fields of POST /alerts;
    ``summary`` may be left out). FieldError names a bad field; NotFound an unknown id."""
    alert = _alert_of(session, body)
    rows = [dict(r) for r in session.execute(sa.select(escalation_policies)
                                             .order_by(escalation_policies.c.id)).mappings()]
    policies = [(r, as_policy(r)) for r in rows]
    ranked: list[tuple[Any, dict[str, Any], Policy]] = sorted(
        ((order_key(p, i), r, p) for i, (r, p) in enumerate(policies) if matches(p, alert)),
        key=lambda t: t[0])
    chosen = ranked[0] if ranked else None
    wait = load_config(session).wait_for(alert["severity"])
    start = now + timedelta(seconds=wait)
    return {
        "alert": alert, "group_wait_s": wait, "starts_at": start,
        "policy": _brief(chosen[1], chosen[2]) if chosen else None,
        "policies": [_verdict(r, p, alert, chosen) for r, p in policies],
        "tiers": _tiers(session, chosen[2], alert["severity"], start) if chosen else [],
        "repeat": (chosen[2].to_json()["repeat"] if chosen else None)}


def _alert_of(session: Session, body: object) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise FieldError("body", "must be an alert object or {\"alert_id\": N}")
    if "alert_id" in body:
        alert_id = body["alert_id"]
        if isinstance(alert_id, bool) or not isinstance(alert_id, int) or alert_id < 1:
            raise FieldError("alert_id", "must be a positive whole number")
        row = session.execute(sa.select(alerts.c.id, alerts.c.severity, alerts.c.service,
                                        alerts.c.labels, alerts.c.summary)
                              .where(alerts.c.id == alert_id)).mappings().one_or_none()
        if row is None:
            raise NotFound(f"alert {alert_id} does not exist")
        return {**row, "labels": dict(row["labels"] or {})}
    fields = {k: body[k] for k in FIELDS if k in body}
    fields.setdefault("summary", "(routing preview)")
    fields.setdefault("severity", "")
    fields.setdefault("source", "preview")
    a = AlertIn(**fields).normalize()
    return {"id": None, "severity": a.severity, "service": a.service, "labels": a.labels,
            "summary": a.summary}


def _brief(row: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    return {"id": row["id"], "name": policy.name, "priority": policy.priority,
            "specificity": specificity(policy)}


def _verdict(row: Mapping[str, Any], policy: Policy, alert: Mapping[str, Any],
             chosen: tuple[Any, Mapping[str, Any], Policy] | None) -> dict[str, Any]:
    out = {**_brief(row, policy), "enabled": policy.enabled, "matches": False,
           "chosen": chosen is not None and chosen[1]["id"] == row["id"]}
    if not matches(policy, alert):
        out["why_not"] = _mismatch(policy, alert)
        return out
    out["matches"] = True
    if chosen is not None and not out["chosen"]:
        out["why_not"] = _outranked(policy, chosen[2])
    return out


def _mismatch(policy: Policy, alert: Mapping[str, Any]) -> str:
    m = policy.match
    if not policy.enabled:
        return "disabled"
    if m.severity and alert["severity"] not in m.severity:
        return f"severity {alert['severity']} is not {' or '.join(m.severity)}"
    if m.service is not None and alert["service"] != m.service:
        return f"service {alert['service'] or '(none)'} is not {m.service}"
    for key, value in m.labels.items():
        got = (alert.get("labels") or {}).get(key)
        if got != value:
            return f"label {key} is {got!r}, not {value!r}" if got is not None \
                else f"label {key} is missing (wants {value!r})"
    return "does not match"


def _outranked(policy: Policy, winner: Policy) -> str:
    if winner.priority != policy.priority:
        return f"matches, but '{winner.name}' comes first (priority {winner.priority} < " \
               f"{policy.priority})"
    if specificity(winner) != specificity(policy):
        return f"matches, but '{winner.name}' is more specific at the same priority"
    return f"matches, but '{winner.name}' is older at the same priority and specificity"


def _tiers(session: Session, policy: Policy, severity: str, start: datetime
           ) -> list[dict[str, Any]]:
    wanted = {str(t["username"]) for tier in policy.tiers for t in tier.targets
              if t["type"] == "user"}
    schedules = {int(t["schedule_id"]) for tier in policy.tiers for t in tier.targets
                 if t["type"] == "schedule"}
    out = []
    for i, tier in enumerate(policy.tiers):
        at = start + timedelta(seconds=tier.delay_s)
        on_call = resolve_schedule_targets(session, schedules, at) if schedules else {}
        contacts = contacts_for(session, wanted | {who for _, who in on_call.values() if who})
        sends, problems = sends_for(tier.targets, severity, contacts, on_call)
        out.append({"tier": i + 1, "delay_s": tier.delay_s, "at": at,
                    "targets": [public_target(t) for t in tier.targets],
                    "notify": [{"channel": s.channel, "label": s.label} for s in sends],
                    "problems": problems})
    return out
