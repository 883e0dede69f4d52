"""People and how to reach them, on a real PostgreSQL and a local Twilio stand-in: contact
methods and rules edited by the person or an admin (audited, bad input names the field), and
a page that follows the person's rules (SMS now, a voice call at 2 min, e-mail at 5 min)
until they acknowledge."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.errors import Conflict, FieldError, Forbidden
from core.escalation.store import create_policy
from core.people import store
from core.worker import tick
from tests.conftest import T0
from tests.factories import ADMIN, MANAGER, OPERATOR, act, make_alert, make_users
from tests.notify_servers import FakeHTTP, Reply, fake_http

S = timedelta(seconds=1)
TWILIO = {"ALERTDESK_TWILIO_ACCOUNT_SID": "AC123", "ALERTDESK_TWILIO_AUTH_TOKEN": "tw-token",
          "ALERTDESK_TWILIO_FROM": "+15550001111"}


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHTTP]:
    with fake_http() as fake:
        fake.default = Reply(201, b'{"sid": "SM42"}')
        monkeypatch.setenv("ALERTDESK_TWILIO_BASE_URL", fake.url)
        monkeypatch.setenv("ALERTDESK_SMTP_PORT", "9")   # nothing listens: e-mail retries
        for k, v in TWILIO.items():
            monkeypatch.setenv(k, v)
        yield fake


def call(engine: sa.Engine, fn: Any, *args: Any) -> Any:
    with core_db.transaction(engine) as s:
        return fn(s, *args)


def olga_rules(engine: sa.Engine) -> dict[str, int]:
    ids = {}
    for kind, address in (("sms", "+15551230001"), ("voice", "+15551230001"),
                          ("email", "Olga@Example.com")):
        ids[kind] = call(engine, store.add_method, "olga",
                         {"type": kind, "address": address}, OPERATOR, T0)["id"]
    call(engine, store.put_rules, "olga", {"rules": [
        {"urgency": "high", "contact_method_id": ids["sms"], "delay_s": 0},
        {"urgency": "high", "contact_method_id": ids["voice"], "delay_s": 120},
        {"urgency": "high", "contact_method_id": ids["email"], "delay_s": 300},
        {"urgency": "low", "contact_method_id": ids["email"], "delay_s": 0}]}, OPERATOR, T0)
    return ids


def test_who_may_edit_and_what_is_refused(engine: sa.Engine) -> None:
    make_users(engine)
    with pytest.raises(Forbidden):
        call(engine, store.add_method, "olga", {"type": "sms", "address": "+15551230001"},
             MANAGER, T0)
    with pytest.raises(FieldError) as err:
        call(engine, store.add_method, "olga", {"type": "sms", "address": "555-1234"},
             OPERATOR, T0)
    assert err.value.field == "address"
    m = call(engine, store.add_method, "olga", {"type": "sms", "address": "+15551230001"},
             ADMIN, T0)
    with pytest.raises(Conflict):
        call(engine, store.add_method, "olga", {"type": "sms", "address": "+15551230001"},
             OPERATOR, T0)
    slack = call(engine, store.add_method, "olga", {"type": "slack", "address": "U024BE7LH"},
                 OPERATOR, T0)
    for rules, field in (([{"urgency": "high", "contact_method_id": slack["id"] + 99}],
                          "rules[0].contact_method_id"),
                         ([{"urgency": "high", "contact_method_id": m["id"], "delay_s": -1}],
                          "rules[0].delay_s")):
        with pytest.raises(FieldError) as err:
            call(engine, store.put_rules, "olga", {"rules": rules}, OPERATOR, T0)
        assert err.value.field == field
    assert call(engine, store.list_rules, "olga", OPERATOR) == []
    with engine.connect() as c:
        actions = c.execute(sa.text("select actor, action from audit_log where entity = 'user' "
                                    "and entity_id = 'olga' and action like 'contact%' "
                                    "order by id")).all()
    assert [tuple(r) for r in actions] == [("ada", "contact_add"), ("olga", "contact_add")]


def test_a_page_follows_the_persons_rules_until_they_acknowledge(engine: sa.Engine,
                                                                 twilio: FakeHTTP) -> None:
    make_users(engine)
    olga_rules(engine)
    with core_db.transaction(engine) as s:
        create_policy(s, {"name": "db", "priority": 1, "match": {"service": "db"},
                          "tiers": [{"delay_s": 0, "targets": [
                              {"type": "user", "username": "olga"}]}]}, MANAGER, T0)
    alert = make_alert(engine, T0, service="db", severity="critical")
    tick(engine, T0)
    assert [r.path for r in twilio.requests] == ["/2010-04-01/Accounts/AC123/Messages.json"]
    tick(engine, T0 + 120 * S)
    call_req = twilio.requests[1]
    assert call_req.path == "/2010-04-01/Accounts/AC123/Calls.json"
    form = call_req.form()
    assert (form["To"], form["From"]) == ("+15551230001", "+15550001111")
    assert "Critical alert from Alertdesk" in form["Twiml"]
    assert "Press 1 to acknowledge" in form["Twiml"] and "<Gather" in form["Twiml"]
    act(engine, alert, "acknowledge", T0 + 200 * S)
    tick(engine, T0 + 300 * S)
    with engine.connect() as c:
        rows = c.execute(sa.text("select channel, status, next_attempt_at from notifications "
                                 "order by id")).all()
    assert [(r.channel, r.status) for r in rows] == [
        ("sms", "sent"), ("voice", "sent"), ("email", "cancelled")]
    assert rows[2].next_attempt_at == T0 + 300 * S   # it was due at the rule's 5 min
    assert len(twilio.requests) == 2


def test_low_urgency_uses_the_low_rules(engine: sa.Engine, twilio: FakeHTTP) -> None:
    make_users(engine)
    olga_rules(engine)
    with core_db.transaction(engine) as s:
        create_policy(s, {"name": "db", "priority": 1, "match": {"service": "db"},
                          "tiers": [{"delay_s": 0, "targets": [
                              {"type": "user", "username": "olga"}]}]}, MANAGER, T0)
    make_alert(engine, T0, service="db", severity="medium")
    tick(engine, T0 + 30 * S)
    with engine.connect() as c:
        rows = c.execute(sa.text("select channel, recipient from notifications")).all()
    assert [tuple(r) for r in rows] == [("email", "olga@example.com")]
    assert twilio.requests == []


def test_the_cli_adds_contacts_and_rules(engine: sa.Engine, db_url: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from dashboard.__main__ import main

    make_users(engine)
    assert main(["add-contact", "olga", "voice", "+15551230001", "--label", "mobile"]) == 0
    assert main(["add-contact", "olga", "sms", "12345"]) == 2      # not E.164: refused
    assert "address" in capsys.readouterr().err
    with engine.connect() as c:
        cid = c.scalar(sa.text("select id from contact_methods where type = 'voice'"))
    assert main(["set-rules", "olga", f"high:{cid}:0", f"low:{cid}:600"]) == 0
    assert main(["set-rules", "olga", "high:x:0"]) == 2
    with engine.connect() as c:
        rules = c.execute(sa.text("select urgency, delay_s from notification_rules "
                                  "order by urgency")).all()
        who = c.scalar(sa.text("select actor from audit_log where action = 'rules_set'"))
    assert [tuple(r) for r in rules] == [("high", 0), ("low", 600)]
    assert who.startswith("cli:")


def test_a_slack_rule_sends_the_person_a_direct_message(engine: sa.Engine,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """chat.postMessage to the member id with the bot token; Slack's "ok": false errors are
    failures (not retried) unless Slack asks to retry (rate limit)."""
    make_users(engine)
    member = call(engine, store.add_method, "olga", {"type": "slack", "address": "U024BE7LH"},
                  OPERATOR, T0)
    call(engine, store.put_rules, "olga", {"rules": [
        {"urgency": "high", "contact_method_id": member["id"], "delay_s": 0}]}, OPERATOR, T0)
    with core_db.transaction(engine) as s:
        create_policy(s, {"name": "db", "priority": 1, "match": {"service": "db"},
                          "tiers": [{"delay_s": 0, "targets": [
                              {"type": "user", "username": "olga"}]}]}, MANAGER, T0)
    with fake_http() as slack:
        slack.reply("/api/chat.postMessage",
                    Reply(200, b'{"ok": false, "error": "ratelimited"}'),
                    Reply(200, b'{"ok": true, "channel": "D0123", "ts": "1700000000.000100"}'))
        monkeypatch.setenv("ALERTDESK_SLACK_API_URL", f"{slack.url}/api")
        monkeypatch.setenv("ALERTDESK_SLACK_BOT_TOKEN", "xoxb-test-token")
        make_alert(engine, T0, service="db", severity="critical", summary="db down")
        tick(engine, T0)
        tick(engine, T0 + 6 * S)          # the retry after Slack's rate limit
        first, second = slack.requests
        assert second.headers["authorization"] == "Bearer xoxb-test-token"
        body = second.json()
        assert body["channel"] == "U024BE7LH" and body["text"].startswith("[CRITICAL] db down")
        with engine.connect() as c:
            row = c.execute(sa.text("select channel, recipient, status, attempts, provider_id "
                                    "from notifications")).one()
        assert tuple(row) == ("slack", "slack:U024BE7LH", "sent", 2, "slack:D0123:1700000000.000100")
        slack.default = Reply(200, b'{"ok": false, "error": "user_not_found"}')
        make_alert(engine, T0 + 60 * S, service="db", severity="critical", summary="db again",
                   device_id="other")
        tick(engine, T0 + 200 * S)
        with engine.connect() as c:
            last = c.execute(sa.text("select status, last_error from notifications "
                                     "order by id desc limit 1")).one()
        assert tuple(last) == ("failed", "Slack API: user_not_found")
