from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.alerts.store import ActionRequest, add_note, apply, apply_many, expire_silences
from core.errors import FieldError, Forbidden, InvalidTransition
from tests.conftest import T0
from tests.factories import OPERATOR, VIEWER, act, event_rows, make_alert, make_users, row


@pytest.fixture
def alert(engine: sa.Engine) -> int:
    make_users(engine)
    return make_alert(engine, T0)


def test_acknowledge_records_state_time_owner_and_event(engine: sa.Engine, alert: int) -> None:
    act(engine, alert, "acknowledge", T0 + timedelta(seconds=90), note="on it")
    r = row(engine, alert)
    assert (r.state, r.assignee, r.tta_s) == ("acknowledged", "olga", 90.0)
    kinds = [(e.kind, e.from_state, e.to_state, e.actor, e.source, e.note) for e in event_rows(engine, alert)]
    assert kinds == [("created", None, "new", "key:test", "api", None),
                     ("transition", "new", "acknowledged", "olga", "ui", "on it"),
                     ("assign", "acknowledged", "acknowledged", "olga", "ui", None)]


def test_invalid_transition_is_refused_and_writes_nothing(engine: sa.Engine, alert: int) -> None:
    act(engine, alert, "resolve", T0 + timedelta(minutes=1))
    before = len(event_rows(engine, alert))
    with pytest.raises(InvalidTransition, match=f"alert {alert} is resolved; it cannot be acknowledged"):
        act(engine, alert, "acknowledge", T0 + timedelta(minutes=2))
    assert row(engine, alert).state == "resolved" and len(event_rows(engine, alert)) == before


def test_viewer_cannot_act(engine: sa.Engine, alert: int) -> None:
    with pytest.raises(Forbidden):
        act(engine, alert, "acknowledge", T0, actor=VIEWER)
    assert row(engine, alert).state == "new"


def test_events_are_append_only_in_the_database(engine: sa.Engine, alert: int) -> None:
    for sql in ("update alert_events set note = 'x'", "delete from alert_events",
                "truncate alert_events cascade"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with engine.begin() as c:
                c.execute(sa.text(sql))
    assert len(event_rows(engine, alert)) == 1


def test_full_path_resolve_close_reopen_counts(engine: sa.Engine, alert: int) -> None:
    for i, action in enumerate(["investigate", "resolve", "close", "reopen", "resolve", "reopen"]):
        act(engine, alert, action, T0 + timedelta(minutes=i + 1))
    r = row(engine, alert)
    assert (r.state, r.reopen_count, r.resolved_at, r.closed_at) == ("new", 2, None, None)
    assert r.tta_s == 60.0  # the first response stays the response


def test_fifty_concurrent_acknowledges_one_wins(engine: sa.Engine, alert: int) -> None:
    def ack(i: int) -> str:
        try:
            act(engine, alert, "acknowledge", T0 + timedelta(seconds=i))
            return "ok"
        except InvalidTransition:
            return "conflict"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(ack, range(50)))
    assert outcomes.count("ok") == 1 and outcomes.count("conflict") == 49
    acks = [e for e in event_rows(engine, alert) if e.to_state == "acknowledged" and e.kind == "transition"]
    assert len(acks) == 1


def test_silence_returns_to_previous_state_when_time_passes(engine: sa.Engine, alert: int) -> None:
    act(engine, alert, "acknowledge", T0)
    act(engine, alert, "silence", T0, until=T0 + timedelta(hours=1))
    r = row(engine, alert)
    assert (r.state, r.state_before_silence) == ("silenced", "acknowledged")
    with core_db.transaction(engine) as s:
        assert expire_silences(s, T0 + timedelta(minutes=59)) == 0
    with core_db.transaction(engine) as s:
        assert expire_silences(s, T0 + timedelta(hours=1)) == 1
    r = row(engine, alert)
    assert (r.state, r.silenced_until) == ("acknowledged", None)
    last = event_rows(engine, alert)[-1]
    assert (last.actor, last.from_state, last.to_state, last.note) == (
        "worker", "silenced", "acknowledged", "silence expired")


def test_operator_action_ends_silence_first(engine: sa.Engine, alert: int) -> None:
    act(engine, alert, "silence", T0, until=T0 + timedelta(hours=1))
    act(engine, alert, "acknowledge", T0 + timedelta(minutes=5))
    states = [(e.from_state, e.to_state) for e in event_rows(engine, alert) if e.kind == "transition"]
    assert states[-2:] == [("silenced", "new"), ("new", "acknowledged")]
    assert row(engine, alert).state == "acknowledged"


def test_silence_needs_future_until(engine: sa.Engine, alert: int) -> None:
    with pytest.raises(FieldError) as err:
        act(engine, alert, "silence", T0, until=T0 - timedelta(minutes=1))
    assert err.value.field == "until" and row(engine, alert).state == "new"


def test_notes_and_assignment_are_events(engine: sa.Engine, alert: int) -> None:
    with core_db.transaction(engine) as s:
        add_note(s, alert, "checked the disk", OPERATOR, T0, assign_to="maria")
    evs = event_rows(engine, alert)
    assert [(e.kind, e.note) for e in evs[1:]] == [("note", "checked the disk"), ("assign", None)]
    assert row(engine, alert).assignee == "maria"
    with pytest.raises(FieldError, match="assign_to"):
        with core_db.transaction(engine) as s:
            add_note(s, alert, "x", OPERATOR, T0, assign_to="nobody")


def test_bulk_action_reports_each_alert(engine: sa.Engine, alert: int) -> None:
    other = make_alert(engine, T0, summary="cpu hot")
    act(engine, other, "resolve", T0)
    with core_db.transaction(engine) as s:
        res = apply_many(s, [alert, other], ActionRequest("acknowledge"), OPERATOR, T0)
    assert res[alert] is None and "is resolved" in (res[other] or "")
    assert row(engine, alert).state == "acknowledged" and row(engine, other).state == "resolved"


def test_machine_resolution_is_not_a_human_response(engine: sa.Engine, alert: int) -> None:
    from core.actor import Actor
    with core_db.transaction(engine) as s:
        apply(s, alert, ActionRequest("resolve"), Actor("key:am", "operator", "api", False), T0)
    r = row(engine, alert)
    assert r.state == "resolved" and r.acknowledged_at is None and r.assignee is None


def test_expired_ack_shows_on_the_queue_until_acknowledged_again(engine: sa.Engine,
                                                                 alert: int) -> None:
    from core.actor import WORKER
    from core.alerts.queue import AlertFilter
    from core.views import queue_page

    act(engine, alert, "acknowledge", T0)
    act(engine, alert, "unacknowledge", T0 + timedelta(hours=1), actor=WORKER,
        note="ack expired after 1 h")
    assert row(engine, alert).ack_expired_at == T0 + timedelta(hours=1)
    with core_db.transaction(engine) as s:
        df, _ = queue_page(s, AlertFilter(state=("open",)), T0 + timedelta(hours=1))
    assert df["state"].tolist() == ["new · ack expired"]
    act(engine, alert, "acknowledge", T0 + timedelta(hours=2))
    assert row(engine, alert).ack_expired_at is None
