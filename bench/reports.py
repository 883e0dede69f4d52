"""The analytics-report figures over the 1M-alert history (core.reports.stats*), in process, one
transaction per call as the API runs them; medians of ``runs`` after 2 warm-up calls.

- ``reports_trends_ms``: alerts per local day (America/New_York) over the last 30 days
  (target <= 300 ms); ``reports_trends_hourly_7d_ms``: per local hour over the last 7 days;
- ``reports_statistics_30d_ms``: counts by severity/state/service and MTTA/MTTR
  percentiles over the last 30 days;
- ``reports_top_alerts_30d_ms``: the top 20 alert identities by occurrences, 30 days
  (``reports_top_alerts_escalations_30d_ms``: ranked by escalations);
- ``reports_related_ms``: related alerts (5-minute window) of alerts 1-10 days old, a
  different one each call.
"""
from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from bench.measure import timings_ms
from core import db as core_db
from core.reports.related import related_alerts
from core.reports.stats import scope, trends
from core.reports.stats import statistics as report_statistics
from core.reports.top import top_alerts

TZ = "America/New_York"


def _call(engine: sa.Engine, fn: Callable[..., Any], *args: Any) -> Callable[[], None]:
    def once() -> None:
        with core_db.transaction(engine) as s:
            fn(s, *args)
    return once


def _sample_ids(engine: sa.Engine, now: datetime, n: int) -> list[int]:
    """One alert at each of ``n`` instants spread over 1-10 days ago."""
    ids = []
    with engine.connect() as conn:
        for i in range(n):
            ids.append(int(conn.scalar(sa.text(
                "select id from alerts where created_at < :t order by created_at desc limit 1"),
                {"t": now - timedelta(days=1 + 9 * i / max(n - 1, 1))})))
    return ids


def run(engine: sa.Engine, runs: int = 10) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    d30, d7 = scope(now - timedelta(days=30), now, now), scope(now - timedelta(days=7), now, now)
    ids = itertools.cycle(_sample_ids(engine, now, runs + 2))

    def related() -> None:
        with core_db.transaction(engine) as s:
            related_alerts(s, next(ids))

    cases: dict[str, Callable[[], None]] = {
        "reports_trends_ms": _call(engine, trends, d30, "day", TZ),
        "reports_trends_hourly_7d_ms": _call(engine, trends, d7, "hour", TZ),
        "reports_statistics_30d_ms": _call(engine, report_statistics, d30),
        "reports_top_alerts_30d_ms": _call(engine, top_alerts, d30, "occurrences", 20),
        "reports_top_alerts_escalations_30d_ms": _call(engine, top_alerts, d30, "escalations"),
        "reports_related_ms": related,
    }
    return {key: round(statistics.median(timings_ms(fn, runs, 2)), 1)
            for key, fn in cases.items()}
