"""The retention job over the API: ``POST /api/v1/admin/cleanup`` (manager and admin).

Body ``{"older_than": "90d", "dry_run": false}``; the answer is core.retention.cleanup's report
(rows per table deleted, or that would be with ``dry_run``; cutoff; duration). The run is
synchronous, in short batches; a first run over a long history is better started from
the CLI (``python -m dashboard cleanup --older-than 90d``).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import Body as FastBody
from pydantic import Field

from api.retry import RetryingRoute
from api.schemas import Body
from api.security import Manager, Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.retention import cleanup as retention
from core.retention import schedule as retention_schedule

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1", tags=["admin"])


class CleanupBody(Body):
    older_than: str = Field(description="Age past which closed/resolved history goes: "
                                        "<n>h, <n>d or <n>w, at least 1d (e.g. 90d)")
    dry_run: bool = Field(False, description="Only count what would be deleted")


@router.post("/admin/cleanup",
             summary="Delete closed/resolved alert history older than an age (retention)")
def cleanup(body: CleanupBody, actor: Actor = Manager) -> dict[str, Any]:
    age = retention.parse_age(body.older_than)
    return retention.cleanup(core_db.get_engine(), age, SYSTEM_CLOCK.now(), actor,
                             dry_run=body.dry_run)


@router.get("/settings/retention", summary="The daily retention policy (null: off)")
def get_retention(_: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        policy = retention_schedule.load_policy(s)
    return {"older_than": policy["older_than"] if policy else None}


@router.put("/settings/retention",
            summary='Run retention daily from the worker: {"older_than": "90d"}; null switches '
                    "it off (manager)")
def put_retention(body: Any = FastBody(...), actor: Actor = Manager) -> dict[str, Any]:
    with core_db.transaction() as s:
        return retention_schedule.put_policy(s, body, actor, SYSTEM_CLOCK.now())
