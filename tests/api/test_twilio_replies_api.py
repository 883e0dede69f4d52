"""Acting from a text or a call: a page goes out through a Twilio stand-in to olga's phone;
her reply (signed as Twilio signs it, checked with Twilio's RequestValidator) acknowledges,
resolves or escalates as olga; a voice page's key 1 acknowledges. Unknown numbers get no
answer and change nothing; a forged signature is refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

from core.notify.deliver import deliver_due
from tests.api.test_twilio_receipts_api import PUBLIC, twilio, twilio_signature  # noqa: F401 - fixture
from tests.factories import event_rows, make_alert, row
from tests.notify_servers import FakeHTTP, Reply, queue_one

OLGA = "+15551234567"
SMS_PATH = "/api/v1/integrations/twilio/sms"


def give_olga_a_phone(engine: sa.Engine) -> None:
    with engine.begin() as c:
        c.execute(sa.text(
            "insert into contact_methods (user_id, type, address, label, created_at) "
            "select id, 'sms', :p, 'mobile', now() from users where username = 'olga'"),
            {"p": OLGA})


def send_page(engine: sa.Engine, twilio: FakeHTTP, channel: str,  # noqa: F811
              summary: str, later_min: int = 0) -> tuple[int, int]:
    """One page to olga; ``later_min`` apart from the previous one (pages to one number
    within a minute are bundled into one text)."""
    resource = "Messages" if channel == "sms" else "Calls"
    twilio.reply(f"/2010-04-01/Accounts/AC123/{resource}.json", Reply(201, b'{"sid": "SM1"}'))
    now = datetime.now(timezone.utc) + timedelta(minutes=later_min)
    alert = make_alert(engine, now - timedelta(minutes=1), summary=summary, device_id=summary)
    nid = queue_one(engine, channel, {"to": OLGA, "user": "olga"}, now, alert_id=alert)
    assert deliver_due(engine, now)["sent"] == 1
    return alert, nid


def twilio_post(http: httpx.Client, path: str, params: dict[str, str],
                forged: bool = False) -> httpx.Response:
    sig = twilio_signature(PUBLIC + path, params, "not-the-token" if forged else
                           "tw-auth-token-for-tests")
    return http.post(path, content=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})


def text(http: httpx.Client, body: str, sender: str = OLGA, forged: bool = False) -> httpx.Response:
    return twilio_post(http, SMS_PATH, {"MessageSid": "SMx", "AccountSid": "AC123",
                                        "From": sender, "To": "+15550001111", "Body": body},
                       forged)


def test_replies_act_as_the_person_the_number_belongs_to(http, engine,
                                                         twilio: FakeHTTP) -> None:  # noqa: F811
    give_olga_a_phone(engine)
    first, _ = send_page(engine, twilio, "sms", "disk full")
    body = twilio.requests[-1].form()["Body"]
    assert len(body) <= 160 and f" Ack: {PUBLIC}/a/" in body     # the one-click link, too
    second, _ = send_page(engine, twilio, "sms", "link down", later_min=2)

    r = text(http, "ack")                                       # bare: the last page
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert f"<Message>Acknowledged alert #{second} as olga</Message>" in r.text
    assert (row(engine, second).state, row(engine, first).state) == ("acknowledged", "new")
    last = event_rows(engine, second)[-1]
    assert (last.actor, last.source) == ("olga", "sms")

    r = text(http, f"RES #{first}")
    assert f"Resolved alert #{first} as olga" in r.text and row(engine, first).state == "resolved"
    r = text(http, f"ack {first}")                              # too late: says why
    assert f"Not done: alert {first} is resolved; it cannot be acknowledged" in r.text
    r = text(http, "what is this?")
    assert "Reply ACK, RES or ESC" in r.text


def test_strangers_and_forgeries_change_nothing(http, engine, twilio: FakeHTTP) -> None:  # noqa: F811
    give_olga_a_phone(engine)
    alert, _ = send_page(engine, twilio, "sms", "disk full")
    r = text(http, f"ack {alert}", sender="+15559999999")       # a number nobody has
    assert r.status_code == 200 and "<Message>" not in r.text
    r = text(http, f"ack {alert}", forged=True)
    assert r.status_code == 403
    assert row(engine, alert).state == "new" and len(event_rows(engine, alert)) == 1


def test_key_one_during_a_voice_page_acknowledges(http, engine, twilio: FakeHTTP) -> None:  # noqa: F811
    give_olga_a_phone(engine)
    alert, nid = send_page(engine, twilio, "voice", "disk full")
    twiml = twilio.requests[-1].form()["Twiml"]
    assert f"/api/v1/integrations/twilio/voice?n={nid}" in twiml
    path = f"/api/v1/integrations/twilio/voice?n={nid}"
    r = twilio_post(http, path, {"CallSid": "CA1", "AccountSid": "AC123", "Digits": "2"})
    assert "No action was taken" in r.text and row(engine, alert).state == "new"
    r = twilio_post(http, path, {"CallSid": "CA1", "AccountSid": "AC123", "Digits": "1"})
    assert f"<Say>Acknowledged alert #{alert} as olga. Goodbye.</Say>" in r.text
    assert row(engine, alert).state == "acknowledged"
    assert event_rows(engine, alert)[-1].source == "voice"
