"""A click on a page's Slack button (Slack's ``block_actions`` interaction): the clicking
Slack member is mapped to the Alertdesk user whose Slack contact method is that member id;
the action applies as that user to what the page was about, and the message is rewritten
("Acknowledged by olga") through the interaction's ``response_url``. The request itself is
verified by the route (Slack's signing secret, slack_sdk's SignatureVerifier)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import AlertdeskError, FieldError
from core.notify.slack import message
from core.respond import act
from core.tables import notifications

PREFIX = "alertdesk_"


@dataclass(frozen=True)
class Click:
    member: str
    action: str
    notification_id: int
    response_url: str


@dataclass(frozen=True)
class Outcome:
    done: bool
    text: str                       # what the clicker is told
    replace: dict[str, Any] | None  # the message rewritten for everyone, when it changed


def parse(form: dict[str, str]) -> Click:
    """The first Alertdesk button of a block_actions payload; FieldError if none."""
    try:
        payload = json.loads(form.get("payload") or "")
        user = str(payload["user"]["id"])
        action = next(a for a in payload.get("actions", [])
                      if str(a.get("action_id", "")).startswith(PREFIX))
        name = str(action["action_id"])[len(PREFIX):]
        nid = int(str(action["value"]))
    except (ValueError, KeyError, TypeError, StopIteration):
        raise FieldError("payload", "not a Slack block_actions payload with an Alertdesk "
                                    "button") from None
    if name not in act.DONE:
        raise FieldError("payload", f"unknown action {name!r}")
    return Click(user, name, nid, str(payload.get("response_url") or ""))


def member_user(session: Session, member: str) -> str | None:
    names = act.user_by_contact(session, ("slack",), member)
    return names.pop() if len(names) == 1 else None


def handle(session: Session, click: Click, now: datetime) -> Outcome:
    username = member_user(session, click.member)
    if username is None:
        return Outcome(False, "Your Slack account is not linked to an Alertdesk user: add your "
                              "Slack member id under Profile → contact methods in Alertdesk.", None)
    target = act.page(session, click.notification_id, for_anyone=True)
    if target is None:
        return Outcome(False, "This message is not an Alertdesk page Alertdesk can act on.", None)
    try:
        actor = act.person(session, username, "slack")
    except AlertdeskError as err:
        return Outcome(False, str(err), None)
    done, text = act.safely(session, target, click.action, actor, now)
    if not done:
        return Outcome(False, f"Not done: {text}", None)
    payload = session.scalar(sa.select(notifications.c.payload).where(
        notifications.c.id == click.notification_id)) or {}
    status = f"*{act.DONE[click.action]} by {username}* ({now:%H:%M} UTC)"
    return Outcome(True, text, {"replace_original": True,
                                **message(payload, (), click.notification_id, status)})
