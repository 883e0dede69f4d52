"""Exact percentiles of ``tta_s`` / ``ttr_s`` over a report's scope, read from the bucket
indexes of migration 0034 instead of sorting every value of the period.

- Each value sits under its bucket, ``bucket_sql``: ~6 % wide on a log scale, with every
  negative value (clock skew) in bucket 0 and an infinite one in the last; buckets never go
  down as values go up, so the values sorted bucket by bucket are the values sorted.
- One statement (one snapshot): count each bucket's values in the scope (one index range per
  bucket, buckets 0 up to the highest one in the index), then sort the values of only the
  buckets that hold a rank a percentile needs (bench, 30 days: ~3.5k values, not ~230k).
- The figure is PostgreSQL's ``percentile_cont``: for ``n`` sorted values, position
  ``x = p * (n - 1)``; the values at ``floor(x)`` and ``ceil(x)`` interpolated as
  ``lo + (x - floor(x)) * (hi - lo)`` (its float8 lerp), in the same IEEE doubles.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

COLUMNS = ("tta_s", "ttr_s")
PER_LOG_UNIT = 16  # buckets per factor e of value: each ~6 % wide


def bucket_sql(col: str) -> str:
    """The bucket of ``col``, exactly as the index of migration 0034 spells it."""
    return f"(floor(ln(least(greatest({col}, 0), float8 '1e308') + 1) * {PER_LOG_UNIT})::int)"


PERCENTILES_SQL = """
with h as (
    select g.b, c.n from generate_series(0, (
            select {bucket} from alerts where {col} is not null order by 1 desc limit 1)) g(b),
        lateral (select count(*) as n from alerts
                 where {col} is not null and {bucket} = g.b and {where}) c
    where c.n > 0
), c as (
    select b, n, (sum(n) over (order by b))::bigint - n as before, (sum(n) over ())::bigint as total
    from h
)
select before, total, (select array_agg({col} order by {col}) from alerts
                       where {col} is not null and {bucket} = c.b and {where}) as vals
from c
where exists (select 1 from unnest(cast(:ps as float8[])) p(p)
              where c.before <= ceil(p * (c.total - 1)) and floor(p * (c.total - 1)) < c.before + c.n)
order by c.b
"""


def percentiles(session: Session, col: str, where: str, params: dict[str, Any],
                ps: Sequence[float]) -> list[float] | None:
    """``percentile_cont(ps) within group (order by col)`` over the alerts ``where`` selects
    (a ``Scope.where()`` without ``service``: the index holds ``created_at`` and
    ``severity_rank``); None when no alert in scope has a value."""
    if col not in COLUMNS:
        raise ValueError(f"no bucket index for {col}")
    if not ps or not all(0 <= p <= 1 for p in ps):
        raise ValueError(f"percentiles must be between 0 and 1: {list(ps)}")
    sql = PERCENTILES_SQL.format(col=col, bucket=bucket_sql(col), where=where)
    rows = session.execute(sa.text(sql), {**params, "ps": list(ps)}).all()
    if not rows:
        return None
    total = int(rows[0].total)
    parts = [(int(r.before), list(r.vals)) for r in rows]

    def value(rank: int) -> float:
        for before, vals in parts:
            if before <= rank < before + len(vals):
                return float(vals[rank - before])
        raise LookupError(f"rank {rank} of {total} not fetched")  # a bug, never the data

    out = []
    for p in ps:
        x = p * (total - 1)
        lo, hi = math.floor(x), math.ceil(x)
        out.append(value(lo) if lo == hi else value(lo) + (x - lo) * (value(hi) - value(lo)))
    return out
