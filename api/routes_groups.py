"""Groups (incidents): lists, one group with members, noise-reduction stats, the setting."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Body

from api.params import instant
from api.retry import RetryingRoute
from api.schemas import ActionBody
from api.security import Manager, Operator, Viewer
from core import db as core_db
from core.actor import Actor
from core.alerts.store import ActionRequest
from core.clock import SYSTEM_CLOCK
from core.errors import FieldError
from core.grouping import read as groups_view
from core.grouping import rules as grouping
from core.grouping.actions import act_on_group
from core.grouping.store import load_config
from core.settings import put_setting

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1", tags=["groups"])


@router.get("/groups", summary="Groups; filters status, service, device_id, start_date, end_date")
def list_groups(status: str | None = None, service: str | None = None,
                device_id: str | None = None, start_date: str | None = None,
                end_date: str | None = None, page: int = 1, limit: int = 50,
                _: Actor = Viewer) -> dict[str, Any]:
    f = groups_view.GroupFilter(status, service, device_id, instant(start_date, "start_date"),
                                instant(end_date, "end_date"))
    with core_db.transaction() as s:
        rows, total = groups_view.list_groups(s, f, page, limit)
    return {"data": rows, "page": page, "limit": limit, "total": total}


@router.get("/groups/stats", summary="Raw events -> alerts -> groups -> notifications")
def stats(start: str | None = None, end: str | None = None, service: str | None = None,
          _: Actor = Viewer) -> dict[str, Any]:
    now = SYSTEM_CLOCK.now()
    start_at = instant(start, "start") or now - timedelta(days=1)
    end_at = instant(end, "end") or now
    with core_db.transaction() as s:
        return groups_view.group_stats(s, start_at, end_at, service)


@router.get("/groups/{group_id}", summary="One group with its members")
def get_group(group_id: int, _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return groups_view.get_group(s, group_id)


def _group_action(action: str) -> None:
    def run(group_id: int, body: ActionBody | None = None, actor: Actor = Operator) -> Any:
        body = body or ActionBody(until=None, resolution=None)
        if body.until is not None or body.assign_to is not None:
            raise FieldError("until" if body.until is not None else "assign_to",
                             f"is not taken when acting on an incident ({action})")
        req = ActionRequest(action, body.note, body.metadata, resolution=body.resolution)
        now = SYSTEM_CLOCK.now()
        with core_db.transaction() as s:
            done = act_on_group(s, group_id, req, actor, now)
            return {**done, "group": groups_view.get_group(s, group_id)}

    run.__name__ = f"{action}_group"
    router.add_api_route(f"/groups/{{group_id}}/{action}", run, methods=["POST"],
                         summary=f"{action.capitalize()} the incident: every member that "
                                 f"{'needs a human' if action == 'acknowledge' else 'is open'}"
                                 " (409 if none)")


for _action in ("acknowledge", "resolve"):
    _group_action(_action)


@router.get("/settings/grouping", summary="group_by, window_s, wait_s per severity")
def get_grouping(_: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return load_config(s).as_json()


@router.put("/settings/grouping", summary="Change grouping (manager); applies to new alerts")
def put_grouping(body: Any = Body(...), actor: Actor = Manager) -> dict[str, Any]:
    config = grouping.parse_config(body)
    with core_db.transaction() as s:
        put_setting(s, "grouping", config.as_json(), actor, SYSTEM_CLOCK.now())
    return config.as_json()
