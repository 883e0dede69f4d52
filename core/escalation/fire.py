"""Firing claimed escalation steps: resolve each target to (channel, contact), queue one
outbox row per contact, write one 'escalation' event per step, advance every row in one
statement. Called by core.escalation.jobs.escalate_due on rows it has claimed.

Targets: a user is reached by their notification rules for the page's urgency, one
notification per rule due at its delay (core/people); without such rules, on the
severity's person channel (``core.notify.routing.default_channels`` narrowed to
sms/email: critical -> SMS, otherwise email); when none applies or the contact is missing,
email, else SMS, else the console (recorded). A schedule target resolves to the person on
call at the moment the tier fires (``now``; core/oncall/store.py) and is notified exactly
like a user target; the event records who it was ("schedule 'NOC primary' → olga: ...",
metadata ``on_call``); nobody on call (a gap, a disabled or deleted schedule) goes to the
console and says "nobody on call".
Channel targets go as given (sealed secrets are opened only in memory).
A target the outbox refuses (bad address) is skipped and named in the event.

Idempotency key per alert/tier/repeat/target: ``esc:<alert>:<tier>:<repeat>:<target key>``,
plus ``:c<cycle>`` after a restart, so a replayed step never queues twice and a restarted
escalation notifies again. Flapping alerts (core.alerts.flapping.damped): while damped, due steps
advance without sending, and the event says "held back".
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import severity as sev
from core.actor import WORKER
from core.alerts.flapping import damped, load_rule
from core.errors import FieldError
from core.escalation import incident
from core.escalation.rules import Policy, Step, next_due, parse_policy, plan
from core.notify.base import DeliveryError
from core.notify.format import alert_payload, incident_payload
from core.notify.outbox import enqueue
from core.notify.routing import default_channels
from core.notify.vault import SEALED_FIELDS, recipient_for, unseal
from core.oncall.store import resolve_schedule_targets
from core.people import rules as people
from core.people import store as people_store
from core.people.rules import Reachable
from core.tables import alert_events, users

PERSON_CHANNELS = ("sms", "email")
OnCallMap = Mapping[int, tuple[str, "str | None"]]  # schedule id -> (name, username or None)


@dataclass(frozen=True)
class Send:
    channel: str
    target: dict[str, Any]
    key: str      # the target part of the idempotency key
    label: str    # "email to olga@example.com", for the event
    delay_s: int = 0  # a person's notification rule: due this long after the step


def user_sends(username: str, person: Reachable | None, severity: str) -> list[Send]:
    """A user target as sends: one per notification rule of the page's urgency, due at
    the rule's delay (core/people/rules.py); without such rules, the severity's person
    channel (SMS for critical, e-mail otherwise), whichever the person has. None: no such
    active user."""
    planned = people.plan(severity, list(person.rules), person.methods) if person else []
    if planned:
        return [Send(m.type, {"type": m.type, "to": m.address, "user": username},
                     f"user:{username}:cm{cid}:{d}",
                     f"{m.type} to {m.address}" + (f" after {_minutes(d)}" if d else ""), d)
                for cid, m, d in planned]
    address = {c: person.first(c) if person else None for c in PERSON_CHANNELS}
    wanted = [c for c in default_channels(severity) if c in PERSON_CHANNELS] or ["email"]
    chosen = [c for c in wanted if address[c]] or [c for c in ("email", "sms") if address[c]][:1]
    # "user": who the page is for, so its action links and replies act as that person
    sends = [Send(c, {"type": c, "to": address[c], "user": username}, f"user:{username}:{c}",
                  f"{c} to {address[c]}") for c in chosen]
    why = "no such active user" if person is None else "no email or phone"
    return sends or [Send("console", {"type": "console"}, f"user:{username}:console",
                          f"console for {username} ({why})")]


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def on_call_at(on_call: OnCallMap, schedule_id: int) -> tuple[str, str | None]:
    """(schedule name, who is on call); a schedule gone since the policy froze: nobody."""
    return on_call.get(schedule_id, (f"#{schedule_id}", None))


def schedule_sends(schedule_id: int, name: str, username: str | None,
                   contact: Reachable | None, severity: str) -> list[Send]:
    """A schedule target: whoever is on call, as a user target; nobody: the console."""
    if username is None:
        return [Send("console", {"type": "console"}, f"schedule:{schedule_id}:console",
                     f"console for schedule '{name}' (nobody on call)")]
    return [replace(s, label=f"schedule '{name}' → {username}: {s.label}")
            for s in user_sends(username, contact, severity)]


def channel_send(target: Mapping[str, Any]) -> Send:
    """A channel target as it will be delivered: sealed secrets opened (in memory only)."""
    kind = str(target["type"])
    clear = {k: v for k, v in target.items() if not k.endswith(("_sealed", "_display"))}
    for name in SEALED_FIELDS.get(kind, ()):
        if f"{name}_sealed" in target:
            clear[name] = unseal(str(target[f"{name}_sealed"]))
    digest = hashlib.sha256(json.dumps(dict(target), sort_keys=True).encode()).hexdigest()[:12]
    shown = {"email": f"email to {clear.get('to')}", "sms": f"sms to {clear.get('to')}",
             "slack": f"slack {target.get('channel') or target.get('webhook') or 'webhook'}"}
    label = shown.get(kind) or (kind if kind in ("console", "pagerduty")
                                else f"{kind} {recipient_for(kind, clear)}")
    return Send(kind, clear, f"{kind}:{digest}", label)


def sends_for(targets: Sequence[Mapping[str, Any]], severity: str,
              contacts: Mapping[str, Reachable],
              on_call: OnCallMap | None = None) -> tuple[list[Send], list[str]]:
    """Every send of one step, and the targets that could not be resolved (why)."""
    sends: list[Send] = []
    problems: list[str] = []
    for t in targets:
        if t["type"] == "user":
            sends.extend(user_sends(str(t["username"]), contacts.get(str(t["username"])), severity))
            continue
        if t["type"] == "schedule":
            sid = int(t["schedule_id"])
            name, who = on_call_at(on_call or {}, sid)
            sends.extend(schedule_sends(sid, name, who, contacts.get(who or ""), severity))
            continue
        try:
            sends.append(channel_send(t))
        except DeliveryError as err:
            problems.append(f"{t['type']}: {err}")
    return sends, problems


def targets_of(rows: Sequence[Mapping[str, Any]], kind: str, key: str) -> set[Any]:
    return {t[key] for r in rows for tier in r["policy_snapshot"]["tiers"]
            for t in tier["targets"] if t.get("type") == kind}


def step_context(session: Session, rows: Sequence[Mapping[str, Any]], now: datetime
                 ) -> tuple[OnCallMap, dict[str, Reachable], dict[int, dict[str, Any]]]:
    """What firing these rows' steps needs, read once for all of them: who each schedule
    has on call at ``now``, how to reach every person named, and each incident's facts."""
    schedules = {int(sid) for sid in targets_of(rows, "schedule", "schedule_id")}
    on_call = resolve_schedule_targets(session, schedules, now) if schedules else {}
    names = {str(n) for n in targets_of(rows, "user", "username")}
    contacts = contacts_for(session, names | {who for _, who in on_call.values() if who})
    facts = incident.facts(session, [int(r["incident_id"]) for r in rows if r["incident_id"]])
    return on_call, contacts, facts


def contacts_for(session: Session, names: set[str]) -> dict[str, Reachable]:
    """username -> how to reach them, for the active users among ``names``."""
    if not names:
        return {}
    found = session.execute(sa.select(users.c.username, users.c.email, users.c.phone)
                            .where(users.c.username.in_(names), users.c.is_active))
    ways = people_store.reach(session, names)
    out: dict[str, Reachable] = {}
    for r in found:
        methods, rules = ways.get(r.username, ({}, []))
        out[r.username] = Reachable(r.email, r.phone, methods, tuple(rules))
    return out


def _step_note(policy: Policy, step: Step, labels: list[str], held: bool) -> str:
    rep = policy.repeat
    which = f"tier {step.tier}" + (f" (repeat {step.repeat} of {rep.times})"
                                   if step.repeat and rep else "")
    if held:
        return f"{which} held back: flapping alert, at most one notification per window"
    return f"{which} fired: " + (", ".join(labels) or "no reachable target")


def page_severity(row: Mapping[str, Any], facts: Mapping[str, Any] | None) -> str:
    """The alert's severity, or its incident's highest."""
    return sev.SEVERITIES[int(facts["top_rank"]) - 1] if facts else str(row["severity"])


def incident_or_alert_payload(row: Mapping[str, Any], reason: str,
                              facts: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the step says: about the alert, or about its incident (counts, members)."""
    lead = {**row, "id": row["alert_id"]}
    if facts is None:
        return alert_payload(lead, reason=reason)
    return incident_payload(lead, {**facts, "group_id": row["incident_id"],
                                   "severity": page_severity(row, facts)}, reason=reason)


def fire_step(session: Session, row: Mapping[str, Any], policy: Policy, step: Step,
               contacts: Mapping[str, Reachable], now: datetime,
               on_call: OnCallMap, facts: Mapping[str, Any] | None, *, suffix: str = "",
               why: str = "") -> dict[str, Any]:
    """Queue one step's notifications; returns the event metadata. ``suffix`` makes the
    idempotency keys of a forced re-notification its own; ``why`` adds to the reason."""
    sends, problems = sends_for(step.targets, page_severity(row, facts), contacts, on_call)
    who = [dict(zip(("schedule_id", "schedule", "username"), (sid, *on_call_at(on_call, sid))))
           for sid in (int(t["schedule_id"]) for t in step.targets if t["type"] == "schedule")]
    times = f" of {policy.repeat.times}" if policy.repeat and step.repeat else ""
    reason = f"escalation policy '{policy.name}', tier {step.tier}" + (
        f", repeat {step.repeat}{times}" if step.repeat else "") + why
    payload = incident_or_alert_payload(row, reason, facts)
    cycle = f":c{row['cycle']}" if row["cycle"] else ""
    ids: list[int] = []
    labels: list[str] = []
    for s in sends:
        key = f"esc:{row['alert_id']}:{step.tier}:{step.repeat}:{s.key}{cycle}{suffix}"
        try:
            new_id = enqueue(session, channel=s.channel, target=s.target,
                             recipient=recipient_for(s.channel, s.target), payload=payload,
                             idempotency_key=key, now=now, alert_id=int(row["alert_id"]),
                             group_id=row["group_id"], reason=reason,
                             due_at=now + timedelta(seconds=s.delay_s))
        except FieldError as err:
            problems.append(f"{s.label}: {err}")
            continue
        labels.append(s.label)
        if new_id is not None:
            ids.append(new_id)
    return {"labels": labels, "notification_ids": ids, "skipped": problems, "on_call": who}


def _fire_row(session: Session, row: Mapping[str, Any], now: datetime, window: timedelta,
              contacts: Mapping[str, Reachable], on_call: OnCallMap,
              facts: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One claimed escalation: its due steps (forced: the claim says the row is due), the
    events, and the row's new progress."""
    policy = parse_policy(row["policy_snapshot"])
    args = (policy, row["started_at"], row["next_tier"], row["repeats_done"], now)
    steps = plan(*args, force=True)
    tiers, reps, next_at = next_due(*args, force=True)
    held = damped(bool(row["flapping"]), row["last_fired_at"], now, window)
    events = []
    for step in steps:
        meta = {"labels": [], "notification_ids": [], "skipped": [], "on_call": []} if held \
            else fire_step(session, row, policy, step, contacts, now, on_call, facts)
        forced = step.due_at > now
        events.append({
            "alert_id": row["alert_id"], "at": now, "actor": WORKER.name, "source": WORKER.source,
            "kind": "escalation", "from_state": row["state"], "to_state": row["state"],
            "note": _step_note(policy, step, meta["labels"], held) + (
                f" (due at once: {row['expedited']})" if forced and row["expedited"] else ""),
            "metadata": {"tier": step.tier, "repeat": step.repeat, "cycle": row["cycle"],
                         "policy": policy.name, "targets": meta["labels"],
                         "notification_ids": meta["notification_ids"],
                         "skipped": meta["skipped"], "damped": held, "on_call": meta["on_call"],
                         "expedited": row["expedited"] if forced else None}})
    update = {"alert_id": row["alert_id"], "next_tier": tiers, "repeats_done": reps,
              "next_at": next_at.isoformat() if next_at else None,
              "state": "active" if next_at else "done",
              "fired_at": now.isoformat() if steps and not held else None}
    return update, events


ADVANCE_SQL = """
update alert_escalations e set next_tier = v.next_tier, repeats_done = v.repeats_done,
    next_at = v.next_at, state = v.state, last_fired_at = coalesce(v.fired_at, e.last_fired_at),
    updated_at = :now
from jsonb_to_recordset(cast(:rows as jsonb)) as v(alert_id bigint, next_tier int,
    repeats_done int, next_at timestamptz, state text, fired_at timestamptz)
where e.alert_id = v.alert_id
"""


def fire_claimed(session: Session, rows: Sequence[Mapping[str, Any]], now: datetime) -> int:
    """Fire every claimed row's due steps; one insert for the events and one update for
    the rows' progress. Returns how many rows moved."""
    window = load_rule(session).window
    on_call, contacts, facts = step_context(session, rows, now)
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for row in rows:
        update, evs = _fire_row(session, row, now, window, contacts, on_call,
                                facts.get(int(row["incident_id"] or 0)))
        updates.append(update)
        events.extend(evs)
    if events:
        session.execute(alert_events.insert(), events)
    incident.mark_notified(session, [int(r["incident_id"]) for r, u in zip(rows, updates)
                                     if r["incident_id"] and u["fired_at"]], now)
    session.execute(sa.text(ADVANCE_SQL), {"rows": json.dumps(updates), "now": now})
    return len(updates)
