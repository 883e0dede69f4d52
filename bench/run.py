"""``python -m bench.run``: make sure the 1M-alert data set is there, measure, and print
ONE JSON object on stdout (progress and log lines go to stderr).

Figures (wall-clock ms, ``time.perf_counter``; medians and p95 via ``statistics``):
- ``queue_p50_ms`` / ``queue_p95_ms``: a refresh of the active queue as the UI runs it —
  ``queue_metrics`` + ``queue_page`` (open alerts, first 500) in one transaction; the same
  with a severity filter (``queue_severity_*``) and a service filter (``queue_service_*``);
- ``compliance_30d_ms``: SLA compliance over the last 30 days grouped by severity
  (median of 10); ``compliance_30d_by_service_ms``: grouped by severity and service;
- ``ingest_single_per_s`` / ``ingest_single_p95_ms``: ``POST /api/v1/alerts`` over HTTP
  (and ``ingest_events_v2_*`` / ``ingest_grafana_*``: the PagerDuty Events v2 and Grafana
  routes) to a real uvicorn server, 4 concurrent clients, 4000 posts each, with the API
  and PostgreSQL CPU per alert and ``*_transactions_per_request`` (below 1 when one
  sender's posts shared transactions, api/coalesce.py);
- ``csv_export_rows_per_s``: the streamed CSV export of the last 3 days' alerts;
- ``csv_http_*``: ``GET /api/v1/alerts/export.csv`` of the newest 100,000 alerts over HTTP,
  with the API server's peak RSS (``csv_http_server_peak_rss_mb``; target < 300 MB);
- ``ingest_batch_alerts_per_s`` / ``ingest_dedup_alerts_per_s``: Alertmanager payloads of
  100 alerts over HTTP, all new / 70 % duplicates (bench/ingest_batch.py).
- ``mixed_*``: the 70 % duplicate batch stream while two operators acknowledge, note and
  resolve alerts of the same services: batch alerts/s and p95, each action's p95
  (bench/mixed.py; targets >= 5,000/s, <= 200 ms, <= 100 ms).
- ``alerta_single_per_s`` / ``ingest_single_vs_alerta``: the single intake side by side with
  Alerta 9.1 on the same machine and loader, alternating (bench/alerta.py; ``make
  alerta-peer`` builds its venv; without it ``alerta_peer`` is "absent").
- ``floor_http_*`` / ``floor_transaction_*`` / ``floor_intake_*``: the same load against the
  API with no write, with the smallest durable write of this stack (the key check and one
  row per request) and with the real write, alternating (bench/floor.py); with the peer,
  ``floor_transaction_vs_alerta``: how far above Alerta that smallest write itself runs
  (the two measured one after the other in the same run, not alternated).
- ``escalation_tick_ms``: one ``core.worker.tick`` over the ~10,000 open alerts with
  escalation policies attached (median; bench/escalation.py).
- ``incident_tick_ms`` / ``incident_start_tick_ms`` / ``routing_preview_ms``: the tick
  with 10,000 more open alerts in 2,000 incidents, starting them and steady; one routing
  preview (bench/incidents.py).
- ``delivery_per_s`` / ``critical_due_to_sent_s``: pages per second to a local webhook
  receiver; a new critical page's wait behind 10,000 pending ones (bench/delivery.py).
- ``desk_queue_idle_ms`` / ``desk_queue_load_ms`` / ``desk_action_ms``: the queue in Chromium
  over the 10,000 open alerts (from the sidebar / a reload) and an acknowledge from a click
  to "done" (median of 5; bench/desk.py).
- ``oncall_shifts_50x90d_ms``: final on-call shifts for 50 schedules over 90 days, pure,
  no database (median; bench/oncall.py; target <= 200 ms).
- ``weekly_report_ms``: the weekly report (core.weekly.report) of the last whole week, ~80k
  alerts plus the week before, all alerts / a service / a team label (bench/weekly.py).
- ``retention_dry_run_30d_s`` / ``retention_delete_batch_ms`` / ``retention_delete_rows_per_s``:
  the retention walk (dry run, 30 days) and one rolled-back 5,000-id delete batch
  (median; bench/retention.py; the bench data stays intact); ``retention_group_batch_ms``:
  500 old groups deleted beside 300,000 notifications (rolled back).
- ``audit_page_7d_ms`` / ``audit_page_all_ms`` / ``audit_search_7d_ms`` / ``audit_page_config_ms``:
  the Audit page's first 100 entries and capped total (core.audit.search) over 7 days, all
  time, with search text, config only; ``audit_csv_1d_rows_per_s``: the audit CSV of a day
  (median; bench/audit.py).
- ``reports_trends_ms`` (30 local days; target <= 300 ms), ``reports_trends_hourly_7d_ms``,
  ``reports_statistics_30d_ms``, ``reports_top_alerts_30d_ms``, ``reports_related_ms``:
  the analytics reports (median; bench/reports.py).
- ``health_scores_ms`` (all services, 7 days; target <= 300 ms), ``health_scores_devices_ms``,
  ``health_trend_ms`` (14 daily scores of all services), ``health_service_ms``: health
  scores (median; bench/health.py).
- ``repeats_*``: top alerts and health over a copy of the history whose alert identities
  repeat (~20k fingerprints instead of one per alert; bench/repeats.py).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from bench import (
    alerta,
    delivery,
    desk,
    escalation,
    export_rss,
    floor,
    generate,
    incidents,
    ingest,
    ingest_batch,
    measure,
    mixed,
    oncall,
    repeats,
)
from bench import audit as audit_bench
from bench import health as health_bench
from bench import reports as reports_bench
from bench import retention as retention_bench
from bench import weekly as weekly_bench
from bench.target import log


def machine(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        version = conn.scalar(sa.text("show server_version"))
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "postgres": version,
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def measure_all(engine: sa.Engine, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure, in a fixed order (the ingest run last: it writes)."""
    now = datetime.now(timezone.utc)
    out: dict[str, Any] = {}
    log("queue ...")
    out.update(measure.queue_figures(engine, now, args.iterations))
    log("compliance ...")
    out.update(measure.compliance_figures(engine, now, args.compliance_iterations))
    if not args.skip_csv:
        log("csv export ...")
        out.update(measure.csv_figures(engine, now))
        log("csv export over HTTP (server memory) ...")
        out.update(export_rss.run(engine))
    if not args.skip_escalation:
        log("escalation tick ...")
        out.update(escalation.run(engine))
        log("paging per incident: 2,000 incidents of 5 alerts, routing preview ...")
        out.update(incidents.run(engine))
        log("delivery: 5,000 webhooks to a local receiver; a critical page behind 10,000 ...")
        out.update(delivery.run(engine))
    if not args.skip_desk:
        log("the operator's desk in Chromium: queue with 10,000 open alerts, an acknowledge ...")
        out.update(desk.run(engine))
    log("on-call shifts ...")
    out.update(oncall.run())
    log("weekly report ...")
    out.update(weekly_bench.run(engine))
    log("retention (dry run; one rolled-back delete batch per sample) ...")
    out.update(retention_bench.run(engine))
    log("audit trail ...")
    out.update(audit_bench.run(engine))
    log("analytics reports ...")
    out.update(reports_bench.run(engine))
    log("health scores ...")
    out.update(health_bench.run(engine))
    log("top alerts and health over a history whose identities repeat ...")
    out.update(repeats.run(engine))
    if not args.skip_ingest:
        out.update(ingest.run(engine, args.requests, args.clients))
        out.update(ingest_batch.run(engine))
        log("operators while batches run: acknowledge / note / resolve p95 ...")
        out.update(mixed.run(engine))
        log("single intake side by side with Alerta 9.1 (when .alerta-venv is there) ...")
        out.update(alerta.run(engine, args.requests, args.clients))
        log("the single intake's floor: no write, one insert, the real write ...")
        out.update(floor.run(engine, args.requests, args.clients))
        if out.get("alerta_single_per_s"):
            out["floor_transaction_vs_alerta"] = round(
                out["floor_transaction_per_s"] / out["alerta_single_per_s"], 2)
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Alertdesk benchmark: prints one JSON object")
    p.add_argument("--force", action="store_true", help="drop and regenerate the data first")
    p.add_argument("--iterations", type=int, default=50, help="queue refreshes per variant")
    p.add_argument("--compliance-iterations", type=int, default=10)
    p.add_argument("--requests", type=int, default=4000, help="single-intake posts per intake")
    p.add_argument("--clients", type=int, default=4, help="concurrent single-intake clients (issue 18: 4)")
    p.add_argument("--skip-ingest", action="store_true")
    p.add_argument("--skip-csv", action="store_true")
    p.add_argument("--skip-escalation", action="store_true")
    p.add_argument("--skip-desk", action="store_true", help="no browser figures (bench/desk.py)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    engine, gen = generate.ensure(args.force)
    # The previous run's ingest clean-up left dead queue entries; start from a settled table.
    gen["settle_vacuum_s"] = round(generate.vacuum_analyze(engine, "alerts"), 2)
    result: dict[str, Any] = {**measure.counts(engine)}
    result.update(measure_all(engine, args))
    result.update(gen)
    result["machine"] = machine(engine)
    result["bench_wall_s"] = round(time.perf_counter() - started, 1)
    engine.dispose()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
