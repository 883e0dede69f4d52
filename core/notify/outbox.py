"""The outbox: writers queue notifications in their own transaction, the worker delivers
them later (core/notify/deliver.py). Reads of the delivery log live here too.

Rules:
- ``enqueue`` is idempotent on ``idempotency_key`` ("esc:<alert>:<tier>:<repeat>:<target>"):
  a second call with the same key inserts nothing and returns None.
- Secrets given in clear in ``target`` are sealed before the row is written, and the
  ``recipient`` (the throttling contact key) never carries one (core/notify/vault.py).
- ``cancel_pending`` (ack, resolve, silence) cancels the alert's queued rows; messages
  already in flight are not recalled. Other alerts' notifications that had been bundled
  into a cancelled row are released to go on their own.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import FieldError
from core.notify.base import CHANNELS, STATUSES
from core.notify.vault import SEALED_FIELDS, recipient_for, seal_target, validate_target
from core.paging import check_page
from core.secret import public_target
from core.tables import notification_attempts as attempts_t
from core.tables import notifications as n_t

MAX_LIMIT = 500


def enqueue(session: Session, *, channel: str, target: dict[str, Any], recipient: str,
            payload: dict[str, Any], idempotency_key: str, now: datetime,
            alert_id: int | None = None, group_id: int | None = None, reason: str = "",
            due_at: datetime | None = None) -> int | None:
    """Queue one message, due at ``due_at`` (default ``now``: a person's notification rule
    may delay it). Returns the new id, or None if the key exists."""
    validate_target(channel, target)
    if not idempotency_key:
        raise FieldError("idempotency_key", "must not be empty")
    stmt = insert(n_t).values(
        idempotency_key=idempotency_key, alert_id=alert_id, group_id=group_id, channel=channel,
        target=seal_target(channel, target), recipient=_safe_recipient(channel, target, recipient),
        payload=payload, reason=reason, status="pending", attempts=0,
        next_attempt_at=due_at or now, created_at=now,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(n_t.c.id)
    new_id = session.execute(stmt).scalar_one_or_none()
    return int(new_id) if new_id is not None else None


def _safe_recipient(channel: str, target: Mapping[str, Any], recipient: str) -> str:
    """The caller's contact key, unless it is empty or would leak a secret of the target."""
    secrets = [str(target[f]) for f in SEALED_FIELDS.get(channel, ()) if target.get(f)]
    if not recipient or any(s in recipient for s in secrets):
        return recipient_for(channel, target)
    return recipient


CANCEL = sa.text("""
with cancelled as (
    update notifications set status = 'cancelled', last_error = :reason
    where alert_id = :alert_id and status = 'pending'
    returning id, attempts
), followers as (
    update notifications f
    set status = case when f.alert_id is not distinct from :alert_id then 'cancelled' else 'pending' end,
        bundled_into = case when f.alert_id is not distinct from :alert_id then f.bundled_into end,
        next_attempt_at = :now
    where f.status = 'bundled' and f.bundled_into in (select id from cancelled)
    returning f.id
), logged as (
    insert into notification_attempts (notification_id, attempt, at, outcome, error)
    select id, attempts, :now, 'cancelled', :reason from cancelled
)
select count(*) from cancelled
""")


def cancel_pending(session: Session, alert_id: int, now: datetime, reason: str) -> int:
    """Cancel the alert's pending notifications (ack/resolve/silence); returns how many."""
    return int(session.execute(CANCEL, {"alert_id": alert_id, "now": now,
                                        "reason": reason or "cancelled"}).scalar_one())


@dataclass(frozen=True)
class LogFilter:
    """Delivery-log filters; every field optional. ``start``/``end`` bound created_at."""

    status: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    alert_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        for name, values, known in (("status", self.status, STATUSES),
                                    ("channel", self.channel, CHANNELS)):
            bad = [v for v in values if v not in known]
            if bad:
                raise FieldError(name, f"unknown {name} {bad[0]!r}; one of {', '.join(known)}")
        out: list[sa.ColumnElement[bool]] = []
        if self.status:
            out.append(n_t.c.status.in_(self.status))
        if self.channel:
            out.append(n_t.c.channel.in_(self.channel))
        if self.alert_id is not None:
            out.append(n_t.c.alert_id == self.alert_id)
        if self.start is not None:
            out.append(n_t.c.created_at >= self.start)
        if self.end is not None:
            out.append(n_t.c.created_at < self.end)
        return out


LOG_COLUMNS = ("id", "alert_id", "group_id", "channel", "recipient", "status", "attempts",
               "last_error", "provider_id", "reason", "created_at", "next_attempt_at",
               "sent_at", "bundled_into", "receipt", "receipt_at", "receipt_error")


def log_select(f: LogFilter) -> sa.Select[Any]:
    cols = [n_t.c[c] for c in LOG_COLUMNS]
    return (sa.select(*cols, n_t.c.target, n_t.c.payload["subject"].astext.label("subject"))
            .where(*f.where()).order_by(n_t.c.created_at.desc(), n_t.c.id.desc()))


def log_row(row: sa.Row[Any]) -> dict[str, Any]:
    """One delivery-log entry: the target with sealed values masked."""
    out = {c: getattr(row, c) for c in LOG_COLUMNS}
    out["target"] = public_target(row.target or {})
    out["subject"] = row.subject
    return out


def delivery_log(session: Session, f: LogFilter | None = None, page: int = 1,
                 limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """A page of the delivery log, newest first, and the total matching ``f``."""
    f = f or LogFilter()
    offset = check_page(page, limit, MAX_LIMIT)
    total = session.execute(sa.select(sa.func.count()).select_from(n_t).where(*f.where())).scalar_one()
    rows = session.execute(log_select(f).limit(limit).offset(offset))
    return [log_row(r) for r in rows], int(total)


def get_notification(session: Session, notification_id: int) -> dict[str, Any] | None:
    """One log entry plus its attempts (oldest first), or None."""
    row = session.execute(log_select(LogFilter()).where(n_t.c.id == notification_id)).first()
    if row is None:
        return None
    out = log_row(row)
    out["attempt_log"] = attempts_of(session, [notification_id]).get(notification_id, [])
    return out


def attempts_of(session: Session, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Per notification id, its delivery attempts in order."""
    stmt = (sa.select(attempts_t).where(attempts_t.c.notification_id.in_(list(ids)))
            .order_by(attempts_t.c.notification_id, attempts_t.c.at, attempts_t.c.id))
    out: dict[int, list[dict[str, Any]]] = {}
    for r in session.execute(stmt):
        out.setdefault(r.notification_id, []).append(
            {"attempt": r.attempt, "at": r.at, "outcome": r.outcome, "error": r.error,
             "provider_id": r.provider_id, "duration_ms": r.duration_ms})
    return out
