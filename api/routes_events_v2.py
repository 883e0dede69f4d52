"""PagerDuty Events API v2, compatible: ``POST /v2/enqueue``, the path of
``https://events.pagerduty.com/v2/enqueue``, so a tool that pages PagerDuty pages Alertdesk
when only its URL changes. ``routing_key`` is an Alertdesk API key (operator or above).

trigger -> the one ingest path (core/ingest/batch.py: dedup, grouping, silences as for every
source), resolve -> resolved by the source, acknowledge -> the state machine's acknowledge
by the key's actor (core/ingest/acknowledge.py). Answers as PagerDuty does: 202
``{"status": "success", "message": "Event processed", "dedup_key"}`` (plus ``alert_id``);
errors in PagerDuty's shape (api/errors.py)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.body import PAYLOAD_DOC, Payload
from api.errors import EVENTS_V2_PATH
from api.intake import Part, Route
from api.retry import RetryingRoute
from api.security import Credentials
from core import db as core_db
from core.actor import Actor
from core.auth import actor_from_api_key
from core.clock import SYSTEM_CLOCK
from core.errors import AuthError, Forbidden
from core.ingest.acknowledge import acknowledge_open
from core.ingest.batch import BatchResult, ingest_batch
from core.ingest.signal import FIRING, RESOLVED, Signal
from core.ingest.sources import pagerduty

router = APIRouter(route_class=RetryingRoute, tags=["ingest"])
SOURCE = "webhook"  # the events' actor source (alert_events.source)


def _actor(s: Session, caller: Credentials) -> Actor:
    try:
        actor = actor_from_api_key(s, caller.value, SYSTEM_CLOCK.now(), source=SOURCE)
    except AuthError:
        raise AuthError("routing_key is not a registered Alertdesk API key (unknown or "
                        "revoked); create one with python -m dashboard create-api-key "
                        "NAME") from None
    if not actor.can("operator"):
        raise Forbidden(f"{actor.name} has role {actor.role}; sending events needs "
                        "operator or above")
    return actor


def _signal(event: pagerduty.Event) -> Signal:
    """trigger: the alert firing; resolve: a marker resolving the alert of its dedup key."""
    return (Signal(event.alert, FIRING) if event.alert is not None else
            Signal(pagerduty.resolve_marker(event.fingerprint), RESOLVED))


def _answer(_: Session, result: BatchResult, dedup_key: str, now: datetime
            ) -> tuple[str, int | None]:
    return dedup_key, result.ids.get(result.order[0])


INTAKE = Route("events_v2", _actor)


@router.post(EVENTS_V2_PATH, status_code=202, openapi_extra=PAYLOAD_DOC,
             summary="PagerDuty Events API v2 (trigger / acknowledge / resolve); "
                     "routing_key = an Alertdesk API key")
async def enqueue(request: Request, payload: Any = Payload) -> JSONResponse:
    """trigger and resolve share a transaction with the same key's events that came
    meanwhile (api/intake.py); acknowledge runs on its own (the state machine's path)."""
    caller = Credentials("key", pagerduty.routing_key(payload, request.headers.get("x-routing-key")))
    new_key = uuid.uuid4().hex
    if isinstance(payload, dict) and payload.get("event_action") in ("trigger", "resolve"):
        def parse(actor: Actor) -> tuple[list[Signal], str]:
            event = pagerduty.parse(payload, actor.name.removeprefix("key:"), new_key)
            return [_signal(event)], event.dedup_key

        dedup_key, alert_id = await INTAKE.submit(Part(caller, parse, _answer))
    else:
        dedup_key, alert_id = await run_in_threadpool(_alone, caller, payload, new_key)
    return JSONResponse({"status": "success", "message": "Event processed",
                         "dedup_key": dedup_key, "alert_id": alert_id}, status_code=202)


def _alone(caller: Credentials, payload: Any, new_key: str) -> tuple[str, int | None]:
    """acknowledge, and anything else pagerduty.parse refuses with the field named."""
    now = SYSTEM_CLOCK.now()

    def work(s: Session) -> tuple[str, int | None]:
        actor = _actor(s, caller)
        event = pagerduty.parse(payload, actor.name.removeprefix("key:"), new_key)
        if event.action == "acknowledge":
            alert_id, _ = acknowledge_open(s, event.fingerprint, actor, now)
            return event.dedup_key, alert_id
        result = ingest_batch(s, [_signal(event)], actor, now, field=None)
        return event.dedup_key, result.ids.get(event.fingerprint)

    return core_db.run_transaction(work)
