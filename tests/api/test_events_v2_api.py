"""PagerDuty Events API v2 compatible intake (POST /v2/enqueue) over real HTTP: PagerDuty's
answers and error shape, trigger/acknowledge/resolve on one alert per dedup key."""
from __future__ import annotations

import re

import sqlalchemy as sa

from core import db as core_db
from core.auth import create_api_key
from tests.factories import event_rows

URL = "/v2/enqueue"


def key(engine: sa.Engine, name: str = "zabbix", role: str = "operator") -> str:
    with core_db.transaction(engine) as s:
        plain, _ = create_api_key(s, name, role, None)
    return plain


def trigger(routing_key: str, **extra: object) -> dict:  # type: ignore[type-arg]
    return {"routing_key": routing_key, "event_action": "trigger", "dedup_key": "disk-db-1",
            "payload": {"summary": "Disk 95% full on db-1", "source": "db-1.example.net",
                        "severity": "error", "component": "postgres", "group": "billing",
                        "class": "disk", "custom_details": {"free_gb": 3, "mount": "/var"},
                        "timestamp": "2026-12-07T05:00:00Z"},
            "client": "Zabbix", "client_url": "https://zabbix.example.net/tr/1",
            "links": [{"href": "https://runbooks.example.net/disk", "text": "Runbook"},
                      {"href": "javascript:alert(1)", "text": "bad"}],
            "images": [{"src": "https://img.example.net/g.png", "alt": "Graph"}], **extra}


def alert_row(engine: sa.Engine):  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return c.execute(sa.text("select * from alerts order by id")).all()


def test_trigger_acknowledge_resolve_one_alert(http, engine, viewer) -> None:
    rk = key(engine)
    r = http.post(URL, json=trigger(rk))
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["status"], body["message"], body["dedup_key"]) == (
        "success", "Event processed", "disk-db-1")
    assert http.post(URL, json=trigger(rk)).json()["alert_id"] == body["alert_id"]
    [row] = alert_row(engine)
    assert (row.source, row.severity, row.device_id, row.service, row.state) == (
        "pagerduty", "high", "db-1.example.net", "billing", "new")
    assert row.fingerprint == "pd:zabbix:disk-db-1" and row.duplicate_count == 2
    assert row.labels == {"component": "postgres", "group": "billing", "class": "disk",
                          "alertname": "disk", "severity": "error"}
    assert row.annotations["client_url"] == "https://zabbix.example.net/tr/1"
    assert row.annotations["free_gb"] == "3"
    assert row.metadata["pagerduty"]["custom_details"] == {"free_gb": 3, "mount": "/var"}
    assert row.metadata["links"] == [
        {"text": "Runbook", "href": "https://runbooks.example.net/disk"},
        {"text": "Graph", "href": "https://img.example.net/g.png"},
        {"text": "Zabbix", "href": "https://zabbix.example.net/tr/1"}]

    ack = {"routing_key": rk, "event_action": "acknowledge", "dedup_key": "disk-db-1"}
    r = http.post(URL, json=ack)
    assert r.status_code == 202 and r.json()["alert_id"] == row.id
    [row] = alert_row(engine)
    assert row.state == "acknowledged" and row.acknowledged_at is not None  # TTA stopped
    assert http.post(URL, json=ack).status_code == 202  # already acknowledged: dropped
    got = http.get(f"/api/v1/alerts/{row.id}", headers=viewer).json()
    assert got["sla"]["tta_s"] is not None

    r = http.post(URL, json={**ack, "event_action": "resolve"})
    assert r.status_code == 202 and r.json()["dedup_key"] == "disk-db-1"
    [row] = alert_row(engine)
    assert row.state == "resolved"
    timeline = [(e.kind, e.to_state, e.actor, e.source) for e in event_rows(engine, row.id)]
    assert timeline == [("created", "new", "key:zabbix", "webhook"),
                        ("transition", "acknowledged", "key:zabbix", "webhook"),
                        ("transition", "resolved", "key:zabbix", "webhook")]
    # follow-ups after a resolve are dropped (PagerDuty's rule), still 202
    r = http.post(URL, json=ack)
    assert r.status_code == 202 and r.json()["alert_id"] is None
    assert alert_row(engine)[0].state == "resolved"


def test_dedup_key_generated_and_scoped_to_the_routing_key(http, engine) -> None:
    a, b = key(engine, "a"), key(engine, "b")
    event = trigger(a)
    del event["dedup_key"]
    r = http.post(URL, json=event)
    assert r.status_code == 202
    generated = r.json()["dedup_key"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    # the same dedup key from another routing key is another alert; resolving there
    # leaves this one open
    assert http.post(URL, json={**trigger(b), "dedup_key": generated}).status_code == 202
    r = http.post(URL, json={"routing_key": b, "event_action": "resolve",
                             "dedup_key": generated})
    assert r.status_code == 202
    assert sorted((row.fingerprint, row.state) for row in alert_row(engine)) == [
        (f"pd:a:{generated}", "new"), (f"pd:b:{generated}", "resolved")]


def test_alertmanager_pagerduty_configs_body_and_x_routing_key(http, engine) -> None:
    """What Alertmanager 0.25's pagerduty_configs sends: a 64-hex dedup key, string
    custom_details, empty images/links, and the whole payload again on resolve."""
    rk = key(engine, "alertmanager")
    event = {"routing_key": rk, "dedup_key": "a" * 64, "event_action": "trigger",
             "payload": {"summary": "[FIRING:2] HighLatency checkout", "source": "Alertmanager",
                         "severity": "error", "custom_details": {
                             "firing": "Labels:\n - alertname = HighLatency\n", "num_firing": "2",
                             "num_resolved": "0", "resolved": ""}},
             "client": "Alertmanager", "client_url": "http://am.example.net:9093/#/alerts",
             "images": [], "links": []}
    assert http.post(URL, json=event).status_code == 202
    resolve = {**event, "event_action": "resolve",
               "payload": {**event["payload"], "severity": "whatever-it-templated"}}
    del resolve["routing_key"]
    r = http.post(URL, json=resolve, headers={"X-Routing-Key": rk})
    assert r.status_code == 202, r.text
    [row] = alert_row(engine)
    assert row.state == "resolved" and row.annotations["num_firing"] == "2"
    assert row.description == "" and row.summary == "[FIRING:2] HighLatency checkout"


def test_invalid_events_are_400_in_pagerdutys_shape_naming_the_field(http, engine) -> None:
    rk = key(engine)
    base = trigger(rk)
    cases = [
        ({**base, "event_action": "page"}, "event_action"),
        ({**base, "payload": {**base["payload"], "summary": " "}}, "payload.summary"),
        ({**base, "payload": {**base["payload"], "severity": "apocalyptic"}}, "payload.severity"),
        ({k: v for k, v in base.items() if k != "payload"}, "payload"),
        ({**base, "dedup_key": "k" * 256}, "dedup_key"),
        ({"routing_key": rk, "event_action": "resolve"}, "dedup_key"),
        ({**base, "links": "https://x"}, "links"),
        ({**base, "payload": {**base["payload"], "source": 7}}, "payload.source"),
    ]
    for event, field in cases:
        r = http.post(URL, json=event)
        assert r.status_code == 400, (field, r.text)
        body = r.json()
        assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
        assert body["errors"][0].startswith(f"'{field}' "), (field, body)
    r = http.post(URL, content=b'{"routing_key": ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["status"] == "invalid event"
    r = http.post(URL, params={"debug": "1"}, json=base)
    assert r.status_code == 400 and r.json()["errors"][0].startswith("'debug' unknown query")
    assert alert_row(engine) == []


def test_routing_key_missing_unknown_or_too_weak(http, engine) -> None:
    weak = key(engine, "readonly", "viewer")
    event = trigger("")
    r = http.post(URL, json=event)
    assert r.status_code == 400 and r.json()["errors"][0].startswith("'routing_key' is missing")
    r = http.post(URL, json={**event, "routing_key": "0123456789abcdef0123456789abcdef"})
    assert r.status_code == 401
    assert r.json()["status"] == "unauthorized" and "not a registered" in r.json()["errors"][0]
    r = http.post(URL, json={**event, "routing_key": weak, "payload": "bad"})
    assert r.status_code == 403 and "operator" in r.json()["message"]
    assert alert_row(engine) == []
