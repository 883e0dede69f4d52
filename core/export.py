"""CSV export of alerts matching a filter, streamed: a server-side cursor feeds rows in
batches, so memory stays flat whatever the size of the export."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.queue import AlertFilter, _where, sla_of
from core.tables import alerts

COLUMNS = ("id", "created_at", "severity", "state", "service", "device_id", "summary",
           "assignee", "source", "fingerprint", "duplicate_count", "reopen_count",
           "acknowledged_at", "resolved_at", "closed_at", "tta_s", "ttr_s",
           "tta_target_s", "ttr_target_s")
EXTRA = ("sla_status",)
BATCH = 2000


def _fmt(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def iter_csv(engine: sa.Engine, f: AlertFilter, now: datetime) -> Iterator[str]:
    """Header, then one chunk of CSV text per batch of rows."""
    f = f.normalize()
    order = ([alerts.c.severity_rank, alerts.c.sla_due_at, alerts.c.id] if f.open_only
             else [alerts.c.created_at.desc(), alerts.c.id.desc()])
    stmt = sa.select(alerts).where(*_where(f)).order_by(*order)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS + EXTRA)
    yield buf.getvalue()
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
        for rows in result.partitions():
            buf.seek(0)
            buf.truncate()
            for row in rows:
                writer.writerow([_fmt(getattr(row, c)) for c in COLUMNS] + [sla_of(row, now).label])
            yield buf.getvalue()
