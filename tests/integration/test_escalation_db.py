"""The escalation jobs on a real PostgreSQL, driven with injected instants (no sleeps)."""
from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from core import db as core_db
from core import worker
from core.actor import SYSTEM
from core.escalation.jobs import escalate_due, start_escalations
from core.escalation.rules import first_match, parse_policy
from core.escalation.store import create_policy, replace_policy
from core.suppression.silences_store import create_silence
from tests.conftest import T0
from tests.factories import MANAGER, OPERATOR, act, event_rows, make_alert, make_users, row

ESCALATION_JOBS = ("expire_acks", "stop_escalations", "start_escalations",
                   "expedite_escalations", "escalate_due", "raise_severities")


def m(minutes: float) -> Any:
    return T0 + timedelta(minutes=minutes)


def run(engine: sa.Engine, now: Any) -> None:
    """The escalation jobs of one worker tick, in the worker's order (no delivery)."""
    for name, job in worker.JOBS:
        if name in ESCALATION_JOBS:
            with core_db.transaction(engine) as s:
                job(s, now)


def notes(engine: sa.Engine, alert_id: int) -> list[sa.Row[Any]]:
    with engine.connect() as c:
        return list(c.execute(sa.text(
            "select * from notifications where alert_id = :i order by id"), {"i": alert_id}))


def escalation(engine: sa.Engine, alert_id: int) -> sa.Row[Any]:
    with engine.connect() as c:
        return c.execute(sa.text("select * from alert_escalations where alert_id = :i"),
                         {"i": alert_id}).one()


def policy(engine: sa.Engine, **body: Any) -> int:
    body.setdefault("tiers", [{"delay_s": 0, "targets": [{"type": "console"}]},
                              {"delay_s": 300, "targets": [{"type": "email", "to": "noc@x.io"}]}])
    body.setdefault("priority", 1)
    with core_db.transaction(engine) as s:
        return int(create_policy(s, body, MANAGER, T0)["id"])


def kinds(engine: sa.Engine, alert_id: int, kind: str) -> list[sa.Row[Any]]:
    return [e for e in event_rows(engine, alert_id) if e.kind == kind]


def test_tier_1_fires_at_creation_and_an_ack_stops_tier_2(engine) -> None:
    alert = make_alert(engine, T0)   # critical: the seeded policy, tiers 0/5/15 min
    worker.tick(engine, T0)
    first = notes(engine, alert)
    assert sorted(n.channel for n in first) == ["console", "pagerduty", "slack"]
    assert all(n.idempotency_key.startswith(f"esc:{alert}:1:0:") for n in first)
    [ev] = kinds(engine, alert, "escalation")
    assert ev.note.startswith("tier 1 fired: ") and ev.actor == "worker"
    assert sorted(ev.metadata["notification_ids"]) == sorted(n.id for n in first)
    assert escalation(engine, alert).next_at == m(5)
    act(engine, alert, "acknowledge", m(3))
    worker.tick(engine, m(6))
    assert len(notes(engine, alert)) == 3
    esc = escalation(engine, alert)
    assert (esc.state, esc.stopped_reason, esc.next_at) == ("stopped", "acknowledged", None)
    assert len(kinds(engine, alert, "escalation")) == 1


def test_tiers_then_repeats_then_done(engine) -> None:
    alert = make_alert(engine, T0)
    for minute in (0, 4, 5, 15, 29, 30, 45, 60, 75, 120):
        run(engine, m(minute))
    fired = [(e.metadata["tier"], e.metadata["repeat"]) for e in kinds(engine, alert, "escalation")]
    assert fired == [(1, 0), (2, 0), (3, 0), (3, 1), (3, 2), (3, 3)]
    esc = escalation(engine, alert)
    assert (esc.state, esc.next_tier, esc.repeats_done, esc.next_at) == ("done", 3, 3, None)
    keys = [n.idempotency_key for n in notes(engine, alert)]
    assert len(keys) == len(set(keys)) == 3 + 2 + 1 + 3


def test_two_concurrent_workers_enqueue_each_notification_once(engine) -> None:
    ids = [make_alert(engine, T0) for _ in range(30)]
    with core_db.transaction(engine) as s:
        assert start_escalations(s, T0) == 30
    barrier = threading.Barrier(2)
    moved: list[int] = []

    def work() -> None:
        barrier.wait()
        with core_db.transaction(engine) as s:
            moved.append(escalate_due(s, T0))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(moved) == 30
    with core_db.transaction(engine) as s:
        assert escalate_due(s, T0) == 0
    with engine.connect() as c:
        keys = c.execute(sa.text("select idempotency_key from notifications")).scalars().all()
        events = c.scalar(sa.text("select count(*) from alert_events where kind = 'escalation'"))
    assert len(keys) == len(set(keys)) == 90 and events == 30
    assert {int(k.split(":")[1]) for k in keys} == set(ids)


def test_forgotten_ack_returns_the_alert_and_restarts_tier_1(engine) -> None:
    policy(engine, name="forgetful", match={"service": "forgot"}, ack_timeout_s=3600)
    alert = make_alert(engine, T0, service="forgot")
    run(engine, T0)
    act(engine, alert, "acknowledge", m(0.5))
    run(engine, m(1))
    assert escalation(engine, alert).ack_due_at == m(60.5)
    run(engine, m(60))
    assert row(engine, alert).state == "acknowledged"
    run(engine, m(60.5))
    assert row(engine, alert).state == "new"
    back = event_rows(engine, alert)[-2]
    assert (back.kind, back.from_state, back.to_state, back.actor) == (
        "transition", "acknowledged", "new", "worker")
    assert back.note == "ack expired after 1 h"
    esc = escalation(engine, alert)
    assert (esc.state, esc.cycle, esc.next_tier, esc.started_at) == ("active", 1, 1, m(60.5))
    refired = [n for n in notes(engine, alert) if n.idempotency_key.endswith(":c1")]
    assert [n.channel for n in refired] == ["console"]


def test_muted_and_silenced_alerts_never_escalate(engine) -> None:
    make_users(engine)
    with core_db.transaction(engine) as s:
        create_silence(s, {"matchers": [{"name": "service", "op": "=", "value": "quiet"}],
                           "ends_at": m(600), "comment": "maintenance"},
                       OPERATOR, T0)
    muted = make_alert(engine, T0, service="quiet")
    snoozed = make_alert(engine, T0)
    act(engine, snoozed, "silence", T0, until=m(600))
    for minute in (0, 5, 15, 60):
        worker.tick(engine, m(minute))
    for alert in (muted, snoozed):
        assert notes(engine, alert) == [] and kinds(engine, alert, "escalation") == []


def test_silencing_mid_escalation_stops_it_and_the_end_of_the_silence_restarts_it(engine) -> None:
    alert = make_alert(engine, T0)
    run(engine, T0)
    act(engine, alert, "silence", m(1), until=m(30))
    run(engine, m(5))
    assert escalation(engine, alert).stopped_reason == "silenced"
    worker.tick(engine, m(30))
    esc = escalation(engine, alert)
    assert (esc.state, esc.cycle, esc.next_tier) == ("active", 1, 1)


def test_auto_escalate_anomaly_escalates_at_once(engine) -> None:
    policy(engine, name="ml", match={"service": "ml"},
           tiers=[{"delay_s": 600, "targets": [{"type": "console"}]}])
    flagged = make_alert(engine, T0, service="ml", metadata={"auto_escalate": True})
    plain = make_alert(engine, T0, service="ml", device_id="db-02")
    run(engine, T0)
    [ev] = kinds(engine, flagged, "escalation")
    assert "due at once: auto_escalate" in ev.note and ev.metadata["expedited"] == "auto_escalate"
    assert kinds(engine, plain, "escalation") == [] and escalation(engine, plain).next_at == m(10)


def test_sla_breach_makes_the_pending_step_due_now(engine) -> None:
    policy(engine, name="slow", match={"service": "slow"},
           tiers=[{"delay_s": 0, "targets": [{"type": "console"}]},
                  {"delay_s": 3600, "targets": [{"type": "console"}]},
                  {"delay_s": 7200, "targets": [{"type": "console"}]}])
    alert = make_alert(engine, T0, service="slow")   # critical: TTA target 5 min
    run(engine, T0)
    run(engine, m(4))
    assert len(kinds(engine, alert, "escalation")) == 1
    run(engine, m(5))
    evs = kinds(engine, alert, "escalation")
    assert [e.metadata["tier"] for e in evs] == [1, 2] and evs[1].metadata["expedited"] == "sla_breach"
    assert escalation(engine, alert).next_at == m(120)   # tier 3 keeps its schedule
    run(engine, m(6))
    assert len(kinds(engine, alert, "escalation")) == 2


def test_severity_escalation_raises_one_step_per_period_until_critical(engine) -> None:
    policy(engine, name="raise", match={"service": "sev"},
           severity_escalation={"after_s": 1800, "steps": 1})
    alert = make_alert(engine, T0, service="sev", severity="low")
    run(engine, T0)
    run(engine, m(29))
    assert row(engine, alert).severity == "low"
    # the incident's timers start after its 60 s wait: raises are due at 31, 61, 91 min
    run(engine, m(31))
    assert row(engine, alert).severity == "medium"
    run(engine, m(60))
    assert row(engine, alert).severity == "medium"
    run(engine, m(61))
    run(engine, m(120))  # the worker late: the event says the real delay
    run(engine, m(500))
    assert row(engine, alert).severity == "critical"
    evs = kinds(engine, alert, "severity_change")
    assert [e.note for e in evs] == [
        "severity raised from low to medium after 31 min unacknowledged",
        "severity raised from medium to high after 61 min unacknowledged",
        "severity raised from high to critical after 2 h unacknowledged"]
    assert escalation(engine, alert).severity_due_at is None  # critical: nothing more due
    with engine.connect() as c:  # the group shows its member's new severity
        rank = c.scalar(sa.text("select max_severity_rank from alert_groups where id = :g"),
                        {"g": row(engine, alert).group_id})
    assert rank == 1


def test_a_short_severity_escalation_says_seconds_and_an_ack_stops_it(engine) -> None:
    policy(engine, name="quick", match={"service": "sev"},
           severity_escalation={"after_s": 20, "steps": 1})
    alert = make_alert(engine, T0, service="sev", severity="medium")
    for s in (0, 30, 55):  # the incident starts after its 30 s wait; the raise is due at 50 s
        run(engine, T0 + timedelta(seconds=s))
    [ev] = kinds(engine, alert, "severity_change")
    assert ev.note == "severity raised from medium to high after 55 s unacknowledged"
    assert ev.metadata["unacknowledged_s"] == 55 and ev.metadata["after_s"] == 20
    act(engine, alert, "acknowledge", T0 + timedelta(seconds=60))
    run(engine, m(10))
    assert row(engine, alert).severity == "high"
    assert len(kinds(engine, alert, "severity_change")) == 1


def test_user_targets_use_contacts_and_severity_channels(engine) -> None:
    make_users(engine)
    with engine.begin() as c:
        c.execute(sa.text("update users set email = 'olga@example.com', phone = '+15551234567' "
                          "where username = 'olga'"))
    policy(engine, name="people", match={"service": "people"}, tiers=[
        {"delay_s": 0, "targets": [{"type": "user", "username": "olga"},
                                   {"type": "user", "username": "maria"}]}])
    crit = make_alert(engine, T0, service="people")
    med = make_alert(engine, T0, service="people", severity="medium", device_id="x")
    run(engine, T0)
    assert {(n.channel, n.recipient) for n in notes(engine, crit)} == {
        ("sms", "+15551234567"), ("console", "console")}
    assert notes(engine, med) == []  # its incident waits the medium group wait (30 s)
    run(engine, T0 + timedelta(seconds=30))
    assert {(n.channel, n.recipient) for n in notes(engine, med)} == {
        ("email", "olga@example.com"), ("console", "console")}
    [ev] = kinds(engine, crit, "escalation")
    assert ev.note == "tier 1 fired: sms to +15551234567, console for maria (no email or phone)"


def test_flapping_alert_is_notified_at_most_once_per_window(engine) -> None:
    alert = make_alert(engine, T0)
    run(engine, T0)
    with engine.begin() as c:
        c.execute(sa.text("update alerts set flapping = true, flapping_since = :t where id = :i"),
                  {"t": T0, "i": alert})
    act(engine, alert, "resolve", m(1))
    run(engine, m(1))
    act(engine, alert, "reopen", m(2))
    run(engine, m(2))
    evs = kinds(engine, alert, "escalation")
    assert evs[-1].note.startswith("tier 1 held back: flapping") and evs[-1].metadata["damped"]
    assert len(notes(engine, alert)) == 3


def test_policy_edits_reach_only_escalations_started_afterwards(engine) -> None:
    pid = policy(engine, name="edit", match={"service": "edit"})
    before = make_alert(engine, T0, service="edit")
    run(engine, T0)
    with core_db.transaction(engine) as s:
        replace_policy(s, pid, {"name": "edit", "match": {"service": "edit"}, "priority": 1,
                                "tiers": [{"delay_s": 0, "targets": [{"type": "console"}]},
                                          {"delay_s": 60, "targets": [{"type": "console"}]}]},
                       MANAGER, m(1))
    after = make_alert(engine, m(1), service="edit", device_id="y")
    run(engine, m(2))
    assert escalation(engine, before).next_at == m(5)
    assert len(kinds(engine, after, "escalation")) == 2


def test_sql_policy_pick_matches_the_pure_rule(engine) -> None:
    bodies = [{"name": "svc", "match": {"service": "web"}, "priority": 5},
              {"name": "lbl", "match": {"labels": {"team": "db"}}, "priority": 3},
              {"name": "sev", "match": {"severity": ["low", "info"]}, "priority": 4},
              {"name": "svc-api", "match": {"service": "api"}, "priority": 4}]
    for b in bodies:
        policy(engine, **b)
    cases = [{"severity": "low", "service": "web", "labels": {"team": "db"}},
             {"severity": "low", "service": "web", "labels": {}},
             {"severity": "high", "service": "web", "labels": {}},
             {"severity": "info", "service": "api", "labels": {}},
             {"severity": "high", "service": "api", "labels": {"team": "web"}},
             {"severity": "medium", "service": "api", "labels": {}}]
    ids = [make_alert(engine, T0, device_id=f"d{i}", **c) for i, c in enumerate(cases)]
    run(engine, T0 + timedelta(seconds=60))  # every severity's group wait is over
    with engine.connect() as c:
        stored = c.execute(sa.text("select name, match, tiers, priority, enabled "
                                   "from escalation_policies order by id")).mappings().all()
        picked = dict(c.execute(sa.text(
            "select alert_id, policy_snapshot ->> 'name' from alert_escalations")).all())
    policies = [parse_policy(dict(p)) for p in stored]
    for alert_id, case in zip(ids, cases):
        best = first_match(policies, case)
        assert picked.get(alert_id) == (best.name if best else None), case
    assert picked[ids[3]] == "svc-api"   # equal priority: the service beats the severity


def test_stop_cancels_pending_notifications(engine) -> None:
    alert = make_alert(engine, T0)
    run(engine, T0)
    act(engine, alert, "resolve", m(1))
    run(engine, m(1))
    assert {n.status for n in notes(engine, alert)} == {"cancelled"}
    assert escalation(engine, alert).stopped_reason == "resolved"
    assert SYSTEM.name == "system"
