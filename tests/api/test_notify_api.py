"""The notifications API: delivery log with filters, CSV export, test sends (manager)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import httpx
import pytest
import sqlalchemy as sa

from core.notify.base import NotifyConfig
from core.notify.deliver import deliver_due
from tests.conftest import T0
from tests.factories import make_alert
from tests.notify_servers import Reply, fake_http, queue_one, smtp_server


def test_test_email_is_sent_now_and_logged(http: httpx.Client, manager: dict[str, str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as (port, box):
        monkeypatch.setenv("ALERTDESK_SMTP_PORT", str(port))
        r = http.post("/api/v1/notifications/test", headers=manager,
                      json={"channel": "email", "target": {"to": "noc@example.com"}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["reason"], out["channel"], out["attempts"]) == ("sent", "test", "email", 1)
    assert [a["outcome"] for a in out["attempt_log"]] == ["sent"]
    (_, rcpts, msg), = box.received
    assert rcpts == ["noc@example.com"] and "test notification" in msg["Subject"]


def test_test_send_reports_a_failure_without_leaking_the_url(http: httpx.Client,
                                                             manager: dict[str, str]) -> None:
    with fake_http() as web:
        web.default = Reply(500, b"boom")
        url = f"{web.url}/services/T/B/tok-123"
        r = http.post("/api/v1/notifications/test", headers=manager,
                      json={"channel": "slack", "target": {"webhook_url": url}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["last_error"]) == ("failed", "Slack webhook: HTTP 500")
    assert "tok-123" not in r.text and out["target"]["webhook_url_sealed"] == "•••"


def test_test_send_needs_manager_and_a_valid_target(http: httpx.Client, operator: dict[str, str],
                                                    manager: dict[str, str]) -> None:
    body = {"channel": "console", "target": {}}
    assert http.post("/api/v1/notifications/test", headers=operator, json=body).status_code == 403
    r = http.post("/api/v1/notifications/test", headers=manager,
                  json={"channel": "sms", "target": {"to": "12"}})
    assert (r.status_code, r.json()["field"]) == (422, "target.to")
    r = http.post("/api/v1/notifications/test", headers=manager, json={"channel": "fax", "target": {}})
    assert (r.status_code, r.json()["field"]) == (422, "channel")


def test_delivery_log_filters_and_pages(http: httpx.Client, viewer: dict[str, str],
                                        engine: sa.Engine) -> None:
    alert = make_alert(engine, T0)
    for i in range(3):
        queue_one(engine, "console", {}, T0, alert_id=alert, key=f"esc:{alert}:1:0:c{i}")
    queue_one(engine, "email", {"to": "a@example.com"}, T0, key="other")
    deliver_due(engine, T0, config=NotifyConfig(smtp_port=1))  # email: retry; consoles: sent
    r = http.get("/api/v1/notifications", headers=viewer,
                 params={"channel": "console", "status": "sent", "alert_id": alert, "limit": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["limit"], len(body["data"])) == (3, 2, 2)
    first = body["data"][0]
    assert {k: first[k] for k in ("channel", "status", "attempts", "alert_id")} == {
        "channel": "console", "status": "sent", "attempts": 1, "alert_id": alert}
    assert first["provider_id"].startswith("console:") and first["sent_at"].startswith("2026-03-02T09:00")
    pending = http.get("/api/v1/notifications", headers=viewer, params={"status": "pending"}).json()
    assert [d["recipient"] for d in pending["data"]] == ["a@example.com"]
    assert pending["data"][0]["last_error"].startswith("SMTP")
    one = http.get(f"/api/v1/notifications/{first['id']}", headers=viewer).json()
    assert [a["outcome"] for a in one["attempt_log"]] == ["sent"]


def test_delivery_log_refuses_bad_filters(http: httpx.Client, viewer: dict[str, str]) -> None:
    for params, field in (({"limit": 501}, "limit"), ({"status": "lost"}, "status"),
                          ({"channel": "fax"}, "channel"), ({"start": "2026-03-02T09:00"}, "start")):
        r = http.get("/api/v1/notifications", headers=viewer, params=params)
        assert (r.status_code, r.json()["field"]) == (422, field), params
    assert http.get("/api/v1/notifications/999", headers=viewer).status_code == 404
    assert http.get("/api/v1/notifications").status_code == 401


def test_export_csv_streams_the_log(http: httpx.Client, viewer: dict[str, str], engine: sa.Engine) -> None:
    queue_one(engine, "slack", {"webhook_url": "https://hooks.example.com/services/T/B/zzz"}, T0)
    queue_one(engine, "console", {}, T0)
    now = datetime.now(timezone.utc)
    r = http.get("/api/v1/notifications/export.csv", headers=viewer, params={"end": now.isoformat()})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(x["channel"] for x in rows) == ["console", "slack"]
    assert "zzz" not in r.text and all(x["status"] == "pending" for x in rows)
