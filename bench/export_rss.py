"""The streamed CSV export over HTTP and the memory it costs the server.

``GET /api/v1/alerts/export.csv`` for the newest 100,000 alerts (a ``start_date`` filter
chosen so that exactly that many match) from a uvicorn subprocess on the bench database.
The client reads the body as a stream; the server's peak resident memory (``VmHWM`` from
``/proc``; the largest over its worker processes) is taken after the download and compared
with its resident memory before it (target: the process stays under 300 MB).
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.ingest import SERVER_PIDS, api_server, tidy, tree_pids
from bench.target import log
from core import db as core_db
from core.auth import create_api_key

ROWS = 100_000


def _mb(pid: int, field: str) -> float:
    """The largest ``field`` of the server process and its uvicorn workers (``--workers`` >
    1: the supervisor only forks them, and one of them serves the export)."""
    return max(_own_mb(p, field) for p in tree_pids(pid))


def _own_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _since(engine: sa.Engine, rows: int) -> datetime:
    with engine.connect() as conn:
        return conn.scalar(sa.text("select created_at from alerts order by created_at desc "
                                   "offset :n limit 1"), {"n": rows - 1})


def run(engine: sa.Engine, rows: int = ROWS) -> dict[str, Any]:
    with core_db.transaction(engine) as s:
        key, row = create_api_key(s, "bench-export", "viewer", None)
    try:
        with api_server(engine.url.render_as_string(hide_password=False)) as base:
            return _export(base, SERVER_PIDS[base], key, {
                "start_date": _since(engine, rows).isoformat()}, rows)
    finally:
        tidy(engine, row["id"])


def _export(base: str, pid: int, key: str, params: dict[str, str], rows: int
            ) -> dict[str, Any]:
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=300) as http:
        http.get("/api/v1/alerts", params={"limit": 10})  # warm: imports, pool
        before = _mb(pid, "VmRSS")
        log(f"csv export over HTTP: {rows:,} rows, server RSS before {before} MB")
        t0, lines, size = time.perf_counter(), 0, 0
        with http.stream("GET", "/api/v1/alerts/export.csv", params=params) as r:
            r.raise_for_status()
            for chunk in r.iter_bytes():
                lines += chunk.count(b"\n")
                size += len(chunk)
        seconds = time.perf_counter() - t0
    return {"csv_http_rows": lines - 1, "csv_http_mb": round(size / 2**20, 1),
            "csv_http_s": round(seconds, 2),
            "csv_http_rows_per_s": round((lines - 1) / seconds, 1),
            "csv_http_server_rss_before_mb": before,
            "csv_http_server_peak_rss_mb": _mb(pid, "VmHWM")}
