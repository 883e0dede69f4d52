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


def test_repeats_bench_rewrites_identities_and_links_them(engine: sa.Engine) -> None:
    """bench/repeats.py: settled alerts get one of 25 identities per device, each pointing at
    the previous alert of its identity (the open ones keep theirs)."""
    from datetime import datetime, timedelta, timezone

    from bench import repeats
    from tests.factories import act, make_alert, make_users

    make_users(engine)
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    for i in range(60):
        at = t0 + timedelta(minutes=10 * i)
        a = make_alert(engine, at, device_id=f"db-{i % 2}", fingerprint=f"unique-{i}")
        act(engine, a, "resolve", at + timedelta(minutes=1))
    left_open = make_alert(engine, t0 + timedelta(days=1), fingerprint="still-open")
    assert repeats.rewrite(engine) == 60
    with engine.connect() as c:
        assert c.scalar(sa.text("select fingerprint from alerts where id = :i"),
                        {"i": left_open}) == "still-open"
        assert c.scalar(sa.text("select count(distinct fingerprint) from alerts "
                                "where fingerprint like 'rep:%'")) == 2 * repeats.PER_DEVICE
        assert c.scalar(sa.text("""select count(*) from alerts a where prev_at is distinct from (
            select max(p.created_at) from alerts p where p.fingerprint = a.fingerprint
              and (p.created_at, p.id) < (a.created_at, a.id))""")) == 0
        assert c.scalar(sa.text("select count(prev_at) from alerts")) == 60 - 2 * 25
