"""Streamed CSV from one statement: a server-side cursor feeds rows in batches, so memory
stays flat whatever the size of the export. Used by every CSV endpoint."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

BATCH = 2000


FORMULA = ("=", "+", "-", "@", "\t", "\r")   # what spreadsheets execute (OWASP CSV injection)


def safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading ' (shown, not run)."""
    if isinstance(value, str) and value.startswith(FORMULA):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """ISO-8601 times, JSON objects as sorted JSON text, text neutralised (``safe``),
    everything else as it is."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return safe(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return safe(value)


def stream(engine: sa.Engine, stmt: sa.Executable, header: Sequence[str],
           row: Callable[[Any], Sequence[Any]],
           on_rows: Callable[[int], None] | None = None) -> Iterator[str]:
    """The header, then one chunk of CSV text per batch of rows (``row`` maps a result
    row to its cells). ``on_rows(n)`` is told each batch's row count (progress bars).

    The statement runs before the header is yielded, so a caller that takes the first
    chunk before it answers (the API does) reports a failing query as an error response
    instead of a 200 cut off after its header."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
        yield buf.getvalue()
        for rows in result.partitions():
            buf.seek(0)
            buf.truncate()
            writer.writerows(row(r) for r in rows)
            if on_rows is not None:
                on_rows(len(rows))
            yield buf.getvalue()
