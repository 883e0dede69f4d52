"""The weekly-report figure: ``core.weekly.report.weekly_report`` over the last whole week of the
bench history (~80k alerts a week, plus the week before for the deltas), in the viewer
zone America/New_York, as the page and the API run it (one transaction per report).

Figures: ``weekly_report_ms`` (median of ``runs``, all alerts), ``weekly_report_p95_ms``,
``weekly_report_service_ms`` (the busiest service), ``weekly_report_team_ms`` (the team
filter "(no team)": the bench maps no service to a team, so every alert of the weeks is in
it — an unknown team name is a 404 now, and this keeps the figure a full team filter),
``weekly_report_alerts`` (alerts in the measured week).
"""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import sqlalchemy as sa

from bench.measure import p95, timings_ms
from core import db as core_db
from core.teams import NO_TEAM
from core.weekly.report import last_complete_week, weekly_report

TZ = "America/New_York"


def _report(engine: sa.Engine, now: datetime, service: str | None = None,
            team: str | None = None) -> dict[str, Any]:
    week = last_complete_week(now, TZ)
    with core_db.transaction(engine) as s:
        return weekly_report(s, week, TZ, service, team, now)


def run(engine: sa.Engine, runs: int = 7, warmup: int = 2) -> dict[str, Any]:
    with engine.connect() as conn:
        latest = conn.scalar(sa.text("select max(created_at) from alerts"))
        service = conn.scalar(sa.text(
            "select service from alerts where created_at > :t group by 1 order by count(*) desc "
            "limit 1"), {"t": (latest or datetime.now(timezone.utc)) - timedelta(days=7)})
    now = min(latest or datetime.now(timezone.utc), datetime.now(timezone.utc))
    out: dict[str, Any] = {}
    for key, kw in (("weekly_report", {}), ("weekly_report_service", {"service": service}),
                    ("weekly_report_team", {"team": NO_TEAM})):
        times = timings_ms(partial(_report, engine, now, **kw), runs, warmup)
        out[f"{key}_ms"] = round(statistics.median(times), 1)
        if key == "weekly_report":
            out[f"{key}_p95_ms"] = round(p95(times), 1)
    out["weekly_report_alerts"] = _report(engine, now)["alerts"]["total"]
    return out
