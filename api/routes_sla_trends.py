"""SLA trends per local day and the breached alerts of a period (viewer and up).

The period is ``[start, end)`` (ISO-8601 with an offset, or a bare date = midnight UTC);
it defaults to the 30 days up to now. ``tz`` is the IANA zone whose local days bucket the
trend (default UTC). The rules are ``core.sla.trends``'s, which match ``/sla/compliance``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter

from api.params import instant
from api.retry import RetryingRoute
from api.security import Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK, check_zone
from core.sla.trends import BREACHED_LIMIT, breached_alerts, daily_trend

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1", tags=["sla"])


def _period(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    end_at = instant(end, "end") or now
    return instant(start, "start") or end_at - timedelta(days=30), end_at


@router.get("/sla/trends", summary="SLA compliance, MTTA/MTTR and breaches per local day")
def sla_trends(start: str | None = None, end: str | None = None, tz: str = "UTC",
               service: str | None = None, severity: str | None = None,
               _: Actor = Viewer) -> dict[str, Any]:
    now = SYSTEM_CLOCK.now()
    zone = check_zone(tz)
    start_at, end_at = _period(start, end, now)
    with core_db.transaction() as s:
        rows = daily_trend(s, start_at, end_at, zone, service, severity, now=now)
    return {"data": rows, "start": start_at, "end": end_at, "tz": zone,
            "page": 1, "limit": len(rows), "total": len(rows)}


@router.get("/sla/breaches", summary="Alerts of a period that breached TTA or TTR, worst first")
def sla_breaches(start: str | None = None, end: str | None = None,
                 service: str | None = None, severity: str | None = None,
                 limit: int = BREACHED_LIMIT, _: Actor = Viewer) -> dict[str, Any]:
    now = SYSTEM_CLOCK.now()
    start_at, end_at = _period(start, end, now)
    with core_db.transaction() as s:
        rows = breached_alerts(s, start_at, end_at, service, severity, limit, now=now)
    total = rows[0]["total"] if rows else 0
    data = [{k: v for k, v in r.items() if k != "total"} for r in rows]
    return {"data": data, "start": start_at, "end": end_at,
            "page": 1, "limit": limit, "total": total}
