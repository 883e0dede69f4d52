"""PagerDuty both ways: when an incident Alertdesk opened in PagerDuty (dedup key
``alertdesk-<alert id>``, core/notify/pagerduty.py) is acknowledged or resolved there,
PagerDuty's V3 webhook tells us and the alert follows, as ``pagerduty:<who>`` (source
pagerduty). Without an echo: the follow-up Alertdesk would otherwise send back for that
change (core/notify/followups.py) is written as already handled — a cancelled outbox row
under the follow-up's own idempotency key, so the delivery log says why nothing was sent.

Signatures (``X-PagerDuty-Signature``: a comma list of ``v1=<hex HMAC-SHA256 of the raw
body>``; any entry may match, so secrets can rotate) are checked over the raw bytes."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.alerts.store import ActionRequest, apply
from core.errors import AlertdeskError, FieldError
from core.notify.followups import FOLLOWUP_KEY, OPEN_TRIGGER

ACTIONS = {"incident.acknowledged": "acknowledge", "incident.resolved": "resolve"}
KEY = re.compile(r"^alertdesk-(\d{1,18})$")


def signed(secrets: list[str], body: bytes, header: str | None) -> bool:
    sent = [part.strip()[3:] for part in (header or "").split(",")
            if part.strip().startswith("v1=")]
    return any(hmac.compare_digest(hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), s)
               for secret in secrets if secret for s in sent)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    incident_key: str
    agent: str


def parse(body: Any) -> Event:
    try:
        event = body["event"]
        data = event.get("data") or {}
        agent = event.get("agent") or {}
        return Event(str(event["id"]), str(event["event_type"]),
                     str(data.get("incident_key") or ""),
                     str(agent.get("summary") or agent.get("id") or "someone")[:100])
    except (TypeError, KeyError, AttributeError):
        raise FieldError("event", "not a PagerDuty V3 webhook body ({\"event\": {\"id\", "
                                  "\"event_type\", \"data\", ...}})") from None


SUPPRESS_ECHO = sa.text(f"""
insert into notifications (idempotency_key, alert_id, group_id, channel, target, recipient,
    payload, reason, status, attempts, next_attempt_at, created_at, last_error)
select distinct on (n.recipient)
       {FOLLOWUP_KEY.format(alert="a.id", reopen="a.reopen_count", action=":action",
                            recipient="n.recipient")},
       a.id, n.group_id, 'pagerduty', n.target, n.recipient,
       jsonb_build_object('kind', 'followup', 'event_action', :action),
       :why, 'cancelled', 0, :now, :now, :why
from notifications n join alerts a on a.id = n.alert_id
where n.alert_id = :alert and {OPEN_TRIGGER}
order by n.recipient, n.id
on conflict (idempotency_key) do nothing
""")
# A resolve from PagerDuty closes the incident there: its triggers leave the open-trigger
# index as a resolve queued by the follow-up job would take them out.
CLOSE_TRIGGERS = sa.text(f"""
update notifications n set payload = n.payload || '{{"followed_up": "resolve"}}'
where n.alert_id = :alert and {OPEN_TRIGGER}
""")


def handle(session: Session, event: Event, now: datetime) -> str:
    """Apply one webhook event; the answer says what happened (ignored events included)."""
    action = ACTIONS.get(event.type)
    found = KEY.match(event.incident_key)
    if action is None:
        return f"ignored: {event.type} is not followed"
    if found is None:
        return "ignored: not an incident Alertdesk opened"
    alert_id = int(found.group(1))
    actor = Actor(f"pagerduty:{event.agent}", "operator", "pagerduty", is_human=False)
    done = {"acknowledge": "acknowledged", "resolve": "resolved"}[action]
    why = f"{done} in PagerDuty by {event.agent}: not sent back"
    try:
        with session.begin_nested():
            apply(session, alert_id, ActionRequest(action, note=f"in PagerDuty by {event.agent}"),
                  actor, now)
    except AlertdeskError as err:   # already there (or gone): nothing to follow
        return f"unchanged: {err}"
    session.execute(SUPPRESS_ECHO, {"alert": alert_id, "action": action, "now": now, "why": why})
    if action == "resolve":
        session.execute(CLOSE_TRIGGERS, {"alert": alert_id})
    return f"{done} alert #{alert_id}"
