"""PagerDuty both ways: an alert paged PagerDuty (a stand-in that records what it gets);
the incident is acknowledged, then resolved, in PagerDuty, whose V3 webhooks (signed as
PagerDuty documents: v1=<hex HMAC-SHA256 of the raw body>, possibly several) make the alert
follow — and Alertdesk's follow-up job sends nothing back for those changes (no echo)."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import sqlalchemy as sa

from core import db as core_db
from core.notify.base import NotifyConfig
from core.notify.deliver import deliver_due
from core.notify.followups import pagerduty_followups
from tests.factories import event_rows, make_alert, row
from tests.notify_servers import FakeHTTP, Reply, fake_http, queue_one

SECRET = "pd-webhook-secret"
PATH = "/api/v1/integrations/pagerduty/webhook"


@pytest.fixture
def pd(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeHTTP, NotifyConfig]]:
    monkeypatch.setenv("ALERTDESK_PAGERDUTY_WEBHOOK_SECRET", f"old-secret,{SECRET}")
    with fake_http() as web:
        web.default = Reply(202, b'{"status": "success"}')
        yield web, NotifyConfig(pagerduty_base_url=web.url,
                                env={"ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC": "R0UT1NG"})


def webhook(http: httpx.Client, event_type: str, key: str, secret: str = SECRET) -> httpx.Response:
    body = json.dumps({"event": {
        "id": f"01{event_type[-5:]}", "event_type": event_type, "resource_type": "incident",
        "occurred_at": "2026-12-07T05:00:00Z",
        "agent": {"id": "PUSER1", "summary": "Olga Ops", "type": "user_reference"},
        "data": {"id": "Q1", "type": "incident", "number": 7, "status": "acknowledged",
                 "incident_key": key, "title": "db down"}}}).encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return http.post(PATH, content=body, headers={
        "Content-Type": "application/json",
        "X-PagerDuty-Signature": f"v1=deadbeef,v1={mac}"})   # any entry may match


def follow_up(engine: sa.Engine, cfg: NotifyConfig, now: datetime) -> int:
    with core_db.transaction(engine) as s:
        pagerduty_followups(s, now)
    return deliver_due(engine, now, config=cfg)["sent"]


def test_pagerduty_acks_and_resolves_follow_without_echo(http, engine, pd) -> None:
    web, cfg = pd
    now = datetime.now(timezone.utc)
    alert = make_alert(engine, now - timedelta(minutes=1), summary="db down")
    queue_one(engine, "pagerduty", {"routing_key_ref": "noc"}, now, alert_id=alert)
    assert deliver_due(engine, now, config=cfg)["sent"] == 1

    r = webhook(http, "incident.acknowledged", f"alertdesk-{alert}")
    assert r.status_code == 202 and r.json()["result"] == f"acknowledged alert #{alert}"
    assert row(engine, alert).state == "acknowledged"
    last = event_rows(engine, alert)[-1]
    assert (last.actor, last.source) == ("pagerduty:Olga Ops", "pagerduty")
    assert follow_up(engine, cfg, now + timedelta(seconds=5)) == 0      # nothing sent back

    r = webhook(http, "incident.resolved", f"alertdesk-{alert}")
    assert r.json()["result"] == f"resolved alert #{alert}" and row(engine, alert).state == "resolved"
    assert follow_up(engine, cfg, now + timedelta(seconds=10)) == 0
    assert [b.json()["event_action"] for b in web.to("/v2/enqueue")] == ["trigger"]
    with engine.connect() as c:                       # the delivery log says why
        why = c.execute(sa.text("select last_error from notifications where status = 'cancelled' "
                                "order by id")).scalars().all()
    assert why == ["acknowledged in PagerDuty by Olga Ops: not sent back",
                   "resolved in PagerDuty by Olga Ops: not sent back"]

    again = webhook(http, "incident.resolved", f"alertdesk-{alert}")  # PagerDuty retries
    assert again.status_code == 202 and again.json()["result"].startswith("unchanged")


def test_forged_or_foreign_events_change_nothing(http, engine, pd) -> None:
    now = datetime.now(timezone.utc)
    alert = make_alert(engine, now, summary="db down")
    assert webhook(http, "incident.acknowledged", f"alertdesk-{alert}",
                   secret="guess").status_code == 403
    r = webhook(http, "incident.acknowledged", "some-other-tool-42")
    assert r.status_code == 202 and r.json()["result"].startswith("ignored")
    r = webhook(http, "incident.escalated", f"alertdesk-{alert}")
    assert r.json()["result"].startswith("ignored")
    assert row(engine, alert).state == "new" and len(event_rows(engine, alert)) == 1
    r = http.post(PATH, content=b"[[[", headers={"X-PagerDuty-Signature": "v1=" + hmac.new(
        SECRET.encode(), b"[[[", hashlib.sha256).hexdigest()})
    assert r.status_code == 422 and r.json()["field"] == "body"
