"""Delivery against real local servers: SMTP (aiosmtpd) and an HTTP webhook receiver.
Time is driven by the ``now`` given to deliver_due; nothing sleeps to make a retry due."""
from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.notify.base import NotifyConfig
from core.notify.claims import claim_due
from core.notify.deliver import deliver_due
from core.notify.outbox import cancel_pending, enqueue
from tests.conftest import T0
from tests.factories import act, make_alert, make_users, row
from tests.notify_servers import (
    FakeHTTP,
    Reply,
    attempts,
    fake_http,
    free_port,
    notification,
    queue_one,
    smtp_server,
)

S = timedelta(seconds=1)


@pytest.fixture
def web() -> Iterator[FakeHTTP]:
    with fake_http() as fake:
        yield fake


def test_email_goes_out_as_text_and_html_with_a_link_back(engine: sa.Engine) -> None:
    alert = make_alert(engine, T0, summary="disk full on db-01", severity="critical")
    with smtp_server() as (port, box):
        nid = queue_one(engine, "email", {"to": "Oncall@Example.com"}, T0, alert_id=alert)
        counts = deliver_due(engine, T0, config=NotifyConfig(smtp_port=port, smtp_from="ad@noc.test"))
    assert counts["sent"] == 1
    (mail_from, rcpts, msg), = box.received
    assert (mail_from, rcpts) == ("ad@noc.test", ["Oncall@Example.com"])
    assert msg["Subject"] == "[CRITICAL] disk full on db-01 (billing/db-01)"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "tier 1 of policy 'test'" in text and f"/alert?id={alert}" in text
    assert f'href="http://127.0.0.1:8501/alert?id={alert}"' in html
    n = notification(engine, nid)
    assert (n.status, n.attempts, n.sent_at, n.provider_id) == ("sent", 1, T0, msg["Message-ID"])
    assert attempts(engine, nid) == ["sent"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_refusing_auth_retries_with_backoff_then_fails_alert_untouched(engine: sa.Engine) -> None:
    alert = make_alert(engine, T0)
    before = row(engine, alert)
    with smtp_server(require_auth=True) as (port, box):
        cfg = NotifyConfig(smtp_port=port, smtp_user="alertdesk", smtp_password="wrong")
        nid = queue_one(engine, "email", {"to": "oncall@example.com"}, T0, alert_id=alert)
        at = T0
        for wait in (0, 5, 10, 20):
            at += wait * S
            assert deliver_due(engine, at - S, config=cfg)["sent"] == 0  # not due a second early
            assert deliver_due(engine, at, config=cfg)["retry" if wait < 20 else "failed"] == 1
    assert box.received == []
    n = notification(engine, nid)
    assert (n.status, n.attempts) == ("failed", 4)
    assert "535" in n.last_error
    assert attempts(engine, nid) == ["retry", "retry", "retry", "failed"]
    assert row(engine, alert) == before


def test_smtp_server_down_is_retried(engine: sa.Engine) -> None:
    nid = queue_one(engine, "email", {"to": "oncall@example.com"}, T0)
    assert deliver_due(engine, T0, config=NotifyConfig(smtp_port=free_port()))["retry"] == 1
    n = notification(engine, nid)
    assert (n.status, n.next_attempt_at) == ("pending", T0 + 5 * S)


def test_webhook_posts_signed_json(engine: sa.Engine, web: FakeHTTP) -> None:
    alert = make_alert(engine, T0)
    target = {"url": f"{web.url}/hooks/noc?token=abc", "secret": "noc"}
    nid = queue_one(engine, "webhook", target, T0, alert_id=alert, key="esc:1:1:0:hook")
    cfg = NotifyConfig(env={"ALERTDESK_WEBHOOK_SECRET_NOC": "s3cret"})
    web.reply("/hooks/noc?token=abc", Reply(200, b"{}", headers=(("X-Request-Id", "rq-7"),)))
    assert deliver_due(engine, T0, config=cfg)["sent"] == 1
    req, = web.requests
    assert (req.method, req.path, req.headers["content-type"]) == (
        "POST", "/hooks/noc?token=abc", "application/json")
    expected = "sha256=" + hmac.new(b"s3cret", req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-alertdesk-signature"] == expected
    assert req.headers["x-alertdesk-idempotency-key"] == "esc:1:1:0:hook"
    body = req.json()
    assert (body["alert_id"], body["notification_id"], body["severity"]) == (alert, nid, "critical")
    n = notification(engine, nid)
    assert (n.status, n.provider_id) == ("sent", "rq-7")
    assert n.recipient.startswith("http://127.0.0.1/… #")    # scheme + host: never the path
    assert "token=abc" not in str(n.target) and "/hooks" not in str(n.target)  # sealed whole


def test_http_500_then_success_follows_the_backoff(engine: sa.Engine, web: FakeHTTP) -> None:
    nid = queue_one(engine, "webhook", {"url": f"{web.url}/h"}, T0)
    web.reply("/h", Reply(500), Reply(503))
    assert deliver_due(engine, T0)["retry"] == 1
    assert deliver_due(engine, T0 + 4 * S)["retry"] == 0
    assert deliver_due(engine, T0 + 5 * S)["retry"] == 1
    assert deliver_due(engine, T0 + 14 * S)["sent"] == 0
    assert deliver_due(engine, T0 + 15 * S)["sent"] == 1
    assert len(web.requests) == 3
    assert attempts(engine, nid) == ["retry", "retry", "sent"]
    assert "HTTP 503" in notification(engine, nid).last_error


def test_timeouts_retry_then_fail(engine: sa.Engine, web: FakeHTTP) -> None:
    alert = make_alert(engine, T0)
    nid = queue_one(engine, "webhook", {"url": f"{web.url}/slow"}, T0, alert_id=alert)
    web.default = Reply(200, b"{}", delay_s=1.0)
    cfg = NotifyConfig(timeout_s=0.2)
    outcomes = [deliver_due(engine, T0 + s * S, config=cfg) for s in (0, 5, 15, 35)]
    assert [o["retry"] for o in outcomes] == [1, 1, 1, 0] and outcomes[-1]["failed"] == 1
    n = notification(engine, nid)
    assert (n.status, n.attempts, len(web.requests)) == ("failed", 4, 4)
    assert "timed out" in n.last_error
    assert row(engine, alert).state == "new"


def test_client_error_fails_at_once(engine: sa.Engine, web: FakeHTTP) -> None:
    nid = queue_one(engine, "webhook", {"url": f"{web.url}/gone"}, T0)
    web.default = Reply(404, b"no such hook")
    assert deliver_due(engine, T0)["failed"] == 1
    assert (notification(engine, nid).status, attempts(engine, nid)) == ("failed", ["failed"])


def test_two_workers_deliver_each_notification_exactly_once(engine: sa.Engine, web: FakeHTTP) -> None:
    ids = [queue_one(engine, "webhook", {"url": f"{web.url}/n{i}"}, T0) for i in range(40)]
    web.default = Reply(200, b"{}", delay_s=0.01)
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            deliver_due(engine, T0, limit=7)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.path for r in web.requests) == sorted(f"/n{i}" for i in range(40))
    assert {notification(engine, i).status for i in ids} == {"sent"}
    assert {notification(engine, i).attempts for i in ids} == {1}


def test_an_abandoned_claim_is_retried_after_it_expires(engine: sa.Engine, web: FakeHTTP) -> None:
    nid = queue_one(engine, "webhook", {"url": f"{web.url}/h"}, T0)
    with core_db.transaction(engine) as s:  # a worker claims, then dies before sending
        assert [n.id for n in claim_due(s, T0).rows] == [nid]
    assert deliver_due(engine, T0 + 30 * S)["sent"] == 0
    assert deliver_due(engine, T0 + 61 * S)["sent"] == 1
    n = notification(engine, nid)
    # the lost claim sent nothing and logged nothing: the takeover is attempt 1, not 2
    assert (n.status, n.attempts, len(web.requests)) == ("sent", 1, 1)
    assert n.next_attempt_at <= n.sent_at        # finished: no attempt shown in the future
    assert attempts(engine, nid) == ["sent"]


def test_rows_handed_back_unsent_keep_their_attempt_count(engine: sa.Engine,
                                                          web: FakeHTTP) -> None:
    """A batch that cannot start a send before its claims could expire hands the rows back
    as they were: a fresh claim's attempt is taken back, a takeover had added none."""
    taken = queue_one(engine, "webhook", {"url": f"{web.url}/a"}, T0)
    with core_db.transaction(engine) as s:  # a worker claims it, then dies
        assert [n.id for n in claim_due(s, T0).rows] == [taken]
    fresh = queue_one(engine, "webhook", {"url": f"{web.url}/b"}, T0 + 61 * S)
    slow = NotifyConfig(timeout_s=30)   # 2 x 30 s + 5 s leaves no time within a 60 s claim
    assert deliver_due(engine, T0 + 61 * S, config=slow)["released"] == 2
    assert web.requests == []
    got = {i: (notification(engine, i).status, notification(engine, i).attempts)
           for i in (taken, fresh)}
    assert got == {taken: ("pending", 1), fresh: ("pending", 0)}


def test_a_late_outcome_of_a_lost_claim_changes_nothing(engine: sa.Engine,
                                                        web: FakeHTTP) -> None:
    from core.notify.deliver import Outcome, record_many

    nid = queue_one(engine, "webhook", {"url": f"{web.url}/h"}, T0)
    with core_db.transaction(engine) as s:  # worker A claims, stalls past its claim
        [stale] = claim_due(s, T0).rows
    assert deliver_due(engine, T0 + 61 * S)["sent"] == 1          # worker B takes over
    assert record_many(engine, [(stale, Outcome(error="late failure", retryable=False))],
                       T0 + 90 * S) == ["failed"]                 # A wakes up and reports
    n = notification(engine, nid)
    assert (n.status, n.attempts, n.last_error) == ("sent", 1, None)


def test_enqueue_is_idempotent_per_key(engine: sa.Engine) -> None:
    kw = dict(channel="console", target={}, recipient="console", payload={"summary": "x"},
              idempotency_key="esc:1:2:0:console", now=T0)
    with core_db.transaction(engine) as s:
        first = enqueue(s, **kw)  # type: ignore[arg-type]
        again = enqueue(s, **kw)  # type: ignore[arg-type]
    assert first is not None and again is None


def test_ack_cancels_pending_and_a_late_row_is_not_sent(engine: sa.Engine, web: FakeHTTP) -> None:
    make_users(engine)
    a1, a2 = make_alert(engine, T0), make_alert(engine, T0)
    n1 = queue_one(engine, "webhook", {"url": f"{web.url}/a"}, T0, alert_id=a1)
    n2 = queue_one(engine, "webhook", {"url": f"{web.url}/b"}, T0, alert_id=a2)
    act(engine, a1, "acknowledge", T0)
    act(engine, a2, "acknowledge", T0)
    with core_db.transaction(engine) as s:
        assert cancel_pending(s, a1, T0, "acknowledged by olga") == 1
    counts = deliver_due(engine, T0)  # a2 was acked without cancel_pending: the claim drops it
    assert (counts["sent"], counts["cancelled"], web.requests) == (0, 1, [])
    assert notification(engine, n1).last_error == "acknowledged by olga"
    assert (notification(engine, n1).status, notification(engine, n2).status) == ("cancelled", "cancelled")
    assert attempts(engine, n1) == ["cancelled"] and attempts(engine, n2) == ["cancelled"]


class Elapsed:
    """A clock that starts at T0 and runs at the wall clock's pace (attempt times)."""

    def __init__(self) -> None:
        import time
        self._t0, self._mono = T0, time.monotonic

    def now(self):  # type: ignore[no-untyped-def]
        return self._t0 + timedelta(seconds=self._mono() - self._start)

    def start(self) -> None:
        self._start = self._mono()


def test_a_hanging_target_does_not_delay_the_others(engine: sa.Engine, web: FakeHTTP) -> None:
    for i in range(3):                      # three receivers that answer only after 3 s
        web.reply(f"/hang{i}", Reply(200, delay_s=3.0))
    hung = [queue_one(engine, "webhook", {"url": f"{web.url}/hang{i}"}, T0, key=f"h{i}")
            for i in range(3)]
    fast = queue_one(engine, "webhook", {"url": f"{web.url}/fast"}, T0, key="fast")
    clock = Elapsed()
    clock.start()
    counts = deliver_due(engine, T0, config=NotifyConfig(timeout_s=1.0), clock=clock)
    assert (counts["sent"], counts["retry"]) == (1, 3)
    with engine.connect() as c:
        at = dict(c.execute(sa.text("select notification_id, at from notification_attempts")).all())
    assert at[fast] - T0 < timedelta(seconds=0.5)          # it did not wait behind the hung ones
    assert notification(engine, fast).sent_at - T0 < timedelta(seconds=0.8)
    assert all(notification(engine, h).status == "pending" for h in hung)


def test_retry_after_is_honoured(engine: sa.Engine, web: FakeHTTP) -> None:
    web.reply("/busy", Reply(429, headers=(("Retry-After", "120"),)))
    web.reply("/down", Reply(503))
    busy = queue_one(engine, "webhook", {"url": f"{web.url}/busy"}, T0, key="busy")
    down = queue_one(engine, "webhook", {"url": f"{web.url}/down"}, T0, key="down")
    assert deliver_due(engine, T0, config=NotifyConfig())["retry"] == 2
    assert notification(engine, busy).next_attempt_at == T0 + 120 * S   # not the 5 s backoff
    assert notification(engine, down).next_attempt_at == T0 + 5 * S


def test_critical_pages_go_first_whatever_the_backlog(engine: sa.Engine, web: FakeHTTP) -> None:
    with core_db.transaction(engine) as s:
        for i in range(30):
            enqueue(s, channel="webhook", target={"type": "webhook", "url": f"{web.url}/low"},
                    recipient=f"low{i}", payload={"kind": "test", "severity": "low"},
                    idempotency_key=f"low{i}", now=T0 - 60 * S)
        crit = enqueue(s, channel="webhook", target={"type": "webhook", "url": f"{web.url}/crit"},
                       recipient="crit", payload={"kind": "test", "severity": "critical"},
                       idempotency_key="crit", now=T0)
    assert deliver_due(engine, T0, limit=5, config=NotifyConfig())["sent"] == 5
    assert notification(engine, crit).status == "sent"   # claimed first, though the newest
