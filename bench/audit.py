"""The audit figure: ``core.audit.search`` as the Audit page runs it (first page of 100, one
transaction, total included) over the bench history, whose alert actions (transitions,
notes, assigns) are millions of ``alert_events`` rows; and the streamed CSV of a day.

Figures (median of ``runs``): ``audit_page_7d_ms`` (the page's default "Last 7 days"),
``audit_page_all_ms`` (no period: the total counts every action ever), ``audit_search_7d_ms``
(search text over 7 days: rows are matched until the count reaches its cap), ``audit_page_config_ms`` (config
changes only), ``audit_csv_1d_rows_per_s`` / ``audit_csv_1d_rows`` (iter_csv of one day).
"""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import sqlalchemy as sa

from bench.measure import timings_ms
from core import db as core_db
from core.audit import AuditFilter, iter_csv, search


def _page(engine: sa.Engine, f: AuditFilter) -> int:
    with core_db.transaction(engine) as s:
        return search(s, f, 1, 100).total


def run(engine: sa.Engine, runs: int = 7, warmup: int = 2) -> dict[str, Any]:
    with engine.connect() as conn:
        latest = conn.scalar(sa.text("select max(at) from alert_events")) or datetime.now(
            timezone.utc)
    week = latest - timedelta(days=7)
    out: dict[str, Any] = {}
    for key, f in (("audit_page_7d", AuditFilter(start=week)), ("audit_page_all", AuditFilter()),
                   ("audit_search_7d", AuditFilter(q="resolv", start=week)),
                   ("audit_page_config", AuditFilter(entity="config"))):
        out[f"{key}_ms"] = round(statistics.median(timings_ms(partial(_page, engine, f),
                                                              runs, warmup)), 1)
    out["audit_page_7d_total"] = _page(engine, AuditFilter(start=week))
    t0 = time.perf_counter()
    lines = sum(chunk.count("\n") for chunk in iter_csv(
        engine, AuditFilter(start=latest - timedelta(days=1)))) - 1
    out["audit_csv_1d_rows"] = lines
    out["audit_csv_1d_rows_per_s"] = round(lines / (time.perf_counter() - t0))
    return out
