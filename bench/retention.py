"""The retention figures on the 1M-alert history (bench database only; it stays intact).

- ``retention_dry_run_30d_s``: ``core.retention.cleanup.cleanup(..., dry_run=True)`` with
  ``older_than`` 30 days: the whole walk over ``alerts`` and ``alert_groups`` in 5,000-id
  batches, counting what a real run would delete (about two thirds of the 90-day history);
  ``retention_dry_run_alerts``: how many alerts it found.
- ``retention_delete_batch_ms``: one real 5,000-id batch (dependent rows, then alerts) in a
  transaction that is rolled back, median over ``runs`` ranges of old history;
  ``retention_delete_rows_per_s``: rows of all tables deleted per second in those batches,
  from which the time of a real run follows (rows / rate + the dry-run walk).
- ``retention_group_batch_ms``: one real batch of ``OLD_GROUPS`` old, empty, resolved groups
  deleted (``retention_groups_deleted``) beside ``NOTIFICATIONS`` sent notifications, a fifth
  of them incident pages of other groups, all made in one rolled-back transaction (the bench
  history has no old groups): each deleted group's foreign key is checked against the
  notifications (migration 0032's index; without it, a read of every notification per group).
"""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.retention.cleanup import BATCH_IDS, alert_batch, cleanup
from core.retention.sql import delete_groups

BENCH = Actor("bench", "admin", "system", is_human=False)


def _old_ranges(engine: sa.Engine, cutoff: datetime, runs: int) -> list[tuple[int, int]]:
    with engine.connect() as c:
        lo, hi = c.execute(sa.text("select min(id), max(id) from alerts "
                                   "where created_at < :c"), {"c": cutoff}).one()
    step = max((int(hi) - int(lo)) // (runs + 1), BATCH_IDS)
    return [(int(lo) + i * step, int(lo) + i * step + BATCH_IDS - 1) for i in range(runs)]


def _rolled_back_batch(engine: sa.Engine, lo: int, hi: int, cutoff: datetime) -> tuple[float, int]:
    with core_db.session_factory(engine)() as s:
        t0 = time.perf_counter()
        counts, _ = alert_batch(s, lo, hi, cutoff, dry_run=False)
        ms = (time.perf_counter() - t0) * 1000
        s.rollback()
    return ms, sum(counts.values())


NOTIFICATIONS, OLD_GROUPS = 300_000, 500
GROUPS = """
insert into alert_groups (group_key, group_by, status, first_seen_at, last_seen_at,
                          resolved_at, notify_at)
select 'bench-retention-' || :kind || i, '{}', :status, :at, :at,
       case when :status = 'resolved' then :at end, :at
from generate_series(1, :n) i returning id
"""
PAGES = """
insert into notifications (idempotency_key, group_id, channel, recipient, status,
                           next_attempt_at, created_at, sent_at)
select 'bench-retention-' || i,
       case when i % 5 = 0 then (cast(:live as bigint[]))[1 + i % cardinality(:live)] end,
       'email', 'ops@example.test', 'sent', :now, :now, :now
from generate_series(1, :n) i
"""


def rolled_back_groups(engine: sa.Engine, cutoff: datetime, now: datetime,
                       pages: int = NOTIFICATIONS, groups: int = OLD_GROUPS) -> tuple[float, int]:
    """(ms, groups deleted) of one group batch beside ``pages`` notifications; rolled back."""
    with core_db.session_factory(engine)() as s:
        old = s.execute(sa.text(GROUPS), {"n": groups, "kind": "old-", "status": "resolved",
                                          "at": cutoff - timedelta(days=30)}).scalars().all()
        live = s.execute(sa.text(GROUPS), {"n": 50, "kind": "live-", "status": "active",
                                           "at": now}).scalars().all()
        s.execute(sa.text(PAGES), {"n": pages, "now": now, "live": list(live)})
        s.execute(sa.text("analyze notifications"))
        t0 = time.perf_counter()
        deleted = delete_groups(s, min(old), max(old), cutoff)
        ms = (time.perf_counter() - t0) * 1000
        s.rollback()
    return ms, deleted


def run(engine: sa.Engine, runs: int = 3) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    dry = cleanup(engine, timedelta(days=30), now, BENCH, dry_run=True)
    dry_s = time.perf_counter() - t0
    cutoff = now - timedelta(days=30)
    batches = [_rolled_back_batch(engine, lo, hi, cutoff)
               for lo, hi in _old_ranges(engine, cutoff, runs)]
    ms = [b[0] for b in batches]
    rows = sum(b[1] for b in batches)
    group_ms, groups = rolled_back_groups(engine, cutoff, now)
    return {"retention_dry_run_30d_s": round(dry_s, 1),
            "retention_dry_run_alerts": dry["deleted"]["alerts"],
            "retention_delete_batch_ms": round(statistics.median(ms), 1),
            "retention_delete_rows_per_s": round(rows / (sum(ms) / 1000)) if rows else 0,
            "retention_group_batch_ms": round(group_ms, 1), "retention_groups_deleted": groups}
