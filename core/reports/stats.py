"""Analytics over the alert history, aggregated in SQL: statistics, trends, a day's summary.

Rules shared by every report (and by ``core.reports.top`` / ``core.reports.related``):

- An alert belongs to a period when it was *created* in ``[start, end)`` (as in
  ``core.sla.compliance``); the period defaults to the 7 days up to ``now``, must end after it
  starts and may span at most ``MAX_DAYS`` (hourly trends: ``MAX_HOURLY_DAYS``).
- ``service`` filters on the exact service name, ``severity`` on one severity (aliases
  such as ``warning`` are accepted, as at intake).
- MTTA is the mean of the human responses (``acknowledged_at - created_at``), MTTR of the
  resolutions (``resolved_at - created_at``); percentiles by ``percentile_cont``. Alerts
  without a response / resolution do not count in them (``None`` when there is none).
- Trend buckets: ``day`` buckets are the local days of ``tz`` (``generate_series`` over
  local dates, so a DST day lasts 23 or 25 hours); ``hour`` buckets are the absolute hours
  that start on a local hour of ``tz`` at the start of the period (a fall-back day has 25
  of them, two labelled 01:00 with different offsets). Every bucket is listed, with zeros
  when no alert fell in it. The first and last buckets may be partial: only alerts inside
  ``[start, end)`` are counted. Each alert finds its bucket by ``width_bucket`` over the
  array of bucket starts (a binary search on instants; no per-row time-zone arithmetic).
- Trends read only columns of the covering index ``alerts_compliance``, in its order, so
  the planner reads that index alone (see ``core.sla.trends``). Statistics and top alerts
  read the covering index ``alerts_reports`` alone (``read_index``), the open alerts'
  ``duplicate_count`` (which ingest bumps, so no index holds it) from the table, and the
  settled alerts' from ``final_duplicate_count`` (migration 0031): exact figures, not
  estimates.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import lifecycle
from core import severity as sev
from core.clock import check_period, check_zone
from core.errors import FieldError
from core.lifecycle import OPEN_SQL
from core.reports.percentiles import percentiles
from core.sla.compliance import ComplianceQuery, compliance

MAX_DAYS = 366
MAX_HOURLY_DAYS = 31
DEFAULT_DAYS = 7
BUCKETS = ("hour", "day")
TOP_SERVICES = 10
INDEX_PAGE_COST = 1.1
WORK_MEM = "64MB"
PCTS = (0.5, 0.9)


@dataclass(frozen=True)
class Scope:
    """Which alerts a report covers: created in ``[start, end)``, optionally one service
    and/or one severity. Build it with ``scope()``, which checks it."""

    start: datetime
    end: datetime
    service: str | None = None
    severity: str | None = None

    def where(self, alias: str = "") -> tuple[str, dict[str, Any]]:
        """The SQL condition (columns qualified by ``alias`` when given) and its parameters."""
        a = f"{alias}." if alias else ""
        sql = f"{a}created_at >= :start and {a}created_at < :end"
        params: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.service:
            sql += f" and {a}service = :service"
            params["service"] = self.service
        if self.severity:  # the rank follows from the name and leads alerts_compliance
            sql += f" and {a}severity_rank = :severity_rank"
            params["severity_rank"] = sev.RANK[self.severity]
        return sql, params


def scope(start: datetime | None, end: datetime | None, now: datetime,
          service: str | None = None, severity: str | None = None,
          max_days: int = MAX_DAYS) -> Scope:
    """The checked scope: ``end`` defaults to ``now``, ``start`` to 7 days before ``end``;
    FieldError naming ``start``, ``end`` or ``severity`` otherwise."""
    end_at = end or now
    start_at = start or end_at - timedelta(days=DEFAULT_DAYS)
    check_period(start_at, end_at, max_days)
    return Scope(start_at.astimezone(timezone.utc), end_at.astimezone(timezone.utc),
                 service or None, sev.normalize(severity) if severity else None)


SEV_COUNTS = ", ".join(f"count(*) filter (where severity_rank = {i + 1}) as sev_{i}"
                       for i in range(len(sev.SEVERITIES)))

# The open alerts as their own partial indexes list them (a few thousand; ``offset 0`` keeps
# the period's condition off the big created_at index), with the counts they still bump.
OPEN_ROWS = f"""(select created_at, service, severity_rank, fingerprint, duplicate_count
    from alerts where state in {OPEN_SQL} offset 0) o"""
# Statistics take three statements (bench, 1M alerts, 30 days: 260 -> ~210 ms). The counts
# are one row per (service, severity, state), folded in Python: an aggregate PostgreSQL
# runs in parallel, where ten filtered counts beside ordered-set aggregates ran on one core,
# and the per-service counts come with it instead of a second scan. Occurrences: the settled
# alerts' counts from the index, the open alerts' from the table. The percentiles count
# buckets and sort only the buckets holding the ranks (``core.reports.percentiles``, 30
# days: ~125 -> ~40 ms); a service's percentiles sort its values (``percentile_cont``).
CELLS_SQL = """
select service, severity_rank, state, count(*) as alerts,
    coalesce(sum(final_duplicate_count), 0) as settled_occurrences,
    count(tta_s) as tta_n, sum(tta_s) as tta_sum, min(tta_s) as tta_min, max(tta_s) as tta_max,
    count(ttr_s) as ttr_n, sum(ttr_s) as ttr_sum, min(ttr_s) as ttr_min, max(ttr_s) as ttr_max
from alerts where {where} group by service, severity_rank, state order by service
"""
OPEN_OCCURRENCES_SQL = f"select coalesce(sum(duplicate_count), 0) from {OPEN_ROWS} where {{where}}"
SORTED_PERCENTILES_SQL = """
select percentile_cont(array[0.5, 0.9]) within group (order by tta_s) as tta,
       percentile_cont(array[0.5, 0.9]) within group (order by ttr_s) as ttr
from alerts where {where}
"""


def read_index(session: Session) -> None:
    """For the rest of this (read) transaction: price the pages of an index as the cached
    pages they are, so the planner reads ``alerts_reports`` alone (index-only) rather than
    ``alerts_created_at`` and the heap, and sort the percentiles in memory. With the default
    ``random_page_cost`` of 4 the wider covering index looks dearer than the narrow one
    (bench, 30 days: index-only ~40 % faster)."""
    session.execute(sa.text(f"set local random_page_cost = {INDEX_PAGE_COST}"))
    session.execute(sa.text(f"set local work_mem = '{WORK_MEM}'"))


def statistics(session: Session, sc: Scope, top_services: int = TOP_SERVICES) -> dict[str, Any]:
    """Counts of the alerts in scope — total, firing signals (``occurrences``: the sum of
    ``duplicate_count``, which counts the first signal too), still open, by severity and
    by current state (every name listed, zeros included) — the ``top_services`` busiest
    services plus one ``other`` line for the rest, and the response/resolution times
    (count, avg, min, max, p50, p90 seconds)."""
    if not 0 < top_services <= 100:
        raise FieldError("top_services", "must be between 1 and 100")
    where, params = sc.where()
    read_index(session)
    cells = session.execute(sa.text(CELLS_SQL.format(where=where)), params).mappings().all()
    open_occ = session.execute(sa.text(OPEN_OCCURRENCES_SQL.format(where=where)), params).scalar()
    pct = _percentiles(session, sc, where, params)
    per_service: dict[str, int] = {}
    for c in cells:  # in the database's order of service names: ties keep it (stable sort)
        per_service[c["service"]] = per_service.get(c["service"], 0) + int(c["alerts"])
    ranked = sorted(per_service.items(), key=lambda kv: -kv[1])
    top = [{"service": name, "alerts": n} for name, n in ranked[:top_services]]
    total = sum(per_service.values())
    tta, ttr = _spread(cells, "tta", pct["tta"]), _spread(cells, "ttr", pct["ttr"])
    return {
        "start": sc.start, "end": sc.end, "service": sc.service, "severity": sc.severity,
        "alerts": total,
        "occurrences": sum(int(c["settled_occurrences"]) for c in cells) + int(open_occ or 0),
        "open": sum(int(c["alerts"]) for c in cells if c["state"] in lifecycle.OPEN_STATES),
        "by_severity": {n: sum(int(c["alerts"]) for c in cells if c["severity_rank"] == i + 1)
                        for i, n in enumerate(sev.SEVERITIES)},
        "by_state": {s: sum(int(c["alerts"]) for c in cells if c["state"] == s)
                     for s in lifecycle.STATES},
        "services": len(per_service), "by_service": top,
        "other_services": {"services": len(per_service) - len(top),
                           "alerts": total - sum(n for _, n in ranked[:top_services])},
        "mtta_s": tta["avg"], "mttr_s": ttr["avg"], "acknowledgement_s": tta, "resolution_s": ttr,
    }


def _percentiles(session: Session, sc: Scope, where: str, params: dict[str, Any]
                 ) -> dict[str, list[float] | None]:
    """p50 and p90 of both times: from the bucket indexes (``core.reports.percentiles``), or
    for one service's alerts, which are few and not in those indexes, one sort."""
    if sc.service:
        return dict(session.execute(sa.text(SORTED_PERCENTILES_SQL.format(where=where)),
                                    params).mappings().one())
    return {"tta": percentiles(session, "tta_s", where, params, PCTS),
            "ttr": percentiles(session, "ttr_s", where, params, PCTS)}


def _spread(cells: Sequence[Any], p: str, pct: list[float] | None) -> dict[str, Any]:
    """count, avg, min, max, p50, p90 of ``p`` (tta / ttr) over the cells."""
    n = sum(int(c[f"{p}_n"]) for c in cells)
    mins = [c[f"{p}_min"] for c in cells if c[f"{p}_min"] is not None]
    maxs = [c[f"{p}_max"] for c in cells if c[f"{p}_max"] is not None]
    avg = math.fsum(c[f"{p}_sum"] for c in cells if c[f"{p}_n"]) / n if n else None
    p50, p90 = pct or (None, None)
    return {"count": n, "avg": _secs(avg), "min": _secs(min(mins) if mins else None),
            "max": _secs(max(maxs) if maxs else None), "p50": _secs(p50), "p90": _secs(p90)}


DAY_SERIES = """
select d::date as day, d at time zone :tz as b_start, (d + interval '1 day') at time zone :tz as b_end
from generate_series((cast(:start as timestamptz) at time zone :tz)::date::timestamp,
                     ((cast(:end as timestamptz) - interval '1 microsecond')
                         at time zone :tz)::date::timestamp, interval '1 day') d
"""
HOUR_SERIES = """
select null::date as day, h as b_start, h + interval '1 hour' as b_end
from generate_series(date_trunc('hour', cast(:start as timestamptz), :tz),
                     cast(:end as timestamptz) - interval '1 microsecond', interval '1 hour') h
"""
TREND_SQL = """
with buckets as (
    select row_number() over (order by b_start) as n, day, b_start, b_end from ({series}) s
), bounds as (
    select array_agg(b_start order by n) as starts from buckets
), per as (
    select width_bucket(a.created_at, bounds.starts) as n, count(*) as alerts, {sev_counts},
        count(acknowledged_at) as acknowledged, count(resolved_at) as resolved,
        avg(tta_s) as mtta_s, avg(ttr_s) as mttr_s
    from (select created_at, severity_rank, acknowledged_at, resolved_at, tta_s, ttr_s
          from alerts where {where} order by severity_rank, service) a, bounds
    group by 1
)
select b.n, b.day, b.b_start, b.b_end, p.* from buckets b left join per p on p.n = b.n
order by b.n
"""


def trends(session: Session, sc: Scope, bucket: str = "day", tz: str = "UTC"
           ) -> list[dict[str, Any]]:
    """One row per bucket of the scope (see the module rules): ``start``/``end`` instants,
    ``label`` (the local day, or the local hour with its offset), ``hours``, ``alerts``,
    ``by_severity``, ``acknowledged``, ``resolved``, ``mtta_s``, ``mttr_s``."""
    if bucket not in BUCKETS:
        raise FieldError("bucket", "must be hour or day")
    zone = check_zone(tz)
    if bucket == "hour" and sc.end - sc.start > timedelta(days=MAX_HOURLY_DAYS):
        raise FieldError("end", f"hourly buckets span at most {MAX_HOURLY_DAYS} days")
    where, params = sc.where()
    sql = TREND_SQL.format(series=DAY_SERIES if bucket == "day" else HOUR_SERIES,
                           sev_counts=SEV_COUNTS, where=where)
    rows = session.execute(sa.text(sql), {**params, "tz": zone}).mappings().all()
    return [_bucket(r, ZoneInfo(zone)) for r in rows]


def _bucket(r: Any, zone: ZoneInfo) -> dict[str, Any]:
    start, end = r["b_start"], r["b_end"]
    label = r["day"].isoformat() if r["day"] else start.astimezone(zone).isoformat()
    return {"start": start, "end": end, "label": label,
            "hours": (end - start).total_seconds() / 3600, "alerts": int(r["alerts"] or 0),
            "by_severity": {n: int(r[f"sev_{i}"] or 0) for i, n in enumerate(sev.SEVERITIES)},
            "acknowledged": int(r["acknowledged"] or 0), "resolved": int(r["resolved"] or 0),
            "mtta_s": _secs(r["mtta_s"]), "mttr_s": _secs(r["mttr_s"])}


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The instants of local midnight of ``day`` and of the next day in ``tz``."""
    zone = ZoneInfo(check_zone(tz))
    start = datetime.combine(day, time(0), zone).astimezone(timezone.utc)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(timezone.utc)


def daily(session: Session, day: date, tz: str, now: datetime,
          service: str | None = None, severity: str | None = None) -> dict[str, Any]:
    """One local day's summary: the statistics of the alerts created that day (top 5
    services), SLA compliance by severity and overall (``core.sla.compliance``'s rules, as of
    ``now``), the alerts per local hour and the busiest hour (the earliest on a tie)."""
    start, end = day_bounds(day, tz)
    sc = scope(start, end, now, service, severity)
    stats = statistics(session, sc, top_services=5)
    hours = trends(session, sc, "hour", tz)
    sla = compliance(session, ComplianceQuery(start, end, "severity", sc.service, sc.severity),
                     now)
    busiest = max(hours, key=lambda h: h["alerts"]) if stats["alerts"] else None
    top = stats.pop("by_service")
    return {**stats, "date": day, "tz": tz, "hours": (end - start).total_seconds() / 3600,
            "sla": _sla_summary(sla), "top_services": top,
            "busiest_hour": busiest and {k: busiest[k] for k in ("start", "end", "label",
                                                                  "alerts")},
            "hourly": [{k: h[k] for k in ("start", "label", "alerts")} for h in hours]}


def _sla_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    sums = {k: sum(r[k] for r in rows) for k in ("alerts", "tta_met", "tta_decided",
                                                 "ttr_met", "ttr_decided", "breaches")}
    return {**sums, "tta_compliance_pct": _pct(sums["tta_met"], sums["tta_decided"]),
            "ttr_compliance_pct": _pct(sums["ttr_met"], sums["ttr_decided"]),
            "by_severity": [{k: v for k, v in r.items() if k != "service"} for r in rows]}


def _pct(met: int, decided: int) -> float | None:
    return None if not decided else round(100.0 * met / decided, 2)


def _secs(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
