"""Flapping flags and heartbeat misses, driven by the worker tick with injected time."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.alerts import queue
from core.alerts.flapping import is_flapping
from core.alerts.model import AlertIn
from core.ingest.batch import ingest_batch
from core.ingest.heartbeats import BeatIn, BeatResult, beat
from core.ingest.signal import Signal
from core.worker import tick
from tests.conftest import T0
from tests.factories import act, event_rows, make_users, row

SOURCE = Actor("key:prometheus", "operator", "alertmanager", is_human=False)
CRON = Actor("key:cron", "operator", "api", is_human=False)


def signal(engine: sa.Engine, status: str, at: datetime) -> int:
    alert = AlertIn(summary="link eth0 flapping", severity="high", source="prometheus",
                    fingerprint="fp-link")
    with core_db.transaction(engine) as s:
        return next(iter(ingest_batch(s, [Signal(alert, status)], SOURCE, at).ids.values()))


def minutes(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def flaps(engine: sa.Engine, now: datetime) -> int:
    return tick(engine, now)["mark_flapping"]


def test_more_than_four_changes_in_30_min_flags_then_clears(engine: sa.Engine) -> None:
    make_users(engine)
    alert_id = signal(engine, "firing", minutes(0))             # created: not a change
    for m, status in ((1, "resolved"), (2, "firing"), (3, "resolved"), (4, "firing")):
        assert signal(engine, status, minutes(m)) == alert_id   # source resolve / reopen
    assert flaps(engine, minutes(5)) == 0                        # exactly 4: not flapping
    act(engine, alert_id, "acknowledge", minutes(6))            # an operator's change: 5
    assert flaps(engine, minutes(6)) == 1
    assert flaps(engine, minutes(6)) == 0                        # idempotent
    r = row(engine, alert_id)
    assert (r.flapping, r.flapping_since, r.state) == (True, minutes(6), "acknowledged")
    assert queue.alert_dict(r, minutes(6))["flapping"] is True
    ev = [e for e in event_rows(engine, alert_id) if e.kind == "flapping"]
    assert len(ev) == 1 and (ev[0].actor, ev[0].source, ev[0].at) == ("worker", "worker", minutes(6))
    assert ev[0].metadata == {"flapping": True, "changes": 5, "max_changes": 4, "window_s": 1800}
    assert flaps(engine, minutes(30)) == 0                       # the 1-min change still counts
    assert flaps(engine, minutes(31)) == 1                       # now 4 in the window: cleared
    r = row(engine, alert_id)
    assert (r.flapping, r.flapping_since) == (False, None)
    last = [e for e in event_rows(engine, alert_id) if e.kind == "flapping"][-1]
    assert last.metadata["flapping"] is False and last.metadata["changes"] == 4
    assert last.note == "stopped flapping: 4 state changes in the last 1800 s"


def test_the_job_agrees_with_the_pure_rule(engine: sa.Engine) -> None:
    make_users(engine)
    alert_id = signal(engine, "firing", minutes(0))
    for i, action in enumerate(("acknowledge", "investigate", "resolve", "reopen")):
        act(engine, alert_id, action, minutes(i + 1))
    act(engine, alert_id, "silence", minutes(5), until=minutes(50))
    act(engine, alert_id, "silence", minutes(6), until=minutes(60))  # same state: no change
    for now in (minutes(5.5), minutes(6), minutes(31.5), minutes(36)):
        tick(engine, now)
        times = [e.at for e in event_rows(engine, alert_id)
                 if e.kind == "transition" and e.from_state != e.to_state]
        assert row(engine, alert_id).flapping is is_flapping(times, now, 4, timedelta(minutes=30))
    assert [r.metadata["flapping"] for r in event_rows(engine, alert_id)
            if r.kind == "flapping"] == [True, False]


def test_the_rule_is_data(engine: sa.Engine) -> None:
    make_users(engine)
    with engine.begin() as c:
        c.execute(sa.text("""update settings set value = '{"max_changes": 1, "window_s": 60}'
                             where key = 'flapping'"""))
    alert_id = signal(engine, "firing", minutes(0))
    act(engine, alert_id, "acknowledge", minutes(1))
    act(engine, alert_id, "resolve", minutes(1.5))
    assert flaps(engine, minutes(1.5)) == 1
    assert flaps(engine, minutes(2.2)) == 1                      # the ack left the minute


def do_beat(engine: sa.Engine, at: datetime, name: str = "nightly-backup",
            body: BeatIn | None = None) -> BeatResult:
    with core_db.transaction(engine) as s:
        return beat(s, name, body or BeatIn(), CRON, at)


def seconds(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def scalar(engine: sa.Engine, sql: str) -> Any:
    with engine.connect() as c:
        return c.scalar(sa.text(sql))


def test_a_missed_heartbeat_raises_one_alert_and_the_next_beat_resolves_it(
        engine: sa.Engine) -> None:
    first = do_beat(engine, T0, body=BeatIn(service="backup", severity="critical"))
    assert first.created and first.heartbeat["expires_at"] == seconds(300)
    assert tick(engine, seconds(299))["check_heartbeats"] == 0
    assert scalar(engine, "select count(*) from alerts") == 0
    assert tick(engine, seconds(300))["check_heartbeats"] == 1   # due exactly at expiry
    assert tick(engine, seconds(301))["check_heartbeats"] == 0   # idempotent
    a = row(engine, scalar(engine, "select id from alerts"))
    assert scalar(engine, "select count(*) from alerts") == 1
    assert (a.fingerprint, a.source, a.severity, a.service, a.state) == (
        "heartbeat:nightly-backup", "heartbeat", "critical", "backup", "new")
    assert a.summary == ("Heartbeat nightly-backup missed: no beat since "
                         "2026-03-02T09:00:00+00:00 (timeout 300 s)")
    assert a.labels == {"alertname": "HeartbeatMissed", "heartbeat": "nightly-backup"}
    assert scalar(engine, "select state || ':' || alert_id from heartbeats") == f"missed:{a.id}"
    assert [(e.kind, e.actor) for e in event_rows(engine, a.id)
            if e.kind != "escalation"] == [("created", "worker"), ("heartbeat", "worker")]

    again = do_beat(engine, seconds(400))
    assert not again.created and again.resolved_alert_id == a.id
    assert again.heartbeat["state"] == "ok" and again.heartbeat["alert_id"] == a.id
    assert again.heartbeat["expires_at"] == seconds(700)
    assert row(engine, a.id).state == "resolved"
    resolve = [e for e in event_rows(engine, a.id) if e.kind == "transition"][-1]
    assert (resolve.actor, resolve.source, resolve.to_state, resolve.at) == (
        "key:cron", "api", "resolved", seconds(400))
    assert event_rows(engine, a.id)[-1].kind == "heartbeat"
    assert tick(engine, seconds(699))["check_heartbeats"] == 0


def test_late_beat_before_the_worker_noticed_raises_nothing(engine: sa.Engine) -> None:
    do_beat(engine, T0, body=BeatIn(timeout_s=60))
    later = do_beat(engine, seconds(90))                          # late, but not seen missed
    assert later.resolved_alert_id is None and later.heartbeat["timeout_s"] == 60
    assert tick(engine, seconds(120))["check_heartbeats"] == 0
    assert scalar(engine, "select count(*) from alerts") == 0


def test_second_miss_after_the_flap_window_opens_a_new_alert(engine: sa.Engine) -> None:
    do_beat(engine, T0, body=BeatIn(timeout_s=60))
    tick(engine, seconds(60))
    do_beat(engine, seconds(70))
    tick(engine, seconds(70 + 60 + 600))
    assert scalar(engine, "select count(*) from alerts") == 2
    assert scalar(engine, "select count(*) from alerts where state = 'new'") == 1
    assert scalar(engine, "select alert_id = (select max(id) from alerts) from heartbeats")


def test_a_heartbeat_being_beaten_is_skipped_not_waited_for(engine: sa.Engine) -> None:
    do_beat(engine, T0, "locked", BeatIn(timeout_s=10))
    do_beat(engine, T0, "free", BeatIn(timeout_s=10))
    with engine.connect() as other:
        other.execute(sa.text("select 1 from heartbeats where name = 'locked' for update"))
        assert tick(engine, seconds(20))["check_heartbeats"] == 1
        other.rollback()
    assert tick(engine, seconds(21))["check_heartbeats"] == 1
    assert scalar(engine, "select count(*) from heartbeats where state = 'missed'") == 2
