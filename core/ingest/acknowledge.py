"""A source's acknowledge of its own open alert, found by dedup key (PagerDuty Events API
v2 ``event_action: acknowledge``): the state machine's acknowledge, by the integration's
actor (an API key). It counts as a response and stops the TTA clock, as PagerDuty counts an
Events-API acknowledge (core/alerts/store.py ``_effects``).

As PagerDuty does, an acknowledge that finds no open alert (never opened, already resolved)
or one already past acknowledged is dropped, not refused: the sender cannot do better."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.alerts.store import ActionRequest, apply
from core.errors import InvalidTransition
from core.lifecycle import OPEN_STATES
from core.tables import alerts


def acknowledge_open(session: Session, fingerprint: str, actor: Actor,
                     now: datetime) -> tuple[int | None, bool]:
    """(the open alert's id or None, whether this acknowledged it), in the caller's
    transaction."""
    alert_id = session.scalar(sa.select(alerts.c.id).where(
        alerts.c.fingerprint == fingerprint, alerts.c.state.in_(OPEN_STATES)))
    if alert_id is None:
        return None, False
    try:
        apply(session, alert_id, ActionRequest("acknowledge"), actor, now)
    except InvalidTransition:  # acknowledged, investigating or resolved meanwhile
        return alert_id, False
    return alert_id, True
