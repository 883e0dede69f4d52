"""CSV export of alerts matching a filter, streamed: a server-side cursor feeds rows in
batches, so memory stays flat whatever the size of the export."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import sqlalchemy as sa

from core import csvstream
from core.alerts.queue import AlertFilter, _where, sla_of
from core.tables import alerts

COLUMNS = ("id", "created_at", "severity", "state", "service", "device_id", "summary",
           "assignee", "source", "fingerprint", "duplicate_count", "reopen_count",
           "acknowledged_at", "resolved_at", "closed_at", "tta_s", "ttr_s",
           "tta_target_s", "ttr_target_s")
EXTRA = ("sla_status",)


def iter_csv(engine: sa.Engine, f: AlertFilter, now: datetime,
             on_rows: Callable[[int], None] | None = None) -> Iterator[str]:
    """Header, then one chunk of CSV text per batch of rows (``on_rows``: see csvstream)."""
    f = f.normalize()
    order = ([alerts.c.severity_rank, alerts.c.sla_due_at, alerts.c.id] if f.open_only
             else [alerts.c.created_at.desc(), alerts.c.id.desc()])
    stmt = sa.select(alerts).where(*_where(f)).order_by(*order)
    return csvstream.stream(engine, stmt, COLUMNS + EXTRA, lambda row: [
        csvstream.cell(getattr(row, c)) for c in COLUMNS] + [sla_of(row, now).label], on_rows)


def count_upto(engine: sa.Engine, f: AlertFilter, cap: int) -> int:
    """How many alerts match, counting no further than ``cap`` (a bounded, cheap count to
    choose between a one-click download and a prepared export with progress)."""
    inner = sa.select(sa.literal(1)).select_from(alerts).where(*_where(f.normalize())).limit(cap)
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(inner.subquery())) or 0)


def count(engine: sa.Engine, f: AlertFilter) -> int:
    """Exact number of alerts matching (the denominator of an export's progress bar)."""
    stmt = sa.select(sa.func.count()).select_from(alerts).where(*_where(f.normalize()))
    with engine.connect() as conn:
        return int(conn.scalar(stmt) or 0)
