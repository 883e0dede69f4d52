"""On-call schedules on a real PostgreSQL: validation (nothing stored), who may override,
current/shifts, the escalation target resolved at fire time (driven by worker.tick)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core import worker
from core.errors import Conflict, FieldError, Forbidden, NotFound
from core.escalation.store import create_policy
from core.oncall import store
from tests.conftest import T0
from tests.factories import ADMIN, MANAGER, OPERATOR, VIEWER, event_rows, make_alert, make_users

DAY = timedelta(days=1)


def body(**changes: Any) -> dict[str, Any]:
    layer = {"name": "primary", "rotation": "daily", "handoff": "09:00", "start": "2026-03-02",
             "participants": ["olga", "maria"]}
    layer.update(changes.pop("layer", {}))
    return {"name": "NOC primary", "timezone": "UTC", "layers": [layer], **changes}


def create(engine: sa.Engine, **changes: Any) -> int:
    with core_db.transaction(engine) as s:
        return int(store.create_schedule(s, body(**changes), MANAGER, T0)["id"])


def override(engine: sa.Engine, sid: int, username: str, start: Any, end: Any,
             actor: Any = MANAGER, at: Any = T0) -> dict[str, Any]:
    with core_db.transaction(engine) as s:
        return store.create_override(s, {"schedule_id": sid, "username": username,
                                         "start": start.isoformat(), "end": end.isoformat()},
                                     actor, at)


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text(f"select count(*) from {table}")) or 0)


@pytest.mark.parametrize(("changes", "field"), [
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"layer": {"handoff": "25:00"}}, "layers[0].handoff"),
    ({"layer": {"participants": ["olga", "ghost"]}}, "layers[0].participants[1]"),
    ({"layer": {"participants": []}}, "layers[0].participants"),
    ({"layer": {"restrictions": [{"days": [1, 9], "from": "09:00", "to": "17:00"}]}},
     "layers[0].restrictions[0].days"),
])
def test_bad_schedules_name_the_field_and_store_nothing(engine, changes: dict, field: str) -> None:
    make_users(engine)
    with pytest.raises(FieldError) as err:
        create(engine, **changes)
    assert err.value.field == field
    assert count(engine, "oncall_schedules") == 0 and count(engine, "oncall_layers") == 0


def test_create_get_list_and_roles(engine) -> None:
    make_users(engine)
    with pytest.raises(Forbidden), core_db.transaction(engine) as s:
        store.create_schedule(s, body(), OPERATOR, T0)
    sid = create(engine, layer={"restrictions": [{"days": [1, 2], "from": "22:00", "to": "06:00"}]})
    with pytest.raises(Conflict):
        create(engine)
    create(engine, name="Weekly", enabled=False, layer={"rotation": "weekly"})
    with core_db.transaction(engine) as s:
        got = store.get_schedule(s, sid)
        assert got["layers"][0]["restrictions"] == [{"days": [1, 2], "from": "22:00", "to": "06:00"}]
        assert got["created_by"] == "maria" and got["layers"][0]["position"] == 0
        assert [r["name"] for r in store.list_schedules(s)] == ["NOC primary", "Weekly"]
        assert [r["name"] for r in store.list_schedules(s, enabled=True)] == ["NOC primary"]
        assert [r["name"] for r in store.list_schedules(s, rotation_type="weekly")] == ["Weekly"]
        with pytest.raises(FieldError):
            store.list_schedules(s, rotation_type="hourly")
        with pytest.raises(NotFound):
            store.get_schedule(s, 999)
        assert [c["schedule_name"] for c in store.current(s, None, T0)] == ["NOC primary"]


def test_overrides_who_may_and_what_is_checked(engine) -> None:
    make_users(engine)
    sid = create(engine)
    other = create(engine, name="DB team", layer={"participants": ["maria"]})
    with pytest.raises(Forbidden):  # an operator may put only themselves on call
        override(engine, sid, "maria", T0, T0 + DAY, actor=OPERATOR)
    with pytest.raises(Forbidden):  # ... and only on a schedule they take part in
        override(engine, other, "olga", T0, T0 + DAY, actor=OPERATOR)
    with pytest.raises(Forbidden):
        override(engine, sid, "victor", T0, T0 + DAY, actor=VIEWER)
    for bad, field in [({"end": T0 - DAY}, "end"), ({"username": "ghost"}, "username"),
                       ({"sid": 999}, "schedule_id")]:
        with pytest.raises(FieldError) as err:
            override(engine, bad.get("sid", sid), bad.get("username", "maria"), T0,
                     bad.get("end", T0 + DAY))
        assert err.value.field == field
    assert count(engine, "oncall_overrides") == 0
    mine = override(engine, sid, "olga", T0 + DAY, T0 + 2 * DAY, actor=OPERATOR)
    assert mine["created_by"] == "olga" and mine["end"] == T0 + 2 * DAY
    override(engine, sid, "ada", T0 + DAY + timedelta(hours=2), T0 + DAY + timedelta(hours=4),
             at=T0 + timedelta(minutes=1))  # overlapping, created later: wins
    with core_db.transaction(engine) as s:
        assert len(store.list_overrides(s, sid, T0, T0 + 3 * DAY)) == 2
        assert store.resolve_schedule_target(s, sid, T0) == "olga"
        assert store.resolve_schedule_target(s, sid, T0 + DAY + timedelta(hours=1)) == "olga"
        assert store.resolve_schedule_target(s, sid, T0 + DAY + timedelta(hours=3)) == "ada"
        got = store.shifts(s, sid, T0, T0 + 3 * DAY)
        assert [(x.username, x.source) for x in got] == [
            ("olga", "primary + override"), ("ada", "override"), ("olga", "override + primary")]
        [now] = store.current(s, sid, T0 + DAY + timedelta(hours=3))
        assert (now["username"], now["next"]["username"]) == ("ada", "olga")
        with pytest.raises(FieldError):
            store.shifts(s, sid, T0, T0 - DAY)


def test_resolve_schedule_target_disabled_or_gap_is_nobody(engine) -> None:
    make_users(engine)
    later = create(engine, name="Later", layer={"start": "2027-01-01"})
    off = create(engine, name="Off", enabled=False)
    with core_db.transaction(engine) as s:
        assert store.resolve_schedule_target(s, later, T0) is None
        assert store.resolve_schedule_target(s, off, T0) is None
        assert store.resolve_schedule_target(s, 999, T0) is None
        [cur] = store.current(s, later, T0)
        assert cur["username"] is None and cur["contact"] is None
        assert cur["next"]["username"] == "olga"


def test_policies_refuse_unknown_schedules(engine) -> None:
    make_users(engine)
    policy = {"name": "p", "tiers": [{"delay_s": 0, "targets": [
        {"type": "schedule", "schedule_id": 41}]}]}
    with pytest.raises(FieldError) as err, core_db.transaction(engine) as s:
        create_policy(s, policy, ADMIN, T0)
    assert err.value.field == "tiers[0].targets[0].schedule_id"


def test_a_schedule_tier_pages_whoever_is_on_call_when_it_fires(engine, monkeypatch) -> None:
    monkeypatch.setenv("ALERTDESK_SMTP_PORT", "9")  # nothing listens: delivery just retries
    make_users(engine)
    with engine.begin() as c:
        c.execute(sa.text("update users set email = username || '@example.com'"))
    sid = create(engine)  # daily at 09:00 UTC from T0: olga, then maria
    gap = create(engine, name="Later", layer={"start": "2027-01-01"})
    override(engine, sid, "ada", T0 + DAY - timedelta(hours=1), T0 + DAY + timedelta(hours=2))
    with core_db.transaction(engine) as s:
        create_policy(s, {"name": "on-call", "priority": 1, "match": {"service": "oncall"},
                          "tiers": [{"delay_s": 0, "targets": [
                              {"type": "schedule", "schedule_id": sid},
                              {"type": "schedule", "schedule_id": gap}]},
                              {"delay_s": 86400, "targets": [
                                  {"type": "schedule", "schedule_id": sid}]}]}, MANAGER, T0)
    alert = make_alert(engine, T0, service="oncall", severity="high")
    worker.tick(engine, T0 + timedelta(minutes=1))
    worker.tick(engine, T0 + DAY + timedelta(minutes=1))  # the override puts ada on call
    with engine.connect() as c:
        sent = c.execute(sa.text("select channel, recipient from notifications "
                                 "where alert_id = :a order by id"), {"a": alert}).all()
    assert [tuple(r) for r in sent] == [("email", "olga@example.com"), ("console", "console"),
                                        ("email", "ada@example.com")]
    first, second = [e for e in event_rows(engine, alert) if e.kind == "escalation"]
    assert first.note == ("tier 1 fired: schedule 'NOC primary' → olga: email to "
                          "olga@example.com, console for schedule 'Later' (nobody on call)")
    assert first.metadata["on_call"] == [
        {"schedule_id": sid, "schedule": "NOC primary", "username": "olga"},
        {"schedule_id": gap, "schedule": "Later", "username": None}]
    assert second.note == "tier 2 fired: schedule 'NOC primary' → ada: email to ada@example.com"
    assert second.metadata["on_call"][0]["username"] == "ada"
