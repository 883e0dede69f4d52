from datetime import timedelta

import sqlalchemy as sa

from core.worker import tick
from tests.conftest import T0
from tests.factories import act, make_alert, make_users, row


def test_tick_expires_due_silences_and_is_idempotent(engine: sa.Engine) -> None:
    make_users(engine)
    due = make_alert(engine, T0, summary="due")
    later = make_alert(engine, T0, summary="later")
    act(engine, due, "silence", T0, until=T0 + timedelta(minutes=10))
    act(engine, later, "silence", T0, until=T0 + timedelta(hours=10))
    assert tick(engine, T0 + timedelta(minutes=10))["expire_silences"] == 1
    assert tick(engine, T0 + timedelta(minutes=11))["expire_silences"] == 0
    assert (row(engine, due).state, row(engine, later).state) == ("new", "silenced")
