"""The floor under single-alert intake: the same load as bench/ingest.py (4 clients,
keep-alive, one alert per request) against the real API with less and less of its write,
so a target for ``POST /api/v1/alerts`` can be set against what the stack itself costs.

- ``floor_http_*``: the real app (middleware, routing, the body's schema check, the
  caller's header) with the intake's write replaced by a small canned answer: no database,
  no coalescer, no parsing of the alert itself (that runs inside the write), not the
  alert's JSON.
- ``floor_transaction_*``: the write replaced by the smallest durable one this stack can do
  (FastAPI, the coalescer's thread hop, a SQLAlchemy session over psycopg2): the caller's
  key check and one row per request into a probe table, in one transaction (shared when
  the coalescer shares), committed.
- ``floor_intake_*``: the real intake, measured in the same rounds.

Rounds alternate the three servers (``ROUNDS`` of ``requests`` posts each); each figure is
the median of its rounds: rate, p95, and the API processes' and PostgreSQL's CPU per
request (PostgreSQL's only for the embedded bench server).
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.orm import Session

from bench import ingest
from bench.target import log
from core import db as core_db
from core.auth import create_api_key

ROUNDS = 3
PROBE = "bench_floor_probe"
CANNED = {"id": 0, "fingerprint": "floor", "state": "new", "deduplicated": False}
SERVERS = {"floor_http": "bench.floor:http_only()",
           "floor_transaction": "bench.floor:one_insert()",
           "floor_intake": "api.app:app"}


def http_only() -> FastAPI:
    """The API with the one-alert intake answering at once, writing nothing."""
    from api import routes_alerts
    from api.app import app

    async def submit(part: Any) -> tuple[bool, dict[str, Any]]:
        return True, dict(CANNED)

    routes_alerts.INTAKE.submit = submit  # type: ignore[method-assign]
    return app


def one_insert() -> FastAPI:
    """The API with the one-alert intake's write cut to the caller's check and one insert."""
    from api import routes_alerts
    from api.app import app
    from api.coalesce import alone_on_failure

    route = routes_alerts.INTAKE

    def run(parts: Sequence[Any]) -> list[Any]:
        def work(s: Session) -> list[Any]:
            route.actor(s, parts[0].caller)
            s.execute(sa.text(f"insert into {PROBE} (at) "  # a row per request, shared
                              "select :at from generate_series(1, :n)"),  # or not (coalesce)
                      {"at": datetime.now(timezone.utc), "n": len(parts)})
            return [(True, dict(CANNED)) for _ in parts]

        return core_db.run_transaction(work)

    route.write = alone_on_failure(run)
    return app


def run(engine: sa.Engine, requests: int = 4000, clients: int = 4) -> dict[str, Any]:
    """The three servers' figures, plus two checks that each did what it claims:
    ``floor_transaction_rows`` (probe rows: one per request) and ``floor_alerts_stored``
    against ``floor_intake_answered_created`` (only the real write stores alerts)."""
    with core_db.transaction(engine) as s:
        s.execute(sa.text(f"drop table if exists {PROBE}"))  # a crashed run's rows
        s.execute(sa.text(f"create table {PROBE} "
                          "(id bigserial primary key, at timestamptz not null)"))
        key, row = create_api_key(s, ingest.PREFIX, "operator", None)
    url = engine.url.render_as_string(hide_password=False)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in SERVERS}
    created = 0  # posts the real write answered 201
    try:
        with ingest.api_server(url, app=SERVERS["floor_http"]) as http, \
                ingest.api_server(url, app=SERVERS["floor_transaction"]) as txn, \
                ingest.api_server(url, app=SERVERS["floor_intake"]) as real:
            bases = {"floor_http": http, "floor_transaction": txn, "floor_intake": real}
            for base in bases.values():
                warm = ingest.ingest_load(base, key, max(requests // 10, 50), clients)
                created += warm["ingest_created"] if base == real else 0
            for r in range(ROUNDS):
                log(f"intake floor, round {r + 1}: no write, one insert, the real write")
                for name, base in bases.items():
                    rounds[name].append(_round(base, key, requests, clients))
        probes, alerts = _stored(engine)
    finally:
        try:
            ingest.tidy(engine, row["id"], *ingest.PATTERNS)
        finally:
            with core_db.transaction(engine) as s:
                s.execute(sa.text(f"drop table if exists {PROBE}"))
    out = {f"{name}_{figure}": _median(results, figure)
           for name, results in rounds.items() for figure in results[0]}
    out.update(floor_transaction_rows=probes, floor_alerts_stored=alerts,
               floor_intake_answered_created=created + out.pop("floor_intake_created"))
    for name in ("floor_http", "floor_transaction"):
        out.pop(f"{name}_created")  # their 201s are canned
    return out


def _stored(engine: sa.Engine) -> tuple[int, int]:
    """Probe rows, and alerts with the bench's fingerprints (before they are tidied)."""
    with engine.connect() as c:
        probes = c.scalar(sa.text(f"select count(*) from {PROBE}"))
        alerts = c.scalar(sa.text("select count(*) from alerts where fingerprint like "
                                  "any(cast(:p as text[]))"), {"p": list(ingest.PATTERNS)})
    return int(probes or 0), int(alerts or 0)


def _round(base: str, key: str, requests: int, clients: int) -> dict[str, Any]:
    out = ingest.measured_load(base, key, requests, clients)
    figures = {name: out[f"ingest_single_{name}"]  # pg_cpu_ms: on the embedded server only
               for name in ("per_s", "p95_ms", "errors", "api_cpu_ms", "pg_cpu_ms")
               if f"ingest_single_{name}" in out}
    figures["created"] = out["ingest_created"]
    return figures


def _median(results: list[dict[str, Any]], figure: str) -> Any:
    if figure in ("errors", "created"):
        return sum(r[figure] for r in results)
    return round(statistics.median(r[figure] for r in results), 2)
