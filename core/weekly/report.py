"""The weekly report: one local week of a team or service, for people to read and send.

Rules:
- The week is ``[Monday 00:00, next Monday 00:00)`` in the viewer's IANA zone ``tz``
  (zoneinfo: a week holding a DST change lasts 167 or 169 hours); the previous week is the
  seven local days before it. An alert belongs to the week it was *created* in, with all
  its duplicates (``duplicate_count``), as in ``core.sla.compliance`` and ``core.grouping.read``.
- Filters: ``service`` (the alert's service) and ``team``: the services the team owns
  (core.teams, the map the SLA page edits) and alerts labelled ``team=<name>`` (for
  sources that say whose an alert is; no index: it narrows the week's rows).
  The on-call part is not filtered (schedules belong to no service or team).
- SLA compliance, MTTA/MTTR: the outcome rule of ``core.sla.compliance`` (``OUTCOMES``: met /
  decided, open alerts decided once past their deadline at ``now``), plus percentiles
  (``percentile_cont``) over the human responses / resolutions that happened.
- Top offenders: the 5 alert identities (fingerprints) with the most occurrences
  (duplicates included), then the top 5 services and devices the same way.
- Noise reduction: ``core.grouping.read.group_stats`` (raw events -> alerts -> groups ->
  pages sent, from the delivery log).
- Notifications: the messages queued in the week about alerts that match the filters
  (messages linked to no alert, such as channel tests, are left out), by channel; "sent"
  means delivered.
- People: see ``core.weekly.people`` (on-call hours, responses, the busiest person).
Everything is aggregated in SQL: one statement per section, none per day or service.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import teams
from core.clock import check_day, check_zone
from core.errors import FieldError, UnknownName
from core.grouping.read import STATS_SQL, sent_pages
from core.severity import SEVERITIES
from core.sla.compliance import OUTCOMES, SPREAD
from core.weekly.people import people_section

UTC = timezone.utc
WEEK_RE = re.compile(r"^(\d{4})-W(\d{1,2})$")
TOP = 5
MAX_FILTER = 200

PER_DAY_SQL = """
select width_bucket(created_at, cast(:bounds as timestamptz[])) as n, severity,
       count(*) as alerts
from alerts a where created_at >= :start and created_at < :end {where}
group by 1, 2
"""

# One week's SLA rows per severity plus the whole week (rollup), read in the order of the
# covering index alerts_compliance (severity_rank first): no sort before the aggregates.
SLA_PART = ("""
select '{wk}' as wk, severity_rank, grouping(severity_rank) = 1 as overall, """ + OUTCOMES
    + "," + SPREAD + """
from (
    select severity_rank, tta_s, ttr_s, tta_due_at, ttr_due_at, resolved_at,
           coalesce(acknowledged_at, resolved_at) as tta_stop
    from alerts a where created_at >= :{lo} and created_at < :{hi} {where}
    order by severity_rank, service
) a
group by rollup (severity_rank)
order by severity_rank nulls first
""")
TOP_SQL = """
with w as (
    select fingerprint, service, device_id, duplicate_count from alerts a
    where created_at >= :start and created_at < :end {where}
), ranked as (
    (select 'alert' as kind, fingerprint as key, sum(duplicate_count) as occurrences,
            count(*) as alerts from w group by 2 order by 3 desc, 4 desc, 2 limit :top)
    union all
    (select 'service', service, sum(duplicate_count), count(*) from w
     group by 2 order by 3 desc, 4 desc, 2 limit :top)
    union all
    (select 'device', device_id, sum(duplicate_count), count(*) from w
     group by 2 order by 3 desc, 4 desc, 2 limit :top)
)
select r.*, x.summary, x.service, x.device_id, x.severity
from ranked r left join lateral (
    select summary, service, device_id, severity from alerts a
    where r.kind = 'alert' and a.fingerprint = r.key
      and created_at >= :start and created_at < :end {where}
    order by id desc limit 1) x on true
"""

NOTIFY_SQL = """
select n.channel, count(*) as queued, count(*) filter (where n.status = 'sent') as sent,
       count(*) filter (where n.status = 'failed') as failed
from notifications n join alerts a on a.id = n.alert_id
where n.created_at >= :start and n.created_at < :end {where}
group by 1 order by 1
"""


def parse_week(value: str, field: str = "week") -> date:
    """``2026-W47`` (ISO week) -> its Monday, or FieldError naming ``field``."""
    m = WEEK_RE.match(value.strip())
    try:
        if not m:
            raise ValueError
        return check_day(date.fromisocalendar(int(m[1]), int(m[2]), 1), field)
    except ValueError:
        raise FieldError(field, f"{value!r} is not an ISO week such as 2026-W47") from None


def week_label(week_start: date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(now: datetime, tz: str) -> date:
    """The Monday of the last week that has ended in ``tz`` at ``now``."""
    today = now.astimezone(ZoneInfo(check_zone(tz))).date()
    return today - timedelta(days=today.weekday() + 7)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


TEAM_SQL = "(service = any(cast(:team_services as text[])) or labels->>'team' = :team)"
NO_TEAM_SQL = "(not service = any(cast(:team_services as text[])) and labels->>'team' is null)"


def _filters(session: Session, service: str | None, team: str | None
             ) -> tuple[str, dict[str, Any]]:
    where, params = "", dict[str, Any]()
    for name, value, sql in (("service", service, "service = :service"),
                             ("team", team, TEAM_SQL)):
        if value is None or not value.strip():
            continue
        if len(value.strip()) > MAX_FILTER:
            raise FieldError(name, f"is longer than {MAX_FILTER} characters")
        where += f" and {sql}"
        params[name] = value.strip()
    if "team" in params:
        names, negate = teams.services_of(teams.load(session), params["team"])
        params["team_services"] = names
        where = where.replace(TEAM_SQL, NO_TEAM_SQL) if negate else where
    return where, params


LABELLED_TEAM_SQL = "select exists (select 1 from alerts where labels->>'team' = :team)"


def _check_known(session: Session, params: dict[str, Any]) -> None:
    """An unknown service or team is a 404 naming the field, not a report of zeros. A
    service is known once it has an alert (an indexed lookup) or an owner; a team when it
    owns a service or labels any alert (the label has no index: a scan that stops at the
    first match, read in full only for a name that is unknown, i.e. on the way to a 404)."""
    mapping = teams.load(session) if {"service", "team"} & params.keys() else {}
    teams.check_service(session, params.get("service"), mapping)
    team = params.get("team")
    if (team is not None and team != teams.NO_TEAM and team not in mapping.values()
            and not session.scalar(sa.text(LABELLED_TEAM_SQL), params)):
        raise UnknownName("team", f"no team {team!r}: it owns no service (SLA page, "
                                  "'Service owners') and labels no alert")


def weekly_report(session: Session, week_start: date, tz: str, service: str | None,
                  team: str | None, now: datetime) -> dict[str, Any]:
    """The report of the local week starting on Monday ``week_start`` (rules: module doc)."""
    if week_start.weekday() != 0:
        raise FieldError("week_start", f"{week_start.isoformat()} is not a Monday")
    zone = ZoneInfo(check_zone(tz))
    days = [week_start + timedelta(days=i) for i in range(-7, 8)]
    bounds = [local_midnight(d, zone) for d in days]  # 14 local midnights + the end
    prev, start, end = bounds[0], bounds[7], bounds[14]
    where, params = _filters(session, service, team)
    params.update({"prev": prev, "start": start, "end": end, "now": now, "top": TOP})
    _check_known(session, params)
    sla = _sla(session, where, params)
    return {
        "week": week_label(week_start), "week_start": week_start,
        "last_day": week_start + timedelta(days=6), "tz": zone.key,
        "start": start, "end": end, "hours": (end - start).total_seconds() / 3600,
        "complete": end <= now, "generated_at": now,
        "service": params.get("service"), "team": params.get("team"),
        "alerts": _alerts(session, where, params, days[7:14], bounds[7:], sla),
        "sla": sla,
        "top_offenders": _top(session, where, params),
        "noise": _noise(session, where, params),
        "on_call": people_section(session, start, end, where, params),
        "notifications": _notifications(session, where, params),
    }


def _alerts(session: Session, where: str, params: dict[str, Any], days: list[date],
            bounds: list[datetime], sla: dict[str, Any]) -> dict[str, Any]:
    rows = session.execute(sa.text(PER_DAY_SQL.format(where=where)),
                           {**params, "bounds": bounds}).mappings().all()
    per_day: list[dict[str, Any]] = [
        {"day": d, "alerts": 0, "by_severity": dict.fromkeys(SEVERITIES, 0)} for d in days]
    for r in rows:
        day = per_day[int(r["n"]) - 1]
        day["alerts"] += int(r["alerts"])
        day["by_severity"][r["severity"]] = int(r["alerts"])
    total, previous = sla["current"]["alerts"], sla["previous"]["alerts"]
    by_sev = {w: {r["severity"]: r["alerts"] for r in sla[key]}
              for w, key in (("current", "by_severity"), ("previous", "by_severity_previous"))}
    return {"total": total, "previous": previous, "delta": total - previous,
            "delta_pct": None if not previous else round(100.0 * (total - previous) / previous, 2),
            "by_severity": [{"severity": s, "alerts": by_sev["current"].get(s, 0),
                             "previous": by_sev["previous"].get(s, 0),
                             "delta": by_sev["current"].get(s, 0) - by_sev["previous"].get(s, 0)}
                            for s in SEVERITIES],
            "per_day": per_day}


EMPTY_SLA = {"alerts": 0, "tta_met": 0, "tta_decided": 0, "ttr_met": 0, "ttr_decided": 0,
             "breaches": 0}


def _sla(session: Session, where: str, params: dict[str, Any]) -> dict[str, Any]:
    sql = " union all ".join(f"({SLA_PART.format(wk=wk, lo=lo, hi=hi, where=where)})" for wk, lo, hi
                             in (("current", "start", "end"), ("previous", "prev", "start")))
    rows = session.execute(sa.text(sql), params).mappings().all()
    out: dict[str, Any] = {"by_severity": [], "by_severity_previous": []}
    for wk in ("current", "previous"):
        out[wk] = _sla_row(dict(EMPTY_SLA))
    for r in rows:
        row = _sla_row(dict(r))
        if r["overall"]:
            out[r["wk"]] = row
        else:
            out["by_severity" if r["wk"] == "current" else "by_severity_previous"].append(row)
    cur, prev = out["current"], out["previous"]
    out["deltas"] = {k: None if cur[k] is None or prev[k] is None else round(cur[k] - prev[k], 3)
                     for k in ("mtta_s", "mttr_s", "tta_compliance_pct", "ttr_compliance_pct")}
    return out


def _sla_row(r: dict[str, Any]) -> dict[str, Any]:
    rank = r.get("severity_rank")
    out: dict[str, Any] = {"severity": None if rank is None else SEVERITIES[int(rank) - 1]}
    out.update({k: int(r[k] or 0) for k in EMPTY_SLA})
    out["tta_compliance_pct"] = _pct(out["tta_met"], out["tta_decided"])
    out["ttr_compliance_pct"] = _pct(out["ttr_met"], out["ttr_decided"])
    for k in ("mtta_s", "p50_tta_s", "p90_tta_s", "mttr_s", "p50_ttr_s", "p90_ttr_s"):
        out[k] = None if r.get(k) is None else round(float(r[k]), 3)
    return out


def _top(session: Session, where: str, params: dict[str, Any]) -> dict[str, Any]:
    rows = session.execute(sa.text(TOP_SQL.format(where=where)), params).mappings().all()
    out: dict[str, list[dict[str, Any]]] = {"alerts": [], "services": [], "devices": []}
    for r in rows:
        item = {"key": r["key"], "occurrences": int(r["occurrences"]), "alerts": int(r["alerts"])}
        if r["kind"] == "alert":
            item.update(summary=r["summary"], service=r["service"], device_id=r["device_id"],
                        severity=r["severity"])
        out[{"alert": "alerts", "service": "services", "device": "devices"}[r["kind"]]].append(item)
    return out


def _noise(session: Session, where: str, params: dict[str, Any]) -> dict[str, Any]:
    """Raw events -> alerts -> groups -> pages sent, as ``group_stats`` counts them, with
    the report's service or team filter."""
    row = session.execute(sa.text(STATS_SQL.format(extra=where)), params).mappings().one()
    raw, alerts, groups = int(row["raw_events"]), int(row["alerts"]), int(row["groups"])
    sent = sent_pages(session, params["start"], params["end"], where, params)
    return {"raw_events": raw, "alerts": alerts, "groups": groups, "notifications": sent,
            "dedup_reduction_pct": _pct(raw - alerts, raw),
            "noise_reduction_pct": _pct(raw - sent, raw)}


def _notifications(session: Session, where: str, params: dict[str, Any]) -> dict[str, Any]:
    rows = session.execute(sa.text(NOTIFY_SQL.format(where=where)), params).mappings().all()
    by_channel = [{k: (v if k == "channel" else int(v)) for k, v in r.items()} for r in rows]
    return {"queued": sum(r["queued"] for r in by_channel),
            "sent": sum(r["sent"] for r in by_channel),
            "failed": sum(r["failed"] for r in by_channel), "by_channel": by_channel}


def _pct(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 2)
