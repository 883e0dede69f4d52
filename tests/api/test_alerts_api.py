import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import httpx
import sqlalchemy as sa

from tests.factories import event_rows, row

ALERT = {"summary": "Disk 95% full on db-01", "severity": "critical", "service": "billing",
         "device_id": "db-01", "labels": {"alertname": "DiskFull"}}


def post_alert(http: httpx.Client, headers: dict[str, str], **over: object) -> dict:
    r = http.post("/api/v1/alerts", json={**ALERT, **over}, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_create_then_get_with_sla_and_events(http, ingest_key, viewer, engine) -> None:
    created = post_alert(http, ingest_key)
    assert created["state"] == "new" and created["source"] == "prometheus"
    assert created["sla"]["tta_target_s"] == 300 and created["sla"]["ttr_target_s"] == 1800
    got = http.get(f"/api/v1/alerts/{created['id']}", headers=viewer).json()
    assert got["summary"] == ALERT["summary"] and got["labels"] == {"alertname": "DiskFull"}
    created_at = datetime.fromisoformat(got["created_at"])
    assert created_at.utcoffset() == timedelta(0)
    assert [e["kind"] for e in got["events"]] == ["created"]
    assert got["events"][0]["actor"] == "key:prometheus"
    assert row(engine, created["id"]).severity == "critical"


def test_duplicate_post_counts_instead_of_creating(http, ingest_key, engine) -> None:
    first = post_alert(http, ingest_key)
    r = http.post("/api/v1/alerts", json=ALERT, headers=ingest_key)
    assert r.status_code == 200 and r.json()["id"] == first["id"]
    assert r.json()["duplicate_count"] == 2 and r.json()["deduplicated"] is True
    with engine.connect() as c:
        assert c.scalar(sa.text("select count(*) from alerts")) == 1


def test_operator_acknowledges_then_conflict_409(http, ingest_key, operator, engine) -> None:
    alert = post_alert(http, ingest_key)
    r = http.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={"note": "looking"},
                  headers=operator)
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert r.json()["assignee"] == "olga"
    r = http.post(f"/api/v1/alerts/{alert['id']}/resolve", headers=operator)
    assert r.json()["state"] == "resolved"
    r = http.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=operator)
    assert r.status_code == 409
    # says who got there first, and when: the usual reason is that someone else acted
    assert re.fullmatch(rf"alert {alert['id']} is resolved; it cannot be acknowledged "
                        r"\(resolved by olga \d+s ago\)", r.json()["error"]), r.json()
    assert set(r.json()) == {"error"}
    assert [e.to_state for e in event_rows(engine, alert["id"]) if e.kind == "transition"] == [
        "acknowledged", "resolved"]


def test_viewer_cannot_acknowledge_403(http, ingest_key, viewer, engine) -> None:
    alert = post_alert(http, ingest_key)
    r = http.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=viewer)
    assert r.status_code == 403 and "viewer" in r.json()["error"]
    assert row(engine, alert["id"]).state == "new"


def test_missing_or_bad_credentials_401(http) -> None:
    assert http.get("/api/v1/alerts").status_code == 401
    r = http.get("/api/v1/alerts", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and r.json()["error"] == "invalid or expired token"
    r = http.get("/api/v1/alerts", headers={"X-API-Key": "ad_wrong"})
    assert r.status_code == 401
    r = http.post("/api/v1/auth/token", json={"username": "olga", "password": "nope-nope"})
    assert r.status_code == 401 and r.json() == {"error": "wrong username or password"}


def test_bad_input_names_the_field_and_writes_nothing(http, ingest_key, engine) -> None:
    cases = [
        ({**ALERT, "severity": "urgent"}, 422, "severity"),
        ({k: v for k, v in ALERT.items() if k != "summary"}, 422, "summary"),
        ({**ALERT, "summary": "   "}, 422, "summary"),
        ({**ALERT, "labels": ["x"]}, 422, "labels"),
        ({**ALERT, "summary": 12}, 422, "summary"),
    ]
    for body, status, field in cases:
        r = http.post("/api/v1/alerts", json=body, headers=ingest_key)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"].startswith(field), r.text
    r = http.post("/api/v1/alerts", content=b'{"summary": ', headers={
        **ingest_key, "content-type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]
    r = http.post("/api/v1/alerts", json={**ALERT, "description": "x" * (1024 * 1024)},
                  headers=ingest_key)
    assert r.status_code == 413 and "larger than" in r.json()["error"]
    with engine.connect() as c:
        assert c.scalar(sa.text("select count(*) from alerts")) == 0


def test_list_filters_and_pagination(http, ingest_key, viewer, operator) -> None:
    for i in range(7):
        post_alert(http, ingest_key, summary=f"cpu {i}", severity=["high", "low"][i % 2],
                   device_id=f"web-{i}")
    one = post_alert(http, ingest_key, summary="disk gone", device_id="db-9")
    http.post(f"/api/v1/alerts/{one['id']}/resolve", headers=operator)
    r = http.get("/api/v1/alerts", params={"state": "open", "limit": 3, "page": 2}, headers=viewer)
    body = r.json()
    assert (body["total"], body["page"], body["limit"], len(body["data"])) == (7, 2, 3, 3)
    r = http.get("/api/v1/alerts", params={"severity": "high", "state": "open"}, headers=viewer)
    assert {a["severity"] for a in r.json()["data"]} == {"high"} and r.json()["total"] == 4
    r = http.get("/api/v1/alerts", params={"q": "DISK"}, headers=viewer)
    assert [a["id"] for a in r.json()["data"]] == [one["id"]]
    r = http.get("/api/v1/alerts", params={"limit": 501}, headers=viewer)
    assert r.status_code == 422 and r.json()["field"] == "limit"
    r = http.get("/api/v1/alerts", params={"start_date": "2026-03-02T09:00"}, headers=viewer)
    assert r.status_code == 422 and r.json()["field"] == "start_date"


def test_open_list_is_in_queue_order(http, ingest_key, viewer) -> None:
    low = post_alert(http, ingest_key, severity="low", labels={"alertname": "A"})
    crit = post_alert(http, ingest_key, severity="critical", labels={"alertname": "B"})
    high = post_alert(http, ingest_key, severity="high", labels={"alertname": "C"})
    r = http.get("/api/v1/alerts", params={"state": "open"}, headers=viewer)
    assert [a["id"] for a in r.json()["data"]] == [crit["id"], high["id"], low["id"]]


def test_silence_note_and_reopen_over_http(http, ingest_key, operator, engine) -> None:
    alert = post_alert(http, ingest_key)
    r = http.post(f"/api/v1/alerts/{alert['id']}/silence", json={"until": "2020-01-01T00:00:00Z"},
                  headers=operator)
    assert r.status_code == 422 and r.json()["field"] == "until"
    r = http.post(f"/api/v1/alerts/{alert['id']}/silence", json={"until": "2099-01-01T00:00:00Z"},
                  headers=operator)
    assert r.status_code == 422 and r.json()["field"] == "until"   # at most 30 days
    soon = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    r = http.post(f"/api/v1/alerts/{alert['id']}/silence", json={"until": soon}, headers=operator)
    assert r.json()["state"] == "silenced"
    r = http.post(f"/api/v1/alerts/{alert['id']}/notes", json={"note": "vendor ticket 42",
                  "assign_to": "maria"}, headers=operator)
    assert r.status_code == 201 and r.json()["assignee"] == "maria"
    assert r.json()["events"][-2]["note"] == "vendor ticket 42"
    for action in ("resolve", "close", "reopen"):
        assert http.post(f"/api/v1/alerts/{alert['id']}/{action}", headers=operator).status_code == 200
    assert row(engine, alert["id"]).reopen_count == 1
    assert http.post("/api/v1/alerts/999999/acknowledge", headers=operator).status_code == 404


def test_fifty_concurrent_acks_over_http(http, ingest_key, operator, engine) -> None:
    alert = post_alert(http, ingest_key)
    url = f"/api/v1/alerts/{alert['id']}/acknowledge"
    with ThreadPoolExecutor(max_workers=25) as pool:
        codes = list(pool.map(lambda _: http.post(url, headers=operator).status_code, range(50)))
    assert sorted(set(codes)) == [200, 409] and codes.count(200) == 1
    acks = [e for e in event_rows(engine, alert["id"])
            if e.kind == "transition" and e.to_state == "acknowledged"]
    assert len(acks) == 1


def test_healthz_and_openapi(http) -> None:
    assert http.get("/healthz").json() == {"status": "ok", "database": "ok"}
    spec = http.get("/openapi.json").json()
    assert "/api/v1/alerts/{alert_id}/acknowledge" in spec["paths"]
    assert http.get("/docs").status_code == 200


def test_list_filters_by_assignee(http, ingest_key, operator, viewer) -> None:
    mine = post_alert(http, ingest_key, device_id="a-1")
    post_alert(http, ingest_key, device_id="a-2")
    http.post(f"/api/v1/alerts/{mine['id']}/notes", json={"assign_to": "maria"}, headers=operator)
    r = http.get("/api/v1/alerts", params={"assignee": "Maria"}, headers=viewer).json()
    assert [a["id"] for a in r["data"]] == [mine["id"]] and r["total"] == 1
    r = http.get("/api/v1/alerts", params={"assignee": "nobody"}, headers=viewer).json()
    assert r["total"] == 0


def test_csv_export_neutralises_formulas(http, ingest_key, viewer) -> None:
    import csv
    import io

    post_alert(http, ingest_key, summary='=HYPERLINK("http://evil.example","click")',
               device_id="f-1")
    post_alert(http, ingest_key, summary="-2+3 dB drop", device_id="f-2")
    rows = list(csv.DictReader(io.StringIO(
        http.get("/api/v1/alerts/export.csv", headers=viewer).text)))
    summaries = sorted(r["summary"] for r in rows)
    assert summaries == ["'-2+3 dB drop", "'=HYPERLINK(\"http://evil.example\",\"click\")"]


def test_documented_filters_work_and_unknown_ones_are_refused(http, ingest_key, viewer) -> None:
    post_alert(http, ingest_key, device_id="plain-1")
    for value, count in (("hide", 1), ("only", 0), ("show", 1), ("false", 1), ("true", 0)):
        r = http.get("/api/v1/alerts", params={"suppressed": value}, headers=viewer)
        assert (r.status_code, r.json()["total"]) == (200, count), value
    r = http.get("/api/v1/alerts", params={"suppressed": "maybe"}, headers=viewer)
    assert (r.status_code, r.json()["field"]) == (422, "suppressed")
    for params in ({"source": "alertmanager"}, {"assignee_id": "x"}, {"severity": "high", "foo": "1"}):
        r = http.get("/api/v1/alerts", params=params, headers=viewer)
        bad = next(k for k in params if k not in ("severity",))
        assert (r.status_code, r.json()["field"]) == (422, bad), params
        assert "unknown query parameter" in r.json()["error"]
    assert http.get("/healthz", params={"x": "1"}).status_code == 422


def test_list_sorts_on_the_server(http, ingest_key, operator, viewer) -> None:
    low = post_alert(http, ingest_key, severity="low", service="a-svc", device_id="d1")
    crit = post_alert(http, ingest_key, severity="critical", service="z-svc", device_id="d2")
    mid = post_alert(http, ingest_key, severity="medium", service="m-svc", device_id="d3")

    def ids(sort: str) -> list[int]:
        r = http.get("/api/v1/alerts", params={"state": "open", "sort": sort}, headers=viewer)
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()["data"]]

    assert ids("priority") == [crit["id"], mid["id"], low["id"]]
    assert ids("newest") == [mid["id"], crit["id"], low["id"]]
    assert ids("oldest") == [low["id"], crit["id"], mid["id"]]
    assert ids("service") == [low["id"], mid["id"], crit["id"]]
    r = http.get("/api/v1/alerts", params={"sort": "loudest"}, headers=viewer)
    assert r.status_code == 422 and "sort" in r.text and "priority" in r.text
