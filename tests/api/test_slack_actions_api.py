"""Slack buttons, end to end: a page goes to olga as a Slack DM (chat.postMessage on a Slack
stand-in) carrying Acknowledge / Resolve / Escalate buttons; a click comes back signed as
Slack signs it (v0 HMAC-SHA256 over timestamp and raw body with the signing secret), the
server verifies it with slack_sdk's SignatureVerifier, acts as the Alertdesk user linked to
the clicking member, and rewrites the message through the response_url."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa

from core.notify.deliver import deliver_due
from tests.factories import event_rows, make_alert, row
from tests.notify_servers import FakeHTTP, Reply, Seen, fake_http, queue_one

SECRET = "slack-signing-secret-for-tests"
PATH = "/api/v1/integrations/slack/actions"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHTTP]:
    with fake_http() as fake:
        monkeypatch.setenv("ALERTDESK_SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("ALERTDESK_SLACK_API_URL", fake.url)
        monkeypatch.setenv("ALERTDESK_SLACK_SIGNING_SECRET", SECRET)
        yield fake


def link_slack(engine: sa.Engine, username: str, member: str) -> None:
    with engine.begin() as c:
        c.execute(sa.text("insert into contact_methods (user_id, type, address, label, created_at) "
                          "select id, 'slack', :m, 'slack', now() from users where username = :u"),
                  {"m": member, "u": username})


def click(http: httpx.Client, member: str, action: str, value: str, response_url: str,
          age_s: int = 0, secret: str = SECRET) -> httpx.Response:
    """POST a block_actions interaction the way Slack does, signed with ``secret``."""
    payload = {"type": "block_actions", "user": {"id": member, "username": "x"},
               "team": {"id": "T1"}, "response_url": response_url,
               "actions": [{"action_id": f"alertdesk_{action}", "block_id": "b",
                            "value": value, "type": "button"}]}
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()) - age_s)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return http.post(PATH, content=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})


def answered(fake: FakeHTTP, path: str) -> Seen:
    deadline = time.monotonic() + 10        # the answer goes out just after the 200
    while time.monotonic() < deadline and not fake.to(path):
        time.sleep(0.02)
    seen = fake.to(path)
    assert seen, f"nothing posted to {path}"
    return seen[-1]


def dm_page(engine: sa.Engine, slack: FakeHTTP) -> tuple[int, str]:
    slack.reply("/chat.postMessage", Reply(200, b'{"ok": true, "channel": "D1", "ts": "1.2"}'))
    now = datetime.now(timezone.utc)
    alert = make_alert(engine, now - timedelta(minutes=1), summary="disk full")
    nid = queue_one(engine, "slack", {"to": "U0OLGA", "user": "olga"}, now, alert_id=alert)
    assert deliver_due(engine, now)["sent"] == 1
    buttons = [e for b in slack.to("/chat.postMessage")[-1].json()["attachments"][0]["blocks"]
               if b["type"] == "actions" for e in b["elements"] if "action_id" in e]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (f"alertdesk_{a}", str(nid)) for a in ("acknowledge", "resolve", "escalate")]
    return alert, str(nid)


def test_a_click_acknowledges_as_the_linked_user_and_rewrites_the_message(
        http, engine, slack: FakeHTTP) -> None:
    link_slack(engine, "olga", "U0OLGA")
    alert, nid = dm_page(engine, slack)
    r = click(http, "U0OLGA", "acknowledge", nid, slack.url + "/respond/1")
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    assert row(engine, alert).state == "acknowledged"
    last = event_rows(engine, alert)[-1]
    assert (last.actor, last.source) == ("olga", "slack")
    update = answered(slack, "/respond/1").json()
    assert update["replace_original"] is True
    text = json.dumps(update)
    assert "Acknowledged by olga" in text and "alertdesk_acknowledge" not in text  # no buttons


def test_stale_forged_or_unlinked_clicks_change_nothing(http, engine, slack: FakeHTTP) -> None:
    link_slack(engine, "olga", "U0OLGA")
    alert, nid = dm_page(engine, slack)
    assert click(http, "U0OLGA", "resolve", nid, slack.url + "/r", age_s=360).status_code == 403
    assert click(http, "U0OLGA", "resolve", nid, slack.url + "/r",
                 secret="not-the-secret").status_code == 403
    r = click(http, "U0STRANGER", "resolve", nid, slack.url + "/respond/2")
    assert r.status_code == 200 and r.json()["ok"] is False
    told = answered(slack, "/respond/2").json()
    assert told["response_type"] == "ephemeral" and "not linked" in told["text"]
    assert row(engine, alert).state == "new" and len(event_rows(engine, alert)) == 1
