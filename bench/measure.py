"""In-process measurements: the active queue as the UI runs it, SLA compliance, CSV export.

Everything is timed with ``time.perf_counter`` around the core call, one transaction per
iteration (as a page run does), after a few warm-up iterations that are not counted.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa

from core import db as core_db
from core import views
from core.alerts import export
from core.alerts.queue import MAX_LIMIT, AlertFilter
from core.sla.compliance import ComplianceQuery, compliance

OPEN_QUEUE = AlertFilter(state=("open",))


def timings_ms(fn: Callable[[], object], iterations: int, warmup: int) -> list[float]:
    """Wall times of ``iterations`` calls of ``fn`` in ms (``warmup`` calls first, unused)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def summary(prefix: str, values: list[float]) -> dict[str, float]:
    return {f"{prefix}_p50_ms": round(statistics.median(values), 2),
            f"{prefix}_p95_ms": round(p95(values), 2)}


def queue_run(engine: sa.Engine, f: AlertFilter, now: datetime) -> int:
    """One refresh of the queue page: headline metrics + the first 500 rows of the queue
    (a DataFrame with the running SLA clock), in one transaction. Returns the total."""
    with core_db.transaction(engine) as s:
        views.queue_metrics(s, now)
        _, total = views.queue_page(s, f, now, MAX_LIMIT)
    return total


def busiest_open_service(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(sa.text(
            "select service from alerts where state in "
            "('new','acknowledged','investigating','silenced') "
            "group by service order by count(*) desc limit 1")))


def queue_figures(engine: sa.Engine, now: datetime, iterations: int = 50,
                  warmup: int = 5) -> dict[str, Any]:
    """The open queue (reported as ``queue_*``), then filtered by severity and by service."""
    service = busiest_open_service(engine)
    variants = {"queue": OPEN_QUEUE,
                "queue_severity": AlertFilter(state=("open",), severity=("critical", "high")),
                "queue_service": AlertFilter(state=("open",), service=service)}
    out: dict[str, Any] = {"queue_service_filter": service}
    for name, f in variants.items():
        out[f"{name}_rows_total"] = queue_run(engine, f, now)
        out.update(summary(name, timings_ms(partial(queue_run, engine, f, now),
                                            iterations, warmup)))
    return out


def compliance_run(engine: sa.Engine, now: datetime, group_by: str, days: int = 30) -> int:
    """SLA compliance over the alerts created in the last ``days`` (one SQL statement)."""
    with core_db.transaction(engine) as s:
        rows = compliance(s, ComplianceQuery(now - timedelta(days=days), now, group_by), now)
    return len(rows)


def compliance_figures(engine: sa.Engine, now: datetime, iterations: int = 10,
                       warmup: int = 2) -> dict[str, Any]:
    """Median wall time of the 30-day compliance report, by severity and by both."""
    out: dict[str, Any] = {}
    for key, group_by in (("compliance_30d", "severity"), ("compliance_30d_by_service", "both")):
        times = timings_ms(partial(compliance_run, engine, now, group_by), iterations, warmup)
        out[f"{key}_ms"] = round(statistics.median(times), 2)
        out[f"{key}_p95_ms"] = round(p95(times), 2)
    with engine.connect() as conn:
        out["compliance_30d_alerts"] = int(conn.scalar(sa.text(
            "select count(*) from alerts where created_at >= :s and created_at < :e"),
            {"s": now - timedelta(days=30), "e": now}) or 0)
    return out


def csv_figures(engine: sa.Engine, now: datetime, days: int = 3) -> dict[str, Any]:
    """CSV export (streamed, as the API and the download button do) of the alerts created
    in the last ``days``: rows per second over the whole export."""
    f = AlertFilter(start_date=now - timedelta(days=days))
    t0 = time.perf_counter()
    lines = sum(chunk.count("\n") for chunk in export.iter_csv(engine, f, now)) - 1
    seconds = time.perf_counter() - t0
    return {"csv_export_rows": lines, "csv_export_s": round(seconds, 2),
            "csv_export_rows_per_s": round(lines / seconds, 1)}


def counts(engine: sa.Engine) -> dict[str, Any]:
    """Row counts the figures were measured on."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("""
            select (select count(*) from alerts) as alerts_total,
                   (select count(*) from alerts where state in
                      ('new','acknowledged','investigating','silenced')) as alerts_open,
                   (select count(*) from alert_events) as events_total""")).one()
    return {k: int(v) for k, v in row._mapping.items()}
