"""Escalation policies over HTTP: roles, field-named 422s, list, the per-alert timeline."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from core import worker

CONSOLE = {"type": "console"}


def policy(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "payments", "priority": 10, "match": {"service": "payments"},
        "tiers": [{"delay_s": 0, "targets": [{"type": "user", "username": "olga"}, CONSOLE]},
                  {"delay_s": 300, "targets": [{"type": "email", "to": "pay@example.com"}]}],
        "repeat": {"every_s": 900, "times": 2}}
    body.update(changes)
    return body


def test_roles_list_and_create(http, viewer, operator, manager) -> None:
    r = http.get("/api/v1/escalation-policies", headers=viewer)
    assert r.status_code == 200
    assert [p["name"] for p in r.json()["data"]] == ["critical", "high", "medium", "low and info"]
    assert http.post("/api/v1/escalation-policies", json=policy(), headers=operator).status_code == 403
    assert http.post("/api/v1/escalation-policies", json=policy()).status_code == 401
    r = http.post("/api/v1/escalation-policies", json=policy(), headers=manager)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["created_by"] == "maria" and created["repeat"] == {"every_s": 900, "times": 2}
    names = [p["name"] for p in http.get("/api/v1/escalation-policies", headers=viewer).json()["data"]]
    assert names[0] == "payments"   # priority 10 comes first
    assert http.post("/api/v1/escalation-policies", json=policy(),
                     headers=manager).status_code == 409


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"tiers": [{"delay_s": 300, "targets": [CONSOLE]}, {"delay_s": 60, "targets": [CONSOLE]}]},
     "tiers[1].delay_s", "tiers[1].delay_s: must be greater than tiers[0].delay_s"),
    ({"tiers": [{"delay_s": 0, "targets": [CONSOLE, {"type": "user", "username": "ghost"}]}]},
     "tiers[0].targets[1].username", "no active user 'ghost'"),
    ({"tiers": [{"delay_s": 0, "targets": [{"type": "pager"}]}]}, "tiers[0].targets[0].type",
     "must be one of"),
    ({"tiers": [{"delay_s": 0, "targets": [{"type": "schedule", "schedule_id": 99}]}]},
     "tiers[0].targets[0].schedule_id", "no on-call schedule 99"),
    ({"tiers": []}, "tiers", "at least one tier"),
    ({"match": {"severity": ["sev1"]}}, "match.severity[0]", "unknown severity"),
])
def test_validation_names_the_field(http, manager, changes: dict, field: str, text: str) -> None:
    r = http.post("/api/v1/escalation-policies", json=policy(**changes), headers=manager)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and text in r.json()["error"]


def test_put_replaces_and_secrets_are_sealed(http, manager, viewer, operator) -> None:
    pid = http.post("/api/v1/escalation-policies", json=policy(), headers=manager).json()["id"]
    slack = {"type": "slack", "webhook_url": "https://hooks.slack.com/services/T0/B0/secret"}
    body = policy(tiers=[{"delay_s": 0, "targets": [slack]}], repeat=None)
    assert http.put(f"/api/v1/escalation-policies/{pid}", json=body,
                    headers=operator).status_code == 403
    r = http.put(f"/api/v1/escalation-policies/{pid}", json=body, headers=manager)
    assert r.status_code == 200, r.text
    assert "secret" not in r.text
    [target] = r.json()["tiers"][0]["targets"]
    assert target["webhook_url_sealed"] == "•••" and target["webhook_url_display"]
    got = http.get(f"/api/v1/escalation-policies/{pid}", headers=viewer).json()
    assert got["repeat"] is None and "secret" not in str(got)
    assert http.put("/api/v1/escalation-policies/9999", json=body, headers=manager).status_code == 404


def test_alert_escalation_timeline(http, engine, ingest_key, viewer) -> None:
    r = http.post("/api/v1/alerts", json={"summary": "db down", "severity": "critical"},
                  headers=ingest_key)
    alert_id = r.json()["id"]
    created = datetime.fromisoformat(http.get(f"/api/v1/alerts/{alert_id}", headers=viewer)
                                     .json()["created_at"])
    worker.tick(engine, created + timedelta(seconds=1))
    r = http.get(f"/api/v1/alerts/{alert_id}/escalation", headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["escalation"]["policy_snapshot"]["name"] == "critical"
    assert body["escalation"]["state"] == "active"
    [step] = body["steps"]
    assert step["metadata"]["tier"] == 1 and step["note"].startswith("tier 1 fired:")
    assert {n["channel"] for n in step["notifications"]} == {"console", "pagerduty", "slack"}
    assert {n["status"] for n in body["notifications"]} <= {"pending", "sent", "failed"}
    assert http.get("/api/v1/alerts/999999/escalation", headers=viewer).status_code == 404


def test_routing_preview_by_role_and_bad_input(http, viewer, operator, manager) -> None:
    body = {"severity": "info", "service": "web", "labels": {"team": "db"}}
    assert http.post("/api/v1/escalation-policies/preview", json=body,
                     headers=viewer).status_code == 403     # it shows people's contacts
    r = http.post("/api/v1/escalation-policies/preview", json=body, headers=operator)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["policy"]["name"] == "low and info" and got["group_wait_s"] == 60
    assert [n["label"] for n in got["tiers"][0]["notify"]] == ["slack noc"]
    assert {v["name"]: v.get("why_not") for v in got["policies"]}["critical"] == (
        "severity info is not critical")
    for bad, field in (({"severity": "urgent"}, "severity"), ({"alert_id": 0}, "alert_id"),
                       ({"severity": "high", "labels": []}, "labels")):
        r = http.post("/api/v1/escalation-policies/preview", json=bad, headers=operator)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    r = http.post("/api/v1/escalation-policies/preview", json={"alert_id": 99}, headers=operator)
    assert r.status_code == 404
    r = http.post("/api/v1/escalation-policies/preview", content=b"[1,", headers={
        **operator, "Content-Type": "application/json"})
    assert r.status_code in (400, 422)


def test_escalate_now_and_add_a_responder_over_http(http, engine, ingest_key, viewer,
                                                    operator) -> None:
    r = http.post("/api/v1/alerts", json={"summary": "db down", "severity": "critical"},
                  headers=ingest_key)
    alert_id = r.json()["id"]
    group_id = r.json()["group_id"]
    created = datetime.fromisoformat(r.json()["created_at"])
    r = http.post(f"/api/v1/groups/{group_id}/escalate", headers=operator)
    assert r.status_code == 409 and "no escalation" in r.json()["error"]   # not started yet
    worker.tick(engine, created + timedelta(seconds=1))
    assert http.post(f"/api/v1/groups/{group_id}/escalate", headers=viewer).status_code == 403
    r = http.post(f"/api/v1/groups/{group_id}/escalate", headers=operator)
    assert r.status_code == 200 and r.json()["alert_id"] == alert_id
    assert http.post("/api/v1/groups/99999/escalate", headers=operator).status_code == 404
    r = http.post(f"/api/v1/alerts/{alert_id}/responders", headers=operator,
                  json={"type": "user", "username": "nobody"})
    assert r.status_code == 422 and r.json()["field"] == "username"
    r = http.post(f"/api/v1/alerts/{alert_id}/responders", headers=operator,
                  json={"type": "user", "username": "maria"})
    assert r.status_code == 200, r.text
    assert r.json()["paged"] == ["console for maria (no email or phone)"]
    events = http.get(f"/api/v1/alerts/{alert_id}", headers=viewer).json()["events"]
    assert [e["actor"] for e in events if (e["note"] or "").startswith(
        ("escalate now", "responder added"))] == ["olga", "olga"]


def test_an_acknowledged_alert_never_reads_as_escalating(http, engine, ingest_key, viewer,
                                                         operator) -> None:
    r = http.post("/api/v1/alerts", json={"summary": "db down", "severity": "critical"},
                  headers=ingest_key)
    alert_id, group_id = r.json()["id"], r.json()["group_id"]
    worker.tick(engine, datetime.fromisoformat(r.json()["created_at"]) + timedelta(seconds=1))
    esc = http.get(f"/api/v1/alerts/{alert_id}/escalation", headers=viewer).json()["escalation"]
    assert esc["state"] == "active" and esc["next_at"] is not None
    r = http.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "on it"},
                  headers=operator)
    assert r.status_code == 200, r.text
    esc = http.get(f"/api/v1/alerts/{alert_id}/escalation", headers=viewer).json()["escalation"]
    assert (esc["state"], esc["stopped_reason"], esc["next_at"]) == (
        "stopped", "acknowledged", None)  # at once, not at the worker's next tick
    group = http.get(f"/api/v1/groups/{group_id}", headers=viewer).json()["escalation"]
    assert (group["state"], group["stopped_reason"], group["next_at"]) == (
        "stopped", "acknowledged", None)
    worker.tick(engine, datetime.now().astimezone())
    after = http.get(f"/api/v1/alerts/{alert_id}/escalation", headers=viewer).json()["escalation"]
    assert (after["state"], after["stopped_reason"]) == ("stopped", "acknowledged")
