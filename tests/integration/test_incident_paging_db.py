"""The incident (alert group) is the unit of paging: counted at a real local webhook
receiver, with the worker's whole tick (escalation jobs, then delivery) at injected instants."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.errors import Conflict, FieldError, Forbidden, NotFound
from core.escalation.jobs import escalate_due, start_escalations
from core.escalation.manual import add_responder, escalate_now
from core.escalation.store import create_policy
from core.grouping.read import get_group, group_stats
from core.worker import tick
from tests.conftest import T0
from tests.factories import MANAGER, OPERATOR, VIEWER, act, event_rows, make_alert, make_users
from tests.notify_servers import FakeHTTP, fake_http

S = timedelta(seconds=1)


@pytest.fixture
def web() -> Iterator[FakeHTTP]:
    with fake_http() as fake:
        yield fake


def pager(engine: sa.Engine, web: FakeHTTP, **extra: Any) -> None:
    """The 'disk' policy: tier 1 to the webhook at once, tier 2 to it again at 5 min."""
    hook = {"type": "webhook", "url": web.url + "/page"}
    body: dict[str, Any] = {"name": "disk", "priority": 1, "match": {"service": "storage"},
                            "tiers": [{"delay_s": 0, "targets": [hook]},
                                      {"delay_s": 300, "targets": [hook]}], **extra}
    with core_db.transaction(engine) as s:
        create_policy(s, body, MANAGER, T0)


def disk_alert(engine: sa.Engine, at: Any, n: int, severity: str = "critical") -> int:
    return make_alert(engine, at, service="storage", severity=severity, device_id=f"disk-{n}",
                      summary=f"disk full on disk-{n}", labels={"alertname": "DiskFull"})


def pages(web: FakeHTTP) -> list[dict[str, Any]]:
    return [r.json() for r in web.to("/page")]


def q(engine: sa.Engine, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.connect() as c:
        return list(c.execute(sa.text(sql), params))


def test_five_alerts_of_one_incident_page_once(engine: sa.Engine, web: FakeHTTP) -> None:
    pager(engine, web)
    ids = [disk_alert(engine, T0 + i * S, i) for i in range(5)]
    for i in range(5):
        tick(engine, T0 + i * S)
    [page] = pages(web)
    assert page["kind"] == "incident" and page["alert_id"] == ids[0]
    assert page["incident"]["open_alerts"] == 5
    assert "Incident #" in page["text"] and "5 open alerts" in page["text"]
    assert page["incident"]["new_since"] == 0 and "since the last page" not in page["text"]
    [g] = q(engine, "select distinct group_id from alerts where id = any(:ids)", ids=ids)
    [grp] = q(engine, "select notified_at from alert_groups where id = :g", g=g[0])
    assert grp.notified_at == T0
    [esc] = q(engine, "select alert_id, group_id, state from alert_escalations")
    assert (esc.alert_id, esc.group_id, esc.state) == (ids[0], g[0], "active")
    with core_db.transaction(engine) as s:   # the noise figures read the delivery log
        stats = group_stats(s, T0, T0 + 60 * S, "storage")
        detail = get_group(s, g[0])
    assert (stats["raw_events"], stats["notifications"], stats["noise_reduction_pct"]) == (5, 1, 80.0)
    assert detail["notifications"] == {"sent": 1, "queued": 0, "cancelled": 0}
    assert detail["escalation"]["lead_alert_id"] == ids[0]


def test_later_members_join_the_running_escalation(engine: sa.Engine, web: FakeHTTP) -> None:
    pager(engine, web)
    first = disk_alert(engine, T0, 0)
    tick(engine, T0)
    assert len(pages(web)) == 1
    for i in range(1, 4):   # three more alerts of the incident within the group window
        disk_alert(engine, T0 + 60 * i * S, i)
        tick(engine, T0 + 60 * i * S)
    assert len(pages(web)) == 1            # no fresh tier 1 for them
    tick(engine, T0 + 300 * S)             # tier 2 says what joined
    second = pages(web)[1]
    assert second["alert_id"] == first
    assert second["incident"] == {"open_alerts": 4, "unacknowledged": 4, "new_since": 3}
    assert "4 open alerts, 4 not acknowledged, 3 new since the last page" in second["text"]
    assert "disk full on disk-3" in second["text"]
    assert second["subject"].endswith("+3 more alerts")


def test_tier_timers_start_when_the_group_wait_ends(engine: sa.Engine, web: FakeHTTP) -> None:
    pager(engine, web)
    disk_alert(engine, T0, 0, severity="high")     # high: the group waits 15 s
    tick(engine, T0 + 14 * S)
    assert pages(web) == []
    tick(engine, T0 + 15 * S)
    assert len(pages(web)) == 1
    [esc] = q(engine, "select started_at, next_at from alert_escalations")
    assert (esc.started_at, esc.next_at) == (T0 + 15 * S, T0 + 315 * S)


def test_acknowledging_one_member_is_not_enough(engine: sa.Engine, web: FakeHTTP) -> None:
    pager(engine, web)
    a, b = disk_alert(engine, T0, 0), disk_alert(engine, T0, 1)
    tick(engine, T0)
    act(engine, a, "acknowledge", T0 + 60 * S)
    tick(engine, T0 + 300 * S)
    assert len(pages(web)) == 2            # b still needs a human: tier 2 goes out
    assert pages(web)[1]["incident"]["unacknowledged"] == 1
    act(engine, b, "acknowledge", T0 + 310 * S)
    tick(engine, T0 + 311 * S)
    [esc] = q(engine, "select state, stopped_reason, stopped_at from alert_escalations")
    assert (esc.state, esc.stopped_reason, esc.stopped_at) == ("stopped", "acknowledged", T0 + 311 * S)


def test_ack_of_every_member_cancels_the_queued_page(engine: sa.Engine, web: FakeHTTP) -> None:
    pager(engine, web)
    a, b = disk_alert(engine, T0, 0), disk_alert(engine, T0, 1)
    with core_db.transaction(engine) as s:   # escalate without delivering
        start_escalations(s, T0)
        escalate_due(s, T0)
    act(engine, a, "acknowledge", T0 + S)
    act(engine, b, "acknowledge", T0 + S)
    tick(engine, T0 + 2 * S)
    assert pages(web) == []
    [n] = q(engine, "select status from notifications")
    assert n.status == "cancelled"


def test_acknowledged_incident_stays_so_when_alerts_join(engine: sa.Engine, web: FakeHTTP) -> None:
    pager(engine, web)
    a = disk_alert(engine, T0, 0)
    tick(engine, T0)
    act(engine, a, "acknowledge", T0 + 30 * S)
    tick(engine, T0 + 31 * S)
    disk_alert(engine, T0 + 60 * S, 1)     # joins the acknowledged incident
    for t in (61, 400, 1000):
        tick(engine, T0 + t * S)
    assert len(pages(web)) == 1
    [esc] = q(engine, "select state, cycle from alert_escalations")
    assert (esc.state, esc.cycle) == ("stopped", 0)


def test_a_resolved_incident_pages_again_when_it_fires_again(engine: sa.Engine,
                                                             web: FakeHTTP) -> None:
    pager(engine, web)
    a = disk_alert(engine, T0, 0)
    tick(engine, T0)
    act(engine, a, "resolve", T0 + 30 * S)
    tick(engine, T0 + 31 * S)
    b = disk_alert(engine, T0 + 60 * S, 1)  # same incident (within the group window)
    tick(engine, T0 + 61 * S)
    assert len(pages(web)) == 2
    assert pages(web)[1]["incident"]["open_alerts"] == 1
    [esc] = q(engine, "select state, cycle from alert_escalations")
    assert (esc.state, esc.cycle) == ("active", 1)
    [g] = q(engine, "select count(distinct group_id) from alerts where id in (:a, :b)", a=a, b=b)
    assert g[0] == 1


def test_a_forgotten_ack_returns_every_acknowledged_member(engine: sa.Engine,
                                                            web: FakeHTTP) -> None:
    pager(engine, web, ack_timeout_s=600)
    a, b = disk_alert(engine, T0, 0), disk_alert(engine, T0, 1)
    tick(engine, T0)
    act(engine, a, "acknowledge", T0 + 10 * S)
    act(engine, b, "acknowledge", T0 + 20 * S)
    tick(engine, T0 + 21 * S)
    [esc] = q(engine, "select state, ack_due_at from alert_escalations")
    assert (esc.state, esc.ack_due_at) == ("stopped", T0 + 620 * S)   # the latest ack + 10 min
    tick(engine, T0 + 620 * S)
    states = q(engine, "select state from alerts where id in (:a, :b)", a=a, b=b)
    assert [r.state for r in states] == ["new", "new"]
    [esc] = q(engine, "select state, cycle from alert_escalations")
    assert (esc.state, esc.cycle) == ("active", 1)
    assert len(pages(web)) == 2 and pages(web)[1]["incident"]["unacknowledged"] == 2


def test_escalate_now_fires_the_next_tier_at_the_next_tick(engine: sa.Engine,
                                                            web: FakeHTTP) -> None:
    pager(engine, web)
    a = disk_alert(engine, T0, 0)
    tick(engine, T0)
    [g] = q(engine, "select group_id from alerts where id = :a", a=a)
    with core_db.transaction(engine) as s:
        escalate_now(s, OPERATOR, T0 + 60 * S, group_id=g[0])
    tick(engine, T0 + 61 * S)
    assert len(pages(web)) == 2                      # tier 2, four minutes early
    notes = [e.note for e in event_rows(engine, a) if e.kind == "escalation"]
    assert notes[1] == "escalate now, by olga: the next tier is due"
    assert notes[2].startswith("tier 2 fired") and notes[2].endswith("(due at once: manual)")
    act(engine, a, "acknowledge", T0 + 90 * S)
    tick(engine, T0 + 91 * S)
    with pytest.raises(Conflict, match="it stopped \\(acknowledged\\)"):
        with core_db.transaction(engine) as s:
            escalate_now(s, OPERATOR, T0 + 92 * S, alert_id=a)
    with pytest.raises(Forbidden):
        with core_db.transaction(engine) as s:
            escalate_now(s, VIEWER, T0 + 92 * S, alert_id=a)


def test_a_responder_is_paged_now_even_on_an_acknowledged_incident(engine: sa.Engine,
                                                                   web: FakeHTTP) -> None:
    make_users(engine)
    with engine.begin() as c:
        c.execute(sa.text("update users set email = 'maria@example.com' where username = 'maria'"))
    pager(engine, web)
    a = disk_alert(engine, T0, 0)
    tick(engine, T0)
    act(engine, a, "acknowledge", T0 + 30 * S)
    tick(engine, T0 + 31 * S)
    with core_db.transaction(engine) as s:
        out = add_responder(s, {"type": "user", "username": "Maria"}, OPERATOR, T0 + 40 * S,
                            alert_id=a)
    assert out["paged"] == ["email to maria@example.com"]
    [n] = q(engine, "select channel, recipient, status, payload from notifications "
                    "where channel = 'email'")
    assert (n.channel, n.recipient, n.status) == ("email", "maria@example.com", "pending")
    assert n.payload["kind"] == "responder" and "added as a responder by olga" in n.payload["text"]
    [ev] = [e for e in event_rows(engine, a) if (e.note or "").startswith("responder added")]
    assert ev.actor == "olga" and ev.metadata["target"] == {"type": "user", "username": "maria"}
    for bad, field in (({"type": "team"}, "type"), ({"type": "user", "username": "nobody"},
                                                     "username"),
                       ({"type": "schedule", "schedule_id": 99}, "schedule_id")):
        with pytest.raises(FieldError) as err:
            with core_db.transaction(engine) as s:
                add_responder(s, bad, OPERATOR, T0 + 50 * S, alert_id=a)
        assert err.value.field == field
    with pytest.raises(NotFound):
        with core_db.transaction(engine) as s:
            add_responder(s, {"type": "user", "username": "maria"}, OPERATOR, T0, group_id=999)


def test_a_threshold_policy_pages_once_n_alerts_arrived_within_m(engine: sa.Engine,
                                                                 web: FakeHTTP) -> None:
    pager(engine, web, threshold={"alerts": 3, "within_s": 120})
    disk_alert(engine, T0, 0)
    disk_alert(engine, T0 + 30 * S, 1)
    for t in (0, 30, 60, 100):
        tick(engine, T0 + t * S)
    assert pages(web) == []                       # two alerts: below the threshold
    disk_alert(engine, T0 + 110 * S, 2)
    tick(engine, T0 + 111 * S)
    [page] = pages(web)
    assert page["incident"]["open_alerts"] == 3
    [esc] = q(engine, "select started_at, next_at from alert_escalations")
    assert (esc.started_at, esc.next_at) == (T0 + 111 * S, T0 + 411 * S)


def test_alerts_too_far_apart_never_meet_the_threshold(engine: sa.Engine,
                                                       web: FakeHTTP) -> None:
    pager(engine, web, threshold={"alerts": 3, "within_s": 120})
    for i in range(3):                            # one every 100 s: at most two per 120 s
        disk_alert(engine, T0 + 100 * i * S, i)
        tick(engine, T0 + 100 * i * S)
    tick(engine, T0 + 250 * S)
    assert pages(web) == [] and q(engine, "select 1 from alert_escalations") == []


def test_force_send_after_n_more_signals_while_unacknowledged(engine: sa.Engine,
                                                              web: FakeHTTP) -> None:
    pager(engine, web, renotify_after=5)
    a = disk_alert(engine, T0, 0)
    tick(engine, T0)                               # tier 1, and the baseline: 1 signal
    assert len(pages(web)) == 1
    for i in range(4):                             # four repeats: not enough yet
        disk_alert(engine, T0 + (10 + i) * S, 0)
    tick(engine, T0 + 20 * S)
    assert len(pages(web)) == 1
    for i in range(2):                             # the fifth and sixth since the page
        disk_alert(engine, T0 + (30 + i) * S, 0)
    tick(engine, T0 + 40 * S)                      # forced, before tier 2 (due at 300 s)
    forced = [e for e in event_rows(engine, a) if (e.note or "").startswith("tier 1 paged again")]
    assert len(forced) == 1 and forced[0].metadata["signals"] == 7
    assert "6 more signals since the last page" in forced[0].note
    [n] = q(engine, "select idempotency_key from notifications where idempotency_key like :k",
            k="%:d7")
    tick(engine, T0 + 61 * S)                      # one message a minute per contact
    assert len(pages(web)) == 2 and pages(web)[1]["idempotency_key"] == n.idempotency_key
    tick(engine, T0 + 70 * S)
    assert len(pages(web)) == 2                    # the count starts again from 7
    act(engine, a, "acknowledge", T0 + 80 * S)
    for i in range(6):
        disk_alert(engine, T0 + (90 + i) * S, 0)
    tick(engine, T0 + 200 * S)
    assert len(pages(web)) == 2                    # acknowledged: never forced
