"""Retention on a schedule: off until a manager sets an age; then the worker's runner
deletes once a day (the audit trail says when it last ran), on its own thread."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.errors import FieldError, Forbidden
from core.retention.schedule import RetentionRunner, due, put_policy, run_if_due
from tests.conftest import T0
from tests.factories import MANAGER, OPERATOR, act, make_alert, make_users

DAY = timedelta(days=1)


def alerts(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text("select count(*) from alerts")) or 0)


def test_off_until_set_then_once_a_day(engine: sa.Engine) -> None:
    make_users(engine)
    old = make_alert(engine, T0, summary="long gone")
    act(engine, old, "resolve", T0 + timedelta(hours=1))
    make_alert(engine, T0, summary="still open")
    now = T0 + 100 * DAY
    assert run_if_due(engine, now) is None and alerts(engine) == 2     # no policy: off
    with core_db.transaction(engine) as s:
        assert put_policy(s, {"older_than": "90d"}, MANAGER, now) == {"older_than": "90d"}
    report = run_if_due(engine, now)
    assert report is not None and report["deleted"]["alerts"] == 1 and alerts(engine) == 1
    assert run_if_due(engine, now + timedelta(hours=23)) is None          # ran today
    with core_db.transaction(engine) as s:
        assert due(s, now + DAY) == timedelta(days=90)                    # tomorrow: due
        put_policy(s, {"older_than": None}, MANAGER, now + DAY)
    with core_db.transaction(engine) as s:
        assert due(s, now + 2 * DAY) is None                              # switched off


def test_policy_is_checked_and_needs_a_manager(engine: sa.Engine) -> None:
    make_users(engine)
    for body, field in (({"older_than": "12h"}, "older_than"), ({"older_than": 90}, "older_than"),
                        ({"age": "90d"}, "body")):
        with pytest.raises(FieldError) as err, core_db.transaction(engine) as s:
            put_policy(s, body, MANAGER, T0)
        assert err.value.field == field
    with pytest.raises(Forbidden), core_db.transaction(engine) as s:
        put_policy(s, {"older_than": "90d"}, OPERATOR, T0)


def test_the_runner_works_on_its_own_thread_and_not_too_often(engine: sa.Engine) -> None:
    make_users(engine)
    old = make_alert(engine, T0, summary="long gone")
    act(engine, old, "resolve", T0 + timedelta(hours=1))
    now = T0 + 100 * DAY
    with core_db.transaction(engine) as s:
        put_policy(s, {"older_than": "30d"}, MANAGER, now)
    runner = RetentionRunner(check_every_s=600)
    thread = runner.poke(engine, now, monotonic=1000.0)
    assert thread is not None
    thread.join(30)
    assert alerts(engine) == 0
    assert runner.poke(engine, now + DAY, monotonic=1300.0) is None      # checked 5 min ago
    again = runner.poke(engine, now + DAY, monotonic=1700.0)
    assert again is not None
    again.join(30)
