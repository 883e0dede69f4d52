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
from collections.abc import Iterator
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
def api_server(db_url: str, timeout: float = 60) -> Iterator[str]:
    """A uvicorn subprocess serving ``api.app:app`` on the bench database; stopped by PID
    (SIGTERM, then SIGKILL after 10 s) however the block ends."""
    port = free_port()
    env = {**os.environ, "ALERTDESK_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:app", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--workers", str(config.api_workers())],
                            cwd=ROOT, env=env, stdout=sys.stderr, stderr=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    SERVER_PIDS[base] = proc.pid
    try:
        _wait_healthy(base, proc, timeout)
        yield base
    finally:
        _stop(proc)
        SERVER_PIDS.pop(base, None)


def cpu_seconds(base: str) -> float:
    """User + system CPU the API server started by ``api_server`` at ``base`` has used."""
    fields = Path(f"/proc/{SERVER_PIDS[base]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def _proc_cpu(pid: int, reaped: bool) -> int:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0  # a backend that just exited: the postmaster's reaped count has it
    return int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if reaped else 0)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API server did not become healthy within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
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


def _client(base: str, key: str, tag: str, counter: Iterator[int], total: int,
            deadline: float, out: list[tuple[float, int]], lock: threading.Lock,
            path: str = "/api/v1/alerts") -> None:
    """Post alerts until the shared counter reaches ``total`` or time runs out (a lean
    keep-alive client, bench/wire.py, so the generator leaves the cores to the server)."""
    with Wire(base, {"X-API-Key": key}) as client:
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter)
            if i >= total:
                return
            t0 = time.perf_counter()
            try:
                status, _ = client.post(path, _payload(tag, i))
            except OSError:
                status = 0
            with lock:
                out.append(((time.perf_counter() - t0) * 1000, status))


def ingest_load(base: str, key: str, total: int = 2000, clients: int = 8,
                time_limit_s: float = 120) -> dict[str, Any]:
    """``total`` posts from ``clients`` threads; throughput is successful posts per second
    of wall time, latency is per request (client side: HTTP + auth + upsert + event)."""
    tag, counter, lock = uuid.uuid4().hex[:8], itertools.count(), threading.Lock()
    results: list[tuple[float, int]] = []
    started = time.perf_counter()
    threads = [threading.Thread(target=_client, args=(base, key, tag, counter, total,
                                                      started + time_limit_s, results, lock))
               for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ok = [ms for ms, status in results if status in (200, 201)]
    return {"ingest_single_per_s": round(len(ok) / wall, 1),
            "ingest_single_p50_ms": round(statistics.median(ok), 2) if ok else None,
            "ingest_single_p95_ms": round(p95(ok), 2) if len(ok) > 1 else None,
            "ingest_requests": len(results), "ingest_errors": len(results) - len(ok),
            "ingest_created": sum(1 for _, s in results if s == 201),
            "ingest_deduplicated": sum(1 for _, s in results if s == 200),
            "ingest_clients": clients, "ingest_wall_s": round(wall, 2)}


# The run's alerts are deleted afterwards (the retention job's sanctioned path, migration
# 0013), so repeated runs leave the 1M history and its time windows as generated: closing
# them instead piled ~12k fresh alerts per run into "the last 7/30 days".
CLEANUP = """
with gone as (
    select id from alerts where fingerprint like :pattern
), ev as (
    delete from alert_events where alert_id in (select id from gone)
)
delete from alerts where id in (select id from gone)
"""


def tidy(engine: sa.Engine, key_id: int, pattern: str | None = None) -> None:
    """After a run: revoke its API key and (``pattern``) delete the alerts it created."""
    with core_db.transaction(engine) as s:
        if pattern is not None:
            purge(s, pattern)
        s.execute(sa.text("update api_keys set revoked_at = :now where id = :id"),
                  {"now": datetime.now(timezone.utc), "id": key_id})


def purge(session: Any, pattern: str) -> None:
    """Delete the alerts whose fingerprint matches ``pattern`` with their events."""
    session.execute(sa.text("set local alertdesk.retention = 'on'"))
    session.execute(sa.text(CLEANUP), {"pattern": pattern})


def run(engine: sa.Engine, requests: int = 2000, clients: int = 8) -> dict[str, Any]:
    """Create an API key, serve the API on the bench DB, load it, then tidy up."""
    with core_db.transaction(engine) as s:
        key, row = create_api_key(s, "bench-ingest", "operator", None)
    url = engine.url.render_as_string(hide_password=False)
    try:
        with api_server(url) as base:
            log(f"ingest: {requests} posts from {clients} clients to {base}")
            return ingest_load(base, key, requests, clients)
    finally:
        tidy(engine, row["id"], f"{PREFIX}-%")
