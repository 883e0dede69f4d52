"""Routing you can see: the preview picks the policy the worker picks and names the people
the worker then pages, at each tier's time; bad input names the field and writes nothing."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core import worker
from core.errors import FieldError, NotFound
from core.escalation.preview import preview
from core.escalation.store import create_policy
from core.oncall import store as oncall
from tests.conftest import T0
from tests.factories import MANAGER, make_alert, make_users

DAY = timedelta(days=1)


def setup(engine: sa.Engine) -> int:
    make_users(engine)
    with engine.begin() as c:
        c.execute(sa.text("update users set email = username || '@example.com'"))
        c.execute(sa.text("update users set phone = '+15551230001' where username = 'olga'"))
    with core_db.transaction(engine) as s:   # daily at 09:00 UTC from T0: olga, then maria
        sid = int(oncall.create_schedule(s, {
            "name": "NOC primary", "timezone": "UTC", "layers": [{
                "name": "primary", "rotation": "daily", "handoff": "09:00",
                "start": "2026-03-02", "participants": ["olga", "maria"]}]}, MANAGER, T0)["id"])
        tiers = [{"delay_s": 0, "targets": [{"type": "schedule", "schedule_id": sid},
                                            {"type": "user", "username": "ada"}]},
                 {"delay_s": 86400, "targets": [{"type": "schedule", "schedule_id": sid}]}]
        create_policy(s, {"name": "high default", "match": {"severity": ["high"]},
                          "tiers": [{"delay_s": 0, "targets": [{"type": "console"}]}]},
                      MANAGER, T0)
        create_policy(s, {"name": "billing", "match": {"service": "billing"}, "tiers": tiers},
                      MANAGER, T0)
        create_policy(s, {"name": "db team", "match": {"labels": {"team": "db"}},
                          "tiers": tiers, "enabled": False}, MANAGER, T0)
    return sid


def run(engine: sa.Engine, body: Any) -> dict[str, Any]:
    with core_db.transaction(engine) as s:
        return preview(s, body, T0)


def test_preview_names_who_the_worker_then_pages(engine: sa.Engine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDESK_SMTP_PORT", "9")  # nothing listens: delivery just retries
    setup(engine)
    p = run(engine, {"severity": "high", "service": "billing", "labels": {"team": "web"}})
    assert p["policy"]["name"] == "billing" and p["group_wait_s"] == 15
    verdicts = {v["name"]: v for v in p["policies"]}
    assert verdicts["high default"]["why_not"] == (
        "matches, but 'billing' is more specific at the same priority")
    assert verdicts["db team"]["why_not"] == "disabled"
    [t1, t2] = p["tiers"]
    assert t1["at"] == T0 + timedelta(seconds=15) and t2["at"] == T0 + timedelta(seconds=15) + DAY
    assert [n["label"] for n in t1["notify"]] == [
        "schedule 'NOC primary' → olga: email to olga@example.com", "email to ada@example.com"]
    assert [n["label"] for n in t2["notify"]] == [
        "schedule 'NOC primary' → maria: email to maria@example.com"]
    alert = make_alert(engine, T0, severity="high", service="billing", labels={"team": "web"})
    assert run(engine, {"alert_id": alert})["policy"]["name"] == "billing"
    worker.tick(engine, T0 + timedelta(seconds=15))
    worker.tick(engine, T0 + timedelta(seconds=15) + DAY)
    with engine.connect() as c:
        sent = c.execute(sa.text("select channel, recipient from notifications "
                                 "where alert_id = :a order by id"), {"a": alert}).all()
    previewed = [(n["channel"], n["label"].rsplit(" ", 1)[-1]) for t in (t1, t2)
                 for n in t["notify"]]
    assert [tuple(r) for r in sent] == previewed


def test_why_the_others_did_not_match(engine: sa.Engine) -> None:
    setup(engine)
    p = run(engine, {"severity": "critical", "service": "web"})
    assert p["policy"]["name"] == "critical"   # the seeded default for critical alerts
    verdicts = {v["name"]: v["why_not"] for v in p["policies"] if not v["matches"]}
    assert verdicts["billing"] == "service web is not billing"
    assert verdicts["high default"] == "severity critical is not high"
    low = run(engine, {"severity": "info", "service": "web"})
    assert low["policy"]["name"] == "low and info" and low["group_wait_s"] == 60
    assert [n["label"] for n in low["tiers"][0]["notify"]] == ["slack noc"]


@pytest.mark.parametrize("body, field", [
    ({"severity": "urgent"}, "severity"),
    ({"severity": "high", "labels": {"team": ["db"]}}, "labels.team"),
    ({"severity": "high", "service": 7}, "service"),
    ({"alert_id": "7"}, "alert_id"),
    ({"alert_id": True}, "alert_id"),
    ([], "body"),
])
def test_bad_input_names_the_field(engine: sa.Engine, body: Any, field: str) -> None:
    with pytest.raises(FieldError) as err:
        run(engine, body)
    assert err.value.field == field


def test_unknown_alert(engine: sa.Engine) -> None:
    with pytest.raises(NotFound):
        run(engine, {"alert_id": 999})
