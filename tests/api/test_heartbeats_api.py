"""Heartbeats over real HTTP: beat, refuse bad input with the field named, list."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.ingest.heartbeats import BeatIn, beat
from core.worker import tick


def count(engine: sa.Engine, sql: str = "select count(*) from heartbeats") -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text(sql)))


def test_first_beat_creates_then_beats_renew(http, ingest_key, operator, engine) -> None:
    r = http.post("/api/v1/heartbeats/nightly-backup", headers=ingest_key)
    assert r.status_code == 201, r.text
    hb = r.json()
    assert (hb["name"], hb["state"], hb["timeout_s"], hb["severity"], hb["created"]) == (
        "nightly-backup", "ok", 300, "high", True)
    assert hb["alert_id"] is None and hb["resolved_alert_id"] is None
    r = http.post("/api/v1/heartbeats/nightly-backup", headers=operator,
                  json={"timeout_s": 90, "service": "backup", "severity": "critical"})
    assert r.status_code == 200 and r.json()["created"] is False
    assert (r.json()["timeout_s"], r.json()["service"], r.json()["severity"]) == (
        90, "backup", "critical")
    r = http.post("/api/v1/heartbeats/nightly-backup", headers=ingest_key, json={})
    assert r.status_code == 200 and r.json()["timeout_s"] == 90  # omitted: kept
    assert r.json()["last_beat_at"] >= hb["last_beat_at"]
    assert count(engine) == 1


def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
        http, ingest_key, engine) -> None:
    cases = [
        ("has%20space", None, "name"), ("x" * 101, None, "name"),
        ("job", {"timeout_s": 0}, "timeout_s"), ("job", {"timeout_s": -1}, "timeout_s"),
        ("job", {"timeout_s": "soon"}, "timeout_s"), ("job", {"timeout_s": 1.5}, "timeout_s"),
        ("job", {"timeout_s": 31 * 86400}, "timeout_s"),
        ("job", {"severity": "apocalyptic"}, "severity"), ("job", {"service": 7}, "service"),
        ("job", {"colour": "red"}, "colour"),
    ]
    for name, body, field in cases:
        r = http.post(f"/api/v1/heartbeats/{name}", headers=ingest_key, json=body)
        assert r.status_code == 422, (name, body, r.text)
        assert r.json()["field"] == field and field in r.json()["error"]
    assert count(engine) == 0


def test_viewer_cannot_beat_but_can_list(http, viewer, ingest_key, engine) -> None:
    r = http.post("/api/v1/heartbeats/job", headers=viewer)
    assert r.status_code == 403 and count(engine) == 0
    assert http.post("/api/v1/heartbeats/job").status_code == 401
    for name in ("zeta-sync", "alpha.cron"):
        assert http.post(f"/api/v1/heartbeats/{name}", headers=ingest_key).status_code == 201
    r = http.get("/api/v1/heartbeats", headers=viewer)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 and body["page"] == 1
    assert [h["name"] for h in body["data"]] == ["alpha.cron", "zeta-sync"]
    assert set(body["data"][0]) >= {"name", "state", "timeout_s", "last_beat_at", "expires_at",
                                    "alert_id"}
    assert http.get("/api/v1/heartbeats", params={"limit": 501},
                    headers=viewer).json()["field"] == "limit"


def test_a_missed_beat_shows_in_the_list_and_the_next_beat_resolves_it(
        http, ingest_key, viewer, engine) -> None:
    # The API reads the real clock: the earlier beat and the tick are injected in the past.
    past = SYSTEM_CLOCK.now() - timedelta(minutes=5)
    with core_db.transaction(engine) as s:
        beat(s, "etl", BeatIn(timeout_s=60), Actor("key:cron", "operator", "api", False), past)
    assert tick(engine, past + timedelta(seconds=60))["check_heartbeats"] == 1
    hb = http.get("/api/v1/heartbeats", headers=viewer).json()["data"][0]
    assert hb["state"] == "missed" and hb["alert_id"]
    alert = http.get(f"/api/v1/alerts/{hb['alert_id']}", headers=viewer).json()
    assert alert["state"] == "new" and alert["fingerprint"] == "heartbeat:etl"
    assert alert["flapping"] is False
    r = http.post("/api/v1/heartbeats/etl", headers=ingest_key)
    assert r.json()["resolved_alert_id"] == hb["alert_id"] and r.json()["state"] == "ok"
    alert = http.get(f"/api/v1/alerts/{hb['alert_id']}", headers=viewer).json()
    assert alert["state"] == "resolved"
    assert [(e["kind"], e["actor"]) for e in alert["events"] if e["kind"] != "escalation"] == [
        ("created", "worker"), ("heartbeat", "worker"), ("transition", "key:prometheus"),
        ("heartbeat", "key:prometheus")]
