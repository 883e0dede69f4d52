"""Silences and inhibition on a real PostgreSQL: marks set by the ingest path, the worker
tick and the API-side services, their timeline events, and SQL held to the pure rules."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.alerts.model import AlertIn
from core.errors import Conflict, FieldError, Forbidden, NotFound
from core.ingest.batch import ingest_batch
from core.ingest.signal import Signal
from core.suppression.inhibition import resolve
from core.suppression.inhibition_store import apply_inhibitions, create_rule, load_rules, update_rule
from core.suppression.silences import Matcher, compile_sql, label_set
from core.suppression.silences_store import (
    apply_silences,
    create_silence,
    expire_silence,
    list_silences,
    preview_silence,
)
from core.worker import tick
from tests.conftest import T0
from tests.factories import MANAGER, OPERATOR, VIEWER, act, event_rows, make_users, row
from tests.unit.test_silences_rules import LABELS, MATCH_CASES

AM = Actor("key:am", "operator", "alertmanager", is_human=False)
H = timedelta(hours=1)


def run(engine: sa.Engine, signals: list[Signal], now: Any = T0) -> Any:
    with core_db.transaction(engine) as s:
        return ingest_batch(s, signals, AM, now)


def sig(fp: str, status: str = "firing", alertname: str = "DiskFull", severity: str = "medium",
        service: str = "billing", device_id: str = "db-01", **labels: str) -> Signal:
    return Signal(AlertIn(summary=f"{alertname} {fp}", severity=severity, source="am",
                          service=service, device_id=device_id, fingerprint=fp,
                          labels={"alertname": alertname, **labels}), status)


def new_alert(engine: sa.Engine, fp: str, now: Any = T0, **kw: Any) -> int:
    return int(run(engine, [sig(fp, **kw)], now).ids[fp])


def silence(engine: sa.Engine, matchers: list[dict[str, str]], now: Any = T0,
            ends_at: Any = T0 + 2 * H, **kw: Any) -> dict[str, Any]:
    with core_db.transaction(engine) as s:
        return create_silence(s, {"matchers": matchers, "ends_at": ends_at,
                                  "comment": "CHG-42 db upgrade", **kw}, OPERATOR, now)


def marks(engine: sa.Engine, alert_id: int) -> tuple[Any, Any, Any]:
    r = row(engine, alert_id)
    return r.silence_id, r.inhibited_by, r.inhibit_rule_id


def settle(engine: sa.Engine, now: Any) -> None:
    """The worker tick: what a new or resolved *source* changes for alerts outside its
    batch is applied here, within 5 s (ingest marks only the batch's own alerts)."""
    tick(engine, now)


def mark_events(engine: sa.Engine, alert_id: int, kind: str) -> list[tuple[Any, ...]]:
    return [(e.note, e.metadata["action"], e.actor) for e in event_rows(engine, alert_id)
            if e.kind == kind]


def rule_id(engine: sa.Engine, name: str) -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text("select id from inhibit_rules where name = :n"), {"n": name}))


BILLING = [{"name": "service", "op": "=", "value": "billing"}]


def test_matchers_in_sql_agree_with_the_python_rules(engine: sa.Engine) -> None:
    alert_id = run(engine, [Signal(AlertIn(summary="x", severity="high", source="t",
                                           fingerprint="fp", labels=LABELS))]).ids["fp"]
    with engine.connect() as c:
        for name, op, value, expected in MATCH_CASES:
            pred, params = compile_sql([Matcher(name, op, value)], "m")
            got = c.scalar(sa.text(f"select {pred} from alerts a where a.id = :i"),
                           {**params, "i": alert_id})
            assert got is expected, (name, op, value)


def test_an_active_silence_marks_matching_new_alerts_which_keep_their_state(
        engine: sa.Engine) -> None:
    s = silence(engine, BILLING + [{"name": "alertname", "op": "=~", "value": "Disk.*"}])
    assert s["state"] == "active" and s["created_by"] == "olga"
    muted, loud = new_alert(engine, "a"), new_alert(engine, "b", service="web")
    assert marks(engine, muted) == (s["id"], None, None)
    assert marks(engine, loud) == (None, None, None)
    assert row(engine, muted).state == "new"
    assert mark_events(engine, muted, "silence_mark") == [(
        f"silenced by silence #{s['id']} (olga, until 2026-03-02 11:00 UTC): CHG-42 db upgrade",
        "mark", "system")]


def test_a_future_window_marks_nothing_until_the_worker_tick_at_its_start(
        engine: sa.Engine) -> None:
    s = silence(engine, BILLING, starts_at=T0 + H, ends_at=T0 + 3 * H)
    assert s["state"] == "pending"
    alert_id = new_alert(engine, "a")
    assert marks(engine, alert_id)[0] is None
    assert tick(engine, T0 + H - timedelta(seconds=1))["apply_silences"] == 0
    assert tick(engine, T0 + H)["apply_silences"] == 1
    assert marks(engine, alert_id)[0] == s["id"]
    assert tick(engine, T0 + 2 * H)["apply_silences"] == 0      # idempotent
    assert tick(engine, T0 + 3 * H)["apply_silences"] == 1      # the window ends
    assert marks(engine, alert_id)[0] is None
    assert mark_events(engine, alert_id, "silence_mark") == [
        (f"silenced by silence #{s['id']} (olga, until 2026-03-02 12:00 UTC): CHG-42 db upgrade",
         "mark", "worker"), (f"silence #{s['id']} no longer applies: it ended", "release", "worker")]


def test_creating_marks_open_alerts_and_expiring_by_hand_releases_them_at_once(
        engine: sa.Engine) -> None:
    alert_id = new_alert(engine, "a")
    s = silence(engine, BILLING, now=T0 + timedelta(minutes=1))
    assert marks(engine, alert_id)[0] == s["id"]
    with core_db.transaction(engine) as ses:
        assert list_silences(ses, T0 + timedelta(minutes=1))[0][0]["alerts"] == 1
    later = T0 + timedelta(minutes=5)
    with core_db.transaction(engine) as ses:
        out = expire_silence(ses, s["id"], OPERATOR, later)
    assert (out["state"], out["expired_by"], out["expired_at"]) == ("expired", "olga", later)
    assert marks(engine, alert_id)[0] is None
    assert [(a, who) for _, a, who in mark_events(engine, alert_id, "silence_mark")] == [
        ("mark", "olga"), ("release", "olga")]                # the person who caused each
    assert mark_events(engine, alert_id, "silence_mark")[-1][0] == (
        f"silence #{s['id']} no longer applies: expired by olga")
    with core_db.transaction(engine) as ses:
        with pytest.raises(Conflict):
            expire_silence(ses, s["id"], OPERATOR, later)
        with pytest.raises(NotFound):
            expire_silence(ses, 999, OPERATOR, later)
        with pytest.raises(Forbidden):
            expire_silence(ses, s["id"], VIEWER, later)
    assert marks(engine, new_alert(engine, "b", now=later))[0] is None  # no longer muted


def test_silences_list_by_state(engine: sa.Engine) -> None:
    active = silence(engine, BILLING)
    pending = silence(engine, BILLING, starts_at=T0 + H)
    ended = silence(engine, BILLING, ends_at=T0 + timedelta(minutes=1))
    with core_db.transaction(engine) as ses, pytest.raises(FieldError, match="state"):
        ids = {state: [r["id"] for r in list_silences(ses, T0 + timedelta(minutes=1), state)[0]]
               for state in ("active", "pending", "expired")}
        assert list_silences(ses, T0, None, 1, 2)[1] == 3
        list_silences(ses, T0, "gone")
    assert ids == {"active": [active["id"]], "pending": [pending["id"]], "expired": [ended["id"]]}


def test_a_regex_postgres_refuses_is_refused_naming_the_field_and_nothing_is_stored(
        engine: sa.Engine) -> None:
    with pytest.raises(FieldError) as err:
        silence(engine, BILLING + [{"name": "alertname", "op": "=~", "value": "(?P<x>a)"}])
    assert err.value.field == "matchers[1].value"
    with engine.connect() as c:
        assert c.scalar(sa.text("select count(*) from silences")) == 0


def test_a_critical_source_suppresses_a_medium_target_until_it_resolves(
        engine: sa.Engine) -> None:
    target = new_alert(engine, "warn")
    other_service = new_alert(engine, "web", service="web")
    source = new_alert(engine, "crit", now=T0 + timedelta(minutes=1), severity="critical")
    rule = rule_id(engine, "critical-suppresses-warning")
    assert marks(engine, target) == (None, None, None)  # not in the source's batch ...
    settle(engine, T0 + timedelta(minutes=1))
    assert marks(engine, target) == (None, source, rule)  # ... the next tick marks it
    assert marks(engine, other_service) == (None, None, None)
    assert marks(engine, source) == (None, None, None)
    late = new_alert(engine, "warn2", now=T0 + timedelta(minutes=2), severity="low")
    settle(engine, T0 + timedelta(minutes=2))
    assert marks(engine, late) == (None, source, rule)          # inhibited by the next tick
    run(engine, [sig("crit", "resolved", severity="critical")], T0 + timedelta(minutes=9))
    settle(engine, T0 + timedelta(minutes=9))
    assert marks(engine, target) == (None, None, None) == marks(engine, late)
    assert mark_events(engine, target, "inhibit_mark") == [
        (f"inhibited by alert #{source} (DiskFull crit) under rule critical-suppresses-warning",
         "mark", "worker"),
        (f"released from alert #{source}: it is resolved", "release", "worker")]


def test_an_operator_resolving_the_source_releases_on_the_next_worker_tick(
        engine: sa.Engine) -> None:
    make_users(engine)
    target = new_alert(engine, "warn")
    source = new_alert(engine, "crit", severity="critical")
    settle(engine, T0)
    act(engine, source, "resolve", T0 + timedelta(minutes=3))
    assert marks(engine, target)[1] == source
    assert tick(engine, T0 + timedelta(minutes=4))["apply_inhibitions"] == 1
    assert marks(engine, target) == (None, None, None)
    assert mark_events(engine, target, "inhibit_mark")[-1][2] == "worker"


def test_root_cause_rule_suppresses_slow_queries_on_the_same_database(engine: sa.Engine) -> None:
    slow_orders = new_alert(engine, "s1", alertname="SlowDatabaseQueries", database="orders")
    slow_users = new_alert(engine, "s2", alertname="SlowDatabaseQueries", database="users")
    slow_none = new_alert(engine, "s3", alertname="SlowDatabaseQueries")
    pool = new_alert(engine, "p", alertname="DatabaseConnectionPoolExhausted", severity="high",
                     service="orders-api", database="orders")
    settle(engine, T0)
    assert marks(engine, slow_orders) == (None, pool, rule_id(
        engine, "db-pool-exhausted-suppresses-slow-queries"))
    assert marks(engine, slow_users)[1] is None and marks(engine, slow_none)[1] is None


def test_a_suppressed_alert_suppresses_nothing(engine: sa.Engine) -> None:
    node = new_alert(engine, "n", alertname="NodeDown", severity="critical", service="hosts")
    disk = new_alert(engine, "d", severity="critical")                      # on the same device
    other = new_alert(engine, "o", severity="medium", device_id="db-02")    # disk would suppress
    settle(engine, T0)
    assert marks(engine, disk)[1] == node
    assert marks(engine, other)[1] is None
    run(engine, [sig("n", "resolved", alertname="NodeDown", severity="critical")], T0 + H)
    settle(engine, T0 + H)
    assert marks(engine, disk)[1] is None and marks(engine, other)[1] == disk


def test_the_statement_agrees_with_the_pure_reference(engine: sa.Engine) -> None:
    silence(engine, BILLING)
    with core_db.transaction(engine) as s:
        create_rule(s, {"name": "mutual", "source_match": {"team": "db"},
                        "target_match": {"team": "db"}, "equal": ["service"]}, MANAGER, T0)
    specs = [("n1", "NodeDown", "critical", "hosts", "d1", {}), ("c1", "DiskFull", "critical",
             "billing", "d1", {}), ("m1", "DiskFull", "medium", "billing", "d2", {}),
             ("c2", "CPU", "critical", "web", "d3", {}), ("m2", "CPU", "low", "web", "d4", {}),
             ("m3", "CPU", "info", "web", "d3", {}), ("t1", "A", "high", "db", "d5", {"team": "db"}),
             ("t2", "B", "high", "db", "d6", {"team": "db"}), ("x", "Y", "medium", "", "", {})]
    for k, (fp, name, sev, svc, dev, extra) in enumerate(specs):  # one batch each: scoped path
        run(engine, [sig(fp, alertname=name, severity=sev, service=svc, device_id=dev, **extra)],
            T0 + timedelta(seconds=k))
    with core_db.transaction(engine) as s:  # ingest applied the silences; the tick inhibits
        assert apply_silences(s, T0 + H) == 0
        assert apply_inhibitions(s, T0 + H) == 3
        assert apply_inhibitions(s, T0 + H) == 0
    assert len(marks_match_reference(engine)) == 3      # c1 by n1, m2 and m3 by c2
    with engine.connect() as c:                         # both marks at once: c1 and m1
        assert c.scalar(sa.text("select count(*) from alerts where silence_id is not null")) == 2


def marks_match_reference(engine: sa.Engine) -> dict[int, tuple[int, int]]:
    """The stored inhibition marks equal core.suppression.inhibition.resolve over the open alerts."""
    with engine.connect() as c:
        rows = c.execute(sa.text("select * from alerts where state in ('new','acknowledged',"
                                 "'investigating','silenced') order by created_at, id")).all()
    with core_db.transaction(engine) as s:
        expected = resolve([(r.id, label_set(r.labels, r.service, r.device_id, r.severity,
                                             r.source)) for r in rows], load_rules(s))
    assert {r.id: (r.inhibited_by, r.inhibit_rule_id) for r in rows
            if r.inhibited_by is not None} == expected
    return expected


def test_concurrent_batches_do_not_deadlock_and_the_next_tick_settles_the_marks(
        engine: sa.Engine) -> None:
    def batch(k: int) -> None:
        run(engine, [sig(f"{k}-{i}", alertname=f"A{i % 3}", service=f"s{i % 4}",
                         device_id=f"d{i % 7}", severity="critical" if i % 5 == 0 else "medium")
                     for i in range(30)], T0 + timedelta(seconds=k))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(batch, range(16)))
    tick(engine, T0 + H)
    assert len(marks_match_reference(engine)) > 100


def test_a_reopened_alert_loses_the_mark_of_a_silence_that_expired_meanwhile(
        engine: sa.Engine) -> None:
    s = silence(engine, BILLING)
    alert_id = new_alert(engine, "a")
    run(engine, [sig("a", "resolved")], T0 + timedelta(minutes=1))
    with core_db.transaction(engine) as ses:
        expire_silence(ses, s["id"], OPERATOR, T0 + timedelta(minutes=2))
    assert marks(engine, alert_id)[0] == s["id"]        # a resolved alert keeps its history
    assert run(engine, [sig("a")], T0 + timedelta(minutes=3)).reopened == [alert_id]
    assert marks(engine, alert_id)[0] is None
    assert mark_events(engine, alert_id, "silence_mark")[-1][:2] == (
        f"silence #{s['id']} no longer applies: expired by olga", "release")


def test_disabling_a_rule_releases_and_enabling_it_marks_again(engine: sa.Engine) -> None:
    target = new_alert(engine, "warn")
    source = new_alert(engine, "crit", severity="critical")
    settle(engine, T0)
    rid = rule_id(engine, "critical-suppresses-warning")
    with core_db.transaction(engine) as s:
        out = update_rule(s, rid, {"enabled": False}, MANAGER, T0 + H)
    assert out["enabled"] is False and out["updated_by"] == "maria" and out["alerts"] == 0
    assert marks(engine, target)[1] is None
    assert mark_events(engine, target, "inhibit_mark")[-1][:2] == (
        f"released from alert #{source}: rule critical-suppresses-warning is disabled",
        "release")
    with core_db.transaction(engine) as s:
        assert update_rule(s, rid, {"enabled": True}, MANAGER, T0 + 2 * H)["alerts"] == 1
    assert marks(engine, target)[1] == source


def test_rules_are_for_managers_with_unique_names(engine: sa.Engine) -> None:
    body = {"name": "critical-suppresses-warning", "source_match": {"a": "b"},
            "target_match": {"a": "c"}}
    with core_db.transaction(engine) as s:
        with pytest.raises(Forbidden):
            create_rule(s, {**body, "name": "new"}, OPERATOR, T0)
        with pytest.raises(Conflict):
            create_rule(s, body, MANAGER, T0)
        with pytest.raises(NotFound):
            update_rule(s, 999, {"enabled": False}, MANAGER, T0)
        names = [r.name for r in load_rules(s)]  # the seeded defaults parse as rules
    assert names == ["critical-suppresses-warning", "db-pool-exhausted-suppresses-slow-queries",
                     "node-down-suppresses-its-device"]


def test_preview_shows_what_the_silence_then_marks_and_writes_nothing(engine: sa.Engine) -> None:
    run(engine, [sig(f"fp{i}", service="checkout" if i % 3 else "billing",
                     severity=("low", "critical")[i % 2]) for i in range(25)])
    run(engine, [sig("fp1", "resolved", service="checkout")])     # settled: not in the preview
    checkout = [{"name": "service", "op": "=", "value": "checkout"}]

    def tables() -> tuple[int, ...]:
        with engine.connect() as c:
            return tuple(int(c.scalar(sa.text(f"select count(*) from {t}")))
                         for t in ("silences", "alert_events", "audit_log"))

    before = tables()
    with core_db.transaction(engine) as s:
        first = preview_silence(s, checkout, limit=5)
        every = preview_silence(s, checkout, limit=100)
    assert tables() == before
    assert first["matching_open_alerts"] == every["matching_open_alerts"] == 15
    assert [a["severity"] for a in first["alerts"]] == ["critical"] * 5   # most severe first
    with core_db.transaction(engine) as s:
        made = create_silence(s, {"matchers": checkout, "ends_at": T0 + H, "comment": "CHG-7"},
                              OPERATOR, T0)
    with engine.connect() as c:
        marked = c.execute(sa.text("select id from alerts where silence_id = :s order by id"),
                           {"s": made["id"]}).scalars().all()
    assert sorted(a["id"] for a in every["alerts"]) == marked
    with core_db.transaction(engine) as s:
        again = preview_silence(s, checkout)
    assert {a["silence_id"] for a in again["alerts"]} == {made["id"]}


@pytest.mark.parametrize(("matchers", "limit", "field"), [
    ([{"name": "alertname", "op": "=~", "value": "(Disk"}], 20, "matchers[0].value"),
    ([{"name": "team", "op": "!=", "value": "x"}], 20, "matchers"),     # would match everything
    ([], 20, "matchers"),
    ([{"name": "service", "op": "=", "value": "billing"}], 0, "limit"),
    ([{"name": "service", "op": "=", "value": "billing"}], 101, "limit"),
])
def test_a_bad_preview_names_the_field(engine: sa.Engine, matchers: list[Any], limit: int,
                                       field: str) -> None:
    with core_db.transaction(engine) as s, pytest.raises(FieldError) as err:
        preview_silence(s, matchers, limit)
    assert err.value.field == field
