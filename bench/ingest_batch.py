"""Batch intake over real HTTP: Alertmanager webhook payloads (version 4) of 100 alerts
each, ``POST /api/v1/webhooks/alertmanager``, from N concurrent clients to the uvicorn
subprocess of ``bench.ingest.api_server``. Two streams:

- ``batch``: every alert new (a fresh fingerprint) — the create path;
- ``dedup``: 70 % of each payload repeats alerts already open (the repeat Alertmanager
  sends every group_interval), 30 % new — the duplicate-counting path.

Throughput is alerts (not requests) accepted per second of wall time; latency is per
request. Afterwards the run's alerts are deleted, so the bench data stays as generated.
"""
from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from bench.generate import vacuum_analyze
from bench.ingest import api_server, cpu_seconds, postgres_cpu_seconds, tidy
from bench.measure import p95
from bench.target import log
from core import db as core_db
from core.auth import create_api_key

PER_REQUEST = 100
PREFIX = "bench-batch"


def payload(tag: str, client: int, request: int, dup_share: float) -> dict[str, Any]:
    """One Alertmanager group: ``dup_share`` of it repeats this client's first alerts."""
    dups = int(PER_REQUEST * dup_share)
    alerts = []
    for j in range(PER_REQUEST):
        n = j if j < dups and request > 0 else request * PER_REQUEST + j
        alerts.append({
            "status": "firing", "fingerprint": f"{PREFIX}-{tag}-{client}-{n}",
            "labels": {"alertname": f"BenchAlert{n % 20}", "service": f"bench-svc-{n % 40}",
                       "instance": f"bench-dev-{n % 400}:9100",
                       "severity": ("critical", "warning", "warning", "info")[n % 4]},
            "annotations": {"summary": f"bench alert {n}"},
            "startsAt": "2026-11-23T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"})
    return {"version": "4", "status": "firing", "receiver": "alertdesk", "groupKey": tag,
            "alerts": alerts}


def _client(base: str, key: str, bodies: list[bytes], deadline: float,
            out: list[tuple[float, int]], lock: threading.Lock) -> None:
    """Post pre-encoded bodies over one keep-alive connection, as a load generator would:
    the standard library's http.client spends ~3 us per alert where httpx spent ~13, and
    the client shares the two cores with the server it measures."""
    url = urlsplit(base)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        for body in bodies:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/webhooks/alertmanager", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()  # reconnects on the next request
                status = 0
            with lock:
                out.append(((time.perf_counter() - t0) * 1000, status))
    finally:
        conn.close()


def stream(base: str, key: str, name: str, dup_share: float, clients: int, requests: int,
           time_limit_s: float = 120) -> dict[str, Any]:
    tag, lock = uuid.uuid4().hex[:8], threading.Lock()
    results: list[tuple[float, int]] = []
    bodies = [[json.dumps(payload(tag, c, r, dup_share)).encode() for r in range(requests)]
              for c in range(clients)]
    server_cpu, client_cpu, pg_cpu = cpu_seconds(base), time.process_time(), postgres_cpu_seconds()
    started = time.perf_counter()
    threads = [threading.Thread(target=_client, args=(
        base, key, bodies[c], started + time_limit_s, results, lock)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    server_cpu, client_cpu = cpu_seconds(base) - server_cpu, time.process_time() - client_cpu
    pg_end = postgres_cpu_seconds()
    ok = [ms for ms, status in results if status == 200]
    alerts = max(len(ok) * PER_REQUEST, 1)
    return {f"ingest_{name}_alerts_per_s": round(len(ok) * PER_REQUEST / wall),
            f"ingest_{name}_api_cpu_us_per_alert": round(server_cpu / alerts * 1e6, 1),
            f"ingest_{name}_client_cpu_us_per_alert": round(client_cpu / alerts * 1e6, 1),
            f"ingest_{name}_postgres_cpu_us_per_alert": (
                round((pg_end - pg_cpu) / alerts * 1e6, 1)
                if pg_cpu is not None and pg_end is not None else None),
            f"ingest_{name}_request_p50_ms": round(statistics.median(ok), 1) if ok else None,
            f"ingest_{name}_request_p95_ms": round(p95(ok), 1) if len(ok) > 1 else None,
            f"ingest_{name}_requests": len(results),
            f"ingest_{name}_errors": len(results) - len(ok)}


def run(engine: sa.Engine, clients: int = 4, requests: int = 50) -> dict[str, Any]:
    """Both streams against one server; ``clients`` x ``requests`` x 100 alerts each.
    Starts from settled tables: the previous run's clean-up leaves dead rows that
    autovacuum would otherwise process during the measurement, on the same two cores."""
    vacuum_analyze(engine, "alerts, alert_events, alert_groups")
    with core_db.transaction(engine) as s:
        key, row = create_api_key(s, "bench-batch", "operator", None)
    url = engine.url.render_as_string(hide_password=False)
    out: dict[str, Any] = {"ingest_batch_size": PER_REQUEST, "ingest_batch_clients": clients}
    try:
        with api_server(url) as base:
            for name, share in (("batch", 0.0), ("dedup", 0.7)):
                log(f"ingest {name}: {clients} clients x {requests} requests x {PER_REQUEST}")
                out.update(stream(base, key, name, share, clients, requests))
        return out
    finally:
        tidy(engine, row["id"], f"am:{PREFIX}-%")
