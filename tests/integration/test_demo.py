"""The demo seed: a living queue, thirty days of consistent history, real SLA numbers, and
it seeds only once. Every check is a query against what seed_demo wrote."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core import lifecycle
from core.auth import authenticate, create_user
from core.demo.seed import DEFAULT_PASSWORD, USERS, seed_demo
from core.errors import FieldError
from core.sla.compliance import ComplianceQuery, compliance
from core.sla.rules import status

NOW = datetime(2026, 3, 16, 14, 30, tzinfo=timezone.utc)  # a Monday afternoon


def timed_seed(engine: sa.Engine) -> dict[str, int]:
    started = time.perf_counter()
    counts = seed_demo(engine, NOW)
    print(f"seed_demo: {counts} in {time.perf_counter() - started:.2f} s")  # no timing asserts
    return counts


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(sa.text(sql), params))


def one(engine: sa.Engine, sql: str, **params: Any) -> Any:
    return rows(engine, sql, **params)[0][0]


def test_demo_is_a_living_queue_with_a_consistent_history(engine: sa.Engine) -> None:
    """One seed, checked from several sides (each helper below names what it checks)."""
    seeded = timed_seed(engine)
    check_open_queue(engine, seeded)
    check_history_consistency(engine, seeded)
    check_transitions_follow_the_rules(engine)
    check_incidents_bursts_and_mix(engine)
    check_sla_numbers(engine)
    with core_db.transaction(engine) as s:
        assert authenticate(s, "noc-ravi", DEFAULT_PASSWORD).role == "operator"
        assert authenticate(s, "mgr-sofia", DEFAULT_PASSWORD).role == "manager"
    assert one(engine, "select count(*) from users where role = 'admin'") == 0


def check_open_queue(engine: sa.Engine, seeded: dict[str, int]) -> None:
    open_rows = rows(engine, "select * from alerts where state in "
                             "('new','acknowledged','investigating','silenced')")
    states = Counter(r.state for r in open_rows)
    assert all(states[s] >= 3 for s in lifecycle.OPEN_STATES), states
    assert 20 <= len(open_rows) == seeded["open"] <= 40
    assert len({r.severity for r in open_rows}) == 5
    assert all(r.silenced_until > NOW for r in open_rows if r.state == "silenced")
    assert all(r.assignee for r in open_rows if r.state in ("acknowledged", "investigating"))
    labels = Counter(status(r.created_at, r.acknowledged_at, r.resolved_at, r.tta_target_s,
                            r.ttr_target_s, NOW).label for r in open_rows)
    assert labels["ok"] >= 3 and labels["at risk"] >= 3 and labels["breached"] >= 3, labels
    assert one(engine, """select count(distinct e.alert_id) from alert_events e join alerts a
                          on a.id = e.alert_id where e.kind = 'note' and a.state in
                          ('new','acknowledged','investigating','silenced')""") >= 3


def check_history_consistency(engine: sa.Engine, seeded: dict[str, int]) -> None:
    span = rows(engine, "select min(created_at), max(created_at), count(*), "
                        "count(distinct service), count(distinct device_id) from alerts")[0]
    assert span[1] - span[0] >= timedelta(days=28) and span[1] <= NOW
    assert 3000 <= span[2] == seeded["alerts"] <= 6000
    assert span[3] >= 20 and span[4] >= 80
    assert one(engine, "select count(*) from alert_events") == seeded["events"]
    assert one(engine, "select max(at) from alert_events") <= NOW
    # every alert points at its identity's previous occurrence (the health score's recurrences)
    assert one(engine, """select count(*) from alerts a where prev_service_at is distinct from (
                              select max(p.created_at) from alerts p where p.fingerprint =
                              a.fingerprint and p.service = a.service and (p.created_at,
                              p.id) < (a.created_at, a.id))""") == 0
    assert one(engine, """select count(*) from alerts a where prev_at is distinct from (
                              select max(p.created_at) from alerts p where p.fingerprint =
                              a.fingerprint and (p.created_at, p.id) < (a.created_at, a.id))""") == 0
    assert one(engine, "select count(prev_service_at) from alerts") >= 100
    assert one(engine, """select count(*) from alerts a where (select count(*) from alert_events e
                          where e.alert_id = a.id and e.kind = 'created') <> 1""") == 0
    # The last transition ends in the alert's state; only never-touched alerts have none.
    assert one(engine, """select count(*) from alerts a left join lateral (
                              select to_state from alert_events e where e.alert_id = a.id
                              and e.kind = 'transition' order by e.at desc, e.id desc limit 1) l
                          on true where l.to_state is distinct from a.state
                          and (a.state <> 'new' or l.to_state is not null)""") == 0
    # acknowledged_at is the first response by a person; resolved_at the last resolution.
    assert one(engine, """select count(*) from alerts a where a.acknowledged_at is distinct from (
                              select min(at) from alert_events e where e.alert_id = a.id
                              and e.kind = 'transition' and e.actor not like 'key:%'
                              and e.metadata->>'action' in ('acknowledge','investigate','resolve'))
                          """) == 0
    assert one(engine, """select count(*) from alerts a where a.resolved_at is distinct from (
                              select max(at) from alert_events e where e.alert_id = a.id
                              and e.kind = 'transition' and e.to_state = 'resolved'
                              and a.state in ('resolved','closed'))
                          """) == 0
    assert one(engine, """select count(*) from alerts a join sla_policies p on p.severity =
                          a.severity and p.service is null where a.tta_target_s <> p.tta_s
                          or a.ttr_target_s <> p.ttr_s
                          or a.tta_due_at <> a.created_at + make_interval(secs => p.tta_s)
                          or a.ttr_due_at <> a.created_at + make_interval(secs => p.ttr_s)""") == 0


def check_transitions_follow_the_rules(engine: sa.Engine) -> None:
    events = rows(engine, "select * from alert_events where kind = 'transition'")
    for e in events:
        rule = lifecycle.transition(e.from_state, e.metadata["action"])
        assert (rule.rule_id, rule.to_state) == (e.metadata["rule"], e.to_state), e
    assert {e.source for e in events} == {"ui", "api"}
    assert Counter(e.metadata["action"] for e in events).keys() >= {
        "acknowledge", "investigate", "resolve", "close", "reopen", "silence"}
    assert one(engine, "select count(*) from alert_events where kind = 'assign'") > 100
    assert one(engine, "select count(*) from alerts where reopen_count = 1") >= 10
    assert one(engine, "select max(reopen_count) from alerts") == 1


def check_incidents_bursts_and_mix(engine: sa.Engine) -> None:
    storms = rows(engine, """select metadata->>'incident', count(*),
                                    max(created_at) - min(created_at) from alerts
                             where metadata ? 'incident' group by 1""")
    assert len(storms) == 5
    assert all(n >= 10 and spread <= timedelta(minutes=15) for _, n, spread in storms), storms
    flaps = rows(engine, """select device_id, count(*) from alerts where metadata ? 'flapping'
                            group by 1""")
    assert flaps and all(n >= 8 for _, n in flaps)
    mix: dict[str, int] = dict(rows(engine, "select severity, count(*) from alerts group by 1"))
    assert mix["critical"] < 0.05 * sum(mix.values())
    assert mix["critical"] < mix["high"] < mix["medium"] and mix["critical"] < mix["info"]
    hourly: dict[bool, int] = dict(rows(engine, """
        select extract(hour from created_at) between 8 and 17, count(*) from alerts
        where extract(isodow from created_at) <= 5 group by 1"""))
    assert hourly[True] / 10 > 1.5 * hourly[False] / 14  # busier per hour in business hours


def check_sla_numbers(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        period = ComplianceQuery(NOW - timedelta(days=30), NOW + timedelta(seconds=1))
        report = compliance(s, period, NOW)
    assert [r["severity"] for r in report] == ["critical", "high", "medium", "low", "info"]
    for r in report:
        assert 50 <= r["tta_compliance_pct"] <= 99.9 and 50 <= r["ttr_compliance_pct"] <= 99.9, r
        assert r["breaches"] > 0 and r["mtta_s"] is not None
    night, day = rows(engine, """select extract(hour from created_at) < 6 or
                                        extract(hour from created_at) >= 22 as night,
                                        avg((acknowledged_at > tta_due_at)::int)
                                 from alerts where acknowledged_at is not null
                                 group by 1 order by 1 desc""")
    assert night[1] > day[1]  # responses are slower at night


def test_seeds_once_under_concurrency_and_keeps_existing_users(
        engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDESK_DEMO_PASSWORD", "open-sesame-42")
    with core_db.transaction(engine) as s:
        create_user(s, "noc-anna", "her-own-password", "manager")
    results: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: results.append(timed_seed(engine)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seeded = next(r for r in results if "alerts" in r)
    assert sorted(results, key=len) == [{"skipped": 1}, seeded]
    assert seeded["users"] == len(USERS) - 1
    before = [one(engine, f"select count(*) from {t}") for t in ("alerts", "alert_events", "users")]
    assert seed_demo(engine, NOW + timedelta(days=1)) == {"skipped": 1}
    after = [one(engine, f"select count(*) from {t}") for t in ("alerts", "alert_events", "users")]
    assert before == after and before[0] == seeded["alerts"]
    with core_db.transaction(engine) as s:
        assert authenticate(s, "noc-anna", "her-own-password").role == "manager"  # untouched
        assert authenticate(s, "viewer-dan", "open-sesame-42").role == "viewer"
    assert one(engine, "select count(*) from users where role = 'admin'") == 0


def test_short_demo_password_is_refused_and_nothing_is_written(
        engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDESK_DEMO_PASSWORD", "short")
    with pytest.raises(FieldError, match="ALERTDESK_DEMO_PASSWORD"):
        seed_demo(engine, NOW)
    assert one(engine, "select count(*) from users") == 0
    assert one(engine, "select count(*) from alerts") == 0


def test_demo_on_call_has_someone_now(engine: sa.Engine) -> None:
    from core.oncall.store import current

    now = datetime(2026, 3, 16, 14, 30, tzinfo=timezone.utc)
    seed_demo(engine, now)
    with core_db.transaction(engine) as s:
        on = {e["schedule_name"]: e["username"] for e in current(s, None, now)}
    assert on["NOC follow-the-sun"] in ("noc-anna", "noc-jonas")  # 14:30 UTC: EMEA window
    assert on["Data platform"] == "mgr-sofia"  # Monday 15:30 Berlin: office hours layer


def test_demo_services_have_owning_teams(engine: sa.Engine) -> None:
    from core import teams
    from core.sla.compliance import ComplianceQuery, compliance

    now = datetime(2026, 3, 16, 14, 30, tzinfo=timezone.utc)
    seed_demo(engine, now)
    with core_db.transaction(engine) as s:
        owners = teams.load(s)
        rows = compliance(s, ComplianceQuery(now - timedelta(days=30), now, "team"), now)
    assert len(set(owners.values())) >= 3
    assert teams.NO_TEAM not in {r["team"] for r in rows}  # every demo service is owned
    assert {r["team"] for r in rows} <= set(owners.values())


def test_the_demo_lives_on_after_the_seed(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ALERTDESK_DEMO on, the worker's ticks keep the fleet firing, repeating, flapping
    and recovering through ingest; with it off the job does nothing."""
    from core.demo.live import demo_activity
    from core.worker import tick

    seed_demo(engine, NOW)
    before = one(engine, "select max(id) from alerts")
    assert tick(engine, NOW)["demo_activity"] == 0            # ALERTDESK_DEMO unset
    monkeypatch.setenv("ALERTDESK_DEMO", "1")
    for i in range(24 * 60 // 5 * 2):                         # two hours of 5-second ticks
        with core_db.transaction(engine) as s:
            demo_activity(s, NOW + timedelta(seconds=5 * i))
    new = one(engine, "select count(*) from alerts where id > :b", b=before)
    recovered = one(engine, "select count(*) from alert_events where at >= :t and "
                    "to_state = 'resolved' and actor like 'key:%'", t=NOW)
    repeats = one(engine, "select coalesce(sum(duplicate_count), 0) from alerts "
                  "where last_seen_at >= :t", t=NOW)
    flaps = one(engine, "select max(reopen_count) from alerts where id > :b", b=before)
    open_now = one(engine, "select count(*) from alerts where state in "
                   "('new', 'acknowledged', 'investigating', 'silenced')")
    print(f"2 h of demo: {new} new, {recovered} recovered, {repeats} repeats, open {open_now}")
    assert new >= 60 and recovered >= 60 and repeats >= 100
    assert flaps >= 5                                         # the flapper came back again
    assert 10 <= open_now <= 120
