def test_policies_get_and_put_by_role(http, viewer, operator, manager) -> None:
    r = http.get("/api/v1/sla/policies", headers=viewer)
    assert r.status_code == 200
    assert {(p["severity"], p["tta_s"], p["ttr_s"]) for p in r.json()["data"]} >= {
        ("critical", 300, 1800), ("info", 86400, 604800)}
    body = {"severity": "high", "service": "payments", "tta_s": 120, "ttr_s": 3600}
    assert http.put("/api/v1/sla/policies", json=body, headers=operator).status_code == 403
    r = http.put("/api/v1/sla/policies", json=body, headers=manager)
    assert r.status_code == 200 and r.json()["data"][0]["updated_by"] == "maria"
    r = http.put("/api/v1/sla/policies", json={**body, "tta_s": "soon"}, headers=manager)
    assert r.status_code == 422 and r.json()["error"].startswith("tta_s")
    r = http.put("/api/v1/sla/policies", json={**body, "severity": "urgent"}, headers=manager)
    assert r.status_code == 422 and r.json()["field"] == "severity"
    rows = http.get("/api/v1/sla/policies", headers=viewer).json()["data"]
    assert [p for p in rows if p["service"] == "payments"][0]["tta_s"] == 120
    # the override can be removed through the API too (the page could, the API could not)
    assert http.delete("/api/v1/sla/policies/high/payments", headers=operator).status_code == 403
    assert http.delete("/api/v1/sla/policies/high/payments", headers=manager).status_code == 204
    rows = http.get("/api/v1/sla/policies", headers=viewer).json()["data"]
    assert not [p for p in rows if p["service"] == "payments"]
    r = http.delete("/api/v1/sla/policies/high/payments", headers=manager)
    assert r.status_code == 404 and "no SLA override" in r.json()["error"]
    r = http.delete("/api/v1/sla/policies/urgent/payments", headers=manager)
    assert (r.status_code, r.json()["field"]) == (422, "severity")


def test_compliance_endpoint_counts_open_breaches(http, ingest_key, viewer) -> None:
    http.post("/api/v1/alerts", json={"summary": "x", "severity": "info"}, headers=ingest_key)
    r = http.get("/api/v1/sla/compliance", params={"group_by": "both"}, headers=viewer)
    assert r.status_code == 200
    [only] = r.json()["data"]
    assert (only["severity"], only["alerts"], only["breaches"]) == ("info", 1, 0)
    assert only["tta_compliance_pct"] is None  # nothing decided yet: no fake 100 %
    r = http.get("/api/v1/sla/compliance", params={"group_by": "owner"}, headers=viewer)
    assert r.status_code == 422 and r.json()["field"] == "group_by"


def test_teams_own_services_and_compliance_groups_by_them(http, ingest_key, viewer, operator,
                                                          manager) -> None:
    for service in ("checkout", "search", "checkout"):
        http.post("/api/v1/alerts", json={"summary": f"{service} slow", "severity": "high",
                                          "service": service}, headers=ingest_key)
    owners = {"checkout": "payments"}
    assert http.put("/api/v1/settings/teams", json=owners, headers=operator).status_code == 403
    r = http.put("/api/v1/settings/teams", json={"checkout": 7}, headers=manager)
    assert r.status_code == 422 and r.json()["field"] == "service_teams.checkout"
    assert http.put("/api/v1/settings/teams", json=owners, headers=manager).json() == owners
    assert http.get("/api/v1/settings/teams", headers=viewer).json() == owners
    r = http.get("/api/v1/sla/compliance", params={"group_by": "team"}, headers=viewer)
    assert [(x["team"], x["alerts"]) for x in r.json()["data"]] == [("(no team)", 1),
                                                                      ("payments", 1)]
    r = http.get("/api/v1/sla/compliance", params={"team": "payments", "group_by": "service"},
                 headers=viewer)
    assert [(x["service"], x["alerts"]) for x in r.json()["data"]] == [("checkout", 1)]


def test_admin_creates_users_and_api_keys(http, admin, operator) -> None:
    r = http.post("/api/v1/users", json={"username": "Nina", "password": "long-enough-1",
                                         "role": "operator"}, headers=admin)
    assert r.status_code == 201 and r.json()["username"] == "nina"
    assert "password_hash" not in r.json()
    assert http.post("/api/v1/users", json={"username": "nina", "password": "long-enough-1"},
                     headers=admin).status_code == 409
    r = http.post("/api/v1/users", json={"username": "x", "password": "short"}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "password"
    assert http.post("/api/v1/api-keys", json={"name": "k"}, headers=operator).status_code == 403
    r = http.post("/api/v1/api-keys", json={"name": "grafana", "role": "viewer"}, headers=admin)
    key = r.json()["key"]
    assert r.status_code == 201 and key.startswith("ad_")
    assert http.get("/api/v1/alerts", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    r = http.post("/api/v1/alerts", json={"summary": "x", "severity": "low"},
                  headers={"X-API-Key": key})
    assert r.status_code == 403
    users = http.get("/api/v1/users", headers=admin).json()["data"]
    assert "nina" in [u["username"] for u in users]
