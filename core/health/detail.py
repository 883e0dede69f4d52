"""Behind a health score: the alerts that cost it points, and the analytics of one service
(counts, MTTA/MTTR against target, top recurring alerts), aggregated in SQL.

The rules are ``core.health.store``'s: the window is ``[now - window, now)``, its alerts
are those created in it; open alerts count whatever their age.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import FieldError
from core.health.store import daily_scores, health_scores, key_column, repeat_sql
from core.lifecycle import OPEN_SQL
from core.severity import SEVERITIES

BEHIND_LIMIT = 200
TOP_RECURRING = 10

# Why each alert costs points: open (pressure), breached, a repeat of a fingerprint already
# raised on this service (device) in the window, reopened, flapping. Most severe first, then
# the newest. A repeat is what the scores count (core.health.store FACTS): the alert's
# pointer to its fingerprint's previous alert on the entity falls in the window and not
# after it (core/alerts/recurrence.py), so the list and the score never disagree.
BEHIND_SQL = """
with cand as (
    select id, fingerprint, severity, severity_rank, state, summary, service, device_id,
           created_at, acknowledged_at, resolved_at, tta_due_at, ttr_due_at, reopen_count,
           flapping, coalesce({repeat}, false) as repeat
    from alerts
    where {key} = :entity and created_at >= :start and created_at < :now
    union all
    select id, fingerprint, severity, severity_rank, state, summary, service, device_id,
           created_at, acknowledged_at, resolved_at, tta_due_at, ttr_due_at, reopen_count,
           flapping, false
    from alerts
    where {key} = :entity and state in {open} and created_at < :start
), why as (
    select *, concat_ws(', ',
        case when resolved_at is null then 'open' end,
        case when coalesce(acknowledged_at, resolved_at, :now) > tta_due_at
                  or coalesce(resolved_at, :now) > ttr_due_at then 'SLA breached' end,
        case when repeat then 'repeat' end,
        case when reopen_count > 0 then 'reopened ' || reopen_count || 'x' end,
        case when flapping then 'flapping' end) as why
    from cand
)
select id, severity, state, summary, service, device_id, created_at, resolved_at, why,
       count(*) over () as total
from why where why <> ''
order by severity_rank, created_at desc, id desc
limit :limit
"""

COUNTS_SQL = """
select severity, state, count(*) as n from alerts
where service = :entity and created_at >= :start and created_at < :now
group by 1, 2
"""

TIMES_SQL = """
select avg(tta_s) as mtta_s, avg(tta_target_s) filter (where tta_s is not null) as tta_target_s,
       avg(tta_s / tta_target_s) as mtta_ratio, count(tta_s) as acknowledged,
       avg(ttr_s) as mttr_s, avg(ttr_target_s) filter (where ttr_s is not null) as ttr_target_s,
       avg(ttr_s / ttr_target_s) as mttr_ratio, count(ttr_s) as resolved
from alerts
where service = :entity and created_at >= :start and created_at < :now
"""

# Repeats on the service, as the scores count them (BEHIND_SQL).
REPEATS = f"count(*) filter (where {repeat_sql('service', ':start')})"
RECURRING_SQL = """
select fingerprint, count(*) as alerts, sum(reopen_count) as reopens,
       count(*) filter (where flapping) as flapping,
       {repeats} + sum(reopen_count) + count(*) filter (where flapping) as recurrences,
       min(severity_rank) as severity_rank, max(id) as latest_id, max(created_at) as last_at,
       (array_agg(summary order by created_at desc, id desc))[1] as summary
from alerts
where service = :entity and created_at >= :start and created_at < :now
group by fingerprint
having {repeats} + sum(reopen_count) + count(*) filter (where flapping) > 0
order by recurrences desc, last_at desc, fingerprint
limit :limit
"""


def alerts_behind(session: Session, by: str, entity: str, window: timedelta, now: datetime,
                  limit: int = BEHIND_LIMIT) -> list[dict[str, Any]]:
    """The alerts of one service/device that cost points, each with ``why`` (open, SLA
    breached, repeat, reopened Nx, flapping) and ``total`` (without the limit)."""
    key = key_column(by)
    if not entity:
        raise FieldError(by, "is required")
    if not 0 < limit <= 1000:
        raise FieldError("limit", "must be between 1 and 1000")
    sql = BEHIND_SQL.format(key=key, open=OPEN_SQL, repeat=repeat_sql(key, ":start"))
    rows = session.execute(sa.text(sql), {
        "entity": entity, "start": now - window, "now": now, "limit": limit}).mappings()
    return [{**dict(r), "id": int(r["id"]), "total": int(r["total"])} for r in rows]


def _secs(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def service_health(session: Session, service: str, window: timedelta, now: datetime,
                   tz: str = "UTC", days: int = 14) -> dict[str, Any]:
    """One service: its score and factor breakdown, counts by severity and state over the
    window, MTTA/MTTR against target, top recurring alerts and the daily trend."""
    if not service:
        raise FieldError("service", "is required")
    params = {"entity": service, "start": now - window, "now": now}
    score = health_scores(session, "service", window, now, service)[0]
    by_severity = dict.fromkeys(SEVERITIES, 0)
    by_state: dict[str, int] = {}
    for r in session.execute(sa.text(COUNTS_SQL), params).mappings():
        by_severity[r["severity"]] += int(r["n"])
        by_state[r["state"]] = by_state.get(r["state"], 0) + int(r["n"])
    t = session.execute(sa.text(TIMES_SQL), params).mappings().one()
    times = {k: _secs(t[k]) for k in ("mtta_s", "tta_target_s", "mtta_ratio", "mttr_s",
                                       "ttr_target_s", "mttr_ratio")}
    times.update(acknowledged=int(t["acknowledged"]), resolved=int(t["resolved"]))
    recurring = [{
        "fingerprint": r["fingerprint"], "summary": r["summary"],
        "severity": SEVERITIES[int(r["severity_rank"]) - 1], "alerts": int(r["alerts"]),
        "reopens": int(r["reopens"]), "flapping": int(r["flapping"]),
        "recurrences": int(r["recurrences"]), "latest_id": int(r["latest_id"]),
        "last_at": r["last_at"]}
        for r in session.execute(sa.text(RECURRING_SQL.format(repeats=REPEATS)),
                                 {**params, "limit": TOP_RECURRING}).mappings()]
    trend = daily_scores(session, "service", days, tz, now, service)[service]
    return {"service": service, "window_start": now - window, "window_end": now,
            "health": score, "counts": {"by_severity": by_severity, "by_state": by_state},
            "times": times, "top_recurring": recurring, "trend": trend}
