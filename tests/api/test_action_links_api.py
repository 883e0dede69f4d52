"""Signed one-click links, end to end: a page to a person goes out by e-mail (a real SMTP
server) carrying Acknowledge / Resolve / Escalate links; GET shows what the link will do
and changes nothing (mail scanners fetch links); POST does it once, as that person; a used,
tampered or expired link explains itself and changes nothing."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa

from core.notify.base import NotifyConfig
from core.notify.deliver import deliver_due
from core.notify.format import sms_text
from tests.factories import act, event_rows, make_alert, row
from tests.notify_servers import queue_one, smtp_server


def mailed_links(engine: sa.Engine, alert_id: int, now: datetime) -> dict[str, str]:
    """Page olga about the alert by e-mail; the links the mail carries (path only)."""
    with smtp_server() as (port, box):
        queue_one(engine, "email", {"to": "olga@example.com", "user": "olga"}, now,
                  alert_id=alert_id)
        deliver_due(engine, now, config=NotifyConfig(smtp_port=port, smtp_from="ad@noc.test"))
    (_, _, msg), = box.received
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    found = dict(re.findall(r"- (Acknowledge|Resolve|Escalate): (\S+)", text))
    assert set(found) == {"Acknowledge", "Resolve", "Escalate"}, text
    for link in found.values():
        assert f'href="{link}"' in html                      # the HTML has the same buttons
    return {label.lower(): urlsplit(link).path for label, link in found.items()}


def test_a_mailed_link_acknowledges_once_as_its_person(http: httpx.Client, engine) -> None:
    now = datetime.now(timezone.utc)
    alert = make_alert(engine, now - timedelta(minutes=1), summary="disk full on db-01")
    links = mailed_links(engine, alert, now)
    ack = links["acknowledge"]
    assert re.fullmatch(r"/a/\d+a\.[A-Za-z0-9_-]{12}", ack)   # short enough for an SMS

    r = http.get(ack)                                         # a scanner's or a human's GET
    assert r.status_code == 200, r.text and f"Acknowledge alert #{alert} as olga?" in r.text
    assert "disk full on db-01" in r.text and "<form method=\"post\">" in r.text
    assert row(engine, alert).state == "new"                  # GET changed nothing

    r = http.post(ack)
    assert r.status_code == 200 and f"Acknowledged alert #{alert} as olga." in r.text, r.text
    assert row(engine, alert).state == "acknowledged"
    last = event_rows(engine, alert)[-1]
    assert (last.actor, last.source, last.to_state) == ("olga", "link", "acknowledged")

    again = http.post(ack)                                    # single use
    assert again.status_code == 410 and "already used" in again.text
    assert len(event_rows(engine, alert)) == len(event_rows(engine, alert))
    assert http.get(ack).status_code == 410

    tampered = ack[:-1] + ("A" if ack[-1] != "A" else "B")
    r = http.post(tampered)
    assert r.status_code == 404 and "not valid" in r.text
    r = http.post(links["resolve"].replace("r.", "a.", 1))    # another action, same mac
    assert r.status_code == 404

    r = http.post(links["resolve"])                           # each link works once
    assert r.status_code == 200 and row(engine, alert).state == "resolved"


def test_an_expired_or_refused_link_changes_nothing(http: httpx.Client, engine) -> None:
    now = datetime.now(timezone.utc)
    alert = make_alert(engine, now - timedelta(days=2))
    links = mailed_links(engine, alert, now - timedelta(hours=25))   # queued 25 h ago
    r = http.post(links["acknowledge"])
    assert r.status_code == 410 and "expired" in r.text
    assert row(engine, alert).state == "new"

    fresh = make_alert(engine, now, summary="link down")
    links = mailed_links(engine, fresh, now)
    act(engine, fresh, "resolve", now)                         # someone else resolved it
    r = http.post(links["acknowledge"])
    assert r.status_code == 409 and "cannot be acknowledged" in r.text
    assert row(engine, fresh).state == "resolved"


def test_the_text_keeps_its_ack_link_within_160_characters() -> None:
    link = "https://desk.example.com/a/123456a.AbCdEfGhIjKl"
    text = sms_text({"severity": "critical", "service": "billing", "device_id": "db-01",
                     "summary": "disk full " * 30, "alert_id": 123456}, 2, link)
    assert len(text) <= 160 and text.endswith(f" Ack: {link}") and "#123456" in text
