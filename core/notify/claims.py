"""Claiming due outbox rows, with per-contact throttling, bundling and the SMS limit.

One short transaction, a fixed number of statements whatever the batch size:

1. lock due rows (``pending`` with ``next_attempt_at <= now``, or ``sending`` whose claim
   expired: a claim sets ``next_attempt_at = claimed_until``) ``FOR UPDATE SKIP LOCKED``,
   high urgency first (critical and high pages), then the longest due: a burst of low
   pages never holds back a critical one;
2. cancel "page" rows whose alert no longer needs a human (not 'new', or muted), and
   "incident" rows whose group has no member left that does;
3. per contact (channel, recipient), under a transaction advisory lock so two workers never
   decide for one contact at once (a contact locked elsewhere is left for the next tick):
   - PagerDuty and console are not throttled: every row is sent on its own;
   - sent to less than 60 s ago (or a send in flight): defer every row to 60 s after it;
   - SMS with 10 sent to the number in the last hour: every row becomes 'rate_limited';
   - else the oldest row is sent and the others are 'bundled' into it (their summaries
     ride along in its text); rows bundled into those are re-pointed to it.
4. claim the rows to send: ``sending``, ``claimed_until = now + 60 s``, ``attempts + 1`` —
   except for a claim taken over after a crash (the row was still ``sending``): the lost
   attempt never reached the log, so it does not count.
The caller commits, then sends outside any transaction (core/notify/deliver.py).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.notify.base import Notification
from core.notify.sms import HOURLY_LIMIT

CLAIM = timedelta(seconds=60)
THROTTLE = timedelta(seconds=60)
UNTHROTTLED = frozenset({"pagerduty", "console"})
STALE_REASON = "the alert no longer needs paging (acknowledged, resolved, silenced or muted)"
RATE_REASON = f"SMS limit: {HOURLY_LIMIT} messages per hour to this number"


@dataclass(frozen=True)
class Due:
    id: int
    channel: str
    recipient: str
    created_at: datetime
    stale: bool


@dataclass(frozen=True)
class ContactState:
    last_sent: datetime | None = None
    busy_until: datetime | None = None
    sent_last_hour: int = 0


@dataclass
class Plan:
    send: list[int] = field(default_factory=list)
    bundle: list[tuple[int, int]] = field(default_factory=list)  # (follower, leader)
    defer: list[tuple[int, datetime]] = field(default_factory=list)
    rate_limited: list[int] = field(default_factory=list)


def plan_contact(channel: str, rows: Sequence[Due], state: ContactState, now: datetime,
                 plan: Plan) -> None:
    """The throttling rule for one contact's due rows (oldest first), as a pure function."""
    if channel in UNTHROTTLED:
        plan.send.extend(r.id for r in rows)
    elif state.busy_until is not None and state.busy_until > now:
        plan.defer.extend((r.id, now + THROTTLE) for r in rows)
    elif state.last_sent is not None and state.last_sent + THROTTLE > now:
        plan.defer.extend((r.id, state.last_sent + THROTTLE) for r in rows)
    elif channel == "sms" and state.sent_last_hour >= HOURLY_LIMIT:
        plan.rate_limited.extend(r.id for r in rows)
    else:
        plan.send.append(rows[0].id)
        plan.bundle.extend((r.id, rows[0].id) for r in rows[1:])


CANDIDATES = sa.text("""
select n.id, n.channel, n.recipient, n.created_at,
       (coalesce(n.payload->>'kind', 'page') = 'page' and n.alert_id is not null and (
           a.state <> 'new' or a.silence_id is not null or a.inhibited_by is not null))
       or (n.payload->>'kind' = 'incident' and not exists (
           select 1 from alerts m where m.group_id = n.group_id and m.state = 'new'
              and m.silence_id is null and m.inhibited_by is null)) as stale
from notifications n left join alerts a on a.id = n.alert_id
where n.status in ('pending', 'sending') and n.next_attempt_at <= :now
order by coalesce(n.payload ->> 'severity', 'info') in ('critical', 'high') desc,
         n.next_attempt_at, n.id
limit :limit
for update of n skip locked
""")
LOCK = sa.text("""select c from unnest(cast(:contacts as text[])) as c
                  where pg_try_advisory_xact_lock(hashtextextended('notify:' || c, 0))""")
STATE = sa.text("""
select c.channel, c.recipient,
       (select max(s.sent_at) from notifications s where s.recipient = c.recipient
           and s.channel = c.channel and s.status = 'sent' and s.sent_at > :hour_ago) as last_sent,
       (select count(*) from notifications s where s.recipient = c.recipient
           and s.channel = c.channel and s.status = 'sent' and s.sent_at > :hour_ago) as sent_hour,
       (select max(s.claimed_until) from notifications s where s.recipient = c.recipient
           and s.channel = c.channel and s.status = 'sending' and s.claimed_until > :now) as busy
from unnest(cast(:channels as text[]), cast(:recipients as text[])) as c(channel, recipient)
""")


def _key(channel: str, recipient: str) -> str:
    return f"{channel} {recipient}"


def _contact_states(session: Session, contacts: Sequence[tuple[str, str]],
                    now: datetime) -> dict[tuple[str, str], ContactState]:
    if not contacts:
        return {}
    locked = set(session.execute(LOCK, {"contacts": [_key(*c) for c in contacts]}).scalars())
    mine = [c for c in contacts if _key(*c) in locked]
    if not mine:
        return {}
    rows = session.execute(STATE, {"channels": [c[0] for c in mine], "recipients": [c[1] for c in mine],
                                   "now": now, "hour_ago": now - timedelta(hours=1)})
    return {(r.channel, r.recipient): ContactState(r.last_sent, r.busy, int(r.sent_hour)) for r in rows}


def make_plan(session: Session, due: Sequence[Due], now: datetime) -> Plan:
    """Group the live due rows by contact and apply ``plan_contact`` to each group."""
    groups: dict[tuple[str, str], list[Due]] = {}
    for row in sorted(due, key=lambda r: (r.created_at, r.id)):
        groups.setdefault((row.channel, row.recipient), []).append(row)
    throttled = [c for c in groups if c[0] not in UNTHROTTLED]
    states = _contact_states(session, throttled, now)
    plan = Plan()
    for contact, rows in groups.items():
        if contact[0] in UNTHROTTLED:
            plan_contact(contact[0], rows, ContactState(), now, plan)
        elif contact in states:  # else: another worker holds this contact; next tick
            plan_contact(contact[0], rows, states[contact], now, plan)
    return plan


# A final outcome decided without sending (cancelled: stale page; rate_limited: SMS cap),
# recorded on the rows and in the attempt log.
FINISH_UNSENT = sa.text("""
with f as (
    update notifications set status = :status, claimed_until = null, last_error = :reason
    where id = any(:ids) returning id, attempts
)
insert into notification_attempts (notification_id, attempt, at, outcome, error)
select id, attempts, :now, :status, :reason from f
""")
DEFER = sa.text("""
update notifications n set status = 'pending', claimed_until = null, next_attempt_at = d.at
from unnest(cast(:ids as bigint[]), cast(:ats as timestamptz[])) as d(id, at) where n.id = d.id
""")
REPOINT = sa.text("""
update notifications n set bundled_into = m.leader
from unnest(cast(:followers as bigint[]), cast(:leaders as bigint[])) as m(follower, leader)
where n.bundled_into = m.follower
""")
BUNDLE = sa.text("""
update notifications n set status = 'bundled', bundled_into = m.leader, claimed_until = null
from unnest(cast(:followers as bigint[]), cast(:leaders as bigint[])) as m(follower, leader)
where n.id = m.follower
""")
TAKE = sa.text("""
with old as (select id, status = 'sending' as takeover from notifications where id = any(:ids))
update notifications n set status = 'sending',
    attempts = attempts + case when old.takeover then 0 else 1 end,
    claimed_until = :until, next_attempt_at = :until
from old where n.id = old.id
returning n.id, channel, target, recipient, payload, attempts, alert_id, idempotency_key,
          claimed_until, old.takeover
""")
FOLLOWERS = sa.text("""
select bundled_into, payload from notifications
where bundled_into = any(:ids) and status = 'bundled' order by created_at, id
""")


@dataclass
class Claim:
    """The rows to send now, and what the claim decided for the others."""

    rows: list[Notification]
    counts: dict[str, int]


def claim_due(session: Session, now: datetime, limit: int = 100) -> Claim:
    """Lock, throttle and claim up to ``limit`` due rows (see the module docstring)."""
    due = [Due(r.id, r.channel, r.recipient, r.created_at, bool(r.stale))
           for r in session.execute(CANDIDATES, {"now": now, "limit": limit})]
    stale = [d.id for d in due if d.stale]
    if stale:
        session.execute(FINISH_UNSENT, {"ids": stale, "now": now, "reason": STALE_REASON,
                                        "status": "cancelled"})
    plan = make_plan(session, [d for d in due if not d.stale], now)
    _apply(session, plan, now)
    rows = list(session.execute(TAKE, {"ids": plan.send, "until": now + CLAIM})) if plan.send else []
    bundled = _followers(session, [r.id for r in rows])
    order = {d.id: i for i, d in enumerate(due)}   # the claim's order: urgency, then age
    claimed = [Notification(r.id, r.channel, r.target or {}, r.recipient, r.payload or {},
                            r.attempts, r.alert_id, r.idempotency_key, tuple(bundled.get(r.id, ())),
                            r.claimed_until, r.takeover)
               for r in sorted(rows, key=lambda r: order.get(r.id, 0))]
    counts = {"cancelled": len(stale), "bundled": len(plan.bundle), "deferred": len(plan.defer),
              "rate_limited": len(plan.rate_limited)}
    return Claim(claimed, counts)


def _apply(session: Session, plan: Plan, now: datetime) -> None:
    if plan.rate_limited:
        session.execute(FINISH_UNSENT, {"ids": plan.rate_limited, "now": now,
                                        "reason": RATE_REASON, "status": "rate_limited"})
    if plan.defer:
        session.execute(DEFER, {"ids": [d[0] for d in plan.defer], "ats": [d[1] for d in plan.defer]})
    if plan.bundle:
        pairs = {"followers": [b[0] for b in plan.bundle], "leaders": [b[1] for b in plan.bundle]}
        session.execute(REPOINT, pairs)
        session.execute(BUNDLE, pairs)


def _followers(session: Session, leaders: Sequence[int]) -> dict[int, list[Mapping[str, Any]]]:
    out: dict[int, list[Mapping[str, Any]]] = {}
    if leaders:
        for r in session.execute(FOLLOWERS, {"ids": list(leaders)}):
            out.setdefault(r.bundled_into, []).append(r.payload or {})
    return out
