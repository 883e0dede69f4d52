"""SMS and call delivery receipts: a page sent through a Twilio stand-in asks for status
callbacks on the public URL; Twilio's callbacks, signed as Twilio documents it (HMAC-SHA1 of
the URL and the sorted form fields, base64, under the auth token), turn the outbox row into
delivered/undelivered. The server checks them with Twilio's own RequestValidator."""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa

from core.notify.base import NotifyConfig
from core.notify.deliver import deliver_due
from tests.conftest import T0
from tests.factories import make_alert
from tests.notify_servers import FakeHTTP, Reply, fake_http, notification, queue_one

PUBLIC = "https://desk.example.com"
STATUS_URL = f"{PUBLIC}/api/v1/integrations/twilio/status"
TOKEN = "tw-auth-token-for-tests"
PATH = "/api/v1/integrations/twilio/status"


def twilio_signature(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    """https://www.twilio.com/docs/usage/security#validating-requests"""
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def callback(http: httpx.Client, params: dict[str, str], *, url: str = STATUS_URL,
             token: str = TOKEN, sign: dict[str, str] | None = None) -> httpx.Response:
    """POST a status callback the way Twilio does (form body, X-Twilio-Signature)."""
    sig = twilio_signature(url, sign if sign is not None else params, token)
    return http.post(PATH, content=urlencode(params),
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "X-Twilio-Signature": sig})


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHTTP]:
    with fake_http() as fake:
        for name, value in {"ACCOUNT_SID": "AC123", "AUTH_TOKEN": TOKEN, "FROM": "+15550001111",
                            "BASE_URL": fake.url}.items():
            monkeypatch.setenv(f"ALERTDESK_TWILIO_{name}", value)
        monkeypatch.setenv("ALERTDESK_PUBLIC_URL", PUBLIC)
        yield fake


def page(engine: sa.Engine, twilio: FakeHTTP, channel: str, sid: str) -> int:
    """Send one SMS or call page through the stand-in, which answers with ``sid``."""
    resource = "Messages" if channel == "sms" else "Calls"
    twilio.reply(f"/2010-04-01/Accounts/AC123/{resource}.json",
                 Reply(201, f'{{"sid": "{sid}"}}'.encode()))
    alert = make_alert(engine, T0, summary="disk full", severity="critical")
    nid = queue_one(engine, channel, {"to": "+15551234567"}, T0, alert_id=alert)
    assert deliver_due(engine, T0, config=NotifyConfig.from_env())["sent"] == 1
    return nid


def test_sms_asks_for_receipts_and_a_delivered_receipt_is_recorded(
        engine: sa.Engine, http: httpx.Client, twilio: FakeHTTP, viewer: dict[str, str]) -> None:
    nid = page(engine, twilio, "sms", "SM0001")
    sent, = twilio.requests
    assert sent.form()["StatusCallback"] == STATUS_URL
    # Twilio reports progress first: not final, nothing changes
    r = callback(http, {"MessageSid": "SM0001", "MessageStatus": "sent", "AccountSid": "AC123"})
    assert r.status_code == 200 and r.json()["updated"] == 0
    assert notification(engine, nid).receipt is None
    r = callback(http, {"MessageSid": "SM0001", "MessageStatus": "delivered", "AccountSid": "AC123"})
    assert (r.status_code, r.json()["receipt"], r.json()["updated"]) == (200, "delivered", 1)
    row = notification(engine, nid)
    assert (row.status, row.receipt, row.receipt_error) == ("sent", "delivered", None)
    assert row.receipt_at is not None
    # a late, out-of-order final word changes nothing: the first one stands
    callback(http, {"MessageSid": "SM0001", "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert notification(engine, nid).receipt == "delivered"
    entry = http.get(f"/api/v1/notifications/{nid}", headers=viewer).json()
    assert entry["receipt"] == "delivered"


def test_undelivered_sms_keeps_the_carrier_error(engine: sa.Engine, http: httpx.Client,
                                                 twilio: FakeHTTP, viewer: dict[str, str]) -> None:
    nid = page(engine, twilio, "sms", "SM0002")
    r = callback(http, {"MessageSid": "SM0002", "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert r.status_code == 200
    row = notification(engine, nid)
    assert (row.receipt, row.receipt_error) == ("undelivered", "Twilio 30003: unreachable handset "
                                                               "(off or out of coverage)")
    log = http.get("/api/v1/notifications", params={"channel": "sms"}, headers=viewer).json()
    assert [(e["id"], e["receipt"]) for e in log["data"]] == [(nid, "undelivered")]
    csv = http.get("/api/v1/notifications/export.csv", headers=viewer).text
    assert "undelivered" in csv.splitlines()[1]


def test_unanswered_call_is_undelivered(engine: sa.Engine, http: httpx.Client,
                                        twilio: FakeHTTP) -> None:
    nid = page(engine, twilio, "voice", "CA0001")
    assert twilio.requests[0].form()["StatusCallback"] == STATUS_URL
    r = callback(http, {"CallSid": "CA0001", "CallStatus": "no-answer", "AccountSid": "AC123"})
    assert r.json()["receipt"] == "undelivered"
    row = notification(engine, nid)
    assert (row.receipt, row.receipt_error) == ("undelivered", "call no-answer")


def test_requests_not_signed_by_twilio_change_nothing(engine: sa.Engine, http: httpx.Client,
                                                      twilio: FakeHTTP) -> None:
    nid = page(engine, twilio, "sms", "SM0003")
    good = {"MessageSid": "SM0003", "MessageStatus": "undelivered", "ErrorCode": "30005"}
    tampered = callback(http, {**good, "MessageStatus": "delivered"}, sign=good)
    wrong_token = callback(http, good, token="not-the-token")
    other_url = callback(http, good, url="https://evil.example.com/api/v1/integrations/twilio/status")
    unsigned = http.post(PATH, content=urlencode(good),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    for r in (tampered, wrong_token, other_url, unsigned):
        assert r.status_code == 403, r.text
        assert "X-Twilio-Signature" in r.json()["error"]
    assert notification(engine, nid).receipt is None


def test_bad_callbacks_are_4xx_naming_the_field(engine: sa.Engine, http: httpx.Client,
                                                twilio: FakeHTTP,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    r = callback(http, {"AccountSid": "AC123"})
    assert (r.status_code, r.json()["field"]) == (422, "MessageSid")
    r = callback(http, {"MessageSid": "SM9"})
    assert (r.status_code, r.json()["field"]) == (422, "MessageStatus")
    r = http.post(PATH, content=b"\xff\xfe", headers={"X-Twilio-Signature": "x"})
    assert (r.status_code, r.json()["field"]) == (422, "body")
    unknown = callback(http, {"MessageSid": "SM-unknown", "MessageStatus": "delivered"})
    assert (unknown.status_code, unknown.json()["updated"]) == (200, 0)
    monkeypatch.delenv("ALERTDESK_TWILIO_AUTH_TOKEN")
    r = callback(http, {"MessageSid": "SM9", "MessageStatus": "delivered"})
    assert r.status_code == 403 and "ALERTDESK_TWILIO_AUTH_TOKEN" in r.json()["error"]
