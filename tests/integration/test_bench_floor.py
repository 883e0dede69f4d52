"""The single intake's floor bench (bench/floor.py) on a small scale: its three servers
answer every post with a 2xx, the smallest write stores one probe row per request, only the
real write stores alerts (so the no-write server really wrote nothing), and the run leaves
nothing behind (no alerts, no probe table, its API key revoked)."""
from __future__ import annotations

import sqlalchemy as sa

from bench import floor


def scalar(engine: sa.Engine, sql: str) -> object:
    with engine.connect() as c:
        return c.scalar(sa.text(sql))


def test_floor_bench_small(engine: sa.Engine) -> None:
    alerts = scalar(engine, "select count(*) from alerts")
    live_keys = "select count(*) from api_keys where name = 'bench-ingest' and revoked_at is null"
    keys = scalar(engine, live_keys)
    out = floor.run(engine, requests=40, clients=2)
    for name in floor.SERVERS:
        assert out[f"{name}_errors"] == 0, out
        assert out[f"{name}_per_s"] > 0 and out[f"{name}_api_cpu_ms"] > 0
    warmup = 50  # bench/floor.py warms each server up with max(requests // 10, 50) posts
    assert out["floor_transaction_rows"] == warmup + floor.ROUNDS * 40
    assert out["floor_alerts_stored"] == out["floor_intake_answered_created"] > 0
    assert scalar(engine, "select count(*) from alerts") == alerts
    assert scalar(engine, f"select to_regclass('{floor.PROBE}')") is None
    assert scalar(engine, live_keys) == keys
