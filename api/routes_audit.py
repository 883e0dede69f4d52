"""The audit trail (manager and up): configuration changes and alert actions as one stream,
newest first, searchable; and the same stream as CSV (streamed).

Filters: ``q`` (text in entity, id, actor, action, note, before/after), ``actor`` (exact),
``entity`` (alert, a configuration entity, or ``config`` for every configuration change),
``start`` / ``end`` (ISO-8601 with an offset, or a bare date = midnight UTC; ``[start, end)``).
``total`` counts up to 10,000 (``total_capped`` true: more match; narrow the filters).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.params import instant
from api.retry import RetryingRoute
from api.security import Manager
from api.streams import csv_response
from core import db as core_db
from core.actor import Actor
from core.audit import AuditFilter, iter_csv, search

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/audit", tags=["audit"])


def _filter(q: str | None, actor: str | None, entity: str | None, start: str | None,
            end: str | None) -> AuditFilter:
    return AuditFilter(q, actor, entity, instant(start, "start"), instant(end, "end")).normalize()


@router.get("", summary="Config changes and alert actions, newest first (manager+)")
def audit_log(q: str | None = None, actor: str | None = None, entity: str | None = None,
              start: str | None = None, end: str | None = None, page: int = 1, limit: int = 50,
              _: Actor = Manager) -> dict[str, Any]:
    f = _filter(q, actor, entity, start, end)
    with core_db.transaction() as s:
        found = search(s, f, page, limit)
    return {"data": found.rows, "page": page, "limit": limit, "total": found.total,
            "total_capped": found.capped}


@router.get("/export.csv", summary="CSV of the audit stream matching the filters (streamed)")
def export_csv(q: str | None = None, actor: str | None = None, entity: str | None = None,
               start: str | None = None, end: str | None = None,
               _: Actor = Manager) -> StreamingResponse:
    f = _filter(q, actor, entity, start, end)
    return csv_response(iter_csv(core_db.get_engine(), f), "audit.csv")
