"""On-call schedules over HTTP: who is on call, schedules (list/get: viewer; create,
replace: manager), final shifts, overrides (operator for themselves, manager for anyone), and an
iCalendar feed. Rules: core/oncall/rules.py; field-named 422s: core/oncall/parse.py.

The feed (``GET /api/v1/on-call/schedules/{id}.ics``) takes the usual header auth, or
``?token=<calendar key>`` for calendar apps that cannot send headers. Only a calendar key
goes in the URL: an API key of scope "calendar", which reads the feeds and nothing else
(``python -m dashboard create-api-key team-calendar --scope calendar``). Never a JWT (it
expires in hours and would leak a person's session into calendar providers' logs), never a
normal key (an operator's or admin's key in a calendar provider's logs). Create one per
subscription and revoke it to cut the calendar off.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api.params import instant
from api.retry import RetryingRoute
from api.security import API_KEY_PREFIX, Manager, Operator, Viewer, current_actor
from core import auth
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.errors import AuthError, Forbidden
from core.oncall import store
from core.oncall.ics import FEED_DAYS, ics_feed

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/on-call", tags=["on-call"])

EXAMPLE = {
    "name": "NOC primary", "timezone": "America/New_York",
    "layers": [{"name": "primary", "rotation": "weekly", "handoff": "09:00",
                "start": "2026-03-02", "participants": ["olga", "maria"]},
               {"name": "business hours", "rotation": "daily", "handoff": "09:00",
                "start": "2026-03-02", "participants": ["ada"],
                "restrictions": [{"days": [1, 2, 3, 4, 5], "from": "09:00", "to": "17:00"}]}]}
SCHEDULE_DOC = (
    "Layers rotate in the schedule's zone: daily / weekly / custom (shift_hours; multiples "
    "of 24 step in local days, others in absolute hours) from `start` at `handoff`. "
    "Restrictions limit a layer to windows (days 1=Mon..7=Sun, from/to local; to <= from "
    "ends the next day). Later layers win where they have someone; overrides win over layers.")


def _now_or(value: str | None, field: str) -> datetime:
    return instant(value, field) or SYSTEM_CLOCK.now()


@router.get("/current", summary="Who is on call (one schedule, or every enabled schedule)")
def current(schedule_id: int | None = None, at: str | None = None,
            _: Actor = Viewer) -> dict[str, Any]:
    when = _now_or(at, "at")
    with core_db.transaction() as s:
        rows = store.current(s, schedule_id, when)
    # one shape with or without schedule_id (the list envelope of every list endpoint)
    return {"data": rows, "page": 1, "limit": len(rows), "total": len(rows)}


@router.get("/schedules", summary="On-call schedules with their layers")
def list_schedules(enabled: bool | None = None, rotation_type: str | None = None,
                   _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        rows = store.list_schedules(s, enabled, rotation_type)
    return {"data": rows, "page": 1, "limit": len(rows), "total": len(rows)}


@router.post("/schedules", status_code=201, description=SCHEDULE_DOC,
             summary="Create an on-call schedule (manager)")
def create_schedule(body: dict[str, Any] = Body(examples=[EXAMPLE]),
                    actor: Actor = Manager) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.create_schedule(s, body, actor, SYSTEM_CLOCK.now())


@router.put("/schedules/{schedule_id}", description=SCHEDULE_DOC,
            summary="Replace an on-call schedule, layers included (manager)")
def replace_schedule(schedule_id: int, body: dict[str, Any] = Body(examples=[EXAMPLE]),
                     actor: Actor = Manager) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.replace_schedule(s, schedule_id, body, actor, SYSTEM_CLOCK.now())


def feed_actor(request: Request, token: str | None = Query(
        None, description="a calendar key (an API key of scope calendar), for calendar apps "
                          "that cannot send headers")) -> Actor:
    if not token:
        actor = current_actor(request)
    elif not token.startswith(API_KEY_PREFIX):
        raise AuthError("token must be a calendar key (ad_...); JWTs are not accepted in URLs")
    else:
        with core_db.transaction() as s:
            actor = auth.actor_from_api_key(s, token, SYSTEM_CLOCK.now(), scope="calendar")
    if not actor.can("viewer"):
        raise Forbidden(f"{actor.name} may not read on-call schedules")
    return actor


@router.get("/schedules/{schedule_id}.ics", response_class=Response,
            summary="iCalendar feed of the next 60 days of final shifts (subscribe by URL)")
def ics(schedule_id: int, _: Actor = Depends(feed_actor)) -> Response:
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        schedule = store.load_schedule(s, schedule_id)
        shifts = store.shifts(s, schedule_id, now, now + timedelta(days=FEED_DAYS))
    return Response(ics_feed(schedule, shifts, now), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="oncall-{schedule_id}.ics"'})


@router.get("/schedules/{schedule_id}", summary="One on-call schedule with its layers")
def get_schedule(schedule_id: int, _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.get_schedule(s, schedule_id)


@router.get("/schedules/{schedule_id}/shifts",
            summary="Final shifts (after layers, restrictions, overrides; gaps have username null)")
def shifts(schedule_id: int, start: str | None = None, end: str | None = None,
           _: Actor = Viewer) -> dict[str, Any]:
    first = _now_or(start, "start")
    last = instant(end, "end") or first + timedelta(days=14)
    with core_db.transaction() as s:
        rows = store.shifts(s, schedule_id, first, last)
    data = [{"username": x.username, "start": x.start, "end": x.end, "source": x.source}
            for x in rows]
    return {"data": data, "page": 1, "limit": len(data), "total": len(data)}


@router.get("/schedules/{schedule_id}/overrides", summary="Overrides overlapping a range")
def overrides(schedule_id: int, start: str | None = None, end: str | None = None,
              _: Actor = Viewer) -> dict[str, Any]:
    first = _now_or(start, "start")
    last = instant(end, "end") or first + timedelta(days=14)
    with core_db.transaction() as s:
        store.get_schedule(s, schedule_id)
        rows = store.list_overrides(s, schedule_id, first, last)
    return {"data": rows, "page": 1, "limit": len(rows), "total": len(rows)}


@router.post("/overrides", status_code=201,
             summary="Put someone on call for a time range (manager: anyone; operator: themselves)")
def create_override(body: dict[str, Any] = Body(examples=[{
        "schedule_id": 1, "username": "olga", "start": "2026-03-02T09:00:00Z",
        "end": "2026-03-03T09:00:00Z"}]), actor: Actor = Operator) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.create_override(s, body, actor, SYSTEM_CLOCK.now())


@router.delete("/overrides/{override_id}",
               summary="Remove an override (manager: any; operator: their own)")
def delete_override(override_id: int, actor: Actor = Operator) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.delete_override(s, override_id, actor, SYSTEM_CLOCK.now())
