"""Each channel against a local stand-in for its provider (method, path, headers, body),
per-contact throttling with bundling, the SMS hourly limit, and the worker's tick."""
from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.notify.base import NotifyConfig
from core.notify.deliver import deliver_due
from core.worker import tick
from tests.conftest import T0
from tests.factories import make_alert
from tests.notify_servers import FakeHTTP, Reply, attempts, fake_http, notification, queue_one, smtp_server

S = timedelta(seconds=1)
TWILIO = {"twilio_sid": "AC123", "twilio_token": "tw-token", "twilio_from": "+15550001111"}


@pytest.fixture
def web() -> Iterator[FakeHTTP]:
    with fake_http() as fake:
        yield fake


def test_slack_rich_message_from_a_named_webhook(engine: sa.Engine, web: FakeHTTP) -> None:
    alert = make_alert(engine, T0, summary="link down", severity="high")
    nid = queue_one(engine, "slack", {"webhook": "noc"}, T0, alert_id=alert)
    cfg = NotifyConfig(env={"ALERTDESK_SLACK_WEBHOOK_NOC": f"{web.url}/services/T1/B2/xyz"})
    assert deliver_due(engine, T0, config=cfg)["sent"] == 1
    req, = web.requests
    assert (req.method, req.path, req.headers["content-type"]) == (
        "POST", "/services/T1/B2/xyz", "application/json")
    body = req.json()
    attachment, = body["attachments"]
    assert attachment["color"] == "#f46036"
    assert body["text"].startswith("[HIGH] link down")
    *actions, button = attachment["blocks"][-1]["elements"]
    assert [a["text"]["text"] for a in actions] == ["Acknowledge", "Resolve", "Escalate"]
    assert button["url"] == f"http://127.0.0.1:8501/alert?id={alert}"
    assert notification(engine, nid).recipient == "slack:noc"


def test_slack_webhook_url_in_clear_is_sealed_in_the_row(engine: sa.Engine, web: FakeHTTP) -> None:
    url = f"{web.url}/services/T1/B2/very-secret-token"
    nid = queue_one(engine, "slack", {"webhook_url": url}, T0)
    with engine.connect() as c:
        stored = c.execute(sa.text("select target::text || recipient from notifications")).scalar_one()
    assert "very-secret-token" not in stored
    assert deliver_due(engine, T0)["sent"] == 1
    assert web.requests[0].path == "/services/T1/B2/very-secret-token"
    assert notification(engine, nid).status == "sent"


def test_twilio_sms_is_form_encoded_with_basic_auth(engine: sa.Engine, web: FakeHTTP) -> None:
    alert = make_alert(engine, T0, summary="x" * 300)
    nid = queue_one(engine, "sms", {"to": "+15551234567"}, T0, alert_id=alert)
    web.default = Reply(201, b'{"sid": "SM42", "status": "queued"}')
    assert deliver_due(engine, T0, config=NotifyConfig(twilio_base_url=web.url, **TWILIO))["sent"] == 1
    req, = web.requests
    assert (req.method, req.path) == ("POST", "/2010-04-01/Accounts/AC123/Messages.json")
    assert req.headers["authorization"] == "Basic " + base64.b64encode(b"AC123:tw-token").decode()
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    form = req.form()
    assert (form["To"], form["From"]) == ("+15551234567", "+15550001111")
    assert len(form["Body"]) <= 160 and form["Body"].startswith("CRIT billing/db-01: xxx")
    assert notification(engine, nid).provider_id == "SM42"


def test_pagerduty_event_v2_with_dedup_key(engine: sa.Engine, web: FakeHTTP) -> None:
    alert = make_alert(engine, T0, summary="db down", severity="critical")
    nid = queue_one(engine, "pagerduty", {"routing_key_ref": "noc"}, T0, alert_id=alert)
    web.default = Reply(202, b'{"status": "success", "dedup_key": "alertdesk-%d"}' % alert)
    cfg = NotifyConfig(pagerduty_base_url=web.url, env={"ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC": "R0UT1NG"})
    assert deliver_due(engine, T0, config=cfg)["sent"] == 1
    req, = web.requests
    assert (req.method, req.path, req.headers["content-type"]) == ("POST", "/v2/enqueue", "application/json")
    body = req.json()
    assert (body["routing_key"], body["event_action"], body["dedup_key"]) == (
        "R0UT1NG", "trigger", f"alertdesk-{alert}")
    assert body["payload"]["severity"] == "critical"
    assert body["payload"]["summary"].startswith("[CRITICAL] db down")
    assert body["payload"]["source"] == "db-01"
    assert notification(engine, nid).provider_id == f"alertdesk-{alert}"


def test_pagerduty_missing_key_fails_without_retry(engine: sa.Engine, web: FakeHTTP) -> None:
    nid = queue_one(engine, "pagerduty", {"routing_key_ref": "nowhere"}, T0)
    assert deliver_due(engine, T0, config=NotifyConfig(pagerduty_base_url=web.url))["failed"] == 1
    assert notification(engine, nid).last_error == "ALERTDESK_PAGERDUTY_ROUTING_KEY_NOWHERE is not set"
    assert web.requests == []


def test_console_logs_a_line(engine: sa.Engine, caplog: pytest.LogCaptureFixture) -> None:
    alert = make_alert(engine, T0, summary="fan failure")
    nid = queue_one(engine, "console", {}, T0, alert_id=alert)
    with caplog.at_level(logging.INFO, logger="alertdesk.notify"):
        assert deliver_due(engine, T0)["sent"] == 1
    assert any("fan failure" in r.getMessage() and f"NOTIFY #{nid}" in r.getMessage()
               for r in caplog.records)


def test_three_emails_within_a_minute_one_now_the_rest_bundled(engine: sa.Engine) -> None:
    alerts = [make_alert(engine, T0, summary=f"alert {i}") for i in range(3)]
    with smtp_server() as (port, box):
        cfg = NotifyConfig(smtp_port=port)
        first = queue_one(engine, "email", {"to": "oncall@example.com"}, T0, alert_id=alerts[0])
        assert deliver_due(engine, T0, config=cfg)["sent"] == 1
        second = queue_one(engine, "email", {"to": "oncall@example.com"}, T0 + 10 * S, alert_id=alerts[1])
        third = queue_one(engine, "email", {"to": "oncall@example.com"}, T0 + 20 * S, alert_id=alerts[2])
        assert deliver_due(engine, T0 + 20 * S, config=cfg)["deferred"] == 2
        assert deliver_due(engine, T0 + 59 * S, config=cfg)["sent"] == 0
        counts = deliver_due(engine, T0 + 60 * S, config=cfg)
    assert (counts["sent"], counts["bundled"], len(box.received)) == (1, 1, 2)
    msg = box.received[1][2]
    assert msg["Subject"].endswith("alert 1 (billing/db-01) (+1 more)")
    assert "alert 2" in msg.get_body(("plain",)).get_content()
    assert "alert 2" in msg.get_body(("html",)).get_content()
    rows = [notification(engine, i) for i in (first, second, third)]
    assert [r.status for r in rows] == ["sent", "sent", "bundled"]
    assert rows[2].bundled_into == second and rows[2].sent_at == T0 + 60 * S


def test_eleventh_sms_in_an_hour_is_rate_limited(engine: sa.Engine, web: FakeHTTP) -> None:
    cfg = NotifyConfig(twilio_base_url=web.url, **TWILIO)
    web.default = Reply(201, b'{"sid": "SM1"}')
    ids = []
    for i in range(11):
        at = T0 + i * 61 * S
        ids.append(queue_one(engine, "sms", {"to": "+15551234567"}, at))
        deliver_due(engine, at, config=cfg)
    assert len(web.requests) == 10
    last = notification(engine, ids[-1])
    assert (last.status, last.last_error) == (
        "rate_limited", "SMS limit: 10 messages per hour to this number")
    assert attempts(engine, ids[-1]) == ["rate_limited"]
    other = queue_one(engine, "sms", {"to": "+15559999999"}, T0 + 11 * 61 * S)
    assert deliver_due(engine, T0 + 11 * 61 * S, config=cfg)["sent"] == 1
    assert notification(engine, other).status == "sent"


def test_worker_tick_delivers_with_env_settings(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as (port, box):
        monkeypatch.setenv("ALERTDESK_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ALERTDESK_SMTP_PORT", str(port))
        monkeypatch.setenv("ALERTDESK_SMTP_FROM", "noc@alertdesk.test")
        queue_one(engine, "email", {"to": "oncall@example.com"}, T0)
        assert tick(engine, T0)["deliver"] == 1
    assert box.received[0][0] == "noc@alertdesk.test"


def test_test_sms_keep_the_hourly_limit(engine: sa.Engine, web: FakeHTTP) -> None:
    from core.errors import Conflict
    from core.notify.deliver import send_test
    from core.notify.sms import HOURLY_LIMIT

    web.default = Reply(201, b'{"sid": "SM1"}')
    cfg = NotifyConfig(twilio_base_url=web.url, **TWILIO)
    for i in range(HOURLY_LIMIT):
        assert send_test(engine, "sms", {"to": "+15551234567"}, T0 + i * S, "ada",
                         config=cfg)["status"] == "sent"
    with pytest.raises(Conflict, match="in the last hour"):
        send_test(engine, "sms", {"to": "+15551234567"}, T0 + 20 * S, "ada", config=cfg)
    assert len(web.requests) == HOURLY_LIMIT
    send_test(engine, "sms", {"to": "+15551234567"}, T0 + 3700 * S, "ada", config=cfg)  # later
    assert len(web.requests) == HOURLY_LIMIT + 1
