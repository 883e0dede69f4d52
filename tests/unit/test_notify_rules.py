"""Pure rules of notifications: routing, payload rendering, SMS text, HMAC, backoff,
the throttling plan per contact, target validation and secret handling."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from core.errors import FieldError
from core.notify import pagerduty, slack
from core.notify.base import Notification, NotifyConfig
from core.notify.claims import ContactState, Due, Plan, plan_contact
from core.notify.deliver import Outcome, backoff, next_status
from core.notify.format import alert_payload, email_parts, sms_text
from core.notify.routing import default_channels
from core.notify.vault import recipient_for, seal_target, target_secret, validate_target
from core.notify.webhook import signature
from core.secret import public_target

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ALERT = {"id": 12, "severity": "critical", "summary": "disk full", "service": "billing",
         "device_id": "db-01", "state": "new"}


@pytest.mark.parametrize("severity, channels", [
    ("critical", ("sms", "slack", "pagerduty")), ("high", ("slack", "email")),
    ("medium", ("slack", "email")), ("low", ("slack",)), ("info", ("slack",)),
    ("bogus", ("slack",))])
def test_default_channels(severity: str, channels: tuple[str, ...]) -> None:
    assert default_channels(severity) == channels


def test_payload_links_back_to_the_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDESK_PUBLIC_URL", "https://noc.example.com/")
    p = alert_payload(ALERT, reason="tier 2 of policy 'critical-default'")
    assert p["link"] == "https://noc.example.com/alert?id=12"
    assert p["subject"] == "[CRITICAL] disk full (billing/db-01)"
    assert "tier 2 of policy 'critical-default'" in p["text"] and p["kind"] == "page"
    assert 'href="https://noc.example.com/alert?id=12"' in p["html"]


def test_email_parts_append_bundled_summaries() -> None:
    p = alert_payload(ALERT)
    other = alert_payload({**ALERT, "id": 13, "summary": "<cpu> hot", "severity": "high"})
    subject, text, html = email_parts(p, [other])
    assert subject.endswith("(+1 more)")
    assert "[HIGH] <cpu> hot" in text and "&lt;cpu&gt; hot" in html and "<cpu>" not in html


@pytest.mark.parametrize("summary", ["disk full", "x" * 400, "multi\nline   text " * 30])
@pytest.mark.parametrize("bundled", [0, 3])
def test_sms_text_fits_160(summary: str, bundled: int) -> None:
    text = sms_text(alert_payload({**ALERT, "summary": summary}), bundled)
    assert len(text) <= 160 and text.startswith("CRIT billing/db-01: ")
    assert "#12" in text and ("+3 more" in text) == bool(bundled) and "\n" not in text


def test_short_sms_carries_the_link() -> None:
    assert sms_text(alert_payload(ALERT)).endswith("/alert?id=12")


def test_hmac_signature() -> None:
    body = b'{"a":1}'
    assert signature("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_backoff_and_final_status() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    n = Notification(1, "email", {}, "a@b.c", {})
    err = Outcome(error="down", retryable=True)
    assert [next_status(Notification(1, "email", {}, "", {}, attempts=a), err) for a in (1, 2, 3, 4)] == [
        "retry", "retry", "retry", "failed"]
    assert next_status(n, Outcome(error="bad", retryable=False)) == "failed"
    assert next_status(n, err, retry=False) == "failed"
    assert next_status(n, Outcome(provider_id="x")) == "sent"


def _rows(n: int) -> list[Due]:
    return [Due(i, "email", "a@b.c", T0 + timedelta(seconds=i), False) for i in range(1, n + 1)]


@pytest.mark.parametrize("channel, state, expect", [
    ("email", ContactState(), {"send": [1], "bundle": [(2, 1), (3, 1)]}),
    ("email", ContactState(last_sent=T0 - timedelta(seconds=20)),
     {"defer": [(i, T0 + timedelta(seconds=40)) for i in (1, 2, 3)]}),
    ("email", ContactState(last_sent=T0 - timedelta(seconds=60)), {"send": [1], "bundle": [(2, 1), (3, 1)]}),
    ("email", ContactState(busy_until=T0 + timedelta(seconds=30)),
     {"defer": [(i, T0 + timedelta(seconds=60)) for i in (1, 2, 3)]}),
    ("sms", ContactState(sent_last_hour=10), {"rate_limited": [1, 2, 3]}),
    ("sms", ContactState(sent_last_hour=9), {"send": [1], "bundle": [(2, 1), (3, 1)]}),
    ("pagerduty", ContactState(last_sent=T0), {"send": [1, 2, 3]}),
])
def test_throttling_plan(channel: str, state: ContactState, expect: dict[str, list[object]]) -> None:
    plan = Plan()
    plan_contact(channel, _rows(3), state, T0, plan)
    assert {k: v for k, v in vars(plan).items() if v} == expect


@pytest.mark.parametrize("channel, target, field", [
    ("email", {"to": "nobody"}, "target.to"), ("sms", {"to": "555"}, "target.to"),
    ("slack", {}, "target.webhook"), ("slack", {"webhook_url": "ftp://x"}, "target.webhook_url"),
    ("webhook", {"url": "http://h/x", "secret": "bad name!"}, "target.secret"),
    ("pagerduty", {"routing_key": " "}, "target.routing_key"), ("fax", {}, "channel")])
def test_validate_target_names_the_field(channel: str, target: dict[str, str], field: str) -> None:
    with pytest.raises(FieldError) as err:
        validate_target(channel, target)
    assert err.value.field == field


def test_secrets_are_sealed_and_never_in_the_recipient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDESK_SECRET_KEY", "k" * 40)
    url = "https://hooks.slack.com/services/T0/B0/tok3n"
    stored = seal_target("slack", {"type": "slack", "webhook_url": url})
    assert "tok3n" not in str(stored) + recipient_for("slack", {"webhook_url": url})
    assert stored["webhook_url_display"] == "hooks.slack.com/…"
    assert public_target(stored)["webhook_url_sealed"] == "•••"
    assert target_secret(stored, "webhook_url", NotifyConfig(), "SLACK_WEBHOOK", "webhook") == url
    named = {"webhook": "noc-1"}
    cfg = NotifyConfig(env={"ALERTDESK_SLACK_WEBHOOK_NOC_1": url})
    assert target_secret(named, "webhook_url", cfg, "SLACK_WEBHOOK", "webhook") == url
    shown = recipient_for("webhook", {"url": "https://u:p@h.example/x?t=1"})
    assert shown.startswith("https://h.example/… #") and "/x" not in shown and "u:p" not in shown
    assert shown != recipient_for("webhook", {"url": "https://h.example/y"})   # two contacts


def test_slack_message_and_pagerduty_event_shapes() -> None:
    p = alert_payload(ALERT)
    msg = slack.message(p, [alert_payload({**ALERT, "id": 13})])
    assert msg["attachments"][0]["color"] == "#d7263d" and "(+1 more)" in msg["text"]
    n = Notification(5, "pagerduty", {}, "pagerduty:noc", {**p, "severity": "high"}, alert_id=12)
    ev = pagerduty.event(n, "RK")
    assert (ev["dedup_key"], ev["event_action"], ev["payload"]["severity"]) == (
        "alertdesk-12", "trigger", "error")
    resolving = Notification(6, "pagerduty", {}, "", {"event_action": "resolve"}, alert_id=12)
    resolve = pagerduty.event(resolving, "RK")
    assert resolve == {"routing_key": "RK", "event_action": "resolve", "dedup_key": "alertdesk-12"}
