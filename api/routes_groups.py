"""Groups (incidents): lists, one group with members, noise-reduction stats, the setting."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Body

from api.params import instant
from api.security import Manager, Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.grouping import read as groups_view
from core.grouping import rules as grouping
from core.grouping.store import load_config
from core.settings import put_setting

router = APIRouter(prefix="/api/v1", tags=["groups"])


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
