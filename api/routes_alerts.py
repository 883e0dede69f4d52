"""Alerts: intake, lists, one alert with its timeline, lifecycle actions, CSV export."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from api.encode import alert_json, alert_with_events
from api.intake import Part, Route
from api.params import csv_list, instant
from api.retry import RetryingRoute
from api.schemas import ActionBody, AlertBody, NoteBody
from api.security import Caller, Credentials, Operator, Viewer
from api.streams import csv_response
from core import db as core_db
from core.actor import Actor
from core.alerts import queue
from core.alerts.export import iter_csv
from core.alerts.model import AlertIn
from core.alerts.store import ActionRequest, add_note, apply
from core.clock import SYSTEM_CLOCK
from core.errors import FieldError
from core.ingest.batch import BatchResult
from core.ingest.signal import Signal

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/alerts", tags=["alerts"])
ACTIONS = ("acknowledge", "investigate", "resolve", "close", "reopen", "silence")


def _filter(severity: list[str] | None, state: list[str] | None, service: str | None,
            device_id: str | None, start_date: str | None, end_date: str | None,
            q: str | None) -> queue.AlertFilter:
    return queue.AlertFilter(csv_list(severity), csv_list(state), service, device_id,
                             instant(start_date, "start_date"), instant(end_date, "end_date"), q)


def _created(s: Session, result: BatchResult, _: Any, now: datetime) -> tuple[bool, Any]:
    return bool(result.created), alert_json(queue.alert_row(s, result.ids[result.order[0]]), now)


INTAKE = Route("alerts", lambda s, caller: caller.actor(s, "operator"))


@router.post("", status_code=201, summary="Create an alert (or count a duplicate)")
async def create_alert(body: AlertBody, response: Response, caller: Credentials = Caller
                       ) -> dict[str, Any]:
    """Async: the request waits on the event loop while its write runs in a worker thread,
    shared with the same caller's posts that came meanwhile (api/intake.py)."""
    data = body.model_dump()

    def parse(actor: Actor) -> tuple[list[Signal], None]:
        data["source"] = data.get("source") or actor.name.removeprefix("key:")
        return [Signal(AlertIn(**data))], None

    created, out = await INTAKE.submit(Part(caller, parse, _created))
    if not created:
        response.status_code = 200
    out["deduplicated"] = not created
    return dict(out)


@router.get("", summary="List alerts (filters, pagination)")
def list_alerts(severity: list[str] | None = Query(None), state: list[str] | None = Query(None),
                service: str | None = None, device_id: str | None = None,
                start_date: str | None = None, end_date: str | None = None, q: str | None = None,
                group_id: int | None = None, suppressed: str | None = Query(
                    None, description="hide or only (silenced/inhibited alerts; inhibition is "
                                      "marked by the worker's next tick, ≤ 5 s after intake); "
                                      "true = only, false = hide, show = both"),
                assignee: str | None = None,
                sort: str | None = Query(None, description="priority (open lists' default: "
                                         "severity, then SLA deadline), sla, newest (the "
                                         "default otherwise), oldest, service"),
                page: int = 1, limit: int = 50, _: Actor = Viewer) -> dict[str, Any]:
    f = replace(_filter(severity, state, service, device_id, start_date, end_date, q),
                group_id=group_id, suppressed=muted_filter(suppressed), assignee=assignee)
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        rows, total = queue.list_alerts(s, f, page, limit, sort=sort)
    return {"data": [alert_json(r, now) for r in rows], "page": page, "limit": limit,
            "total": total}


MUTED = {"only": True, "true": True, "hide": False, "false": False, "show": None}


def muted_filter(value: str | None) -> bool | None:
    if value is None:
        return None
    if value.strip().lower() not in MUTED:
        raise FieldError("suppressed", "must be hide, only or show (or true/false)")
    return MUTED[value.strip().lower()]


@router.get("/export.csv", summary="CSV of every alert matching the filters (streamed)")
def export_csv(severity: list[str] | None = Query(None), state: list[str] | None = Query(None),
               service: str | None = None, device_id: str | None = None,
               start_date: str | None = None, end_date: str | None = None, q: str | None = None,
               _: Actor = Viewer) -> StreamingResponse:
    f = _filter(severity, state, service, device_id, start_date, end_date, q).normalize()
    return csv_response(iter_csv(core_db.get_engine(), f, SYSTEM_CLOCK.now()), "alerts.csv")


@router.get("/{alert_id}", summary="One alert with SLA status and its event timeline")
def get_alert(alert_id: int, _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return alert_with_events(s, alert_id, SYSTEM_CLOCK.now())


@router.post("/{alert_id}/notes", status_code=201, summary="Add a note (and/or assign)")
def note(alert_id: int, body: NoteBody, actor: Actor = Operator) -> dict[str, Any]:
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        add_note(s, alert_id, body.note, actor, now, body.metadata, body.assign_to)
        return alert_with_events(s, alert_id, now)


def _action_route(action: str) -> None:
    def run(alert_id: int, body: ActionBody | None = None, actor: Actor = Operator) -> Any:
        body = body or ActionBody(until=None, resolution=None)
        now = SYSTEM_CLOCK.now()
        req = ActionRequest(action, body.note, body.metadata, body.assign_to, body.until,
                            body.resolution)
        with core_db.transaction() as s:
            apply(s, alert_id, req, actor, now)
            return alert_with_events(s, alert_id, now)

    run.__name__ = action
    router.add_api_route(f"/{{alert_id}}/{action}", run, methods=["POST"],
                         summary=f"{action.capitalize()} an alert (409 if its state refuses)")


for _action in ACTIONS:
    _action_route(_action)
