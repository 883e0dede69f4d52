"""The paging-per-incident bench on a small scale: one tier-1 page per incident, and it
leaves nothing behind."""
from __future__ import annotations

import sqlalchemy as sa

from bench import incidents


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text(f"select count(*) from {table}")) or 0)


def test_incident_bench_small(engine: sa.Engine) -> None:
    before = {t: count(engine, t) for t in ("alerts", "alert_groups", "alert_escalations",
                                             "notifications", "escalation_policies")}
    out = incidents.run(engine, steady_ticks=2, previews=3, incidents=20, per=3)
    assert out["incident_pages_per_incident"] == 1.0   # one console page per incident
    assert out["incident_start_ticks"] == 1 and out["routing_preview_ms"] > 0
    assert {t: count(engine, t) for t in before} == before
