"""Top alerts of a period: the recurring alert identities that fire most, take longest to
resolve, or escalate most. Aggregated in SQL over the alerts in scope (``core.reports.stats``).

An *alert identity* is a fingerprint — the dedup key intake already uses (the source's
fingerprint, else a hash of source, service, device and alert name; ``AlertIn.dedup_key``):
each time a fingerprint fires again after its previous alert closed, a new alert row is
created with the same fingerprint, so grouping by it gathers the recurrences. Per identity:

- ``alerts``: alert rows created in the period; ``occurrences``: firing signals, the sum
  of ``duplicate_count`` (it starts at 1 for the first signal, so it already counts the
  rows; adding the row count again would count every first signal twice);
  ``reopens``: the sum of ``reopen_count``;
- ``mttr_s`` / ``max_ttr_s`` / ``total_ttr_s``: over its resolved alerts; ``mtta_s``;
- ``escalations``: its ``escalation`` events (one per escalation step fired,
  ``core.escalation.fire``), over its alerts created in the period;
- the latest alert of the period (``latest_id``) gives ``service``, ``device_id``,
  ``summary``, ``severity``, ``state``.

Ranking (``by``): ``occurrences`` (then alerts), ``resolution_time`` (mean time to
resolve; identities with no resolved alert are left out), ``escalations`` (identities
with none are left out). Ties: the fingerprint, ascending.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import FieldError
from core.lifecycle import OPEN_SQL
from core.reports.stats import OPEN_ROWS, Scope, read_index

# by: (order of the ranking, its HAVING, the aggregate it ranks on besides alerts/occurrences)
RANKINGS = {"occurrences": ("occurrences desc, alerts desc", "", ""),
            "resolution_time": ("mttr_s desc", "having count(ttr_s) > 0",
                                ", avg(ttr_s) as mttr_s"),
            "escalations": ("escalations desc, occurrences desc", "", "")}
# by: (the same figures of an identity with one alert in scope: its row; its condition; order)
SINGLE = {"occurrences": ("", "", "dup desc"),
          "resolution_time": (", ttr_s", "and ttr_s is not null", "ttr_s desc")}
MAX_LIMIT = 100

# Ranking reads the covering index alerts_reports alone for the settled alerts and the table
# for the open ones (every alert in exactly one branch; OPEN_ROWS: core.reports.stats), and
# aggregates only what it ranks on; the full figures are then summed for the ranked
# identities alone, from the table (alerts_fingerprint_latest).
RANK_ROWS = f"""(
    select fingerprint, final_duplicate_count as dup, ttr_s from alerts
    where {{where}} and state not in {OPEN_SQL}
    union all
    select fingerprint, duplicate_count, null::float8 from {OPEN_ROWS} where {{where_o}}) a"""
PER_IDENTITY = """
    select fingerprint, count(*) as alerts, sum(dup) as occurrences {rank_agg}
    from {rows} where true {only}
    group by fingerprint {having}
"""
# Where few identities repeat in scope, ranking by occurrences or resolution time aggregates
# only those with more than one alert: the identities of an alert whose previous occurrence
# (prev_at, core/alerts/recurrence.py) is in scope too, read from the partial index
# alerts_repeats. Every other identity has one alert, whose row is its aggregate: only the
# best ``limit`` of them can rank, taken by a top-N sort instead of a hash entry per identity
# (bench, 30 days, ~343k identities that never repeat: 319 -> 171 ms). Where most repeat (a
# NOC's checks firing again and again) the split reads the rows twice for nothing: on the
# bench's history with 20k identities it took 776 ms against the plain hash's 379. So a probe
# of at most SPLIT_BELOW repeats in scope (index-only, with the service and severity a scope
# may name: under a millisecond) picks the shape.
SPLIT_BELOW = 1000
REPEATS_PROBE = """
    select count(*) from (select 1 from alerts where {where} and prev_at >= :start limit :cap) r
"""
REPEATING = """
    select distinct fingerprint from alerts where {where} and prev_at >= :start
"""
SPLIT_PER_IDENTITY = """
    select fingerprint, count(*) as alerts, sum(dup) as occurrences {rank_agg}
    from {rows} where fingerprint in (select fingerprint from repeating)
    group by fingerprint {having}
    union all
    (select fingerprint, 1, dup {single_agg} from {rows}
     where fingerprint not in (select fingerprint from repeating) {single_where}
     order by {single_order}, fingerprint limit :limit)
"""
DETAIL = """
    select fingerprint, count(*) as alerts, sum(duplicate_count) as occurrences,
           sum(reopen_count) as reopens, count(ttr_s) as resolved, avg(ttr_s) as mttr_s,
           max(ttr_s) as max_ttr_s, sum(ttr_s) as total_ttr_s, avg(tta_s) as mtta_s,
           max(id) as latest_id, min(created_at) as first_at, max(created_at) as last_at
    from alerts where fingerprint in (select fingerprint from ranked) and {where}
    group by fingerprint
"""
# Escalation events are written only for alerts with an ``alert_escalations`` row
# (core.escalation.fire), so that table leads: the events' own index is on alert_id, and
# a scan of alert_events for kind = 'escalation' reads the whole event history.
ESCALATED = """
    select a.fingerprint, count(*) as escalations
    from alert_escalations s join alerts a on a.id = s.alert_id
    join alert_events e on e.alert_id = s.alert_id and e.kind = 'escalation'
    where {where_a}
    group by a.fingerprint
"""
ESCALATIONS_OF = """(select count(*) from alerts x join alert_escalations s on s.alert_id = x.id
    join alert_events e on e.alert_id = x.id and e.kind = 'escalation'
    where x.fingerprint = r.fingerprint and {where_x})"""
TOP_SQL = """
with {cte} per as ({per}), ranked as (
    select t.*, row_number() over (order by {order}, fingerprint) as place from (
        select per.*, {esc_col} as escalations from per {esc_join}
        order by {order}, fingerprint limit :limit) t
), detail as ({detail})
select d.*, coalesce(r.escalations, {escalations_of}) as escalation_count,
       l.service, l.device_id, l.summary, l.severity, l.state
from ranked r join detail d on d.fingerprint = r.fingerprint join alerts l on l.id = d.latest_id
order by r.place
"""


def top_alerts(session: Session, sc: Scope, by: str = "occurrences",
               limit: int = 20) -> list[dict[str, Any]]:
    """The ``limit`` (1..100) top identities of the scope by ``by`` (see the module)."""
    if by not in RANKINGS:
        raise FieldError("by", "must be occurrences, resolution_time or escalations")
    if not 0 < limit <= MAX_LIMIT:
        raise FieldError("limit", f"must be between 1 and {MAX_LIMIT}")
    where, params = sc.where()
    read_index(session)
    split = by != "escalations" and _repeats(session, where, params) < SPLIT_BELOW
    rows = session.execute(sa.text(_sql(sc, by, split)), {**params, "limit": limit}).all()
    if split and len({r.fingerprint for r in rows}) < len(rows):
        # an identity taken for a single one had two alerts (a pointer skipped in a race,
        # core/alerts/recurrence.py): the plain hash is right whatever the pointers say
        rows = session.execute(sa.text(_sql(sc, by, False)), {**params, "limit": limit}).all()
    return [_identity(r._mapping) for r in rows]


def _sql(sc: Scope, by: str, split: bool) -> str:
    order, having, rank_agg = RANKINGS[by]
    where = sc.where()[0]
    rows_sql = RANK_ROWS.format(where=where, where_o=sc.where("o")[0])
    parts = {"cte": "", "esc_col": "null::bigint", "esc_join": ""}
    if by == "escalations":  # only the identities that escalated are aggregated
        parts = {"cte": f"esc as ({ESCALATED.format(where_a=sc.where('a')[0])}),",
                 "esc_col": "esc.escalations", "esc_join": "join esc using (fingerprint)"}
        per = PER_IDENTITY.format(rows=rows_sql, rank_agg=rank_agg, having=having,
                                  only="and fingerprint in (select fingerprint from esc)")
    elif split:
        single_agg, single_where, single_order = SINGLE[by]
        parts["cte"] = f"repeating as materialized ({REPEATING.format(where=where)}),"
        per = SPLIT_PER_IDENTITY.format(
            rows=rows_sql, rank_agg=rank_agg, having=having, single_agg=single_agg,
            single_where=single_where, single_order=single_order)
    else:
        per = PER_IDENTITY.format(rows=rows_sql, rank_agg=rank_agg, having=having, only="")
    return TOP_SQL.format(per=per, order=order, **parts, detail=DETAIL.format(where=where),
                          escalations_of=ESCALATIONS_OF.format(where_x=sc.where("x")[0]))


def _repeats(session: Session, where: str, params: dict[str, Any]) -> int:
    """How many alerts of the scope repeat an earlier one of it, counted up to SPLIT_BELOW."""
    sql = REPEATS_PROBE.format(where=where)
    return int(session.execute(sa.text(sql), {**params, "cap": SPLIT_BELOW}).scalar_one())


def _identity(r: Any) -> dict[str, Any]:
    return {"fingerprint": r["fingerprint"], "service": r["service"],
            "device_id": r["device_id"], "summary": r["summary"], "severity": r["severity"],
            "state": r["state"], "latest_id": int(r["latest_id"]),
            "alerts": int(r["alerts"]), "occurrences": int(r["occurrences"]),
            "reopens": int(r["reopens"]), "resolved": int(r["resolved"]),
            "escalations": int(r["escalation_count"]),
            "mtta_s": _secs(r["mtta_s"]), "mttr_s": _secs(r["mttr_s"]),
            "max_ttr_s": _secs(r["max_ttr_s"]), "total_ttr_s": _secs(r["total_ttr_s"]),
            "first_at": r["first_at"], "last_at": r["last_at"]}


def _secs(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
