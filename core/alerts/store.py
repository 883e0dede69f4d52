"""Transitions in the database: lock -> check -> update -> append events, in the caller's
transaction. ``SELECT .. FOR UPDATE`` serialises concurrent actions on one alert, so of 50
simultaneous acknowledges exactly one succeeds and the others see the new state (409)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import lifecycle
from core.actor import Actor
from core.alerts.model import check_json, check_text
from core.durations import human
from core.errors import AlertdeskError, FieldError, Forbidden, InvalidTransition, NotFound
from core.lifecycle import Step
from core.tables import alert_events, alerts, users

MAX_NOTE = 10_000
MAX_SNOOZE = timedelta(days=30)   # one alert's silence (snooze)
# Why an alert was resolved; false_positive feeds the per-model false-positive rate.
RESOLUTIONS = ("fixed", "false_positive", "duplicate", "wont_fix", "expected", "other")


@dataclass(frozen=True)
class ActionRequest:
    action: str
    note: str | None = None
    metadata: dict[str, Any] | None = None
    assign_to: str | None = None
    until: datetime | None = None
    resolution: str | None = None


def apply(session: Session, alert_id: int, req: ActionRequest, actor: Actor,
          now: datetime) -> None:
    """Apply one lifecycle action to one alert, or raise (nothing is written then)."""
    if not actor.can("operator"):
        raise Forbidden(f"{actor.name} may not {req.action} alerts (operator role needed)")
    note = _note(req.note)
    check_json(req.metadata, "metadata")
    row = _lock(session, alert_id)
    now = _after(row, now)
    try:
        steps = lifecycle.plan(row.state, req.action, row.state_before_silence, alert_id=alert_id)
    except InvalidTransition as err:
        raise InvalidTransition(alert_id, err.state, err.action,
                                _last_change(session, alert_id, now)) from None
    if req.action == "silence":
        _check_until(req.until, now)
    _check_resolution(req)
    values: dict[str, Any] = {"updated_at": now}
    for step in steps:
        values.update(_effects(step, row, req, actor, now))
        _event(session, alert_id, actor, now, "transition", step.from_state, step.to_state,
               note if step is steps[-1] else "silence ended by operator action",
               {"action": step.action, "rule": step.rule_id, **(req.metadata or {}),
                **({"resolution": req.resolution} if req.resolution else {})})
    assignee = _assignee(session, row, req, actor)
    if assignee is not None and assignee != row.assignee:
        values["assignee"] = assignee
        _event(session, alert_id, actor, now, "assign", steps[-1].to_state, steps[-1].to_state,
               None, {"from": row.assignee, "to": assignee})
    session.execute(sa.update(alerts).where(alerts.c.id == alert_id).values(**values))


def add_note(session: Session, alert_id: int, note: str | None, actor: Actor, now: datetime,
             metadata: dict[str, Any] | None = None, assign_to: str | None = None) -> None:
    """A note (and optionally a new assignee) without a state change."""
    if not actor.can("operator"):
        raise Forbidden(f"{actor.name} may not annotate alerts (operator role needed)")
    text = _note(note)
    check_json(metadata, "metadata")
    if not text and not assign_to:
        raise FieldError("note", "is required")
    row = _lock(session, alert_id)
    now = _after(row, now)
    if text:
        _event(session, alert_id, actor, now, "note", row.state, row.state, text, metadata or {})
    if assign_to:
        user = _active_user(session, assign_to)
        _event(session, alert_id, actor, now, "assign", row.state, row.state, None,
               {"from": row.assignee, "to": user})
        session.execute(sa.update(alerts).where(alerts.c.id == alert_id)
                        .values(assignee=user, updated_at=now))


def apply_many(session: Session, alert_ids: list[int], req: ActionRequest, actor: Actor,
               now: datetime) -> dict[int, str | None]:
    """Bulk action: each alert in its own savepoint; returns id -> error message or None."""
    results: dict[int, str | None] = {}
    # One lock order: alerts by ascending id, as the source resolve/reopen statements take
    # them, so two bulk actions over overlapping selections cannot deadlock each other.
    for alert_id in sorted(set(alert_ids)):
        try:
            with session.begin_nested():
                if req.action == "note":
                    add_note(session, alert_id, req.note, actor, now, req.metadata, req.assign_to)
                else:
                    apply(session, alert_id, req, actor, now)
            results[alert_id] = None
        except AlertdeskError as err:
            results[alert_id] = str(err)
    return results


def _last_change(session: Session, alert_id: int, now: datetime) -> str | None:
    """Who moved the alert into its present state, and how long ago."""
    last = session.execute(
        sa.select(alert_events.c.to_state, alert_events.c.actor, alert_events.c.at)
        .where(alert_events.c.alert_id == alert_id, alert_events.c.kind == "transition")
        .order_by(alert_events.c.at.desc(), alert_events.c.id.desc()).limit(1)).one_or_none()
    if last is None:
        return None
    return f"{last.to_state} by {last.actor} {human(max(0.0, (now - last.at).total_seconds()))} ago"


def _after(row: sa.Row[Any], now: datetime) -> datetime:
    """The time of a change to a locked alert: ``now``, or just after its last change when
    that is later. ``now`` is taken when the request starts, and a request that waited for
    the lock starts before the one it waited for committed; without this its events would
    sort before that one's (the timeline is ordered by time). Every writer of an alert's
    state keeps ``updated_at`` as this high-water mark (greatest(updated_at, now))."""
    last: datetime = row.updated_at
    return max(now, last)


def _lock(session: Session, alert_id: int) -> sa.Row[Any]:
    row = session.execute(sa.select(alerts).where(alerts.c.id == alert_id)
                          .with_for_update()).one_or_none()
    if row is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return row


def _effects(step: Step, row: sa.Row[Any], req: ActionRequest, actor: Actor,
             now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"state": step.to_state}
    # A response stops the TTA clock: any person's, and an integration's explicit
    # acknowledge (as PagerDuty counts an Events-API acknowledge); a source resolving its
    # own alert is not a response.
    responded = actor.is_human or step.action == "acknowledge"
    if responded and step.action in lifecycle.RESPONSE_ACTIONS and row.acknowledged_at is None:
        values["acknowledged_at"] = now
    if step.to_state == lifecycle.RESOLVED:
        values.update(resolved_at=now, resolution=req.resolution)
    elif step.to_state == lifecycle.CLOSED:
        values["closed_at"] = now
    elif step.action == "reopen":
        values.update(resolved_at=None, closed_at=None, resolution=None,
                      reopen_count=row.reopen_count + 1)
    if step.action == "unacknowledge":
        values["ack_expired_at"] = now
    elif step.action in lifecycle.RESPONSE_ACTIONS:
        values["ack_expired_at"] = None
    if step.action == "silence":
        before = row.state_before_silence if row.state == lifecycle.SILENCED else row.state
        values.update(silenced_until=req.until, state_before_silence=before)
    elif step.action == "unsilence":
        values.update(silenced_until=None, state_before_silence=None)
    return values


def _assignee(session: Session, row: sa.Row[Any], req: ActionRequest,
              actor: Actor) -> str | None:
    if req.assign_to:
        return _active_user(session, req.assign_to)
    if req.action == "acknowledge" and actor.is_human and row.assignee is None:
        return actor.name  # acknowledging takes ownership, as on-call tools do
    return None


def _active_user(session: Session, username: str) -> str:
    found = session.scalar(sa.select(users.c.username).where(
        users.c.username == username.strip().lower(), users.c.is_active))
    if found is None:
        raise FieldError("assign_to", f"no active user {username!r}")
    return str(found)


def _note(note: str | None) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise FieldError("note", "must be a string")
    if len(note) > MAX_NOTE:
        raise FieldError("note", f"is longer than {MAX_NOTE} characters")
    check_text(note, "note")
    return note.strip() or None


def _check_until(until: datetime | None, now: datetime) -> None:
    if until is None:
        raise FieldError("until", "is required to silence an alert")
    if until.tzinfo is None:
        raise FieldError("until", "must include a time zone offset")
    if until <= now:
        raise FieldError("until", "must be in the future")
    if until > now + MAX_SNOOZE:
        raise FieldError("until", f"must be within {MAX_SNOOZE.days} days (a longer quiet "
                                  "period is a silence rule, which says why and for whom)")


def _check_resolution(req: ActionRequest) -> None:
    if req.resolution is None:
        return
    if req.action != "resolve":
        raise FieldError("resolution", "only goes with resolve")
    if req.resolution not in RESOLUTIONS:
        raise FieldError("resolution", f"must be one of {', '.join(RESOLUTIONS)}")


def _event(session: Session, alert_id: int, actor: Actor, now: datetime, kind: str,
           from_state: str | None, to_state: str | None, note: str | None,
           metadata: dict[str, Any]) -> None:
    session.execute(alert_events.insert().values(  # the role the actor acted with (audit)
        alert_id=alert_id, at=now, actor=actor.name, source=actor.source, kind=kind,
        from_state=from_state, to_state=to_state, note=note,
        metadata={**metadata, "actor_role": actor.role}))


def expire_silences(session: Session, now: datetime) -> int:
    """Worker job: every silence whose time has passed returns its alert to its previous
    state, with an event — two set-based statements, rows claimed with SKIP LOCKED."""
    result = session.execute(sa.text("""
        with due as (
            select id, state_before_silence from alerts
            where state = 'silenced' and silenced_until <= :now
            order by silenced_until limit 5000
            for update skip locked
        ), upd as (
            update alerts a set state = due.state_before_silence, state_before_silence = null,
                   silenced_until = null, updated_at = greatest(a.updated_at, :now)
            from due where a.id = due.id
            returning a.id, a.state, a.updated_at as at
        )
        insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
        select id, at, 'worker', 'worker', 'transition', 'silenced', state, 'silence expired',
               '{"action": "unsilence", "rule": "UNSIL-3"}'::jsonb
        from upd
    """), {"now": now})
    return int(getattr(result, "rowcount", 0) or 0)  # a CursorResult for DML
