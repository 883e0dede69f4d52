"""The inputs of the health score (``core.health.rules``), gathered in SQL: one statement for
the scores of every service (or device), one for their daily trend.

Rules (docs/HEALTH.md):

- The window is ``[now - window, now)``; its facts are over the alerts *created* in it
  (as in ``core.sla.compliance``): how many, how many breached TTA or TTR (a clock still
  running past its target at ``now`` counts), the mean ``ttr / ttr_target`` of the
  resolved ones, and the recurrences: every alert after the first of its fingerprint in
  the window (on that service or device: its pointer to the previous occurrence falls in
  the window, core/alerts/recurrence.py), every reopen, every flapping alert.
- Open pressure counts the alerts not resolved at the window's end, whatever their age
  (for the scores: open now, from the partial index of open alerts).
- The trend gives one score per local day of ``tz`` (``generate_series`` over local
  dates, DST-correct): the facts of the alerts created that day, the open pressure at the
  day's end. An alert is open at a day's end when it was created before it and resolved
  after it (or not yet); alerts created more than ``OPEN_LOOKBACK`` before the first day
  are only seen when still open now.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.clock import check_zone
from core.errors import FieldError
from core.health import rules
from core.lifecycle import OPEN_SQL
from core.severity import SEVERITIES

KEYS = {"service": "service", "device": "device_id"}
PREVIOUS = {"service": "prev_service_at", "device_id": "prev_device_at"}


def repeat_sql(key: str, since: str) -> str:
    """SQL: the alert repeats its fingerprint on its service or device (``key``: the column)
    since the instant ``since``: its pointer to the previous occurrence there falls at or
    after ``since`` and not after the alert itself (core/alerts/recurrence.py). The one
    definition the scores, the trend and the drill-down (core.health.detail) count by."""
    prev = PREVIOUS[key]
    return f"{prev} >= {since} and {prev} <= created_at"


DAY_START = "b.starts[width_bucket(created_at, b.starts)]"
OPEN_LOOKBACK = timedelta(days=7)
MAX_TREND_DAYS = 90
WORK_MEM = "64MB"
INDEX_PAGE_COST = 1.1
OPEN_COLS = ", ".join(f"count(*) filter (where severity_rank = {i + 1}) as o_{name}"
                      for i, name in enumerate(SEVERITIES))
# Per entity: breaches (the rule of core.sla.compliance), the TTR / target ratios of the
# resolved, and the recurrences: every alert after the first of its fingerprint (its
# pointer to the previous alert of the fingerprint on this entity falls in the window:
# core/alerts/recurrence.py), every reopen, every flapping alert.
FACTS = """
    count(*) as alerts,
    count(*) filter (where coalesce(acknowledged_at, resolved_at, :now) > tta_due_at
                        or coalesce(resolved_at, :now) > ttr_due_at) as breaches,
    count(ttr_s) as resolved, sum(ttr_s / ttr_target_s) as ttr_ratio_sum,
    count(*) filter (where {repeat}) + sum(reopen_count)
        + count(*) filter (where flapping) as recurring"""

SCORES_SQL = """
with facts as (
    select {key} as entity, {facts}
    from alerts
    where created_at >= :start and created_at < :now {where}
    group by 1
), opened as (
    select {key} as entity, {open_cols}
    from alerts where state in {open} {where}
    group by 1
)
select coalesce(f.entity, o.entity) as entity, f.alerts, f.breaches, f.resolved,
       f.ttr_ratio_sum / nullif(f.resolved, 0) as mttr_ratio, f.recurring, {open_names}
from facts f full join opened o on o.entity = f.entity
"""

# One scan of the days' alerts (the covering index alerts_reports alone, by service) into
# cells of (entity, day, severity, the day its alert was resolved): summed per (entity,
# day) they are the days' facts (FACTS: a recurrence is an alert whose pointer falls in its
# own day), and they give the open pressure too. Open at the end of day k: created before
# it and resolved after it, a running sum of +1 (the first day end after creation: its own
# day n) and -1 (the first day end after resolution, closed_n) over the cells that stay
# open across a day end; the alerts created in the lookback before the first day come from
# a second, shorter scan, counted the same way. Bench, this machine: 371 ms when the
# recurrences were a hash of every (entity, day, fingerprint) and the crossings a third
# scan of the days; 253 ms with the pointer; 191 ms with one scan of the days.
TREND_SQL = """with days as (
    select row_number() over (order by d) as n, d::date as day,
           d at time zone :tz as day_start, (d + interval '1 day') at time zone :tz as day_end
    from generate_series(cast(:first as timestamp), cast(:last as timestamp),
                         interval '1 day') d
), b as (
    select array_agg(day_start order by n) as starts, array_agg(day_end order by n) as ends,
           min(day_start) as first_start, max(day_end) as last_end
    from days
), cells as materialized (
    select {key} as entity, width_bucket(created_at, b.starts) as n, severity_rank,
           width_bucket(resolved_at - interval '1 microsecond', b.ends) + 1 as closed_n, {facts}
    from alerts, b
    where created_at >= b.first_start and created_at < b.last_end {where}
    group by 1, 2, 3, 4
), facts as (
    select entity, n, sum(alerts) as alerts, sum(breaches) as breaches,
           sum(resolved) as resolved, sum(ttr_ratio_sum) / nullif(sum(resolved), 0) as mttr_ratio,
           sum(recurring) as recurring
    from cells group by 1, 2
), earlier as (
    select entity, severity_rank, closed_n, count(*) as alerts from (
        select {key} as entity, severity_rank,
               width_bucket(resolved_at - interval '1 microsecond', b.ends) + 1 as closed_n
        from alerts, b
        where created_at >= b.first_start - cast(:lookback as interval)
          and created_at < b.first_start {where}) c
    where closed_n is null or closed_n > 1
    group by 1, 2, 3
    union all
    select {key}, severity_rank, null, count(*)
    from alerts, b
    where state in {open} and created_at + interval '0 s'  -- (the open-alerts index alone)
          < b.first_start - cast(:lookback as interval) {where}
    group by 1, 2
), deltas as (
    select entity, n, severity_rank, alerts as d from cells
    where closed_n is null or closed_n > n
    union all
    select entity, closed_n, severity_rank, -alerts from cells where closed_n > n
    union all
    select entity, 1, severity_rank, alerts from earlier
    union all
    select entity, closed_n, severity_rank, -alerts from earlier where closed_n is not null
), per_n as (
    select entity, n, {delta_cols} from deltas group by 1, 2
), ents as (
    select entity from facts union select entity from per_n
)
select e.entity, d.n, d.day, d.day_start, d.day_end, f.alerts, f.breaches, f.resolved,
       f.mttr_ratio, f.recurring, {open_sums}
from ents e cross join days d
left join facts f on f.entity = e.entity and f.n = d.n
left join per_n p on p.entity = e.entity and p.n <= d.n
group by e.entity, d.n, d.day, d.day_start, d.day_end, f.alerts, f.breaches, f.resolved,
         f.mttr_ratio, f.recurring
order by e.entity, d.n
"""
DELTA_COLS = ", ".join(f"sum(d) filter (where severity_rank = {i + 1}) as d_{name}"
                       for i, name in enumerate(SEVERITIES))
OPEN_NAMES = ", ".join(f"o.o_{name}" for name in SEVERITIES)
OPEN_SUMS = ", ".join(f"sum(p.d_{name}) as o_{name}" for name in SEVERITIES)


def roomy(session: Session) -> None:
    """For the rest of this (read) transaction: memory for the hashes of the trend's day-end
    crossings, and index pages priced as the cached pages they are, so the planner reads the
    covering index ``alerts_reports`` alone rather than ``alerts_created_at`` and the heap."""
    session.execute(sa.text(f"set local work_mem = '{WORK_MEM}'"))
    session.execute(sa.text(f"set local random_page_cost = {INDEX_PAGE_COST}"))


def key_column(by: str) -> str:
    if by not in KEYS:
        raise FieldError("by", "must be service or device")
    return KEYS[by]


def _filter(service: str | None) -> tuple[str, dict[str, Any]]:
    return (" and service = :service", {"service": service}) if service else ("", {})


def inputs(row: dict[str, Any]) -> rules.HealthInputs:
    """A statement's row (facts + open counts, NULL when absent) as the formula's input."""
    ratio = row.get("mttr_ratio")
    return rules.HealthInputs(
        open_by_severity={s: int(row.get(f"o_{s}") or 0) for s in SEVERITIES},
        alerts=int(row.get("alerts") or 0), breaches=int(row.get("breaches") or 0),
        resolved=int(row.get("resolved") or 0),
        mttr_ratio=None if ratio is None else float(ratio),
        recurring=int(row.get("recurring") or 0))


def scored(entity: str, i: rules.HealthInputs) -> dict[str, Any]:
    h = rules.health(i)
    return {"entity": entity, "score": h.score, "band": h.band, "penalties": h.penalties,
            "alerts": i.alerts, "breaches": i.breaches, "breach_share": h.breach_share,
            "resolved": i.resolved, "mttr_ratio": h.mttr_ratio, "recurring": i.recurring,
            "recurrence_share": h.recurrence_share, "open": sum(i.open_by_severity.values()),
            "open_by_severity": i.open_by_severity, "open_weight": h.open_weight}


def health_scores(session: Session, by: str, window: timedelta, now: datetime,
                  service: str | None = None) -> list[dict[str, Any]]:
    """Every service (or device) with alerts in the window or open now, worst first (then
    by name); with ``service``, that service (a quiet one scores 100) or its devices."""
    key = key_column(by)
    where, params = _filter(service)
    sql = SCORES_SQL.format(key=key, where=where, open=OPEN_SQL, open_cols=OPEN_COLS,
                            facts=FACTS.format(repeat=repeat_sql(key, ":start")),
                            open_names=OPEN_NAMES)
    params.update({"start": now - window, "now": now})
    roomy(session)
    rows = [scored(r["entity"], inputs(dict(r)))
            for r in session.execute(sa.text(sql), params).mappings()]
    if service and by == "service" and not rows:
        rows = [scored(service, rules.HealthInputs())]
    return sorted(rows, key=lambda r: (r["score"], r["entity"]))


def daily_scores(session: Session, by: str, days: int, tz: str, now: datetime,
                 service: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Per service (or device), one score per local day: the ``days`` days up to today in
    ``tz``; with ``service``, that service (quiet days score 100) or its devices."""
    key = key_column(by)
    if not 1 <= days <= MAX_TREND_DAYS:
        raise FieldError("days", f"must be between 1 and {MAX_TREND_DAYS}")
    today = now.astimezone(ZoneInfo(check_zone(tz))).date()
    where, params = _filter(service)
    sql = TREND_SQL.format(key=key, where=where, open=OPEN_SQL,
                           facts=FACTS.format(repeat=repeat_sql(key, DAY_START)),
                           delta_cols=DELTA_COLS, open_sums=OPEN_SUMS)
    params.update({"first": today - timedelta(days=days - 1), "last": today, "tz": tz,
                   "now": now, "lookback": OPEN_LOOKBACK})
    out: dict[str, list[dict[str, Any]]] = {}
    roomy(session)
    for r in session.execute(sa.text(sql), params).mappings():
        day = {"day": r["day"], "day_start": r["day_start"], "day_end": r["day_end"],
               **scored(r["entity"], inputs(dict(r)))}
        del day["entity"]
        out.setdefault(r["entity"], []).append(day)
    if service and by == "service" and service not in out:
        out[service] = _quiet_days(session, days, tz, today)
    return out


def _quiet_days(session: Session, days: int, tz: str, today: date) -> list[dict[str, Any]]:
    rows = session.execute(sa.text(
        "select d::date as day, d at time zone :tz as day_start, "
        "(d + interval '1 day') at time zone :tz as day_end "
        "from generate_series(cast(:first as timestamp), cast(:last as timestamp), "
        "interval '1 day') d order by d"),
        {"tz": tz, "first": today - timedelta(days=days - 1), "last": today}).mappings()
    quiet = scored("", rules.HealthInputs())
    del quiet["entity"]
    return [{**dict(r), **quiet} for r in rows]
