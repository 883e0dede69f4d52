"""Contact methods and notification rules over HTTP: ``me``, who may edit whom, bad input."""
from __future__ import annotations


def test_contact_methods_and_rules(http, operator, viewer, admin) -> None:
    base = "/api/v1/users/me"
    r = http.post(f"{base}/contact-methods", headers=operator,
                  json={"type": "sms", "address": "555"})
    assert r.status_code == 422 and r.json()["field"] == "address"
    assert http.get(f"{base}/contact-methods", headers=operator).json()["total"] == 0
    r = http.post(f"{base}/contact-methods", headers=operator,
                  json={"type": "voice", "address": "+15551230001", "label": "mobile"})
    assert r.status_code == 201, r.text
    voice = r.json()["id"]
    r = http.post("/api/v1/users/olga/contact-methods", headers=viewer,     # victor != olga
                  json={"type": "email", "address": "x@example.com"})
    assert r.status_code == 403
    r = http.post("/api/v1/users/olga/contact-methods", headers=admin,
                  json={"type": "email", "address": "olga@example.com"})
    assert r.status_code == 201
    email = r.json()["id"]
    rules = {"rules": [{"urgency": "high", "contact_method_id": voice, "delay_s": 0},
                       {"urgency": "low", "contact_method_id": email, "delay_s": 600}]}
    r = http.put(f"{base}/notification-rules", headers=operator,
                 json={"rules": [{"urgency": "high", "contact_method_id": 999}]})
    assert r.status_code == 422 and r.json()["field"] == "rules[0].contact_method_id"
    r = http.put(f"{base}/notification-rules", headers=operator, json=rules)
    assert r.status_code == 200 and len(r.json()["rules"]) == 2
    r = http.delete(f"{base}/contact-methods/{email}", headers=operator)
    assert r.status_code == 200
    assert http.get(f"{base}/notification-rules", headers=operator).json()["rules"] == [
        {"urgency": "high", "contact_method_id": voice, "delay_s": 0}]
    assert http.get("/api/v1/users/nobody/contact-methods", headers=admin).status_code == 404
