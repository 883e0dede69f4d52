"""Groups over HTTP: the Alertmanager group lands as one group; stats; settings by role."""
from __future__ import annotations

import json
from pathlib import Path

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
    assert stats["noise_reduction_pct"] == 80.0
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
