"""Groups over HTTP: the Alertmanager group lands as one group; stats; acting on the
incident; settings by role."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_alertmanager_group_becomes_one_group(http, ingest_key, viewer) -> None:
    body = json.loads((FIXTURES / "alertmanager_v4_firing.json").read_text())
    http.post("/api/v1/webhooks/alertmanager", json=body, headers=ingest_key)
    body = json.loads((FIXTURES / "alertmanager_v4_group_one_resolved.json").read_text())
    http.post("/api/v1/webhooks/alertmanager", json=body, headers=ingest_key)
    listed = http.get("/api/v1/groups", params={"status": "active"}, headers=viewer).json()
    assert listed["total"] == 1
    group = listed["data"][0]
    assert group["group_by"] == {"service": "checkout", "alertname": "HighLatency"}
    assert group["why"] == "1 of 3 resolved" and group["max_severity"] == "medium"
    detail = http.get(f"/api/v1/groups/{group['id']}", headers=viewer).json()
    assert len(detail["members"]) == 3
    assert [m["state"] for m in detail["members"]].count("resolved") == 1
    stats = http.get("/api/v1/groups/stats", headers=viewer).json()
    assert (stats["raw_events"], stats["alerts"], stats["groups"]) == (5, 3, 1)
    assert stats["notifications"] == 0            # no worker ran: the log holds no page
    assert stats["noise_reduction_pct"] == 100.0
    assert http.get("/api/v1/groups", params={"status": "open"},
                    headers=viewer).json()["field"] == "status"
    assert http.get("/api/v1/groups/999", headers=viewer).status_code == 404


def test_grouping_setting_is_data_editable_by_managers(http, viewer, manager, operator,
                                                       ingest_key) -> None:
    assert http.get("/api/v1/settings/grouping", headers=viewer).json()["window_s"] == 300
    new = {"group_by": ["service"], "window_s": 600, "wait_s": {"critical": 0, "high": 5}}
    assert http.put("/api/v1/settings/grouping", json=new, headers=operator).status_code == 403
    r = http.put("/api/v1/settings/grouping", json={**new, "window_s": -1}, headers=manager)
    assert r.status_code == 422 and r.json()["field"] == "window_s"
    r = http.put("/api/v1/settings/grouping", json=new, headers=manager)
    assert r.status_code == 200 and r.json()["wait_s"]["high"] == 5
    for name in ("DiskFull", "HighLatency"):
        http.post("/api/v1/alerts", headers=ingest_key, json={
            "summary": name, "severity": "low", "service": "db", "labels": {"alertname": name}})
    groups = http.get("/api/v1/groups", headers=viewer).json()["data"]
    assert [(g["group_by"], g["member_count"]) for g in groups] == [({"service": "db"}, 2)]


def _incident(http, ingest_key, viewer) -> int:
    body = json.loads((FIXTURES / "alertmanager_v4_firing.json").read_text())
    http.post("/api/v1/webhooks/alertmanager", json=body, headers=ingest_key)
    body = json.loads((FIXTURES / "alertmanager_v4_group_one_resolved.json").read_text())
    http.post("/api/v1/webhooks/alertmanager", json=body, headers=ingest_key)
    return int(http.get("/api/v1/groups", headers=viewer).json()["data"][0]["id"])


def states(engine, group_id: int) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(sa.text("select state from alerts where group_id = :g order by id"),
                              {"g": group_id}).scalars())


def test_acknowledge_then_resolve_the_incident(http, engine, ingest_key, viewer,
                                               operator) -> None:
    g = _incident(http, ingest_key, viewer)
    assert sorted(states(engine, g)) == ["new", "new", "resolved"]
    r = http.post(f"/api/v1/groups/{g}/acknowledge", headers=viewer)
    assert r.status_code == 403 and states(engine, g).count("new") == 2
    r = http.post(f"/api/v1/groups/{g}/acknowledge", headers=operator,
                  json={"until": "2030-01-01T00:00:00Z"})
    assert r.status_code == 422 and r.json()["field"] == "until"
    assert states(engine, g).count("new") == 2
    r = http.post(f"/api/v1/groups/{g}/acknowledge", headers=operator, json={"note": "on it"})
    assert r.status_code == 200, r.text
    assert len(r.json()["alert_ids"]) == 2
    assert sorted(states(engine, g)) == ["acknowledged", "acknowledged", "resolved"]
    with engine.connect() as c:
        notes = c.execute(sa.text(
            "select count(*) from alert_events e join alerts a on a.id = e.alert_id "
            "where a.group_id = :g and e.note = 'on it' and e.actor = 'olga'"), {"g": g}).scalar()
    assert notes == 2
    r = http.post(f"/api/v1/groups/{g}/acknowledge", headers=operator)
    assert r.status_code == 409 and "no alert in 'new'" in r.json()["error"]
    r = http.post(f"/api/v1/groups/{g}/resolve", headers=operator,
                  json={"resolution": "not-a-code"})
    assert r.status_code == 422 and r.json()["field"] == "resolution"
    assert states(engine, g).count("acknowledged") == 2
    r = http.post(f"/api/v1/groups/{g}/resolve", headers=operator, json={"resolution": "fixed"})
    assert r.status_code == 200 and r.json()["group"]["status"] == "resolved"
    assert states(engine, g) == ["resolved"] * 3
    assert http.post("/api/v1/groups/999/resolve", headers=operator).status_code == 404
