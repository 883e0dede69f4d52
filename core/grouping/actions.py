"""Acting on an incident: acknowledge or resolve every member of an alert group at once.

Acknowledging the incident acknowledges its members that need a human (in 'new'); resolving
it resolves every open member. Each member goes through the lifecycle as if acted on alone
(its own event, its SLA clock), in one transaction: all of them or none. The members are
locked in id order first, so two people acting on one incident queue up instead of
deadlocking. Acknowledging every member is what stops the incident's escalation
(core/escalation/incident.py), whichever way it is done.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.alerts.store import ActionRequest, apply
from core.errors import Conflict, FieldError, Forbidden, NotFound
from core.lifecycle import OPEN_SQL

# action -> the member states it applies to
TARGETS = {"acknowledge": "('new')", "resolve": OPEN_SQL}

MEMBERS_SQL = """
select id from alerts where group_id = :g and state in {states} order by id for update
"""


def act_on_group(session: Session, group_id: int, req: ActionRequest, actor: Actor,
                 now: datetime) -> dict[str, Any]:
    """Apply ``req`` (acknowledge or resolve) to every member it fits; returns
    ``{"group_id", "action", "alert_ids"}``. 404 unknown group, 409 nothing to act on."""
    if req.action not in TARGETS:
        raise FieldError("action", f"must be one of {', '.join(TARGETS)}")
    if not actor.can("operator"):
        raise Forbidden("acting on an incident needs the operator role")
    if session.scalar(sa.text("select 1 from alert_groups where id = :g"), {"g": group_id}) is None:
        raise NotFound(f"group {group_id} does not exist")
    ids = [int(i) for i in session.scalars(sa.text(
        MEMBERS_SQL.format(states=TARGETS[req.action])), {"g": group_id})]
    if not ids:
        wanted = "in 'new'" if req.action == "acknowledge" else "open"
        raise Conflict(f"group {group_id} has no alert {wanted} to {req.action}")
    for alert_id in ids:
        apply(session, alert_id, req, actor, now)
    return {"group_id": group_id, "action": req.action, "alert_ids": ids}
