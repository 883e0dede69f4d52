"""POST /api/v1/admin/cleanup: manager and admin only, 422 naming older_than, the report."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from tests.factories import act, make_alert

URL = "/api/v1/admin/cleanup"


def alert_ids(engine: sa.Engine) -> set[int]:
    with engine.connect() as c:
        return set(c.execute(sa.text("select id from alerts")).scalars())


def history(engine: sa.Engine) -> dict[str, int]:
    """The API runs at the real time: one alert resolved 200 days ago, one 10 days ago,
    one open for 200 days."""
    now = datetime.now(timezone.utc)
    old = make_alert(engine, now - timedelta(days=200), summary="old", severity="info")
    act(engine, old, "resolve", now - timedelta(days=199))
    recent = make_alert(engine, now - timedelta(days=10), summary="recent", severity="info")
    act(engine, recent, "resolve", now - timedelta(days=9))
    still_open = make_alert(engine, now - timedelta(days=200), summary="open", severity="info")
    return {"old": old, "recent": recent, "open": still_open}


def test_manager_runs_a_dry_run_then_the_cleanup(http, engine, manager) -> None:
    a = history(engine)
    r = http.post(URL, json={"older_than": "90d", "dry_run": True}, headers=manager)
    assert r.status_code == 200, r.text
    dry = r.json()
    assert dry["dry_run"] is True and dry["older_than"] == "90d"
    assert dry["deleted"] == {"alerts": 1, "alert_events": 2, "alert_escalations": 0,
                              "notifications": 0, "notification_attempts": 0,
                              "alert_groups": 1}
    assert alert_ids(engine) == set(a.values())             # nothing deleted
    cutoff = datetime.fromisoformat(dry["cutoff"])
    assert cutoff.utcoffset() == timedelta(0)
    assert abs(datetime.fromisoformat(dry["now"]) - cutoff - timedelta(days=90)) < timedelta(seconds=1)

    r = http.post(URL, json={"older_than": "90d"}, headers=manager)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is False and body["deleted"] == dry["deleted"]
    assert body["kept_referenced"] == 0 and body["duration_s"] >= 0
    assert alert_ids(engine) == {a["recent"], a["open"]}


def test_admin_may_and_operator_viewer_may_not(http, engine, admin, operator, viewer) -> None:
    a = history(engine)
    for who in (operator, viewer):
        r = http.post(URL, json={"older_than": "90d"}, headers=who)
        assert r.status_code == 403 and "manager" in r.json()["error"]
    assert http.post(URL, json={"older_than": "90d"}).status_code == 401
    assert alert_ids(engine) == set(a.values())
    r = http.post(URL, json={"older_than": "1w"}, headers=admin)
    assert r.status_code == 200 and r.json()["deleted"]["alerts"] == 2


def test_bad_bodies_get_422_naming_older_than_and_write_nothing(http, engine, manager) -> None:
    a = history(engine)
    for body in ({"older_than": "12h"}, {"older_than": "90"}, {"older_than": "soon"}, {},
                 {"older_than": 90}):
        r = http.post(URL, json=body, headers=manager)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == "older_than" and "older_than" in r.json()["error"]
    r = http.post(URL, json={"older_than": "90d", "purge": True}, headers=manager)
    assert r.status_code == 422 and r.json()["field"] == "purge"
    assert alert_ids(engine) == set(a.values())
    with engine.connect() as c:
        assert c.scalar(sa.text("select count(*) from audit_log where entity = 'retention'")) == 0


def test_daily_retention_policy_by_role(http, manager, operator, viewer) -> None:
    assert http.get("/api/v1/settings/retention", headers=viewer).json() == {"older_than": None}
    r = http.put("/api/v1/settings/retention", json={"older_than": "90d"}, headers=operator)
    assert r.status_code == 403
    r = http.put("/api/v1/settings/retention", json={"older_than": "2h"}, headers=manager)
    assert r.status_code == 422 and r.json()["field"] == "older_than"
    r = http.put("/api/v1/settings/retention", json={"older_than": "13w"}, headers=manager)
    assert r.status_code == 200 and r.json() == {"older_than": "13w"}
    assert http.get("/api/v1/settings/retention", headers=viewer).json() == {"older_than": "13w"}
    r = http.put("/api/v1/settings/retention", json={"older_than": None}, headers=manager)
    assert r.json() == {"older_than": None}
    assert http.get("/api/v1/settings/retention", headers=viewer).json() == {"older_than": None}
