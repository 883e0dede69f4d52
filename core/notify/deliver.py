"""Delivery: claim due outbox rows (one short transaction, core/notify/claims.py), send
each one outside any transaction, then record the outcome in a new short transaction.

Rules:
- success → 'sent' with the provider's id and ``sent_at``; rows bundled into it get the
  same ``sent_at``/``provider_id`` (they went out inside it);
- a retryable error → 'pending' again after 5 s, 10 s, 20 s (``BACKOFF_S * 2**(n-1)``),
  or after the provider's ``Retry-After`` when it asks for longer (at most an hour);
  the 4th failed attempt, or any non-retryable error, → 'failed' (its bundled rows too);
- sends run concurrently (``ALERTDESK_NOTIFY_CONCURRENCY``, default 16), each with its own
  timeout: a hanging target never delays another one;
- every attempt appends a ``notification_attempts`` row (outcome, error, provider id, ms)
  at the time it began; ``sent_at`` is when the provider answered;
  ``last_error`` keeps the latest error even after a later success;
- at least once: a worker killed mid-send loses nothing: its claim (60 s) expires and the
  row is claimed again, and the retried request carries the same
  ``X-Alertdesk-Idempotency-Key`` (webhooks), so a receiver can drop a repeat; outcomes
  are recorded only if the claim is still ours (``attempts`` and ``claimed_until``
  unchanged), in batches as sends complete (``FLUSH_EVERY``/``FLUSH_S``);
- a batch stops sending before its claims could expire and hands the rest back;
- logs name the channel, recipient and notification id, never a token or secret URL.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core import db as core_db
from core.clock import Clock
from core.errors import Conflict
from core.notify import console, email, pagerduty, slack, sms, voice, webhook
from core.notify.base import DeliveryError, Notification, NotifyConfig
from core.notify.claims import CLAIM, claim_due
from core.notify.format import sample_payload
from core.notify.outbox import enqueue, get_notification
from core.notify.sms import HOURLY_LIMIT
from core.notify.vault import recipient_for

log = logging.getLogger("alertdesk.notify")

Sender = Callable[[Notification, NotifyConfig], str]
SENDERS: dict[str, Sender] = {"email": email.send, "slack": slack.send, "webhook": webhook.send,
                              "sms": sms.send, "voice": voice.send, "pagerduty": pagerduty.send,
                              "console": console.send}
MAX_ATTEMPTS = 4
BACKOFF_S = 5
# Outcomes are written in small batches: 50, or whatever has come in once a quarter second
# passed since the last write (checked as sends complete).
# A worker that dies between a send and its batch's write loses at most those outcomes; the
# rows' claims expire and they are sent again (at least once, the same idempotency key).
FLUSH_EVERY, FLUSH_S = 50, 0.25


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 5 s, 10 s, 20 s, ..."""
    return timedelta(seconds=BACKOFF_S * 2 ** max(attempts - 1, 0))


@dataclass(frozen=True)
class Outcome:
    provider_id: str | None = None
    error: str | None = None
    retryable: bool = False
    duration_ms: int = 0
    retry_after_s: float | None = None  # the provider asked to wait this long
    began: datetime | None = None       # when the attempt began (the clock's, if given)
    ended: datetime | None = None       # when the provider answered


def send_one(n: Notification, config: NotifyConfig) -> Outcome:
    """Send through the row's channel; never raises (a bug in a sender is a retryable error)."""
    started = time.monotonic()
    try:
        provider_id = SENDERS[n.channel](n, config)
        outcome = Outcome(provider_id=provider_id)
    except DeliveryError as err:
        outcome = Outcome(error=str(err), retryable=err.retryable, retry_after_s=err.retry_after_s)
    except Exception as err:  # noqa: BLE001 - record it and retry; the worker must go on
        log.exception("notification %s (%s): sender crashed", n.id, n.channel)
        outcome = Outcome(error=f"internal error: {type(err).__name__}", retryable=True)
    ms = int((time.monotonic() - started) * 1000)
    return replace(outcome, duration_ms=ms)


def next_status(n: Notification, outcome: Outcome, retry: bool = True) -> str:
    """'sent', 'retry' (back to pending after backoff) or 'failed'."""
    if outcome.error is None:
        return "sent"
    if retry and outcome.retryable and n.attempts < MAX_ATTEMPTS:
        return "retry"
    return "failed"


RECORD_MANY = sa.text("""
with o as (
    select * from jsonb_to_recordset(cast(:rows as jsonb)) as o(id bigint, attempts int,
        status text, provider_id text, error text, sent_at timestamptz, next_at timestamptz,
        at timestamptz, outcome text, ms int, follow_error text, until timestamptz)
), upd as (
    update notifications n set status = o.status,
        provider_id = coalesce(o.provider_id, n.provider_id),
        last_error = coalesce(o.error, n.last_error), sent_at = o.sent_at, claimed_until = null,
        -- finished rows keep no attempt in the future (the claim's deadline was shown as one)
        next_attempt_at = coalesce(o.next_at, case when o.status in ('sent', 'failed')
                                                    then o.at else n.next_attempt_at end)
    from o where n.id = o.id and n.status = 'sending' and n.attempts = o.attempts
      and n.claimed_until is not distinct from o.until
    returning n.id, o.status, o.provider_id, o.sent_at, o.follow_error
), fol as (
    update notifications f set status = case when u.status = 'sent' then f.status else u.status end,
        sent_at = u.sent_at, provider_id = u.provider_id, last_error = u.follow_error
    from upd u where f.bundled_into = u.id and f.status = 'bundled' and u.status <> 'pending'
)
insert into notification_attempts (notification_id, attempt, at, outcome, error, provider_id,
                                   duration_ms)
select id, attempts, at, outcome, error, provider_id, ms from o
""")


def record_many(engine: sa.Engine, done: list[tuple[Notification, Outcome]],
                now: datetime, retry: bool = True) -> list[str]:
    """Write the outcomes of attempts in one transaction; returns sent/retry/failed for
    each, in order. A row changes only while the claim that sent it still holds it (same
    ``attempts`` and ``claimed_until``): a stalled worker's late report is logged as an
    attempt and changes nothing else. Rows bundled into a sent or failed row follow it."""
    rows, results = [], []
    for n, outcome in done:
        result = next_status(n, outcome, retry)
        p = _params(n, outcome, result, now)
        rows.append({**p, "outcome": result, "ms": outcome.duration_ms,
                     "at": (outcome.began or now).isoformat(),
                     "sent_at": p["sent_at"].isoformat() if p["sent_at"] else None,
                     "next_at": p["next_at"].isoformat() if p["next_at"] else None,
                     "until": p["until"].isoformat() if p["until"] else None,
                     "follow_error": None if result == "sent" else
                     f"bundled into #{n.id}, which failed: {outcome.error}"})
        results.append(result)
        _log(n, result, outcome)
    with core_db.transaction(engine) as s:
        s.execute(RECORD_MANY, {"rows": json.dumps(rows)})
    return results


def _params(n: Notification, outcome: Outcome, result: str, now: datetime) -> dict[str, Any]:
    done = outcome.ended or now
    wait = max(backoff(n.attempts), timedelta(seconds=outcome.retry_after_s or 0))
    return {"id": n.id, "attempts": n.attempts, "until": n.claimed_until,
            "provider_id": outcome.provider_id,
            "error": outcome.error, "status": "pending" if result == "retry" else result,
            "sent_at": done if result == "sent" else None,
            "next_at": done + wait if result == "retry" else None}


def _log(n: Notification, result: str, outcome: Outcome) -> None:
    level = logging.INFO if result == "sent" else logging.WARNING
    log.log(level, "notification %s %s to %s: %s%s", n.id, n.channel, n.recipient, result,
            f" ({outcome.error})" if outcome.error else "")


# Rows claimed but never started go back as they were: the attempt the claim added is taken
# back (a takeover added none).
RELEASE = sa.text("""
update notifications set status = 'pending', claimed_until = null, next_attempt_at = :now,
    attempts = attempts - case when id = any(:fresh) then 1 else 0 end
where id = any(:ids) and status = 'sending'
""")


def deliver_due(engine: sa.Engine, now: datetime, limit: int = 500,
                config: NotifyConfig | None = None, clock: Clock | None = None) -> dict[str, int]:
    """One delivery pass at ``now``: how many were sent, retried, failed, bundled, deferred,
    rate-limited, cancelled (stale) and released (not started before the claim deadline).

    Up to ``config.concurrency`` contacts are sent to at once, each send with its own
    timeout, so a target that hangs holds one slot for at most its timeout and never delays
    another contact; one contact's rows go out in the order they were queued.
    Outcomes are recorded in small batches as they arrive (``FLUSH_EVERY``/``FLUSH_S``),
    each with the times its attempt began and ended by ``clock`` (the worker's; without
    one, ``now``: tests drive time exactly)."""
    config = config or NotifyConfig.from_env()
    with core_db.transaction(engine) as s:
        claim = claim_due(s, now, limit)
    counts = {"sent": 0, "retry": 0, "failed": 0, **claim.counts, "released": 0}
    if not claim.rows:
        return counts
    deadline = time.monotonic() + CLAIM.total_seconds() - 2 * config.timeout_s - 5

    def one(n: Notification) -> Outcome | None:
        if time.monotonic() > deadline:   # our claim would expire mid-send: hand it back
            return None
        at = clock.now() if clock else now
        return replace(send_one(n, config), began=at, ended=clock.now() if clock else now)

    def in_order(rows: list[Notification]) -> list[tuple[Notification, Outcome | None]]:
        return [(n, one(n)) for n in rows]

    done: list[tuple[Notification, Outcome]] = []
    released: list[Notification] = []
    flushed = time.monotonic()
    contacts = by_contact(claim.rows)
    with ThreadPoolExecutor(max_workers=min(config.concurrency, len(contacts)),
                            thread_name_prefix="deliver") as pool:
        for future in as_completed([pool.submit(in_order, rows) for rows in contacts]):
            for n, outcome in future.result():
                if outcome is None:
                    released.append(n)
                else:
                    done.append((n, outcome))
            if len(done) >= FLUSH_EVERY or (done and time.monotonic() - flushed > FLUSH_S):
                for result in record_many(engine, done, now):
                    counts[result] += 1
                done, flushed = [], time.monotonic()
    for result in record_many(engine, done, now) if done else []:
        counts[result] += 1
    if released:
        with core_db.transaction(engine) as s:
            s.execute(RELEASE, {"ids": [n.id for n in released], "now": now,
                                "fresh": [n.id for n in released if not n.takeover]})
        counts["released"] = len(released)
    return counts


def by_contact(rows: list[Notification]) -> list[list[Notification]]:
    """The claimed rows per contact (channel, recipient), contacts in claim order, each
    contact's rows oldest first: one contact's messages go out one after the other, in the
    order they were queued (a PagerDuty resolve before the next trigger of the same key)."""
    groups: dict[tuple[str, str], list[Notification]] = {}
    for n in rows:
        groups.setdefault((n.channel, n.recipient), []).append(n)
    return [sorted(g, key=lambda n: n.id) for g in groups.values()]


def deliver_for(engine: sa.Engine, now: datetime, budget_s: float = 3.0,
                config: NotifyConfig | None = None, clock: Clock | None = None) -> dict[str, int]:
    """Delivery passes at ``now`` until nothing is due or ``budget_s`` is spent (the worker
    runs this every tick, so a backlog drains at the channels' pace, not 500 per tick)."""
    total: dict[str, int] = {}
    stop = time.monotonic() + budget_s
    while True:
        counts = deliver_due(engine, now, config=config, clock=clock)
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
        if sum(counts.values()) == 0 or time.monotonic() > stop:
            return total


SMS_LAST_HOUR = sa.text("""
select count(*) from notifications
where channel = 'sms' and recipient = :to and status = 'sent' and sent_at > :since
""")
INSERT_SENDING = sa.text("""
update notifications set status = 'sending', attempts = 1, claimed_until = :until,
    next_attempt_at = :until where id = :id
returning id, channel, target, recipient, payload, attempts, alert_id, idempotency_key,
          claimed_until
""")


def send_test(engine: sa.Engine, channel: str, target: dict[str, Any], now: datetime,
              actor: str, config: NotifyConfig | None = None) -> dict[str, Any]:
    """Send a test message now through the real channel code, bypassing throttling; it is
    logged in the outbox (reason "test", no retry) and its log entry is returned."""
    config = config or NotifyConfig.from_env()
    payload = {**sample_payload(channel), "requested_by": actor}
    recipient = recipient_for(channel, target)
    with core_db.transaction(engine) as s:
        if channel == "sms" and s.scalar(SMS_LAST_HOUR, {"to": recipient,
                                                         "since": now - timedelta(hours=1)}) \
                >= HOURLY_LIMIT:
            raise Conflict(f"{recipient} got {HOURLY_LIMIT} SMS in the last hour (the limit "
                           "holds for tests too); try again later")
        new_id = enqueue(s, channel=channel, target=target, recipient=recipient,
                         payload=payload, idempotency_key=f"test:{uuid.uuid4()}", now=now,
                         reason="test")
        r = s.execute(INSERT_SENDING, {"id": new_id, "until": now + CLAIM}).one()
    n = Notification(r.id, r.channel, r.target, r.recipient, r.payload, r.attempts, None,
                     r.idempotency_key, claimed_until=r.claimed_until)
    record_many(engine, [(n, send_one(n, config))], now, retry=False)
    with core_db.transaction(engine) as s:
        out = get_notification(s, n.id)
    assert out is not None
    return out
