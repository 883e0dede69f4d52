"""Webhook receivers and anomalies over real HTTP."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def count(engine: sa.Engine, sql: str = "select count(*) from alerts") -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text(sql)))


def test_alertmanager_webhook_firing_then_one_resolved(http, ingest_key, viewer, engine) -> None:
    body = json.loads((FIXTURES / "alertmanager_v4_firing.json").read_text())
    r = http.post("/api/v1/webhooks/alertmanager", json=body, headers=ingest_key)
    assert r.status_code == 200 and r.json()["created"] == 3
    body = json.loads((FIXTURES / "alertmanager_v4_group_one_resolved.json").read_text())
    r = http.post("/api/v1/webhooks/alertmanager", json=body,
                  headers={"Authorization": f"Bearer {ingest_key['X-API-Key']}"})
    assert r.json()["resolved"] == 1 and r.json()["deduplicated"] == 2
    listed = http.get("/api/v1/alerts", params={"state": "open"}, headers=viewer).json()
    assert listed["total"] == 2 and {a["source"] for a in listed["data"]} == {"alertmanager"}


def test_webhook_bad_member_refuses_the_batch(http, ingest_key, engine) -> None:
    body = json.loads((FIXTURES / "alertmanager_v4_firing.json").read_text())
    body["alerts"][2]["labels"]["severity"] = "apocalyptic"
    r = http.post("/api/v1/webhooks/alertmanager", json=body, headers=ingest_key)
    assert r.status_code == 422 and r.json()["field"] == "alerts[2].labels.severity"
    assert count(engine) == 0
    r = http.post("/api/v1/webhooks/alertmanager", content=b'{"alerts": [',
                  headers={**ingest_key, "content-type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]


def test_generic_webhook_list_and_resolve(http, ingest_key, engine) -> None:
    alerts = [{"summary": f"port {i} down", "severity": "high", "device_id": "sw-1",
               "labels": {"alertname": "PortDown", "port": str(i)}, "fingerprint": f"p{i}"}
              for i in range(3)]
    r = http.post("/api/v1/webhooks/generic", json=alerts, headers=ingest_key)
    assert r.json()["created"] == 3 and len(r.json()["alert_ids"]) == 3
    r = http.post("/api/v1/webhooks/generic", json={**alerts[0], "status": "resolved"},
                  headers=ingest_key)
    assert r.json()["resolved"] == 1
    assert count(engine, "select count(*) from alerts where state = 'resolved'") == 1
    assert count(engine, "select count(*) from alert_events where source = 'webhook'") == 4


def test_big_batches_ok_and_too_big_refused(http, ingest_key, engine) -> None:
    alerts = [{"summary": f"a{i}", "severity": "low", "fingerprint": f"f{i}"} for i in range(3000)]
    r = http.post("/api/v1/webhooks/generic", json={"alerts": alerts}, headers=ingest_key)
    assert r.status_code == 200 and r.json()["created"] == 3000
    r = http.post("/api/v1/webhooks/generic", json={"alerts": alerts * 4}, headers=ingest_key)
    assert r.status_code == 422 and r.json()["field"] == "alerts"
    assert "at most 10000" in r.json()["error"]
    r = http.post("/api/v1/webhooks/generic", headers={**ingest_key, "content-type": "application/json"},
                  content=b"[" + b'{"summary":"x","severity":"low"},' * 400_000 + b"{}]")
    assert r.status_code == 413
    assert count(engine) == 3000


def test_two_hundred_concurrent_posts_one_alert(http, ingest_key, engine) -> None:
    alert = {"summary": "BGP down", "severity": "critical", "device_id": "rtr-1"}
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda _: http.post("/api/v1/alerts", json=alert,
                                                  headers=ingest_key).status_code, range(200)))
    assert codes.count(201) == 1 and codes.count(200) == 199
    with engine.connect() as c:
        assert c.execute(sa.text("select duplicate_count from alerts")).scalars().all() == [200]


def test_anomalies_confidence_and_false_positive_rate(http, ingest_key, operator, viewer) -> None:
    base = {"device_id": "sw-9", "metric": "if_errors", "value": 1200, "model_id": "iforest-v3"}
    r = http.post("/api/v1/anomalies", json={**base, "confidence": 0.6}, headers=ingest_key)
    assert r.status_code == 200 and r.json() == {
        "alert": None, "created": False, "reason": "confidence 0.60 is below 0.70: no alert"}
    r = http.post("/api/v1/anomalies", json={**base, "confidence": 0.9}, headers=ingest_key)
    assert r.status_code == 201
    alert = r.json()["alert"]
    assert alert["severity"] == "high" and alert["metadata"]["auto_escalate"] is True
    assert alert["metadata"]["model_id"] == "iforest-v3" and alert["source"] == "anomaly"
    other = http.post("/api/v1/anomalies", json={**base, "metric": "cpu", "confidence": 0.76},
                      headers=ingest_key).json()["alert"]
    assert other["severity"] == "medium" and other["metadata"]["auto_escalate"] is False
    r = http.post(f"/api/v1/alerts/{alert['id']}/resolve", json={"resolution": "false_positive"},
                  headers=operator)
    assert r.status_code == 200 and r.json()["resolution"] == "false_positive"
    http.post(f"/api/v1/alerts/{other['id']}/resolve", json={"resolution": "fixed"}, headers=operator)
    stats = http.get("/api/v1/anomalies/models", headers=viewer).json()["data"]
    assert stats == [{"model_id": "iforest-v3", "alerts": 2, "resolved": 2, "false_positives": 1,
                      "false_positive_pct": 50.0, "mean_confidence": 0.83}]
    r = http.post(f"/api/v1/alerts/{other['id']}/reopen", json={"resolution": "fixed"},
                  headers=operator)
    assert r.status_code == 422 and r.json()["field"] == "resolution"
    r = http.post("/api/v1/anomalies", json={**base, "confidence": "very"}, headers=ingest_key)
    assert r.status_code == 422 and r.json()["field"] == "confidence"


def test_webhooks_refuse_unknown_and_read_only_callers_and_store_nothing(http, viewer,
                                                                         engine) -> None:
    """The webhooks check the caller inside their own transaction: still 401 / 403 first,
    even when the body is bad too, and nothing written."""
    before = count(engine)
    body = {"summary": "x", "severity": "low"}
    am = json.loads((FIXTURES / "alertmanager_v4_firing.json").read_text())
    for path, payload in (("/api/v1/webhooks/generic", body),
                          ("/api/v1/webhooks/alertmanager", am)):
        assert http.post(path, json=payload, headers=viewer).status_code == 403
        r = http.post(path, json=payload, headers={"X-API-Key": "ad_not-a-key"})
        assert r.status_code == 401 and "invalid API key" in r.text
        assert http.post(path, json=payload).status_code == 401
        assert http.post(path, json={"alerts": "bad"}, headers={"X-API-Key": "ad_x"}
                         ).status_code == 401
    assert count(engine) == before


def test_nul_and_lone_surrogates_are_refused_by_name(http, ingest_key, engine) -> None:
    """JSON can carry what PostgreSQL cannot store: a clear 422, never a 500."""
    cases = [(b'{"summary": "disk\\u0000full", "severity": "low"}', "alerts[0].summary"),
             (b'[{"summary": "ok", "severity": "low"}, {"summary": "x", "severity": "low",'
              b' "labels": {"host": "a\\ud800"}}]', "alerts[1].labels.host"),
             (b'{"summary": "x", "severity": "low", "metadata": {"k": "\\u0000"}}',
              "alerts[0].metadata")]
    for body, field in cases:
        r = http.post("/api/v1/webhooks/generic", content=body,
                      headers={**ingest_key, "content-type": "application/json"})
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert count(engine) == 0


def test_concurrent_webhooks_count_every_firing_once(http, ingest_key, engine) -> None:
    """12 senders at once with overlapping fingerprints: every firing counted, each
    fingerprint reported created by exactly one request."""
    def send(n: int) -> dict:  # type: ignore[type-arg]
        alerts = [{"summary": f"link {k} down", "severity": "high", "fingerprint": f"gc-{k}"}
                  for k in range(n * 5, n * 5 + 20)]
        r = http.post("/api/v1/webhooks/generic", json=alerts, headers=ingest_key)
        assert r.status_code == 200, r.text
        return r.json()
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(send, range(12)))
    fingerprints = {k for n in range(12) for k in range(n * 5, n * 5 + 20)}
    assert sum(r["created"] for r in replies) == len(fingerprints) == count(engine)
    assert sum(r["created"] + r["deduplicated"] for r in replies) == 12 * 20
    with engine.connect() as c:
        firings = c.scalar(sa.text("select sum(duplicate_count) from alerts"))
    assert firings == 12 * 20


def test_batch_ids_come_back_in_input_order_and_duplicates_count_per_signal(
        http, ingest_key) -> None:  # type: ignore[no-untyped-def]
    alerts = [{"summary": f"s{i}", "severity": "high", "device_id": f"order-{i}"} for i in range(4)]
    same = {"summary": "same", "severity": "low", "device_id": "dup"}
    r = http.post("/api/v1/webhooks/generic", headers=ingest_key,
                  json={"alerts": [alerts[2], same, alerts[0], same, alerts[3], same, alerts[1]]})
    assert r.status_code == 200, r.text
    body = r.json()
    ids = body["alert_ids"]
    assert len(ids) == 7 and ids[1] == ids[3] == ids[5]          # one alert, three signals
    assert (body["created"], body["deduplicated"]) == (5, 2)     # 2 of the 3 were repeats
    again = http.post("/api/v1/webhooks/generic", headers=ingest_key,
                      json={"alerts": [alerts[1], alerts[0]]}).json()
    assert again["alert_ids"] == [ids[6], ids[2]]                # the order sent, not sorted
    assert (again["created"], again["deduplicated"]) == (0, 2)


def test_a_key_of_any_prefix_works_as_bearer_and_as_x_api_key(http, engine) -> None:
    """The bootstrap key (ALERTDESK_API_KEY) may be any string: Alertmanager's
    `authorization: {type: Bearer, credentials: <key>}` must work with it, not be taken
    for a JWT ("Not enough segments")."""
    from core import db as core_db
    from core.auth import create_api_key
    plain = "bootstrap-Key_0123456789"
    with core_db.transaction(engine) as s:
        create_api_key(s, "bootstrap", "operator", None, key=plain)
    body = json.loads((FIXTURES / "alertmanager_v4_firing.json").read_text())
    for headers in ({"Authorization": f"Bearer {plain}"}, {"X-API-Key": plain},
                    {"Authorization": f"bearer {plain}"}):
        r = http.post("/api/v1/webhooks/alertmanager", json=body, headers=headers)
        assert r.status_code == 200, r.text
    assert count(engine) == 3
    with engine.connect() as c:
        actors = set(c.execute(sa.text("select distinct actor from alert_events")).scalars())
    assert actors == {"key:bootstrap"}
    # not a key and not a JWT: one clear 401; a JWT-shaped value is still checked as a JWT
    for value, error in (("not-a-registered-key", "invalid or expired token"),
                         ("aaa.bbb.ccc", "invalid or expired token")):
        r = http.post("/api/v1/webhooks/alertmanager", json=body,
                      headers={"Authorization": f"Bearer {value}"})
        assert r.status_code == 401 and r.json()["error"].startswith(error), r.text
        assert "segments" not in r.text


def test_grafana_documented_payload_on_its_route_and_on_the_alertmanager_route(
        http, ingest_key, viewer, engine) -> None:
    """The example payload of Grafana's documentation (tests/fixtures/grafana_webhook_*.json):
    once answered 422 "version '1' is not supported" on the Alertmanager route."""
    firing = json.loads((FIXTURES / "grafana_webhook_firing.json").read_text())
    r = http.post("/api/v1/webhooks/alertmanager", json=firing, headers=ingest_key)
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    r = http.post("/api/v1/webhooks/grafana", json=firing, headers=ingest_key)
    assert r.status_code == 200 and r.json()["deduplicated"] == 2
    resolved = json.loads((FIXTURES / "grafana_webhook_one_resolved.json").read_text())
    r = http.post("/api/v1/webhooks/grafana", json=resolved, headers=ingest_key)
    assert (r.json()["resolved"], r.json()["deduplicated"]) == (1, 1)
    listed = http.get("/api/v1/alerts", headers=viewer).json()["data"]
    by_fp = {a["fingerprint"]: a for a in listed}
    gone, still = by_fp["grafana:1:c6eadffa33fcdf37"], by_fp["grafana:1:bc97ff14869b13e3"]
    assert (gone["state"], still["state"], still["source"]) == ("resolved", "new", "grafana")
    assert still["metadata"]["grafana"]["values"] == {"B": 44.23943737541908, "C": 1}
    assert still["annotations"]["runbook_url"] == "https://myrunbook.com/runbook/1234"
    assert [x["text"] for x in still["metadata"]["links"]] == ["Alert rule", "Silence"]
    with engine.connect() as c:
        sources = set(c.execute(sa.text("select distinct source from alert_events")).scalars())
    assert sources == {"webhook"}
    r = http.post("/api/v1/webhooks/grafana", headers=ingest_key,
                  json=json.loads((FIXTURES / "alertmanager_v4_firing.json").read_text()))
    assert r.status_code == 422 and r.json()["field"] == "version"
    assert http.post("/api/v1/webhooks/grafana", json=firing).status_code == 401
