"""The retention figures on the 1M-alert history (bench database only; it stays intact).

- ``retention_dry_run_30d_s``: ``core.retention.cleanup.cleanup(..., dry_run=True)`` with
  ``older_than`` 30 days: the whole walk over ``alerts`` and ``alert_groups`` in 5,000-id
  batches, counting what a real run would delete (about two thirds of the 90-day history);
  ``retention_dry_run_alerts``: how many alerts it found.
- ``retention_delete_batch_ms``: one real 5,000-id batch (dependent rows, then alerts) in a
  transaction that is rolled back, median over ``runs`` ranges of old history;
  ``retention_delete_rows_per_s``: rows of all tables deleted per second in those batches,
  from which the time of a real run follows (rows / rate + the dry-run walk).
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
    return {"retention_dry_run_30d_s": round(dry_s, 1),
            "retention_dry_run_alerts": dry["deleted"]["alerts"],
            "retention_delete_batch_ms": round(statistics.median(ms), 1),
            "retention_delete_rows_per_s": round(rows / (sum(ms) / 1000)) if rows else 0}
