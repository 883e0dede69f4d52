"""PagerDuty hears an Alertdesk ack and resolve on the incident it was paged with (same
dedup_key), once each, against a local stand-in for the Events API v2."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.notify.base import NotifyConfig
from core.notify.deliver import deliver_due
from core.notify.followups import pagerduty_followups
from tests.conftest import T0
from tests.factories import act, make_alert, make_users
from tests.notify_servers import FakeHTTP, Reply, fake_http, queue_one

S = timedelta(seconds=1)


@pytest.fixture
def pd() -> Iterator[tuple[FakeHTTP, NotifyConfig]]:
    with fake_http() as web:
        web.default = Reply(202, b'{"status": "success"}')
        yield web, NotifyConfig(pagerduty_base_url=web.url,
                                env={"ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC": "R0UT1NG"})


def followups(engine: sa.Engine, now) -> int:  # type: ignore[no-untyped-def]
    with core_db.transaction(engine) as s:
        return pagerduty_followups(s, now)


def test_ack_then_resolve_reach_pagerduty_once_each(engine: sa.Engine, pd) -> None:  # type: ignore[no-untyped-def]
    web, cfg = pd
    make_users(engine)
    alert = make_alert(engine, T0, summary="db down", severity="critical")
    queue_one(engine, "pagerduty", {"routing_key_ref": "noc"}, T0, alert_id=alert)
    queue_one(engine, "pagerduty", {"routing_key_ref": "noc"}, T0 + 60 * S, alert_id=alert)
    assert deliver_due(engine, T0 + 60 * S, config=cfg)["sent"] == 2  # trigger + a repeat
    assert followups(engine, T0 + 70 * S) == 0          # still 'new': nothing to say
    act(engine, alert, "acknowledge", T0 + 90 * S)
    assert followups(engine, T0 + 95 * S) == 1          # one per PagerDuty target
    assert followups(engine, T0 + 100 * S) == 0         # idempotent
    assert deliver_due(engine, T0 + 100 * S, config=cfg)["sent"] == 1
    act(engine, alert, "resolve", T0 + 200 * S)
    assert followups(engine, T0 + 205 * S) == 1
    assert deliver_due(engine, T0 + 205 * S, config=cfg)["sent"] == 1
    bodies = [r.json() for r in web.to("/v2/enqueue")]
    assert [b["event_action"] for b in bodies] == ["trigger", "trigger", "acknowledge", "resolve"]
    assert {b["dedup_key"] for b in bodies} == {f"alertdesk-{alert}"}
    assert {b["routing_key"] for b in bodies} == {"R0UT1NG"}
    assert "payload" not in bodies[2] and "payload" not in bodies[3]
    assert followups(engine, T0 + 300 * S + timedelta(hours=3)) == 0  # incident closed


def test_a_reopened_alert_that_pages_again_is_resolved_again(engine: sa.Engine, pd) -> None:  # type: ignore[no-untyped-def]
    web, cfg = pd
    make_users(engine)
    alert = make_alert(engine, T0, summary="db down", severity="critical")
    queue_one(engine, "pagerduty", {"routing_key_ref": "noc"}, T0, alert_id=alert)
    deliver_due(engine, T0, config=cfg)
    act(engine, alert, "resolve", T0 + 60 * S)
    assert followups(engine, T0 + 61 * S) == 1
    act(engine, alert, "reopen", T0 + 120 * S)
    assert followups(engine, T0 + 121 * S) == 0               # reopened: nothing to say yet
    queue_one(engine, "pagerduty", {"routing_key_ref": "noc"}, T0 + 121 * S, alert_id=alert)
    assert deliver_due(engine, T0 + 121 * S, config=cfg)["sent"] == 2  # resolve, new trigger
    act(engine, alert, "resolve", T0 + 180 * S)
    assert followups(engine, T0 + 181 * S) == 1               # the new incident's resolve
    deliver_due(engine, T0 + 181 * S, config=cfg)
    actions = [r.json()["event_action"] for r in web.to("/v2/enqueue")]
    assert actions == ["trigger", "resolve", "trigger", "resolve"]


def test_no_followup_without_a_sent_trigger(engine: sa.Engine, pd) -> None:  # type: ignore[no-untyped-def]
    web, cfg = pd
    make_users(engine)
    quiet = make_alert(engine, T0, summary="never paged")
    queued = make_alert(engine, T0, summary="page cancelled before it went out")
    queue_one(engine, "pagerduty", {"routing_key_ref": "noc"}, T0, alert_id=queued)
    queue_one(engine, "slack", {"webhook": "noc"}, T0, alert_id=quiet)  # another channel
    for alert in (quiet, queued):
        act(engine, alert, "acknowledge", T0 + 30 * S)
    assert followups(engine, T0 + 31 * S) == 0
