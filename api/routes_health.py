"""Health scores (viewer and up): per service or device over a window, their daily trend,
the alerts behind a score, and one service's analytics. Formula: ``core.health.rules``
(docs/HEALTH.md); the SQL: ``core.health.store`` and ``core.health.detail``.

``window`` is ``24h``, ``7d``, ``30d`` ... (1 hour to 90 days) ending now; ``tz`` is the
IANA zone whose local days bucket a trend (default UTC).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.retry import RetryingRoute
from api.security import Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK, check_zone
from core.errors import FieldError
from core.health.detail import BEHIND_LIMIT, alerts_behind, service_health
from core.health.rules import parse_window
from core.health.store import daily_scores, health_scores, key_column

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/reports", tags=["health"])
MAX_LIMIT = 5000


def _named(row: dict[str, Any], by: str) -> dict[str, Any]:
    """The entity under its own name (``service`` or ``device``) first."""
    return {by: row["entity"], **{k: v for k, v in row.items() if k != "entity"}}


@router.get("/health", summary="Health score 0-100 per service or device over a window")
def health(by: str = "service", window: str = "7d", service: str | None = None,
           limit: int | None = None, _: Actor = Viewer) -> dict[str, Any]:
    key_column(by)
    span = parse_window(window)
    if limit is not None and not 0 < limit <= MAX_LIMIT:
        raise FieldError("limit", f"must be between 1 and {MAX_LIMIT}")
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        rows = health_scores(s, by, span, now, service or None)
    shown = rows if limit is None else rows[:limit]
    return {"data": [_named(r, by) for r in shown], "by": by, "window": window,
            "window_start": now - span, "window_end": now,
            "page": 1, "limit": limit or len(rows), "total": len(rows)}


@router.get("/health/trend", summary="Health score per local day, per service or device")
def health_trend(service: str | None = None, days: int = 14, tz: str = "UTC",
                 by: str = "service", _: Actor = Viewer) -> dict[str, Any]:
    key_column(by)
    zone = check_zone(tz)
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        trends = daily_scores(s, by, days, zone, now, service or None)
    data = [{by: name, "days": series} for name, series in sorted(trends.items())]
    return {"data": data, "by": by, "days": days, "tz": zone,
            "page": 1, "limit": len(data), "total": len(data)}


@router.get("/health/alerts", summary="The alerts behind one service's or device's score")
def health_alerts(name: str, by: str = "service", window: str = "7d",
                  limit: int = BEHIND_LIMIT, _: Actor = Viewer) -> dict[str, Any]:
    key_column(by)
    span = parse_window(window)
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        rows = alerts_behind(s, by, name, span, now, limit)
    total = rows[0]["total"] if rows else 0
    return {"data": [{k: v for k, v in r.items() if k != "total"} for r in rows],
            "by": by, "name": name, "window": window, "page": 1, "limit": limit,
            "total": total}


@router.get("/service-health/{service}",
            summary="One service: score with factors, counts, MTTA/MTTR vs target, "
                    "top recurring alerts, daily trend")
def one_service(service: str, window: str = "7d", days: int = 14, tz: str = "UTC",
                _: Actor = Viewer) -> dict[str, Any]:
    span = parse_window(window)
    zone = check_zone(tz)
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        out = service_health(s, service, span, now, zone, days)
    out["health"] = _named(out["health"], "service")
    return {**out, "window": window, "tz": zone}
