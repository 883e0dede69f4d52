"""The health-score figures over the 1M-alert history, as the API and the Health scores
page run them (one transaction per call, after two warm-up calls):

- ``health_scores_ms``: the scores of ALL services over the last 7 days (target <= 300 ms);
- ``health_scores_devices_ms``: the same for all devices;
- ``health_trend_ms``: the 14-day daily scores of all services (the page's sparklines);
- ``health_service_ms``: ``/reports/service-health/{service}`` for the busiest service
  (score, counts, MTTA/MTTR, top recurring, 14-day trend).

Medians of ``runs``; ``*_max_ms`` the slowest run.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Any

import sqlalchemy as sa

from bench.measure import busiest_open_service, timings_ms
from core import db as core_db
from core.health.detail import service_health
from core.health.store import daily_scores, health_scores

WEEK = timedelta(days=7)


def _timed(engine: sa.Engine, fn: Callable[[Any], object], runs: int) -> list[float]:
    def call() -> None:
        with core_db.transaction(engine) as s:
            fn(s)
    return timings_ms(call, runs, warmup=2)


def run(engine: sa.Engine, runs: int = 10) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    busiest = busiest_open_service(engine)
    cases: dict[str, Callable[[Any], object]] = {
        "health_scores": lambda s: health_scores(s, "service", WEEK, now),
        "health_scores_devices": lambda s: health_scores(s, "device", WEEK, now),
        "health_trend": lambda s: daily_scores(s, "service", 14, "UTC", now),
        "health_service": lambda s: service_health(s, busiest, WEEK, now, "UTC", 14),
    }
    out: dict[str, Any] = {}
    for name, fn in cases.items():
        values = _timed(engine, fn, runs)
        out[f"{name}_ms"] = round(median(values), 2)
        out[f"{name}_max_ms"] = round(max(values), 2)
    return out


if __name__ == "__main__":
    import json

    from bench.target import prepare

    print(json.dumps(run(prepare())))
