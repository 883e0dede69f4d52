"""The weekly report (viewer and up): JSON, or a file to attach (HTML, Markdown, CSV).

``week`` (ISO week, ``2026-W47``) or ``week_start`` (its Monday, ``2026-11-16``) picks the
week; with neither, the last complete week. ``tz`` is the IANA zone whose local Monday
midnights bound the week (default: the caller's profile zone, else UTC). ``service`` and
``team`` (the ``team`` label) filter the alerts. Rules: ``core.weekly.report``.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api.retry import RetryingRoute
from api.security import Viewer
from core import db as core_db
from core import views
from core.actor import Actor
from core.clock import SYSTEM_CLOCK, check_day, check_zone
from core.errors import FieldError
from core.weekly.render import to_csv, to_html, to_markdown
from core.weekly.report import last_complete_week, parse_week, weekly_report

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1", tags=["reports"])
FILES = {"html": (to_html, "text/html; charset=utf-8"),
         "md": (to_markdown, "text/markdown; charset=utf-8"),
         "csv": (to_csv, "text/csv; charset=utf-8")}


def _week(week: str | None, week_start: str | None, tz: str, now: Any) -> date:
    if week and week_start:
        raise FieldError("week", "give week or week_start, not both")
    if week:
        return parse_week(week, "week")
    if week_start:
        try:
            return check_day(date.fromisoformat(week_start), "week_start")
        except ValueError:
            raise FieldError("week_start", f"{week_start!r} is not a date such as "
                                           "2026-11-16") from None
    return last_complete_week(now, tz)


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-")[:60]


@router.get("/reports/weekly", response_model=None,
            summary="Weekly report of a local week: JSON, or format=html|md|csv as a file")
def weekly(week: str | None = None, week_start: str | None = None, tz: str | None = None,
           service: str | None = None, team: str | None = None, format: str = "json",
           actor: Actor = Viewer) -> dict[str, Any] | Response:
    if format not in ("json", *FILES):
        raise FieldError("format", "must be json, html, md or csv")
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        if not tz:
            profile = views.user_profile(s, actor.name)
            tz = profile.timezone if profile else "UTC"
        zone = check_zone(tz)
        report = weekly_report(s, _week(week, week_start, zone, now), zone, service, team, now)
    if format == "json":
        return report
    render, media_type = FILES[format]
    parts = ["weekly-report", report["week"], *(_slug(v) for v in (service, team) if v)]
    filename = "-".join(p for p in parts if p) + f".{format}"
    return Response(render(report), media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
