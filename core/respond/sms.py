"""SMS replies and voice keys (Twilio), after GoAlert's grammar: ``ACK 1234``,
``RES 1234``, ``ESC 1234`` (also ``a``/``r``/``c``/``e``, ``#1234``, any case), and a bare
``ACK`` for the last page sent to that number. The sender is the user whose sms or voice
contact method (or profile phone) is the ``From`` number; other numbers get no answer (a
reply would confirm the number belongs to a pager). A voice page's key 1 acknowledges what
that call was about, as the person it called."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.errors import AlertdeskError
from core.respond import act
from core.tables import notifications, users

WORDS = {"a": "acknowledge", "ack": "acknowledge", "acknowledge": "acknowledge",
         "r": "resolve", "res": "resolve", "resolve": "resolve", "c": "resolve",
         "close": "resolve", "e": "escalate", "esc": "escalate", "escalate": "escalate"}
REPLY = re.compile(r"^['\"]?\s*([a-z]+)\s*#?\s*(\d{1,18})?\s*['\"]?$")
HELP = "Reply ACK, RES or ESC with the alert number, e.g. ACK 1234 (or just ACK for the last page)."


@dataclass(frozen=True)
class Reply:
    action: str
    alert_id: int | None     # None: the last page sent to this number


def parse(body: str) -> Reply | None:
    """The action a text asks for; None when it is not one (the answer is HELP)."""
    found = REPLY.match(" ".join((body or "").lower().split()))
    if not found or found.group(1) not in WORDS:
        return None
    return Reply(WORDS[found.group(1)], int(found.group(2)) if found.group(2) else None)


def sender(session: Session, number: str) -> str | None:
    """The username behind a phone number, if exactly one active user has it."""
    number = number.strip()
    names = act.user_by_contact(session, ("sms", "voice"), number)
    names |= set(session.scalars(sa.select(users.c.username).where(
        users.c.phone == number, users.c.is_active)))
    return names.pop() if len(names) == 1 else None


def _last_page(session: Session, username: str, number: str, alert_id: int | None
               ) -> act.Page | None:
    """The newest page sent by text or call to this person at this number (about
    ``alert_id`` when given)."""
    q = (sa.select(notifications.c.id).where(
        notifications.c.channel.in_(("sms", "voice")), notifications.c.recipient == number,
        notifications.c.status == "sent")
        .order_by(notifications.c.sent_at.desc(), notifications.c.id.desc()).limit(1))
    if alert_id is not None:
        q = q.where(notifications.c.alert_id == alert_id)
    nid = session.scalar(q)
    found = act.page(session, nid) if nid is not None else None
    return found if found is not None and found.username == username else None


def handle_text(session: Session, number: str, body: str, now: datetime) -> str | None:
    """The answer to a text from ``number``; None: stay silent (unknown number)."""
    username = sender(session, number)
    if username is None:
        return None
    reply = parse(body)
    if reply is None:
        return HELP
    try:
        actor = act.person(session, username, "sms")
    except AlertdeskError as err:
        return str(err)
    target = _last_page(session, username, number, reply.alert_id)
    if target is None and reply.alert_id is not None:   # an alert never paged by text
        target = act.Page(0, username, reply.alert_id, None, False, now)
    if target is None:
        return "No page was sent to this number to act on. " + HELP
    done, message = act.safely(session, target, reply.action, actor, now)
    return message if done else f"Not done: {message}"


def handle_key(session: Session, notification_id: int, digits: str, now: datetime) -> str:
    """What the call says after a key: 1 acknowledges the page the call was."""
    target = act.page(session, notification_id)
    if target is None:
        return "This call cannot act on anything. Goodbye."
    if digits.strip() != "1":
        return "No action was taken. Goodbye."
    try:
        actor: Actor = act.person(session, target.username, "voice")
    except AlertdeskError as err:
        return f"{err}. Goodbye."
    done, message = act.safely(session, target, "acknowledge", actor, now)
    return (message if done else f"Not done: {message}") + ". Goodbye."
