"""GET /api/v1/audit and /audit/export.csv: managers and admins only, one stream of config
changes (made here through the API) and alert actions, filters, CSV, 422 for bad input."""
import csv
import io
from datetime import datetime, timezone

import pytest

from tests.factories import make_alert

POLICY = {"severity": "high", "service": "billing", "tta_s": 600, "ttr_s": 3600}


@pytest.fixture
def changes(http, engine, manager, operator) -> int:
    """Through the API: a manager sets SLA targets twice, an operator acknowledges an alert."""
    assert http.put("/api/v1/sla/policies", json=POLICY, headers=manager).status_code == 200
    r = http.put("/api/v1/sla/policies", json={**POLICY, "tta_s": 900}, headers=manager)
    assert r.status_code == 200, r.text
    alert = make_alert(engine, datetime.now(timezone.utc))
    r = http.post(f"/api/v1/alerts/{alert}/acknowledge", json={"note": "looking"},
                  headers=operator)
    assert r.status_code == 200, r.text
    return alert


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_operators_and_viewers_are_refused(http, who, request) -> None:
    headers = request.getfixturevalue(who)
    assert http.get("/api/v1/audit", headers=headers).status_code == 403
    assert http.get("/api/v1/audit/export.csv", headers=headers).status_code == 403
    assert http.get("/api/v1/audit").status_code == 401


def test_one_stream_newest_first(http, changes, manager, admin) -> None:
    r = http.get("/api/v1/audit", params={"entity": "sla_policy"}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["page"], body["limit"], body["total"], body["total_capped"]) == (1, 50, 2, False)
    update, create = body["data"]
    assert (update["action"], update["actor"], update["source"]) == ("update", "maria", "api")
    assert update["entity_id"] == "high/billing" and update["changes"] == "tta_s: 600 → 900"
    assert (update["before"]["tta_s"], update["after"]["tta_s"]) == (600, 900)
    assert create["action"] == "create" and create["before"] is None
    everything = http.get("/api/v1/audit", params={"limit": 2}, headers=manager).json()
    # four users made at start-up + 2 SLA changes + acknowledge + assign
    assert everything["total"] == 8
    assert [(d["entity"], d["action"]) for d in everything["data"]] == [
        ("alert", "assign"), ("alert", "acknowledge")]


def test_filters(http, changes, manager) -> None:
    def total(**params) -> int:
        r = http.get("/api/v1/audit", params=params, headers=manager)
        assert r.status_code == 200, r.text
        return r.json()["total"]

    assert total(actor="olga") == 2 and total(actor="nobody") == 0
    assert total(q="looking") == 1 and total(q="3600", entity="config") == 2
    assert total(entity="alert") == 2 and total(entity="user") == 4
    assert total(start="2000-01-01", end="2000-01-02") == 0


@pytest.mark.parametrize(("params", "field"), [
    ({"entity": "nope"}, "entity"), ({"start": "yesterday"}, "start"),
    ({"start": "2026-03-02", "end": "2026-03-01"}, "end"), ({"limit": 501}, "limit"),
    ({"page": 0}, "page")])
def test_bad_input_names_the_field(http, manager, params, field) -> None:
    r = http.get("/api/v1/audit", params=params, headers=manager)
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]


def test_csv_export_matches_the_list(http, changes, manager) -> None:
    params = {"entity": "config", "q": "billing"}
    listed = http.get("/api/v1/audit", params=params, headers=manager).json()["data"]
    r = http.get("/api/v1/audit/export.csv", params=params, headers=manager)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="audit.csv"' in r.headers["content-disposition"]
    header, *rows = list(csv.reader(io.StringIO(r.text)))
    assert header == ["at", "actor", "actor_role", "source", "entity", "entity_id", "action",
                      "changes", "note", "before", "after", "metadata"]
    assert [(x[5], x[6], x[7]) for x in rows] == [
        (d["entity_id"], d["action"], d["changes"]) for d in listed]
    assert [x[6] for x in rows] == ["update", "create"]
    assert http.get("/api/v1/audit/export.csv", params={"entity": "x"},
                    headers=manager).status_code == 422


def test_admin_changes_a_user_and_revokes_a_key_and_both_are_audited(http, admin, operator,
                                                                       engine) -> None:
    r = http.patch("/api/v1/users/olga", json={"role": "manager"}, headers=operator)
    assert r.status_code == 403
    r = http.patch("/api/v1/users/olga", json={}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = http.patch("/api/v1/users/olga", json={"role": "boss"}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "role"
    r = http.patch("/api/v1/users/olga", json={"role": "manager", "password": "new-secret-pass"},
                   headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "manager"
    assert http.post("/api/v1/auth/token", json={"username": "olga", "password":
                                                 "new-secret-pass"}).status_code == 200
    key = http.post("/api/v1/api-keys", json={"name": "old-tool", "role": "operator"},
                    headers=admin).json()
    assert http.get("/api/v1/alerts", headers={"X-API-Key": key["key"]}).status_code == 200
    assert http.delete(f"/api/v1/api-keys/{key['id']}", headers=admin).status_code == 200
    assert http.get("/api/v1/alerts", headers={"X-API-Key": key["key"]}).status_code == 401
    r = http.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
    assert r.status_code == 409
    assert http.delete("/api/v1/api-keys/999999", headers=admin).status_code == 404
    rows = http.get("/api/v1/audit", params={"entity": "config"}, headers=admin).json()["data"]
    actions = [(r["entity"], r["action"]) for r in rows]
    assert ("user", "update") in actions and ("api_key", "revoke") in actions
    [user_row] = [r for r in rows if r["entity"] == "user" and r["action"] == "update"]
    assert user_row["note"] == "password changed"
    assert "new-secret-pass" not in str(rows) and "hash" not in str(user_row)


def test_alert_actions_show_their_metadata_and_the_role_of_a_key(http, engine, manager,
                                                                 ingest_key) -> None:
    alert = make_alert(engine, datetime.now(timezone.utc))
    r = http.post(f"/api/v1/alerts/{alert}/acknowledge", headers=ingest_key,
                  json={"note": "ack from the NMS", "metadata": {"ticket": "INC-7"}})
    assert r.status_code == 200, r.text
    r = http.post(f"/api/v1/alerts/{alert}/notes", headers=manager,
                  json={"note": "called the vendor", "metadata": {"case": 42}})
    assert r.status_code in (200, 201), r.text
    with engine.begin() as c:  # an event from before roles were recorded on events
        c.exec_driver_sql(
            "insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, "
            "note, metadata) values (%s, now() - interval '1 hour', 'key:prometheus', 'api', "
            "'note', 'new', 'new', 'old note', '{}')", (alert,))
    rows = http.get("/api/v1/audit", params={"entity": "alert"}, headers=manager).json()["data"]
    got = [(r["actor"], r["actor_role"], r["action"], r["note"], r["metadata"]) for r in rows]
    assert got == [("maria", "manager", "note", "called the vendor", {"case": 42}),
                   ("key:prometheus", "operator", "acknowledge", "ack from the NMS",
                    {"ticket": "INC-7"}),
                   ("key:prometheus", "operator", "note", "old note", None)]
    found = http.get("/api/v1/audit", params={"q": "INC-7"}, headers=manager).json()
    assert found["total"] == 1  # the metadata is searchable
    text = http.get("/api/v1/audit/export.csv", params={"entity": "alert"}, headers=manager).text
    [_, note, ack, old] = list(csv.reader(io.StringIO(text)))
    assert (ack[2], ack[11]) == ("operator", '{"ticket": "INC-7"}')
