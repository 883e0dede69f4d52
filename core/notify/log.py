"""CSV export of the delivery log, streamed: a server-side cursor feeds rows in batches."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from core import csvstream
from core.notify.outbox import LOG_COLUMNS, LogFilter, log_row, log_select

CSV_COLUMNS = LOG_COLUMNS + ("subject", "target")


def iter_log_csv(engine: sa.Engine, f: LogFilter) -> Iterator[str]:
    """Header, then one chunk of CSV text per batch (sealed target values masked)."""
    stmt = log_select(f)  # validates the filter before the response starts
    return csvstream.stream(engine, stmt, CSV_COLUMNS, _cells)


def _cells(row: sa.Row[Any]) -> list[Any]:
    entry = log_row(row)
    return [csvstream.cell(entry[c]) for c in CSV_COLUMNS]
