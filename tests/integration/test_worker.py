from datetime import timedelta

import sqlalchemy as sa

from core.worker import tick
from tests.conftest import T0
from tests.factories import act, event_rows, make_alert, make_users, row


def test_tick_expires_due_silences_and_is_idempotent(engine: sa.Engine) -> None:
    make_users(engine)
    due = make_alert(engine, T0, summary="due")
    later = make_alert(engine, T0, summary="later")
    act(engine, due, "silence", T0, until=T0 + timedelta(minutes=10))
    act(engine, later, "silence", T0, until=T0 + timedelta(hours=10))
    assert tick(engine, T0 + timedelta(minutes=10))["expire_silences"] == 1
    assert tick(engine, T0 + timedelta(minutes=11))["expire_silences"] == 0
    assert (row(engine, due).state, row(engine, later).state) == ("new", "silenced")


def test_sla_breach_events_once_per_clock(engine: sa.Engine) -> None:
    make_users(engine)
    late = make_alert(engine, T0, summary="nobody looks", severity="critical")
    acked = make_alert(engine, T0, summary="someone looks", severity="critical")
    act(engine, acked, "acknowledge", T0 + timedelta(minutes=2))

    def breaches(alert_id: int) -> list[str]:
        return [e.metadata["clock"] for e in event_rows(engine, alert_id) if e.kind == "sla_breach"]

    assert tick(engine, T0 + timedelta(minutes=4))["mark_sla_breaches"] == 0
    assert tick(engine, T0 + timedelta(minutes=6))["mark_sla_breaches"] == 1
    assert tick(engine, T0 + timedelta(minutes=7))["mark_sla_breaches"] == 0
    assert breaches(late) == ["TTA"] and breaches(acked) == []
    assert tick(engine, T0 + timedelta(minutes=31))["mark_sla_breaches"] == 2
    assert breaches(late) == ["TTA", "TTR"] and breaches(acked) == ["TTR"]
    note = [e.note for e in event_rows(engine, late) if e.kind == "sla_breach"][0]
    assert note == "TTA target of 300 s missed (due 2026-03-02 09:05:00 UTC)"
