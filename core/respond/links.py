"""Spending a signed action link (core/notify/links.py makes them): genuine, not expired
(ALERTDESK_ACTION_LINK_HOURS after the page was queued, default 24), not used before; the
use is recorded in the same transaction as the action, so a link works exactly once even
when it is clicked twice at the same moment. A used, expired or tampered link explains
itself and changes nothing."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import AlertdeskError
from core.notify import links
from core.respond import act
from core.tables import action_link_uses, alerts


@dataclass(frozen=True)
class Link:
    """A link as its page shows it: ``ok`` False means ``message`` says why not."""

    ok: bool
    message: str
    status: int = 200              # HTTP status for the page: 404 invalid, 410 used/expired
    action: str = ""
    page: act.Page | None = None
    summary: str = ""


def lifetime() -> timedelta:
    try:
        hours = float(os.environ.get("ALERTDESK_ACTION_LINK_HOURS") or 24)
    except ValueError:
        hours = 24.0
    return timedelta(hours=min(max(hours, 0.1), 24 * 14))


def check(session: Session, token: str, now: datetime) -> Link:
    """What the link would do, or why it cannot (read-only: the GET page)."""
    parsed = links.parse(token)
    target = act.page(session, parsed[0]) if parsed else None
    if parsed is None or target is None:
        return Link(False, "This link is not valid: it was changed or never existed. "
                           "Nothing was done.", 404)
    nid, action = parsed
    used = session.execute(sa.select(action_link_uses).where(
        action_link_uses.c.notification_id == nid,
        action_link_uses.c.action == action)).one_or_none()
    if used is not None:
        return Link(False, f"This link was already used ({used.used_at:%Y-%m-%d %H:%M} UTC, "
                           f"by {used.used_by}: {used.outcome}). Nothing more was done.", 410,
                    action, target)
    if now > target.created_at + lifetime():
        return Link(False, f"This link expired at {target.created_at + lifetime():%Y-%m-%d %H:%M}"
                           " UTC. Nothing was done; open Alertdesk to act.", 410, action, target)
    summary = session.scalar(sa.select(alerts.c.summary).where(
        alerts.c.id == target.alert_id)) if target.alert_id is not None else None
    verb = {"acknowledge": "Acknowledge", "resolve": "Resolve", "escalate": "Escalate"}[action]
    return Link(True, f"{verb} {target.what} as {target.username}?", 200, action, target,
                str(summary or ""))


def use(session: Session, token: str, now: datetime) -> Link:
    """Spend the link: its action, as its person, once (the POST of the confirm page)."""
    link = check(session, token, now)
    if not link.ok or link.page is None:
        return link
    target = link.page
    try:
        actor = act.person(session, target.username, "link")
    except AlertdeskError as err:
        return Link(False, f"{err}. Nothing was done.", 403, link.action, target)
    spent = session.execute(insert(action_link_uses).values(   # claim first: once only
        notification_id=target.notification_id, action=link.action, used_at=now,
        used_by=target.username, outcome="").on_conflict_do_nothing()
        .returning(action_link_uses.c.notification_id)).first()
    if spent is None:      # clicked twice at once: the other click got there first
        return Link(False, "This link was just used. Nothing more was done.", 410,
                    link.action, target)
    done, message = act.safely(session, target, link.action, actor, now)
    session.execute(sa.update(action_link_uses).values(outcome=message).where(
        action_link_uses.c.notification_id == target.notification_id,
        action_link_uses.c.action == link.action))
    return Link(done, message + ("." if done else ". Nothing was changed."),
                200 if done else 409, link.action, target)
