"""CSV export of alerts matching a filter, streamed: a server-side cursor feeds rows in
batches, so memory stays flat whatever the size of the export."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa

from core import csvstream
from core.queue import AlertFilter, _where, sla_of
from core.tables import alerts

COLUMNS = ("id", "created_at", "severity", "state", "service", "device_id", "summary",
           "assignee", "source", "fingerprint", "duplicate_count", "reopen_count",
           "acknowledged_at", "resolved_at", "closed_at", "tta_s", "ttr_s",
           "tta_target_s", "ttr_target_s")
EXTRA = ("sla_status",)


def iter_csv(engine: sa.Engine, f: AlertFilter, now: datetime) -> Iterator[str]:
    """Header, then one chunk of CSV text per batch of rows."""
    f = f.normalize()
    order = ([alerts.c.severity_rank, alerts.c.sla_due_at, alerts.c.id] if f.open_only
             else [alerts.c.created_at.desc(), alerts.c.id.desc()])
    stmt = sa.select(alerts).where(*_where(f)).order_by(*order)
    return csvstream.stream(engine, stmt, COLUMNS + EXTRA, lambda row: [
        csvstream.cell(getattr(row, c)) for c in COLUMNS] + [sla_of(row, now).label])
