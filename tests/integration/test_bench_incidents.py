"""The paging benches (and the retention bench's group batch) on a small scale: one tier-1
page per incident, deliveries counted, old groups deleted, and they leave nothing behind."""
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


def test_delivery_bench_small(engine: sa.Engine) -> None:
    from bench import delivery

    out = delivery.run(engine, n=20, backlog=30)
    assert out["delivery_sent"] == 20 and out["critical_due_to_sent_s"] is not None
    assert count(engine, "notifications") == 0 and count(engine, "notification_attempts") == 0


def test_retention_group_bench_small(engine: sa.Engine) -> None:
    """The group batch of bench/retention.py deletes its old groups and leaves nothing."""
    from datetime import datetime, timedelta, timezone

    from bench import retention

    now = datetime.now(timezone.utc)
    ms, deleted = retention.rolled_back_groups(engine, now - timedelta(days=30), now,
                                               pages=500, groups=20)
    assert deleted == 20 and ms > 0
    assert count(engine, "alert_groups") == 0 and count(engine, "notifications") == 0
