"""SLA compliance, aggregated in SQL over the alerts created in a period.

Per alert: the TTA clock stops at the first human response (or at resolution when the
source resolved it first); the TTR clock at resolution. An alert counts towards compliance
once its outcome is known — its clock stopped, or its deadline passed while still running —
so an open alert already past its deadline is a breach now, and one still inside its target
is not yet counted. MTTA/MTTR and percentiles are over the human responses / resolutions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import severity as sev
from core import teams
from core.errors import FieldError

GROUPS = {"severity": ["severity"], "service": ["service"], "both": ["severity", "service"],
          "team": ["team"]}

# The outcome rule as SQL aggregates (over rows with tta_stop, tta_due_at, resolved_at,
# ttr_due_at, tta_s, ttr_s; :now bound): shared with the daily trends in core/sla/trends.py.
OUTCOMES = """
    count(*)                                                          as alerts,
    count(*) filter (where tta_stop <= tta_due_at)                    as tta_met,
    count(*) filter (where tta_stop is not null or tta_due_at <= :now) as tta_decided,
    count(*) filter (where resolved_at <= ttr_due_at)                 as ttr_met,
    count(*) filter (where resolved_at is not null or ttr_due_at <= :now) as ttr_decided,
    avg(tta_s)                                                        as mtta_s,
    avg(ttr_s)                                                        as mttr_s"""

# Medians, p90s and breaches over the same rows: shared with the weekly report.
SPREAD = """
    percentile_cont(0.5) within group (order by tta_s)                as p50_tta_s,
    percentile_cont(0.9) within group (order by tta_s)                as p90_tta_s,
    percentile_cont(0.5) within group (order by ttr_s)                as p50_ttr_s,
    percentile_cont(0.9) within group (order by ttr_s)                as p90_ttr_s,
    count(*) filter (where coalesce(tta_stop, :now) > tta_due_at
                        or coalesce(resolved_at, :now) > ttr_due_at)  as breaches"""

SQL = """
select {select_cols},""" + OUTCOMES + "," + SPREAD + """
from (
    select severity, service, severity_rank, tta_s, ttr_s, tta_due_at, ttr_due_at, resolved_at,
           coalesce(acknowledged_at, resolved_at) as tta_stop{team_col}
    from alerts
    where created_at >= :start and created_at < :end {where}
) a
group by {cols}
order by {order}
"""


@dataclass(frozen=True)
class ComplianceQuery:
    start: datetime
    end: datetime
    group_by: str = "severity"
    service: str | None = None
    severity: str | None = None
    team: str | None = None

    def normalize(self) -> ComplianceQuery:
        if self.group_by not in GROUPS:
            raise FieldError("group_by", "must be severity, service, both or team")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise FieldError("start", "start and end need a time zone offset")
        if self.end <= self.start:
            raise FieldError("end", "must be after start")
        severity = sev.normalize(self.severity) if self.severity else None
        return ComplianceQuery(self.start, self.end, self.group_by, self.service or None, severity,
                               (self.team or "").strip() or None)


def compliance(session: Session, query: ComplianceQuery, now: datetime) -> list[dict[str, Any]]:
    q = query.normalize()
    cols = GROUPS[q.group_by]
    where = ""
    params: dict[str, Any] = {"start": q.start, "end": q.end, "now": now}
    if q.service:
        where += " and service = :service"
        params["service"] = q.service
    if q.severity:
        where += " and severity = :severity"
        params["severity"] = q.severity
    team_col = ""
    if q.team or "team" in cols:  # teams own services (core.teams): a map, not a label
        mapping = teams.load(session)
        params["teams"] = json.dumps(mapping)
        team_col = f", coalesce(cast(:teams as jsonb) ->> service, '{teams.NO_TEAM}') as team"
        if q.team:
            names, negate = teams.services_of(mapping, q.team)
            where += f" and {'not ' if negate else ''}(service = any(cast(:team_services as text[])))"
            params["team_services"] = names
    # Group by the rank, not the name: the name follows from it, and the rank's order is
    # the index's (alerts_compliance), so no sort is needed (bench: 412 -> ~200 ms).
    keys = (["severity_rank"] if "severity" in cols else []) + (
        ["service"] if "service" in cols else []) + (["team"] if "team" in cols else [])
    select_cols = ", ".join(keys + (["min(severity) as severity"] if "severity" in cols else []))
    sql = SQL.format(select_cols=select_cols, cols=", ".join(keys), where=where,
                     order=", ".join(keys), team_col=team_col)
    rows = session.execute(sa.text(sql), params).mappings().all()
    return [_row(dict(r), cols) for r in rows]


def _row(r: dict[str, Any], cols: list[str]) -> dict[str, Any]:
    r.pop("severity_rank", None)
    out: dict[str, Any] = {"severity": r.get("severity"), "service": r.get("service")}
    if "team" in cols:
        out["team"] = r["team"]
    for key in ("alerts", "tta_met", "ttr_met", "breaches", "tta_decided", "ttr_decided"):
        out[key] = int(r[key])
    out["tta_compliance_pct"] = _pct(r["tta_met"], r["tta_decided"])
    out["ttr_compliance_pct"] = _pct(r["ttr_met"], r["ttr_decided"])
    for key in ("mtta_s", "mttr_s", "p50_tta_s", "p90_tta_s", "p50_ttr_s", "p90_ttr_s"):
        out[key] = None if r[key] is None else round(float(r[key]), 3)
    return out


def _pct(met: int, decided: int) -> float | None:
    return None if not decided else round(100.0 * met / decided, 2)
