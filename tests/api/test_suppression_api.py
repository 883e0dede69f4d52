"""Silences and inhibition rules over HTTP: roles, 4xx naming the field with nothing
stored, and alerts that say why they are quiet."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

ALERT = {"summary": "Disk 95% full on db-01", "severity": "medium", "service": "billing",
         "device_id": "db-01", "labels": {"alertname": "DiskFull"}}
BILLING = [{"name": "service", "op": "=", "value": "billing"}]


def later(**delta: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


def silence_body(**over: Any) -> dict[str, Any]:
    return {"matchers": BILLING, "ends_at": later(hours=2), "comment": "CHG-42", **over}


def post_alert(http: httpx.Client, headers: dict[str, str], **over: Any) -> dict[str, Any]:
    r = http.post("/api/v1/alerts", json={**ALERT, **over}, headers=headers)
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text(f"select count(*) from {table}")))


def test_operator_creates_lists_and_expires_a_silence(http, operator, viewer, ingest_key) -> None:
    r = http.post("/api/v1/silences", json=silence_body(), headers=operator)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["state"], created["created_by"], created["matchers"]) == (
        "active", "olga", BILLING)
    alert = post_alert(http, ingest_key)
    assert alert["silence_id"] == created["id"] and alert["state"] == "new"
    listed = http.get("/api/v1/silences", params={"state": "active"}, headers=viewer).json()
    assert [(s["id"], s["alerts"]) for s in listed["data"]] == [(created["id"], 1)]
    assert http.get("/api/v1/silences", params={"state": "pending"}, headers=viewer).json()[
        "total"] == 0
    r = http.delete(f"/api/v1/silences/{created['id']}", headers=operator)
    assert r.status_code == 200 and r.json()["state"] == "expired"
    assert r.json()["expired_by"] == "olga"
    got = http.get(f"/api/v1/alerts/{alert['id']}", headers=viewer).json()
    assert got["silence_id"] is None
    assert [e["metadata"]["action"] for e in got["events"] if e["kind"] == "silence_mark"] == [
        "mark", "release"]
    assert http.delete(f"/api/v1/silences/{created['id']}", headers=operator).status_code == 409
    assert http.delete("/api/v1/silences/999", headers=operator).status_code == 404
    assert http.get(f"/api/v1/silences/{created['id']}", headers=viewer).json()["state"] == "expired"


def test_a_maintenance_window_can_start_later(http, operator, ingest_key) -> None:
    r = http.post("/api/v1/silences", json=silence_body(starts_at=later(hours=1)),
                  headers=operator)
    assert r.status_code == 201 and r.json()["state"] == "pending"
    assert post_alert(http, ingest_key)["silence_id"] is None


def test_viewers_read_but_may_not_silence(http, viewer, operator, engine) -> None:
    assert http.post("/api/v1/silences", json=silence_body(), headers=viewer).status_code == 403
    created = http.post("/api/v1/silences", json=silence_body(), headers=operator).json()
    assert http.delete(f"/api/v1/silences/{created['id']}", headers=viewer).status_code == 403
    assert http.get("/api/v1/silences", headers=viewer).json()["total"] == 1
    assert http.get("/api/v1/silences").status_code == 401
    assert count(engine, "silences") == 1


@pytest.mark.parametrize(("over", "field"), [
    ({"matchers": [{"name": "service", "op": "~", "value": "billing"}]}, "matchers[0].op"),
    ({"matchers": BILLING + [{"name": "alertname", "op": "=~", "value": "(Disk"}]},
     "matchers[1].value"),
    ({"matchers": BILLING + [{"name": "alertname", "op": "=~", "value": "(?P<x>Disk)"}]},
     "matchers[1].value"),                                      # Python accepts it, PostgreSQL not
    ({"matchers": [{"name": "", "value": "billing"}]}, "matchers[0].name"),
    ({"matchers": []}, "matchers"),
    ({"matchers": [{"name": "team", "op": "=~", "value": ".*"}]}, "matchers"),
    ({"ends_at": "2030-01-01T10:00:00"}, "ends_at"),            # no offset
    ({"ends_at": "2020-01-01T10:00:00Z"}, "ends_at"),           # in the past
    ({"ends_at": "soon"}, "ends_at"),
    ({"comment": " "}, "comment"),
    ({"extra": 1}, "extra"),
])
def test_bad_silences_are_422_naming_the_field_and_store_nothing(
        http, operator, engine, over: dict[str, Any], field: str) -> None:
    r = http.post("/api/v1/silences", json=silence_body(**over), headers=operator)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert count(engine, "silences") == 0


def test_missing_ends_at_and_a_bad_state_filter_are_422(http, operator, viewer) -> None:
    body = silence_body()
    del body["ends_at"]
    r = http.post("/api/v1/silences", json=body, headers=operator)
    assert (r.status_code, r.json()["field"]) == (422, "ends_at")
    r = http.get("/api/v1/silences", params={"state": "gone"}, headers=viewer)
    assert (r.status_code, r.json()["field"]) == (422, "state")


RULE = {"name": "pool-suppresses-timeouts",
        "source_match": [{"name": "alertname", "value": "DatabaseConnectionPoolExhausted"}],
        "target_match": {"alertname": "UpstreamTimeout"}, "equal": ["service"]}


def test_inhibition_rules_are_edited_by_managers(http, viewer, operator, manager, engine) -> None:
    rules = http.get("/api/v1/inhibit-rules", headers=viewer).json()["data"]
    assert [r["name"] for r in rules] == ["critical-suppresses-warning",
                                          "db-pool-exhausted-suppresses-slow-queries",
                                          "node-down-suppresses-its-device"]
    assert http.post("/api/v1/inhibit-rules", json=RULE, headers=operator).status_code == 403
    r = http.post("/api/v1/inhibit-rules", json=RULE, headers=manager)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["target_match"] == [{"name": "alertname", "op": "=", "value": "UpstreamTimeout"}]
    assert (rule["created_by"], rule["enabled"], rule["equal"]) == ("maria", True, ["service"])
    assert http.post("/api/v1/inhibit-rules", json=RULE, headers=manager).status_code == 409
    url = f"/api/v1/inhibit-rules/{rule['id']}"
    assert http.put(url, json={"enabled": False}, headers=operator).status_code == 403
    r = http.put(url, json={"enabled": False}, headers=manager)
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert r.json()["source_match"] == [  # kept, in its stored (normalised) form
        {"name": "alertname", "op": "=", "value": "DatabaseConnectionPoolExhausted"}]
    assert http.put("/api/v1/inhibit-rules/999", json={"enabled": True},
                    headers=manager).status_code == 404
    assert count(engine, "inhibit_rules") == 4


@pytest.mark.parametrize(("body", "field"), [
    ({**RULE, "source_match": [{"name": "alertname", "op": "=>", "value": "X"}]},
     "source_match[0].op"),
    ({**RULE, "target_match": [{"name": "x", "op": "!~", "value": "(?P<n>x)"}]},
     "target_match[0].value"),
    ({**RULE, "equal": ["service", "service"]}, "equal[1]"),
    ({**RULE, "name": ""}, "name"),
    ({key: value for key, value in RULE.items() if key != "target_match"}, "target_match"),
    ({**RULE, "sourceMatch": {}}, "sourceMatch"),
])
def test_bad_rules_are_422_naming_the_field(http, manager, engine, body: dict[str, Any],
                                            field: str) -> None:
    r = http.post("/api/v1/inhibit-rules", json=body, headers=manager)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert count(engine, "inhibit_rules") == 3


def test_an_inhibited_alert_says_by_what_and_is_released_with_its_source(
        http, ingest_key, viewer, engine) -> None:
    from datetime import datetime, timezone

    from core.worker import tick

    target = post_alert(http, ingest_key, fingerprint="warn-1")
    source = post_alert(http, ingest_key, severity="critical", fingerprint="crit-1")
    assert source["inhibited_by"] is None
    tick(engine, datetime.now(timezone.utc))  # a new source reaches others on the next tick
    got = http.get(f"/api/v1/alerts/{target['id']}", headers=viewer).json()
    rules = {r["name"]: r["id"] for r in
             http.get("/api/v1/inhibit-rules", headers=viewer).json()["data"]}
    assert (got["inhibited_by"], got["inhibit_rule_id"]) == (
        source["id"], rules["critical-suppresses-warning"])
    assert got["state"] == "new"
    listed = http.get("/api/v1/alerts", params={"state": "open"}, headers=viewer).json()
    assert {a["id"] for a in listed["data"]} == {target["id"], source["id"]}  # still visible
    r = http.post("/api/v1/webhooks/generic", headers=ingest_key, json={
        **ALERT, "severity": "critical", "fingerprint": "crit-1", "status": "resolved"})
    assert r.status_code in (200, 201, 202), r.text
    tick(engine, datetime.now(timezone.utc))
    got = http.get(f"/api/v1/alerts/{target['id']}", headers=viewer).json()
    assert got["inhibited_by"] is None
    assert [e["metadata"]["action"] for e in got["events"] if e["kind"] == "inhibit_mark"] == [
        "mark", "release"]


def test_inhibition_is_marked_on_the_next_tick_and_the_target_never_notifies(
        http, ingest_key, viewer, operator, engine) -> None:
    """As the README says: a silence is marked at ingest; an inhibition on the worker's
    next tick, which runs before any job that notifies, so the target pages nobody."""
    from core.worker import tick

    node = {**ALERT, "severity": "critical", "labels": {"alertname": "NodeDown"}}
    source = post_alert(http, ingest_key, **node, fingerprint="node-1")
    target = post_alert(http, ingest_key, severity="high", fingerprint="disk-1")
    assert target["inhibited_by"] is None  # not at ingest
    r = http.post("/api/v1/silences", json=silence_body(matchers=[
        {"name": "alertname", "op": "=", "value": "Quiet"}]), headers=operator)
    assert r.status_code == 201, r.text
    quiet = post_alert(http, ingest_key, severity="high", fingerprint="q-1",
                       labels={"alertname": "Quiet"})
    assert quiet["silence_id"] == r.json()["id"]  # a silence is marked at ingest
    now = datetime.now(timezone.utc)
    for seconds in (0, 60, 120, 1200):  # past the group waits and the later tiers
        tick(engine, now + timedelta(seconds=seconds))
        got = http.get(f"/api/v1/alerts/{target['id']}", headers=viewer).json()
        assert got["inhibited_by"] == source["id"]
    with engine.connect() as c:
        pages = dict(c.execute(sa.text(
            "select a.id, count(n.id) from alerts a left join notifications n "
            "on n.alert_id = a.id or n.group_id = a.group_id group by a.id")).all())
    assert pages[source["id"]] > 0 and pages[target["id"]] == 0 and pages[quiet["id"]] == 0


def test_anyone_signed_in_previews_a_silence_and_nothing_is_stored(
        http, viewer, operator, ingest_key, engine) -> None:
    billing = post_alert(http, ingest_key)
    post_alert(http, ingest_key, service="checkout", summary="other")
    events = count(engine, "alert_events")
    r = http.post("/api/v1/silences/preview", json={"matchers": BILLING}, headers=viewer)
    assert r.status_code == 200, r.text
    assert r.json()["matching_open_alerts"] == 1 and r.json()["limit"] == 20
    (shown,) = r.json()["alerts"]
    assert (shown["id"], shown["service"], shown["silence_id"]) == (billing["id"], "billing", None)
    assert (count(engine, "silences"), count(engine, "alert_events")) == (0, events)
    assert http.post("/api/v1/silences/preview", json={"matchers": BILLING}).status_code == 401
    made = http.post("/api/v1/silences", json=silence_body(), headers=operator).json()
    again = http.post("/api/v1/silences/preview", params={"limit": 1}, json={"matchers": BILLING},
                      headers=viewer).json()
    assert [a["silence_id"] for a in again["alerts"]] == [made["id"]]


@pytest.mark.parametrize(("body", "params", "field"), [
    ({"matchers": [{"name": "service", "op": "~", "value": "billing"}]}, {}, "matchers[0].op"),
    ({"matchers": [{"name": "alertname", "op": "=~", "value": "(Disk"}]}, {},
     "matchers[0].value"),
    ({"matchers": [{"name": "team", "op": "=~", "value": ".*"}]}, {}, "matchers"),
    ({"matchers": "service=billing"}, {}, "matchers"),
    ({"matchers": BILLING, "ends_at": "tomorrow"}, {}, "ends_at"),
    ({"matchers": BILLING}, {"limit": 0}, "limit"),
    ({"matchers": BILLING}, {"limit": "ten"}, "limit"),
])
def test_a_bad_preview_is_422_naming_the_field(http, viewer, body: dict[str, Any],
                                               params: dict[str, Any], field: str) -> None:
    r = http.post("/api/v1/silences/preview", params=params, json=body, headers=viewer)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_an_alertmanager_silence_pastes_in_as_it_is(http, operator, ingest_key) -> None:
    """The matchers of an Alertmanager silence (isRegex / isEqual) are read as the same ops."""
    am = [{"name": "service", "value": "bill.*", "isRegex": True},
          {"name": "severity", "value": "critical", "isRegex": False, "isEqual": False}]
    r = http.post("/api/v1/silences", json=silence_body(matchers=am), headers=operator)
    assert r.status_code == 201, r.text
    assert r.json()["matchers"] == [{"name": "service", "op": "=~", "value": "bill.*"},
                                    {"name": "severity", "op": "!=", "value": "critical"}]
    assert post_alert(http, ingest_key)["silence_id"] == r.json()["id"]
    assert post_alert(http, ingest_key, severity="critical", device_id="db-02")["silence_id"] is None
