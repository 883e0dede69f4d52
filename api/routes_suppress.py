"""Silences (label matchers over a time window) and inhibition rules. Marked alerts stay
in every list, with ``silence_id`` / ``inhibited_by`` + ``inhibit_rule_id`` saying why they
do not notify. Silences mark alerts at ingest; inhibition marks come on the worker's next
tick (within 5 s), which runs before any job that notifies. The rules live in
core/suppression/silences.py and core/suppression/inhibition.py."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.retry import RetryingRoute
from api.security import Manager, Operator, Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.suppression import inhibition_store, silences_store

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1")

MATCHERS_DOC = ('[{"name": "service", "op": "=", "value": "billing"}, ...]; op is =, !=, =~ '
                '(regex, anchored) or !~ (Alertmanager\'s "isRegex" / "isEqual" instead of op '
                'are read as the same); a missing label reads as ""; the labels include the '
                "alert's service, device_id, severity and source")


class SilenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[Any] = Field(description=MATCHERS_DOC)
    starts_at: datetime | None = Field(None, description="ISO-8601 with offset; default now "
                                       "(a future start makes a pending maintenance window)")
    ends_at: datetime = Field(description="ISO-8601 with offset, after starts_at")
    comment: str = Field(description="Why: change ticket, maintenance, known issue")


class RuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Unique")
    source_match: list[Any] | dict[str, Any] | None = Field(
        None, description="Matchers the suppressing alert meets: " + MATCHERS_DOC +
        ' (or {"label": "value"} for equality)')
    target_match: list[Any] | dict[str, Any] | None = Field(
        None, description="Matchers the suppressed alert meets (same form)")
    equal: list[Any] | None = Field(None, description="Labels that must have the same value on "
                                    'both (missing on both counts as equal), e.g. ["service"]')
    enabled: bool | None = None


@router.get("/silences", tags=["silences"], summary="Silences, newest first")
def list_silences(state: str | None = None, page: int = 1, limit: int = 100,
                  _: Actor = Viewer) -> dict[str, Any]:
    """``state``: active, pending (starts later) or expired; each row says how many open
    alerts it marks now."""
    with core_db.transaction() as s:
        rows, total = silences_store.list_silences(s, SYSTEM_CLOCK.now(), state or None, page, limit)
    return {"data": rows, "page": page, "limit": limit, "total": total}


@router.post("/silences", tags=["silences"], status_code=201,
             summary="Create a silence or maintenance window (operator)")
def create_silence(body: SilenceBody, actor: Actor = Operator) -> dict[str, Any]:
    """Matching open alerts are marked at once (if it has started); new ones on arrival."""
    with core_db.transaction() as s:
        return silences_store.create_silence(s, body.model_dump(), actor, SYSTEM_CLOCK.now())


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[Any] = Field(description=MATCHERS_DOC)


@router.post("/silences/preview", tags=["silences"],
             summary="Which open alerts a silence with these matchers would mute now")
def preview_silence(body: PreviewBody, limit: int = silences_store.PREVIEW_LIMIT,
                    _: Actor = Viewer) -> dict[str, Any]:
    """``matching_open_alerts``: how many match; ``alerts``: the first ``limit`` (1-100),
    most severe then newest, each with the ``silence_id`` already muting it (if any).
    The matchers are checked as for creating a silence; nothing is written."""
    with core_db.transaction() as s:
        return silences_store.preview_silence(s, body.matchers, limit)


@router.get("/silences/{silence_id}", tags=["silences"], summary="One silence")
def get_silence(silence_id: int, _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return silences_store.get_silence(s, silence_id, SYSTEM_CLOCK.now())


@router.delete("/silences/{silence_id}", tags=["silences"],
               summary="Expire a silence now (operator; 409 if it already expired)")
def expire_silence(silence_id: int, actor: Actor = Operator) -> dict[str, Any]:
    """Its alerts are released at once, each with a timeline event."""
    with core_db.transaction() as s:
        return silences_store.expire_silence(s, silence_id, actor, SYSTEM_CLOCK.now())


@router.get("/inhibit-rules", tags=["inhibition"], summary="Inhibition rules")
def list_rules(_: Actor = Viewer) -> dict[str, Any]:
    """Each rule says how many open alerts it suppresses now."""
    with core_db.transaction() as s:
        rows = inhibition_store.list_rules(s)
    return {"data": rows, "page": 1, "limit": len(rows), "total": len(rows)}


@router.post("/inhibit-rules", tags=["inhibition"], status_code=201,
             summary="Create an inhibition rule (manager)")
def create_rule(body: RuleBody, actor: Actor = Manager) -> dict[str, Any]:
    with core_db.transaction() as s:
        return inhibition_store.create_rule(s, body.model_dump(exclude_unset=True), actor,
                                            SYSTEM_CLOCK.now())


@router.put("/inhibit-rules/{rule_id}", tags=["inhibition"],
            summary="Edit, enable or disable a rule (manager; fields not sent are kept)")
def update_rule(rule_id: int, body: RuleBody, actor: Actor = Manager) -> dict[str, Any]:
    with core_db.transaction() as s:
        return inhibition_store.update_rule(s, rule_id, body.model_dump(exclude_unset=True),
                                            actor, SYSTEM_CLOCK.now())
