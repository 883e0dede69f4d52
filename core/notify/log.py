"""CSV export of the delivery log, streamed: a server-side cursor feeds rows in batches."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.notify.outbox import LOG_COLUMNS, LogFilter, log_row, log_select

CSV_COLUMNS = LOG_COLUMNS + ("subject", "target")
BATCH = 2000


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def iter_log_csv(engine: sa.Engine, f: LogFilter) -> Iterator[str]:
    """Header, then one chunk of CSV text per batch (sealed target values masked)."""
    stmt = log_select(f)  # validates the filter before the response starts
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
        for rows in result.partitions():
            buf.seek(0)
            buf.truncate()
            for row in rows:
                entry = log_row(row)
                writer.writerow([_cell(entry[c]) for c in CSV_COLUMNS])
            yield buf.getvalue()
