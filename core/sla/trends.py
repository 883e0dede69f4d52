"""SLA trends per local day and the list of breached alerts, aggregated in SQL.

Rules (the same as ``core.sla.compliance``, so the numbers agree):

- An alert belongs to the period when it was *created* in ``[start, end)``, and to the
  local calendar day of its ``created_at`` in the viewer's IANA zone ``tz``.
- Days are the local midnights from the day of ``start`` to the day of ``end``, made by
  ``generate_series`` over local dates and turned into instants with ``AT TIME ZONE``: a
  DST day lasts 23 or 25 hours, and a day without alerts is still listed, with zero counts
  and ``None`` for compliance and means.
- The TTA clock stops at the first human response, or at resolution when the source
  resolved the alert first; the TTR clock at resolution. An outcome is *decided* once the
  clock stopped or its deadline passed while still running (at ``now``); compliance % is
  met / decided (``None`` when nothing is decided, never a fake 100 %).
- A *breach* is an alert whose TTA or TTR clock ran (or runs, at ``now``) past its due time.
- MTTA/MTTR are means over the human responses / resolutions that happened.

Filtering by team is not offered: alerts have no team column (only a ``team`` label), and
grouping by a label would leave the covering index ``alerts_compliance``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import severity as sev
from core.clock import check_period, check_zone
from core.errors import FieldError
from core.sla.compliance import OUTCOMES

BREACHED_LIMIT = 500

# Only columns of the covering index alerts_compliance (severity_rank, service, created_at
# include ...), and its order: the planner then reads that index alone, no heap
# (bench, 30 days of 1M alerts: ~345 -> ~215 ms; the order costs nothing).
CLOCKS = """
    select created_at, severity, severity_rank, tta_s, ttr_s,
           coalesce(acknowledged_at, resolved_at) as tta_stop, resolved_at,
           tta_due_at, ttr_due_at,
           coalesce(acknowledged_at, resolved_at, :now) > tta_due_at as tta_breached,
           coalesce(resolved_at, :now) > ttr_due_at                 as ttr_breached
    from alerts
    where created_at >= :start and created_at < :end {where}
    order by severity_rank, service
"""

# Each alert finds its day by width_bucket over the array of local midnights (a binary
# search on instants): DST-correct, and ~3x cheaper than AT TIME ZONE on every row.
TREND_SQL = """
with days as (
    select row_number() over (order by d) as n, d::date as day,
           d at time zone :tz as day_start, (d + interval '1 day') at time zone :tz as day_end
    from generate_series(((cast(:start as timestamptz)) at time zone :tz)::date::timestamp,
                         ((cast(:end as timestamptz) - interval '1 microsecond')
                             at time zone :tz)::date::timestamp,
                         interval '1 day') d
), bounds as (
    select array_agg(day_start order by n) as starts from days
), per_day as (
    select width_bucket(a.created_at, bounds.starts) as n, {outcomes},
        count(*) filter (where tta_breached or ttr_breached)               as breaches,
        {by_severity}
    from ({clocks}) a, bounds
    group by 1
)
select days.day, days.day_start, days.day_end, p.*
from days left join per_day p on p.n = days.n
order by days.n
"""

BREACHED_SQL = """
select id, severity, service, summary, state, created_at, tta_target_s, ttr_target_s,
       tta_clock_s, ttr_clock_s, tta_breached, ttr_breached,
       greatest(case when tta_breached then tta_clock_s - tta_target_s end,
                case when ttr_breached then ttr_clock_s - ttr_target_s end) as overrun_s,
       count(*) over () as total
from (
    select id, severity, severity_rank, service, summary, state, created_at,
           tta_target_s, ttr_target_s,
           extract(epoch from coalesce(acknowledged_at, resolved_at, :now) - created_at)
               as tta_clock_s,
           extract(epoch from coalesce(resolved_at, :now) - created_at) as ttr_clock_s,
           coalesce(acknowledged_at, resolved_at, :now) > tta_due_at as tta_breached,
           coalesce(resolved_at, :now) > ttr_due_at                 as ttr_breached
    from alerts
    where created_at >= :start and created_at < :end {where}
) b
where tta_breached or ttr_breached
order by severity_rank, overrun_s desc, id
limit :limit
"""


def _filters(service: str | None, severity: str | None) -> tuple[str, dict[str, Any]]:
    where, params = "", {}
    if service:
        where += " and service = :service"
        params["service"] = service
    if severity:
        where += " and severity = :severity"
        params["severity"] = sev.normalize(severity)
    return where, params


def daily_trend(session: Session, start: datetime, end: datetime, tz: str,
                service: str | None = None, severity: str | None = None, *,
                now: datetime) -> list[dict[str, Any]]:
    """One row per local day of ``[start, end)`` in ``tz`` (see the module rules):
    alerts, met/decided counts, TTA/TTR compliance %, MTTA/MTTR seconds, breaches and
    ``breaches_by_severity`` (every severity, zeros included, for a stacked bar)."""
    check_period(start, end)
    where, params = _filters(service, severity)
    by_severity = ",\n        ".join(
        f"count(*) filter (where (tta_breached or ttr_breached) and severity = :sev{i})"
        f" as b_{i}" for i in range(len(sev.SEVERITIES)))
    sql = TREND_SQL.format(by_severity=by_severity, clocks=CLOCKS.format(where=where),
                           outcomes=OUTCOMES)
    params.update({"start": start, "end": end, "now": now, "tz": check_zone(tz)})
    params.update({f"sev{i}": name for i, name in enumerate(sev.SEVERITIES)})
    rows = session.execute(sa.text(sql), params).mappings().all()
    return [_day(dict(r)) for r in rows]


def _day(r: dict[str, Any]) -> dict[str, Any]:
    counts = {k: int(r[k] or 0) for k in ("alerts", "tta_met", "tta_decided", "ttr_met",
                                          "ttr_decided", "breaches")}
    return {
        "day": r["day"], "day_start": r["day_start"], "day_end": r["day_end"],
        "hours": (r["day_end"] - r["day_start"]).total_seconds() / 3600,
        **counts,
        "tta_compliance_pct": _pct(counts["tta_met"], counts["tta_decided"]),
        "ttr_compliance_pct": _pct(counts["ttr_met"], counts["ttr_decided"]),
        "mtta_s": _secs(r["mtta_s"]), "mttr_s": _secs(r["mttr_s"]),
        "breaches_by_severity": {name: int(r[f"b_{i}"] or 0)
                                 for i, name in enumerate(sev.SEVERITIES)},
    }


def breached_alerts(session: Session, start: datetime, end: datetime,
                    service: str | None = None, severity: str | None = None,
                    limit: int = BREACHED_LIMIT, *, now: datetime) -> list[dict[str, Any]]:
    """Alerts created in ``[start, end)`` whose TTA or TTR clock ran past its due time,
    worst first: most severe first, then the longest overrun (seconds past the target of
    the clock that overran most), then id. ``tta_s``/``ttr_s`` are the clocks' times, to
    where they stopped or to ``now`` while running; ``breached`` is TTA, TTR or TTA+TTR;
    ``total`` is how many breached alerts there are without the limit."""
    check_period(start, end)
    if not 0 < limit <= 5000:
        raise FieldError("limit", "must be between 1 and 5000")
    where, params = _filters(service, severity)
    params.update({"start": start, "end": end, "now": now, "limit": limit})
    rows = session.execute(sa.text(BREACHED_SQL.format(where=where)), params).mappings().all()
    return [_breach(dict(r)) for r in rows]


def _breach(r: dict[str, Any]) -> dict[str, Any]:
    clocks = [name for name, hit in (("TTA", r["tta_breached"]), ("TTR", r["ttr_breached"]))
              if hit]
    return {"id": int(r["id"]), "severity": r["severity"], "service": r["service"],
            "summary": r["summary"], "state": r["state"], "created_at": r["created_at"],
            "tta_s": _secs(r["tta_clock_s"]), "ttr_s": _secs(r["ttr_clock_s"]),
            "tta_target_s": int(r["tta_target_s"]), "ttr_target_s": int(r["ttr_target_s"]),
            "breached": "+".join(clocks), "overrun_s": _secs(r["overrun_s"]),
            "total": int(r["total"])}


def _pct(met: int, decided: int) -> float | None:
    return None if not decided else round(100.0 * met / decided, 2)


def _secs(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
