"""Heartbeats (dead man's switches): a job beats, the worker raises an alert when a beat is
overdue, the next beat resolves it. The rules live in core/ingest/heartbeats.py."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.retry import RetryingRoute
from api.security import Operator, Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.ingest import heartbeats

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/heartbeats", tags=["heartbeats"])


class BeatBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_s: int | None = Field(default=None, strict=True, description=(
        f"Seconds until the next beat is due (1 to {heartbeats.MAX_TIMEOUT_S}); "
        f"default {heartbeats.DEFAULT_TIMEOUT_S} on the first beat, then the stored value"))
    service: str | None = None
    device_id: str | None = None
    severity: str | None = Field(default=None, description="Of the alert a miss raises; default high")


@router.post("/{name}", status_code=201,
             summary="Beat: create the heartbeat (201) or renew it (200); resolves a miss")
def beat(name: str, response: Response, body: BeatBody | None = None,
         actor: Actor = Operator) -> dict[str, Any]:
    req = heartbeats.BeatIn(**body.model_dump()) if body else heartbeats.BeatIn()
    with core_db.transaction() as s:
        result = heartbeats.beat(s, name, req, actor, SYSTEM_CLOCK.now())
    if not result.created:
        response.status_code = 200
    return {**result.heartbeat, "created": result.created,
            "resolved_alert_id": result.resolved_alert_id}


@router.get("", summary="Heartbeats by name: state, last beat, expiry, alert of the last miss")
def list_heartbeats(page: int = 1, limit: int = 100, _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        rows, total = heartbeats.list_heartbeats(s, page, limit)
    return {"data": rows, "page": page, "limit": limit, "total": total}
