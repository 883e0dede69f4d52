"""Single-alert intake over real HTTP: ``POST /api/v1/alerts`` against a uvicorn server
started as a subprocess on a free loopback port, from N concurrent clients (a thread with
its own keep-alive connection, bench/wire.py). Bounded by a request count and a time limit.

Most posts carry a fresh fingerprint (a new alert); every tenth repeats an earlier one of
the same run (a duplicate counted on the open alert). Afterwards the alerts the run opened
are deleted with their events, so repeated runs keep the queue and the history as generated.
"""
from __future__ import annotations

import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.measure import p95
from bench.target import ENV as BENCH_ENV
from bench.target import log
from bench.wire import Wire
from core import config
from core import db as core_db
from core.auth import create_api_key

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "bench-ingest"
DUPLICATE_EVERY = 10
SERVER_PIDS: dict[str, int] = {}  # base URL -> PID of the uvicorn subprocess serving it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_server(db_url: str, timeout: float = 60, app: str = "api.app:app") -> Iterator[str]:
    """A uvicorn subprocess serving ``app`` (an app, or a factory when it ends in ``()``,
    bench/floor.py) on the bench database; stopped by PID (SIGTERM, then SIGKILL after
    10 s) however the block ends."""
    port = free_port()
    env = {**os.environ, "ALERTDESK_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    target = ([app.removesuffix("()"), "--factory"] if app.endswith("()") else [app])
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", *target, "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--workers", str(config.api_workers())],
                            cwd=ROOT, env=env, stdout=sys.stderr, stderr=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    SERVER_PIDS[base] = proc.pid
    try:
        wait_healthy(base, proc, timeout)
        yield base
    finally:
        stop(proc)
        SERVER_PIDS.pop(base, None)


def cpu_seconds(base: str) -> float:
    """User + system CPU the API server started by ``api_server`` at ``base`` has used: the
    uvicorn process and its live worker processes (``--workers`` > 1)."""
    return sum(_proc_cpu(p, reaped=False)
               for p in tree_pids(SERVER_PIDS[base])) / os.sysconf("SC_CLK_TCK")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its live descendants (a server and its ``--workers`` processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return [pid, *(p for k in kids for p in tree_pids(int(k)))]


def postgres_cpu_seconds() -> float | None:
    """User + system CPU of the embedded bench PostgreSQL: the postmaster, its live
    children (backends, WAL writer, autovacuum) and the children it has reaped; None
    when the bench runs on an external server (ALERTDESK_BENCH_DATABASE_URL)."""
    pid_file = config.data_dir() / "bench-pgdata" / "postmaster.pid"
    if os.environ.get(BENCH_ENV) or not pid_file.exists():
        return None
    postmaster = int(pid_file.read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children")
    pids = children.read_text().split() if children.exists() else []
    return sum(_proc_cpu(int(p), reaped=int(p) == postmaster)
               for p in [postmaster, *pids]) / os.sysconf("SC_CLK_TCK")


def xact_id(engine: sa.Engine) -> int:
    """A new transaction id: the difference of two, less one, is how many writing
    transactions ran in between (each takes one id; reads take none). Exact, where the
    commit counters of pg_stat_database reach the view up to a second late."""
    with engine.begin() as c:
        return int(c.scalar(sa.text("select pg_current_xact_id()::text::bigint")))


def _proc_cpu(pid: int, reaped: bool) -> int:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0  # a backend that just exited: the postmaster's reaped count has it
    return int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if reaped else 0)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float,
                 path: str = "/healthz") -> None:
    """Until ``path`` answers 200 (the server started as ``proc``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base}{path} did not answer 200 within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s (a process this bench started, by its PID)."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _payload(tag: str, i: int) -> dict[str, Any]:
    n = i // DUPLICATE_EVERY if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 else i
    return {"summary": f"Bench alert {n}", "severity": ("critical", "high", "medium", "low",
                                                          "info")[n % 5],
            "service": f"bench-svc-{n % 40}", "device_id": f"bench-dev-{n % 400}",
            "fingerprint": f"{PREFIX}-{tag}-{n}", "labels": {"alertname": "BenchAlert"}}


def _pagerduty(tag: str, i: int) -> dict[str, Any]:
    """The same alert as a PagerDuty Events API v2 trigger (routing_key added by the client)."""
    a = _payload(tag, i)
    return {"event_action": "trigger", "dedup_key": a["fingerprint"], "payload": {
        "summary": a["summary"], "source": a["device_id"], "component": a["service"],
        "severity": {"critical": "critical", "high": "error", "medium": "warning"}.get(
            a["severity"], "info")}}


def _grafana(tag: str, i: int) -> dict[str, Any]:
    """The same alert as Grafana Alerting's webhook payload with one alert in it."""
    a = _payload(tag, i)
    return {"receiver": "bench", "status": "firing", "orgId": 1, "version": "1",
            "groupKey": "{}", "alerts": [{
                "status": "firing", "fingerprint": a["fingerprint"],
                "labels": {"alertname": a["summary"], "service": a["service"],
                           "instance": a["device_id"], "severity": a["severity"]},
                "annotations": {"summary": a["summary"]},
                "startsAt": "2026-12-07T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}


# figure prefix -> (path, payload); every intake sends the same alerts (one per request)
KINDS: dict[str, tuple[str, Callable[[str, int], dict[str, Any]]]] = {
    "ingest_single": ("/api/v1/alerts", _payload),
    "ingest_events_v2": ("/v2/enqueue", _pagerduty),
    "ingest_grafana": ("/api/v1/webhooks/grafana", _grafana),
}


def _alerta(tag: str, i: int) -> dict[str, Any]:
    """The same alert as Alerta's ``POST /alert`` (bench/alerta.py, the peer issue 18 names);
    Alerta deduplicates on environment, resource, event and severity."""
    a = _payload(tag, i)
    return {"resource": a["device_id"], "event": a["fingerprint"], "environment": "Production",
            "service": [a["service"]], "text": a["summary"], "severity": {
                "critical": "critical", "high": "major", "medium": "minor",
                "low": "warning"}.get(a["severity"], "informational")}


# other products' intakes, loaded the same way (no API key sent)
PEERS: dict[str, tuple[str, Callable[[str, int], dict[str, Any]]]] = {
    "alerta_single": ("/alert", _alerta),
}


def _client(base: str, key: str, tag: str, counter: Iterator[int], total: int,
            deadline: float, out: list[tuple[float, int]], lock: threading.Lock,
            kind: str = "ingest_single") -> None:
    """Post alerts until the shared counter reaches ``total`` or time runs out (a lean
    keep-alive client, bench/wire.py, so the generator leaves the cores to the server)."""
    path, payload = {**KINDS, **PEERS}[kind]
    with Wire(base, {"X-API-Key": key} if key else {}) as client:
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter)
            if i >= total:
                return
            body = payload(tag, i)
            if kind == "ingest_events_v2":
                body["routing_key"] = key
            t0 = time.perf_counter()
            try:
                status, _ = client.post(path, body)
            except OSError:
                status = 0
            with lock:
                out.append(((time.perf_counter() - t0) * 1000, status))


def ingest_load(base: str, key: str, total: int = 2000, clients: int = 8,
                time_limit_s: float = 120, kind: str = "ingest_single") -> dict[str, Any]:
    """``total`` posts from ``clients`` threads; throughput is successful posts per second
    of wall time, latency is per request (client side: HTTP + auth + upsert + event).
    ``kind``: which intake (KINDS, or PEERS with no ``key``); the figures are named after it."""
    tag, counter, lock = uuid.uuid4().hex[:8], itertools.count(), threading.Lock()
    results: list[tuple[float, int]] = []
    started = time.perf_counter()
    threads = [threading.Thread(target=_client, args=(
        base, key, tag, counter, total, started + time_limit_s, results, lock, kind))
        for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ok = [ms for ms, status in results if status in (200, 201, 202)]
    out = {f"{kind}_per_s": round(len(ok) / wall, 1),
           f"{kind}_p50_ms": round(statistics.median(ok), 2) if ok else None,
           f"{kind}_p95_ms": round(p95(ok), 2) if len(ok) > 1 else None,
           f"{kind}_errors": len(results) - len(ok)}
    if kind == "ingest_single":
        out.update({"ingest_requests": len(results), "ingest_created": sum(
            1 for _, s in results if s == 201), "ingest_deduplicated": sum(
            1 for _, s in results if s == 200), "ingest_clients": clients,
            "ingest_wall_s": round(wall, 2)})
    return out


def measured_load(base: str, key: str, requests: int, clients: int,
                  kind: str = "ingest_single") -> dict[str, Any]:
    """``ingest_load``'s figures, plus ``{kind}_api_cpu_ms``: the CPU per request of the API
    server at ``base`` (started by ``api_server``), and ``{kind}_pg_cpu_ms``: PostgreSQL's,
    when the bench runs its own embedded server."""
    api0, pg0 = cpu_seconds(base), postgres_cpu_seconds()
    out = ingest_load(base, key, requests, clients, kind=kind)
    out[f"{kind}_api_cpu_ms"] = round((cpu_seconds(base) - api0) * 1000 / requests, 2)
    pg1 = postgres_cpu_seconds()
    if pg0 is not None and pg1 is not None:
        out[f"{kind}_pg_cpu_ms"] = round((pg1 - pg0) * 1000 / requests, 2)
    return out


# The run's alerts are deleted afterwards (the retention job's sanctioned path, migration
# 0013), so repeated runs leave the 1M history and its time windows as generated: closing
# them instead piled ~12k fresh alerts per run into "the last 7/30 days".
CLEANUP = """
with gone as (
    select id from alerts where fingerprint like any(cast(:patterns as text[]))
), ev as (
    delete from alert_events where alert_id in (select id from gone)
)
delete from alerts where id in (select id from gone)
"""


def tidy(engine: sa.Engine, key_id: int, *patterns: str) -> None:
    """After a run: revoke its API key and delete the alerts it created (``patterns``)."""
    with core_db.transaction(engine) as s:
        if patterns:
            purge(s, *patterns)
        s.execute(sa.text("update api_keys set revoked_at = :now where id = :id"),
                  {"now": datetime.now(timezone.utc), "id": key_id})


def purge(session: Any, *patterns: str) -> None:
    """Delete the alerts whose fingerprint matches one of ``patterns`` with their events."""
    session.execute(sa.text("set local alertdesk.retention = 'on'"))
    session.execute(sa.text(CLEANUP), {"patterns": list(patterns)})


# what each intake makes of the bench's fingerprints (KINDS)
PATTERNS = (f"{PREFIX}-%", f"pd:{PREFIX}:{PREFIX}-%", f"grafana:1:{PREFIX}-%")


def run(engine: sa.Engine, requests: int = 4000, clients: int = 4) -> dict[str, Any]:
    """Create an API key, serve the API on the bench DB, load each intake of KINDS in turn
    (after a short warm-up), then tidy up. ``*_cpu_ms_per_alert``: the API processes' CPU
    per request, PostgreSQL's too when the bench runs its own embedded server."""
    with core_db.transaction(engine) as s:
        key, row = create_api_key(s, PREFIX, "operator", None)
    url = engine.url.render_as_string(hide_password=False)
    out: dict[str, Any] = {}
    try:
        with api_server(url) as base:
            for kind in KINDS:
                ingest_load(base, key, max(requests // 10, 50), clients, kind=kind)
                log(f"{kind}: {requests} posts from {clients} clients to {base}")
                tx0 = xact_id(engine)
                out.update(measured_load(base, key, requests, clients, kind))
                # below 1: requests that shared a transaction (api/coalesce.py)
                out[f"{kind}_transactions_per_request"] = round(
                    (xact_id(engine) - tx0 - 1) / requests, 3)
        return out
    finally:
        tidy(engine, row["id"], *PATTERNS)
