"""Single-alert intake side by side with Alerta 9.1, the peer issue 18 measures against.

When a venv with ``alerta-server`` 9.1 and gunicorn is there (``make alerta-peer`` builds
``.alerta-venv``; ``ALERTDESK_BENCH_ALERTA`` names another gunicorn), Alerta runs on the
bench's PostgreSQL (a database of its own, ``alerta_bench``, made afresh each run) with its
default plugins and ``AUTH_REQUIRED=False`` under gunicorn with as many worker processes as
Alertdesk's API (``ALERTDESK_API_WORKERS``). The same loader (4 clients, keep-alive,
bench/wire.py) posts the same alerts (one per request, every tenth a duplicate) to Alerta's
``POST /alert`` and to Alertdesk's ``POST /api/v1/alerts``, alternating, ``ROUNDS`` rounds
each; the figures are the medians and their ratio. Without the peer: ``alerta_peer``
"absent" and no ratio (the bench's own single-intake figures stand alone).
"""
from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench import ingest
from bench.measure import p95
from bench.target import log
from bench.wire import Wire
from core import config
from core import db as core_db
from core.auth import create_api_key

ROOT = Path(__file__).resolve().parents[1]
ENV = "ALERTDESK_BENCH_ALERTA"
ROUNDS = 3
SEVERITIES = ("critical", "major", "minor", "warning", "informational")


def gunicorn() -> Path | None:
    path = Path(os.environ.get(ENV) or ROOT / ".alerta-venv" / "bin" / "gunicorn")
    return path if path.exists() else None


def run(engine: sa.Engine, requests: int = 4000, clients: int = 4) -> dict[str, Any]:
    exe = gunicorn()
    if exe is None:
        return {"alerta_peer": "absent"}
    with core_db.transaction(engine) as s:
        key, row = create_api_key(s, ingest.PREFIX, "operator", None)
    try:
        with alerta_server(engine, exe) as peer, \
                ingest.api_server(engine.url.render_as_string(hide_password=False)) as desk:
            _alerta_load(peer, 200, clients)
            ingest.ingest_load(desk, key, max(requests // 10, 50), clients)
            theirs, ours = [], []
            for r in range(ROUNDS):
                log(f"side by side, round {r + 1}: Alerta 9.1 then Alertdesk, {requests} posts")
                theirs.append(_alerta_load(peer, requests, clients))
                ours.append(ingest.ingest_load(desk, key, requests, clients))
    finally:
        ingest.tidy(engine, row["id"], *ingest.PATTERNS)
    alerta = statistics.median(t["per_s"] for t in theirs)
    desk_rate = statistics.median(o["ingest_single_per_s"] for o in ours)
    return {"alerta_peer": "alerta-server 9.1 under gunicorn",
            "alerta_single_per_s": alerta,
            "alerta_single_p95_ms": statistics.median(t["p95_ms"] for t in theirs),
            "alerta_single_errors": sum(t["errors"] for t in theirs),
            "side_by_side_ingest_single_per_s": desk_rate,
            "side_by_side_ingest_single_p95_ms": statistics.median(
                o["ingest_single_p95_ms"] for o in ours),
            "ingest_single_vs_alerta": round(desk_rate / alerta, 2) if alerta else None}


@contextmanager
def alerta_server(engine: sa.Engine, exe: Path) -> Iterator[str]:
    """Alerta under gunicorn on a fresh ``alerta_bench`` database; stopped by PID."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("drop database if exists alerta_bench with (force)"))
        c.execute(sa.text("create database alerta_bench"))
    u = engine.url
    sock = u.query.get("host")
    db = (f"postgres://{u.username}@/alerta_bench?host={sock}" if sock
          else f"postgres://{u.username}@{u.host}:{u.port}/alerta_bench")
    port = ingest.free_port()
    env = {**os.environ, "DATABASE_URL": db, "AUTH_REQUIRED": "False",
           "ALERTA_SVR_CONF_FILE": "/dev/null"}
    proc = subprocess.Popen(
        [str(exe), "-w", str(config.api_workers()), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "alerta:create_app()"],
        env=env, stdout=sys.stderr, stderr=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/management/healthcheck").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("Alerta did not answer /management/healthcheck")


def _alerta_load(base: str, total: int, clients: int) -> dict[str, Any]:
    """``total`` posts of the bench's alerts in Alerta's shape from ``clients`` threads."""
    tag, counter, lock = uuid.uuid4().hex[:8], itertools.count(), threading.Lock()
    out: list[tuple[float, int]] = []

    def client() -> None:
        with Wire(base, {}) as wire:
            while True:
                with lock:
                    i = next(counter)
                if i >= total:
                    return
                n = i // 10 if i % 10 == 9 else i
                body = {"resource": f"bench-dev-{n % 400}", "event": f"Bench alert {tag} {n}",
                        "environment": "Production", "service": [f"bench-svc-{n % 40}"],
                        "severity": SEVERITIES[n % 5], "text": f"Bench alert {n}"}
                t0 = time.perf_counter()
                status, _ = wire.post("/alert", body)
                with lock:
                    out.append(((time.perf_counter() - t0) * 1000, status))

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [ms for ms, status in out if status in (200, 201, 202)]
    return {"per_s": round(len(ok) / (time.perf_counter() - started), 1),
            "p95_ms": round(p95(ok), 2) if len(ok) > 1 else None, "errors": len(out) - len(ok)}
