"""Demo data: ``ALERTDESK_DEMO=1`` (or ``python -m dashboard seed-demo``) loads a living NOC.

Fleet: 30 services of ten teams, 119 devices ``<role>-<site>-<nn>`` (fra, ams, lon, iad,
sin). Thirty days of history: background alerts with a daily rhythm (busiest in weekday
business hours), five incidents where one root cause fires a storm of related alerts within
minutes, flapping interfaces that resolve and re-fire. People respond mostly inside the SLA,
later at night and for low severities; most fixes are closed, a few reopened. Now 27 alerts
are open in every open state, inside, near (< 20 % left) and past their SLA, made through
the real intake and lifecycle code. Demo users (operators ``noc-*`` in six time zones,
manager ``mgr-sofia``, viewer ``viewer-dan``; no admin, the launcher bootstraps that) share
ALERTDESK_DEMO_PASSWORD, else ``demo-desk-pass-1``: they are for demos only, never production.
Reproducible relative to ``now``; one transaction under an advisory lock; only into a
database without alerts (a second call returns {"skipped": 1} and writes nothing).
"""
from __future__ import annotations

import os
import random
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import auth, lifecycle, teams
from core import db as core_db
from core.actor import SYSTEM, Actor
from core.alerts import recurrence
from core.alerts.model import AlertIn
from core.alerts.store import ActionRequest, add_note, apply
from core.clock import ensure_utc
from core.demo.fleet import (
    CATALOG,
    CUM_WEIGHTS,
    EVENT_COLS,
    FLEET,
    INCIDENTS,
    NOTES,
    OPEN_QUEUE,
    OPEN_STEPS,
    PORTS,
    RESPONSE,
    SERVICES,
    SHIFTS,
    SYMPTOMS,
    TYPES,
    USERS,
    Event,
    Service,
    oncall_schedules,
)
from core.errors import FieldError
from core.grouping import store as grouping_store
from core.ingest.batch import ingest
from core.oncall import store as oncall_store
from core.sla import rules as sla
from core.sla.store import load_targets
from core.tables import alert_events, alert_groups, alerts, users

DEFAULT_PASSWORD, SEED, DAYS = "demo-desk-pass-1", 20261123, 30
LOCK_KEY = 0x616C657274646D6F  # "alertdmo": one seeder at a time, cluster-wide
class Act(NamedTuple):
    t: datetime
    action: str  # a lifecycle action, or "note"
    who: str
    src: str = "ui"
    note: str | None = None


class Fire(NamedTuple):
    at: datetime
    svc: Service
    device: str
    atype: tuple[str, ...]  # alertname, severity, text
    severity: str
    meta: dict[str, Any] | None = None
    acts: tuple[Act, ...] = ()  # scripted (incidents, flaps); else people respond as usual


def seed_demo(engine: sa.Engine, now: datetime) -> dict[str, int]:
    """Seed the demo into a database without alerts; {"skipped": 1} when it has some."""
    now, rng = ensure_utc(now, "now"), random.Random(SEED)
    with core_db.transaction(engine) as s:
        s.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
        if s.scalar(sa.select(sa.func.count()).select_from(alerts)):
            return {"skipped": 1}
        made, policies = _users(s), load_targets(s)
        fires = _background(rng, now) + _incidents(rng, now) + _flaps(rng, now)
        built = [_materialize(f, tgt, _fit(_respond(rng, f, tgt), f.at, now - _s(120)))
                 for f in fires for tgt in [sla.pick_targets(policies, f.severity, f.svc[0])]]
        built.sort(key=lambda b: b[0]["created_at"])  # ids in time order, as live ingest
        ids = s.scalars(alerts.insert().returning(alerts.c.id, sort_by_parameter_order=True),
                        [row for row, _ in built]).all()
        s.execute(alert_events.insert(), [dict(zip(EVENT_COLS, e), alert_id=i)
                                          for i, (_, evs) in zip(ids, built) for e in evs])
        grouping_store.backfill(s)  # history grouped as live ingest would have grouped it
        teams.put(s, {svc[0]: svc[2] for svc in SERVICES}, SYSTEM, now)  # owners
        for body in oncall_schedules((now - _s(DAYS * 86400)).date().isoformat()):
            oncall_store.create_schedule(s, body, SYSTEM, now)
        opened = _open_queue(s, rng, policies, now)
        # every alert linked to its identity's previous occurrence in time: the open queue is
        # ingested after the history but dated inside it, so ingest's "latest" is not always so
        recurrence.link_history(s)
        n_events = s.scalar(sa.select(sa.func.count()).select_from(alert_events)) or 0
        n_groups = s.scalar(sa.select(sa.func.count()).select_from(alert_groups)) or 0
    return {"users": made, "services": len(SERVICES), "devices": len(FLEET),
            "alerts": len(built) + opened, "open": opened, "events": n_events,
            "groups": n_groups}


def _users(s: Session) -> int:
    """The demo users that do not exist yet, with the shared demo password."""
    password = os.environ.get("ALERTDESK_DEMO_PASSWORD") or DEFAULT_PASSWORD
    try:
        auth.check_new_password(password)
    except FieldError as err:
        raise FieldError("ALERTDESK_DEMO_PASSWORD", err.message) from None
    have = set(s.scalars(sa.select(users.c.username)))
    new = [u.split(" ", 3) for u in USERS if u.split()[0] not in have]
    for name, role, tz, display in new:
        auth.create_user(s, name, None, role, display_name=display,
                         email=f"{name}@example.net", timezone=tz)
    if new:  # one bcrypt hash for all: the seed stays fast
        s.execute(sa.update(users).where(users.c.username.in_([u[0] for u in new]))
                  .values(password_hash=auth.hash_password(password)))
    return len(new)


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _on_shift(rng: random.Random, t: datetime) -> tuple[str, str]:
    """An operator whose shift covers ``t`` (follow the sun), in the UI or via the API."""
    return rng.choice(SHIFTS[t.hour // 8]), "api" if rng.random() < 0.15 else "ui"


def source_of(svc: Service) -> str:
    return "librenms" if svc[1] == "net" else "alertmanager"


def _background(rng: random.Random, now: datetime) -> list[Fire]:
    """Alerts that just happen (about Poisson per hour): busiest in weekday business hours."""
    fires: list[Fire] = []
    start = (now - timedelta(days=DAYS)).replace(minute=0, second=0, microsecond=0)
    for h in range(DAYS * 24 - 1):
        t = start + timedelta(hours=h)
        lam = 10.0 if t.weekday() < 5 and 8 <= t.hour < 18 else 4.0 if 6 <= t.hour < 22 else 3.0
        n = max(0, round(rng.gauss(lam, lam ** 0.5)))  # ~ Poisson(lam)
        for svc, device, atype in rng.choices(CATALOG, cum_weights=CUM_WEIGHTS, k=n):
            fires.append(Fire(t + _s(rng.uniform(0, 3600)), svc, device, atype, atype[1]))
    return fires


def _incidents(rng: random.Random, now: datetime) -> list[Fire]:
    """One root cause pages, its neighbours complain within minutes; one fix clears them all.
    The owner works the root-cause alerts; colleagues acknowledge some of the symptoms."""
    fires: list[Fire] = []
    for k, (days, root, alertname, hit, minutes, note) in enumerate(INCIDENTS):
        t0 = now - timedelta(days=days)
        fix, meta = t0 + timedelta(minutes=minutes), {"incident": f"INC-{2300 + k}"}
        crew = SHIFTS[t0.hour // 8]
        owner = rng.choice(crew)
        for svc, device in (d for d in FLEET if d[0][0] == root):
            at = t0 + _s(rng.uniform(0, 120))
            ack = at + _s(rng.uniform(60, 420))  # acts before ``fix``: it is >= 35 min away
            acts = (Act(ack, "acknowledge", owner),
                    Act(ack + _s(rng.uniform(60, 300)), "investigate", owner),
                    Act(fix - _s(60), "note", owner, "ui", note),
                    Act(fix + _s(rng.uniform(30, 300)), "resolve", owner))
            fires.append(Fire(at, svc, device, TYPES[svc[1], alertname], "critical", meta, acts))
        for svc, device in (d for d in FLEET if d[0][0] in hit):
            for name in (n for n in SYMPTOMS[svc[1]] if rng.random() < 0.85):
                at = t0 + _s(rng.uniform(60, 720))
                taken = Act(at + _s(rng.uniform(120, 1200)), "acknowledge", rng.choice(crew))
                fixed = Act(fix + _s(rng.uniform(60, 600)), "resolve", "key:" + source_of(svc), "api")
                script = (taken, fixed) if rng.random() < 0.6 else (fixed,)
                fires.append(Fire(at, svc, device, TYPES[svc[1], name], "high", meta, script))
    return fires


def _flaps(rng: random.Random, now: datetime) -> list[Fire]:
    """Flapping interfaces: down, back up a minute or two later, down again, for hours."""
    fires: list[Fire] = []
    for k in range(6):
        svc, device = rng.choice([d for d in FLEET if d[0][1] == "net"])
        t = now - timedelta(days=rng.uniform(1, DAYS - 1))
        for _ in range(rng.randint(8, 30)):
            up = Act(t + _s(rng.uniform(60, 200)), "resolve", "key:" + source_of(svc), "api")
            fires.append(Fire(t, svc, device, TYPES["net", "InterfaceDown"], "high",
                              {"flapping": True, "interface": f"xe-0/0/{k}"}, (up,)))
            t += _s(rng.uniform(240, 1500))
    return fires


def _respond(rng: random.Random, f: Fire, tgt: sla.Targets) -> list[Act]:
    """People at work: mostly inside the SLA, later at night; most fixes closed, a few reopened."""
    auto, late, late_fix = RESPONSE[f.severity]
    acts, who, src = list(f.acts), *_on_shift(rng, f.at)
    if not acts and rng.random() < auto:  # the source resolved it before anyone acted
        t = f.at + _s(tgt.tta_s * rng.uniform(0.03, 0.7))
        acts = [Act(t, "resolve", "key:" + source_of(f.svc), "api")]
    elif not acts:
        slow = rng.random() < late + (0.15 if f.at.hour < 6 or f.at.hour >= 22 else 0.0)
        t = f.at + _s(max(20.0, tgt.tta_s * (rng.uniform(1.05, 2.5) if slow
                                             else rng.betavariate(1.5, 4))))
        first = rng.choices(("acknowledge", "investigate", "resolve"), (70, 15, 15))[0]
        acts = [Act(t, first, who, src)]
        if first == "acknowledge" and rng.random() < 0.35:
            acts.append(Act(t + _s(rng.uniform(60, 1800)), "investigate", who, src))
        if rng.random() < 0.1:
            acts.append(Act(acts[-1].t + _s(rng.uniform(60, 900)), "note", who, src,
                            rng.choice(NOTES)))
        if first != "resolve":
            share = rng.uniform(1.05, 2.0) if rng.random() < late_fix else rng.betavariate(2, 3)
            end = max(f.at + _s(tgt.ttr_s * share), acts[-1].t + _s(rng.uniform(60, 600)))
            by = ("key:" + source_of(f.svc), "api") if rng.random() < 0.3 else (who, src)
            acts.append(Act(end, "resolve", *by))
        if rng.random() < 0.03:  # it came back: reopened, taken again, fixed for good
            t = acts[-1].t + _s(rng.uniform(1200, 10800))
            acts += [Act(t, "reopen", who, src, "Recurred after the fix."),
                     Act(t + _s(rng.uniform(120, 1200)), "acknowledge", who, src),
                     Act(t + _s(rng.uniform(1800, 7200)), "resolve", who, src, "Fixed for good.")]
    if rng.random() < 0.85:  # closed later by whoever is on shift, now and then the manager
        t = acts[-1].t + _s(rng.uniform(600, 14 * 3600))
        acts.append(Act(t, "close", *(("mgr-sofia", "ui") if rng.random() < 0.1
                                      else _on_shift(rng, t))))
    return acts


def _fit(acts: list[Act], start: datetime, limit: datetime) -> list[Act]:
    """History ends at ``limit``: a close not yet due is dropped, a longer story squeezed."""
    if acts[-1].action == "close" and acts[-1].t > limit:
        acts = acts[:-1]
    if acts[-1].t > limit:
        k = (limit - start) / (acts[-1].t - start)
        acts = [a._replace(t=start + (a.t - start) * k) for a in acts]
    return acts


def alert_in(f: Fire) -> AlertIn:
    """The alert as its source would post it: Prometheus-style labels and annotations."""
    (name, kind, team, _, _), (alertname, _, text) = f.svc, f.atype
    site, desc = f.device.split("-")[-2], f"{alertname} on {f.device} ({name}): {text}."
    return AlertIn(
        summary=f"{alertname}: {text} on {f.device}", severity=f.severity, source=source_of(f.svc),
        service=name, device_id=f.device, description=desc, metadata=dict(f.meta or {}),
        labels={"alertname": alertname, "instance": f"{f.device}:{PORTS[kind]}", "env": "prod",
                "job": name if kind == "app" else f"{kind}-exporter", "team": team, "region": site},
        annotations={"summary": f"{text} on {f.device}", "description": desc,
                     "runbook_url": f"https://runbooks.example.net/{team}/{alertname.lower()}"})


RESEND_S = 300  # how often a source repeats a firing alert in the demo history


def _materialize(f: Fire, tgt: sla.Targets, acts: list[Act]) -> tuple[dict[str, Any], list[Event]]:
    """The alert row and its events: ``acts`` walked through the lifecycle rules as
    core.alerts.store.apply records them (rule ids, acknowledged_at, ack takes ownership)."""
    a = alert_in(f).normalize()
    row: dict[str, Any] = {k: getattr(a, k) for k in ("source", "service", "device_id", "severity",
                           "summary", "description", "labels", "annotations", "metadata")}
    row.update(zip(("tta_due_at", "ttr_due_at"), sla.due_times(f.at, tgt)),
               fingerprint=a.dedup_key(), state="new", assignee=None, acknowledged_at=None,
               resolved_at=None, closed_at=None, reopen_count=0, duplicate_count=1,
               created_at=f.at, last_seen_at=f.at, updated_at=f.at,
               tta_target_s=tgt.tta_s, ttr_target_s=tgt.ttr_s)
    events: list[Event] = [(f.at, "key:" + source_of(f.svc), "api", "created", None, "new", None,
                            {"fingerprint": row["fingerprint"], "severity": a.severity})]
    for t, action, who, src, note in acts:
        state, human = row["state"], not who.startswith("key:")
        if action == "note":
            events.append((t, who, src, "note", state, state, note, {}))
            continue
        rule = lifecycle.transition(state, action)
        events.append((t, who, src, "transition", state, rule.to_state, note,
                       {"action": action, "rule": rule.rule_id}))
        if human and action in lifecycle.RESPONSE_ACTIONS and row["acknowledged_at"] is None:
            row["acknowledged_at"] = t
        if action == "acknowledge" and human and row["assignee"] is None:
            row["assignee"] = who
            events.append((t, who, src, "assign", rule.to_state, rule.to_state, None,
                           {"from": None, "to": who}))
        resolved = t if rule.to_state == lifecycle.RESOLVED else row["resolved_at"]
        row.update(state=rule.to_state, updated_at=t, reopen_count=row["reopen_count"] +
                   (action == "reopen"), resolved_at=None if action == "reopen" else resolved,
                   closed_at=t if rule.to_state == lifecycle.CLOSED else None)
    _repeats(row)
    return row, events


def _repeats(row: dict[str, Any]) -> None:
    """A source re-sends a firing alert (Alertmanager: every few minutes) until it
    resolves: those are the raw events deduplication folds in, and what keeps a group's
    session window open."""
    end = row["resolved_at"] or row["updated_at"]
    firing_s = max(0.0, (end - row["created_at"]).total_seconds())
    row["duplicate_count"] = 1 + min(int(firing_s // RESEND_S), 60)
    row["last_seen_at"] = row["created_at"] + _s(min(firing_s, RESEND_S * 60))


def _open_queue(s: Session, rng: random.Random, policies: dict[Any, sla.Targets],
                now: datetime) -> int:
    """The live queue through the real intake and lifecycle code: every open state, each
    inside, near (< 20 % left) or past the SLA target that is running."""
    taken: set[str] = set()
    for state, plan in OPEN_QUEUE.items():
        for i, (severity, share) in enumerate(x.split(":") for x in plan.split()):
            f = next(f for c in rng.sample(CATALOG, len(CATALOG)) if c[2][1] == severity
                     for f in [Fire(now, *c, severity)] if alert_in(f).dedup_key() not in taken)
            taken.add(alert_in(f).dedup_key())
            steps = OPEN_STEPS[state + ("+ack" if state == "silenced" and i % 2 else "")]
            tgt = sla.pick_targets(policies, severity, f.svc[0])
            running = tgt.ttr_s if "acknowledge" in steps else tgt.tta_s
            t = created = now - _s(float(share) * running)
            bot = Actor("key:" + source_of(f.svc), "operator", "api", is_human=False)
            alert_id = ingest(s, alert_in(f), bot, created).alert_id
            who = Actor(_on_shift(rng, created)[0], "operator", "ui")
            for action in steps:  # ack inside TTA; later steps part-way between then and now
                t = (created + (min(now - t, _s(tgt.tta_s))) * rng.uniform(0.2, 0.7)
                     if action == "acknowledge" else t + (now - t) * rng.uniform(0.2, 0.6))
                silence = action == "silence"
                until = now + timedelta(hours=rng.choice((1, 2, 4, 8))) if silence else None
                note = f"Maintenance window CHG-{4100 + i}" if silence else None
                apply(s, alert_id, ActionRequest(action, note=note, until=until), who, t)
            if steps and i % 3 == 0:
                add_note(s, alert_id, rng.choice(NOTES), who, t + (now - t) / 2)
    return sum(len(plan.split()) for plan in OPEN_QUEUE.values())
