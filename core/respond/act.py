"""One action by one person on what a page was about: the alert, or the whole incident
(group) when the page was an incident's. The person must be an active user who may act
(operator or above); the answer is a sentence to show or send back."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.alerts.store import ActionRequest, apply
from core.errors import AlertdeskError, Forbidden, NotFound
from core.escalation.manual import escalate_now
from core.grouping.actions import act_on_group
from core.tables import contact_methods, notifications, users

DONE = {"acknowledge": "Acknowledged", "resolve": "Resolved", "escalate": "Escalated"}


@dataclass(frozen=True)
class Page:
    """What a sent page was about and whom it was for."""

    notification_id: int
    username: str
    alert_id: int | None
    group_id: int | None
    incident: bool
    created_at: datetime

    @property
    def what(self) -> str:
        return f"incident #{self.group_id}" if self.incident else f"alert #{self.alert_id}"


def page(session: Session, notification_id: int, for_anyone: bool = False) -> Page | None:
    """The page behind an outbox row; None unless it was for a person (``for_anyone``: a
    channel message too — a Slack channel's buttons act as whoever clicks)."""
    row = session.execute(sa.select(
        notifications.c.id, notifications.c.target, notifications.c.payload,
        notifications.c.alert_id, notifications.c.group_id, notifications.c.created_at)
        .where(notifications.c.id == notification_id)).one_or_none()
    if row is None or not (row.target.get("user") or for_anyone):
        return None
    incident = row.payload.get("kind") == "incident" and row.group_id is not None
    return Page(int(row.id), str(row.target.get("user") or ""), row.alert_id, row.group_id,
                incident, row.created_at)


def user_by_contact(session: Session, types: tuple[str, ...], address: str) -> set[str]:
    """The active users with a contact method of one of ``types`` at ``address``."""
    return set(session.scalars(
        sa.select(users.c.username).join(contact_methods, contact_methods.c.user_id == users.c.id)
        .where(contact_methods.c.type.in_(types), contact_methods.c.address == address,
               users.c.is_active)))


def person(session: Session, username: str, source: str) -> Actor:
    """The user as an actor from ``source``; Forbidden if they may not act."""
    row = session.execute(sa.select(users.c.username, users.c.role, users.c.is_active)
                          .where(users.c.username == username)).one_or_none()
    if row is None or not row.is_active:
        raise Forbidden(f"{username} is not an active Alertdesk user")
    actor = Actor(row.username, row.role, source)
    if not actor.can("operator"):
        raise Forbidden(f"{username} has role {row.role}; acting on alerts needs operator")
    return actor


def act(session: Session, target: Page, action: str, actor: Actor, now: datetime,
        note: str | None = None) -> str:
    """Apply ``action`` (acknowledge, resolve, escalate) to the page's alert or incident;
    a refusal (already resolved, ...) raises the domain error with its message."""
    if action == "escalate":
        kw: dict[str, Any] = ({"group_id": target.group_id} if target.incident
                              else {"alert_id": target.alert_id})
        escalate_now(session, actor, now, **kw)
    elif target.incident and target.group_id is not None:
        act_on_group(session, target.group_id, ActionRequest(action, note=note), actor, now)
    elif target.alert_id is not None:
        apply(session, target.alert_id, ActionRequest(action, note=note), actor, now)
    else:
        raise NotFound("this page was about nothing Alertdesk can act on")
    return f"{DONE[action]} {target.what} as {actor.name}"


def safely(session: Session, target: Page, action: str, actor: Actor, now: datetime,
           note: str | None = None) -> tuple[bool, str]:
    """act() in a savepoint: (True, what was done) or (False, why not), nothing written."""
    try:
        with session.begin_nested():
            return True, act(session, target, action, actor, now, note)
    except AlertdeskError as err:
        return False, str(err)
