"""Analytics reports (viewer and up): statistics, trends, top alerts, related alerts, daily.

Common query parameters: ``start`` / ``end`` (ISO-8601 with an offset, or a bare date =
midnight UTC; the period ``[start, end)`` defaults to the 7 days up to now and may span at
most 366 days), ``service`` (an unknown one is a 404 naming it), ``severity``, and
``tz`` (IANA zone of the local days/hours, default UTC). The rules are ``core.reports.stats``'s (and
``core.reports.top`` / ``core.reports.related``'s); bad input is a 422 naming the field.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter

from api.params import day, instant
from api.retry import RetryingRoute
from api.security import Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK, check_zone
from core.reports.related import related_alerts
from core.reports.stats import TOP_SERVICES, Scope, daily, scope, statistics, trends
from core.reports.top import top_alerts
from core.teams import check_service

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/reports", tags=["reports"])


def _scope(start: str | None, end: str | None, service: str | None, severity: str | None,
           now: dt.datetime) -> Scope:
    return scope(instant(start, "start"), instant(end, "end"), now, service, severity)


@router.get("/statistics", summary="Alert counts by severity/state/service, MTTA/MTTR")
def report_statistics(start: str | None = None, end: str | None = None,
                      service: str | None = None, severity: str | None = None,
                      top_services: int = TOP_SERVICES, _: Actor = Viewer) -> dict[str, Any]:
    sc = _scope(start, end, service, severity, SYSTEM_CLOCK.now())
    with core_db.transaction() as s:
        check_service(s, sc.service)
        return statistics(s, sc, top_services)


@router.get("/trends", summary="Alerts per local hour or day, empty buckets included")
def report_trends(start: str | None = None, end: str | None = None, bucket: str = "day",
                  tz: str = "UTC", service: str | None = None, severity: str | None = None,
                  _: Actor = Viewer) -> dict[str, Any]:
    zone = check_zone(tz)
    sc = _scope(start, end, service, severity, SYSTEM_CLOCK.now())
    with core_db.transaction() as s:
        check_service(s, sc.service)
        rows = trends(s, sc, bucket, zone)
    return {"data": rows, "start": sc.start, "end": sc.end, "bucket": bucket, "tz": zone,
            "page": 1, "limit": len(rows), "total": len(rows)}


@router.get("/top-alerts", summary="Recurring alerts ranked by occurrences, resolution "
                                   "time or escalations")
def report_top_alerts(start: str | None = None, end: str | None = None,
                      by: str = "occurrences", limit: int = 20, service: str | None = None,
                      severity: str | None = None, _: Actor = Viewer) -> dict[str, Any]:
    sc = _scope(start, end, service, severity, SYSTEM_CLOCK.now())
    with core_db.transaction() as s:
        check_service(s, sc.service)
        rows = top_alerts(s, sc, by, limit)
    return {"data": rows, "start": sc.start, "end": sc.end, "by": by,
            "page": 1, "limit": limit, "total": len(rows)}


@router.get("/related/{alert_id}", summary="Alerts of the same group or firing within a "
                                           "window, scored by co-occurrence")
def report_related(alert_id: int, window_s: int = 300, limit: int = 50,
                   _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        out = related_alerts(s, alert_id, window_s, limit)
    return {**out, "page": 1, "limit": limit}


@router.get("/daily", summary="One local day's summary: counts, MTTA/MTTR, SLA, busiest hour")
def report_daily(date: str | None = None, tz: str = "UTC", service: str | None = None,
                 severity: str | None = None, _: Actor = Viewer) -> dict[str, Any]:
    zone = check_zone(tz)
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        check_service(s, service)
        return daily(s, _day(date, zone, now), zone, now, service, severity)


def _day(value: str | None, zone: str, now: dt.datetime) -> dt.date:
    """``YYYY-MM-DD``; by default today in ``zone``."""
    if not value:
        return now.astimezone(ZoneInfo(zone)).date()
    return day(value, "date")
