"""Single-alert intake side by side with Alerta 9.1, the peer issue 18 measures against.

When a venv with ``alerta-server`` 9.1 and gunicorn is there (``make alerta-peer`` builds
``.alerta-venv``; ``ALERTDESK_BENCH_ALERTA`` names another gunicorn), Alerta runs on the
bench's PostgreSQL (a database of its own, ``alerta_bench``, made afresh each run) with its
default plugins and ``AUTH_REQUIRED=False`` under gunicorn with as many worker processes as
Alertdesk's API (``ALERTDESK_API_WORKERS``). The same loader (4 clients, keep-alive,
bench/ingest.py) posts the same alerts (one per request, every tenth a duplicate) to Alerta's
``POST /alert`` and to Alertdesk's ``POST /api/v1/alerts``, alternating, ``ROUNDS`` rounds
each; the figures are the medians and their ratio, given only when every request of every
round got a 2xx. Without the peer: ``alerta_peer`` "absent" and no ratio (the bench's own
single-intake figures stand alone).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import ingest
from bench.target import log
from core import config
from core import db as core_db
from core.auth import create_api_key

ROOT = Path(__file__).resolve().parents[1]
ENV = "ALERTDESK_BENCH_ALERTA"
ROUNDS = 3
PEER = "alerta_single"  # bench.ingest.PEERS: the same alerts in Alerta's shape


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
            ingest.ingest_load(peer, "", max(requests // 10, 50), clients, kind=PEER)
            ingest.ingest_load(desk, key, max(requests // 10, 50), clients)
            theirs, ours = [], []
            for r in range(ROUNDS):
                log(f"side by side, round {r + 1}: Alerta 9.1 then Alertdesk, {requests} posts")
                theirs.append(ingest.ingest_load(peer, "", requests, clients, kind=PEER))
                ours.append(ingest.ingest_load(desk, key, requests, clients))
    finally:
        ingest.tidy(engine, row["id"], *ingest.PATTERNS)
    errors = sum(t[f"{PEER}_errors"] for t in theirs) + sum(
        o["ingest_single_errors"] for o in ours)
    if errors:  # a ratio over failed requests would be a false figure
        return {"alerta_peer": f"failed: {errors} requests without a 2xx; no ratio"}
    alerta = statistics.median(t[f"{PEER}_per_s"] for t in theirs)
    desk_rate = statistics.median(o["ingest_single_per_s"] for o in ours)
    return {"alerta_peer": "alerta-server 9.1 under gunicorn",
            "alerta_single_per_s": alerta,
            "alerta_single_p95_ms": statistics.median(t[f"{PEER}_p95_ms"] for t in theirs),
            "side_by_side_ingest_single_per_s": desk_rate,
            "side_by_side_ingest_single_p95_ms": statistics.median(
                o["ingest_single_p95_ms"] for o in ours),
            "ingest_single_vs_alerta": round(desk_rate / alerta, 2)}


@contextmanager
def alerta_server(engine: sa.Engine, exe: Path) -> Iterator[str]:
    """Alerta under gunicorn on a fresh ``alerta_bench`` database; stopped by PID. Alerta
    creates its schema when a worker starts, and two workers doing that on an empty
    database race (one fails to boot and gunicorn shuts down): a one-worker start creates
    it first."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("drop database if exists alerta_bench with (force)"))
        c.execute(sa.text("create database alerta_bench"))
    u = engine.url
    sock = u.query.get("host")
    db = (f"postgres://{u.username}@/alerta_bench?host={sock}" if sock
          else f"postgres://{u.username}@{u.host}:{u.port}/alerta_bench")
    env = {**os.environ, "DATABASE_URL": db, "AUTH_REQUIRED": "False",
           "ALERTA_SVR_CONF_FILE": "/dev/null"}
    with _gunicorn(exe, env, 1):
        pass
    with _gunicorn(exe, env, config.api_workers()) as base:
        yield base


@contextmanager
def _gunicorn(exe: Path, env: dict[str, str], workers: int) -> Iterator[str]:
    port = ingest.free_port()
    proc = subprocess.Popen(
        [str(exe), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "alerta:create_app()"], env=env, stdout=sys.stderr, stderr=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        ingest.wait_healthy(base, proc, 60, "/management/healthcheck")
        yield base
    finally:
        ingest.stop(proc)
