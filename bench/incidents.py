"""Paging per incident: the escalation tick over 10,000 open alerts in 2,000 incidents, and
the routing preview.

Set-up (bench database): a policy for the service ``bench-incidents`` (console targets only,
so delivery stays local; tiers at 0/5/15 min, repeat every 15 min), then 2,000 incidents of
5 alerts each (critical and high, distinct alertnames) ingested through the batch path two
minutes before ``now``, so every group's wait is over. The bench's other open alerts keep
whatever escalation rows the escalation figure gave them.

Figures (each a median):
- ``incident_start_tick_ms``: a worker tick (every job, delivery included) that starts up
  to 500 incidents (the per-tick batch) and fires their tier 1; ``incident_start_ticks``:
  ticks until all 2,000 run;
- ``incident_tick_ms``: the steady tick afterwards (15 s of injected time apart, whatever
  the start ticks left in the outbox delivered first), 2,000 incidents running and no step
  due, with ``incident_pages_per_tick`` notifications queued per tick;
- ``incident_burst_tick_ms``: the tick when tier 2 of 500 incidents falls due at once;
- ``routing_preview_ms``: one ``POST /escalation-policies/preview`` worth of work
  (``core.escalation.preview``), for an alert body of the bench service;
- ``incident_pages_per_incident``: tier-1 pages queued per incident (1 target: 1.0).

Afterwards everything it made is deleted through the retention job's statements.
"""
from __future__ import annotations

import logging
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from core import db as core_db
from core import worker
from core.actor import SYSTEM, Actor
from core.alerts.model import AlertIn
from core.escalation.preview import preview
from core.escalation.store import create_policy
from core.ingest.batch import ingest_batch
from core.ingest.signal import Signal
from core.notify.deliver import deliver_due
from core.retention.sql import DELETES

SERVICE = "bench-incidents"
INCIDENTS, PER_INCIDENT = 2_000, 5
SOURCE = Actor("key:bench-incidents", "operator", "api", is_human=False)
CONSOLE = [{"type": "console"}]
POLICY = {"name": "bench incidents", "priority": 1, "match": {"service": SERVICE},
          "tiers": [{"delay_s": 0, "targets": CONSOLE}, {"delay_s": 300, "targets": CONSOLE},
                    {"delay_s": 900, "targets": CONSOLE}],
          "repeat": {"every_s": 900, "times": 3}}


def load(engine: sa.Engine, at: datetime, incidents: int, per: int) -> None:
    """``incidents`` x ``per`` alerts, in batches of 500 alerts."""
    signals = [Signal(AlertIn(
        summary=f"incident {i} on node {j}", severity="critical" if i % 2 else "high",
        service=SERVICE, device_id=f"node-{j}", fingerprint=f"bench-inc-{i}-{j}",
        labels={"alertname": f"BenchIncident{i}"}))
        for i in range(incidents) for j in range(per)]
    for k in range(0, len(signals), 500):
        with core_db.transaction(engine) as s:
            ingest_batch(s, signals[k:k + 500], SOURCE, at)


def tidy(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        ids = list(s.scalars(sa.text("select id from alerts where service = :s"), {"s": SERVICE}))
        groups = list(s.scalars(sa.text(
            "select distinct group_id from alerts where service = :s and group_id is not null"),
            {"s": SERVICE}))
        s.execute(sa.text("set local alertdesk.retention = 'on'"))
        for _, sql in DELETES:
            s.execute(sa.text(sql), {"ids": ids})
        s.execute(sa.text("delete from notifications where group_id = any(:g)"), {"g": groups})
        s.execute(sa.text("delete from alert_groups where id = any(:g)"), {"g": groups})
        s.execute(sa.text("delete from escalation_policies where name = :n"),
                  {"n": POLICY["name"]})


def _tick(engine: sa.Engine, at: datetime) -> tuple[float, dict[str, int]]:
    t0 = time.perf_counter()
    done = worker.tick(engine, at)
    return (time.perf_counter() - t0) * 1000, done


def _drain(engine: sa.Engine, at: datetime) -> float:
    """Deliver what the start ticks left in the outbox; returns pages per second."""
    t0, sent = time.perf_counter(), 0
    for _ in range(200):
        done = deliver_due(engine, at)
        sent += done.get("sent", 0)
        if not sum(done.values()):
            break
    return round(sent / max(time.perf_counter() - t0, 1e-6), 1)


def _pages(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text(
            "select count(*) from notifications n join alerts a on a.id = n.alert_id "
            "where a.service = :s"), {"s": SERVICE}) or 0)


def run(engine: sa.Engine, steady_ticks: int = 7, previews: int = 50,
        incidents: int = INCIDENTS, per: int = PER_INCIDENT) -> dict[str, Any]:
    logging.getLogger("alertdesk.notify").setLevel(logging.ERROR)
    now = datetime.now(timezone.utc)
    tidy(engine)
    with core_db.transaction(engine) as s:
        create_policy(s, POLICY, SYSTEM, now)
    try:
        load(engine, now - timedelta(minutes=2), incidents, per)
        with engine.begin() as c:
            c.execute(sa.text("analyze alerts; analyze alert_groups"))
        start_ms: list[float] = []
        at = now
        while True:
            ms, _ = _tick(engine, at)
            start_ms.append(ms)
            with engine.connect() as c:
                started = int(c.scalar(sa.text(
                    "select count(*) from alert_escalations where group_id is not null "
                    "and alert_id in (select id from alerts where service = :s)"),
                    {"s": SERVICE}) or 0)
            if started >= incidents or len(start_ms) > 10:
                break
            at += timedelta(seconds=5)
        first_pages = _pages(engine)
        _drain(engine, at)
        steady: list[float] = []   # 2,000 incidents running, no step due: watching them
        for i in range(1, steady_ticks + 1):
            ms, _ = _tick(engine, at + timedelta(seconds=15 * i))
            steady.append(ms)
        pages_after = _pages(engine)
        burst_ms, _ = _tick(engine, now + timedelta(seconds=316))   # tier 2 of 500 incidents
        body = {"severity": "critical", "service": SERVICE, "labels": {"alertname": "X"}}
        times = []
        for _ in range(previews):
            t0 = time.perf_counter()
            with core_db.transaction(engine) as s:
                preview(s, body, now)
            times.append((time.perf_counter() - t0) * 1000)
        return {"incident_start_tick_ms": round(statistics.median(start_ms), 1),
                "incident_start_ticks": len(start_ms),
                "incident_tick_ms": round(statistics.median(steady), 1),
                "incident_tick_max_ms": round(max(steady), 1),
                "incident_burst_tick_ms": round(burst_ms, 1),
                "incident_pages_per_incident": round(first_pages / incidents, 2),
                "incident_pages_per_tick": round((pages_after - first_pages) / steady_ticks, 1),
                "routing_preview_ms": round(statistics.median(times), 1)}
    finally:
        tidy(engine)


if __name__ == "__main__":
    import json

    from bench import escalation, generate

    bench_engine, _ = generate.ensure(False)
    # The state bench.run measures in: the escalation figure's 10,000 rows freshly attached
    # (rows left by an earlier run fall due as the hour passes and crowd the claim batch).
    escalation.attach(bench_engine, datetime.now(timezone.utc))
    print(json.dumps(run(bench_engine), indent=2))
