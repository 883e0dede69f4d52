"""Read side for groups: filtered lists, one group with its members, noise-reduction stats.

Every figure is aggregated in SQL. "Why" is part of each group: the group_by values that
define it and "N of M resolved".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import FieldError, NotFound
from core.lifecycle import ESCALATION_NEXT_AT_SQL, ESCALATION_REASON_SQL, ESCALATION_STATE_SQL
from core.paging import check_page

MAX_LIMIT = 500
STATUSES = ("active", "resolved")
SEVERITY_SQL = ("case g.max_severity_rank when 1 then 'critical' when 2 then 'high' "
                "when 3 then 'medium' when 4 then 'low' else 'info' end")


@dataclass(frozen=True)
class GroupFilter:
    status: str | None = None
    service: str | None = None
    device_id: str | None = None
    start_date: datetime | None = None  # groups seen at or after (last_seen_at >= start)
    end_date: datetime | None = None    # groups that began before (first_seen_at < end)

    def where(self) -> tuple[str, dict[str, Any]]:
        if self.status and self.status not in STATUSES:
            raise FieldError("status", "must be active or resolved")
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise FieldError("end_date", "must be after start_date")
        conds, params = ["g.member_count > 0"], {}
        for name, sql in (("status", "g.status = :status"),
                          ("start_date", "g.last_seen_at >= :start_date"),
                          ("end_date", "g.first_seen_at < :end_date")):
            if getattr(self, name):
                conds.append(sql)
                params[name] = getattr(self, name)
        for name in ("service", "device_id"):
            if getattr(self, name):
                conds.append(f"exists (select 1 from alerts m where m.group_id = g.id "
                             f"and m.{name} = :{name})")
                params[name] = getattr(self, name)
        return " and ".join(conds), params


GROUP_COLS = f"""
    g.id, g.group_key, g.group_by, g.status, g.first_seen_at, g.last_seen_at, g.resolved_at,
    g.notify_at, g.notified_at, g.member_count, g.open_count,
    g.member_count - g.open_count as resolved_count, g.raw_events,
    {SEVERITY_SQL} as max_severity,
    (g.member_count - g.open_count) || ' of ' || g.member_count || ' resolved' as why
"""


def list_groups(session: Session, f: GroupFilter, page: int = 1, limit: int = 50
                ) -> tuple[list[dict[str, Any]], int]:
    """Active groups first (by severity, then newest), then resolved ones, newest first."""
    offset = check_page(page, limit, MAX_LIMIT)
    where, params = f.where()
    rows = session.execute(sa.text(f"""
        select {GROUP_COLS} from alert_groups g where {where}
        order by (g.status = 'active') desc, g.max_severity_rank, g.last_seen_at desc, g.id desc
        limit :limit offset :offset"""), {**params, "limit": limit,
                                          "offset": offset}).mappings().all()
    total = session.scalar(sa.text(f"select count(*) from alert_groups g where {where}"), params)
    return [dict(r) for r in rows], int(total or 0)


def get_group(session: Session, group_id: int) -> dict[str, Any]:
    """One group with its members (most severe open first)."""
    row = session.execute(sa.text(f"select {GROUP_COLS} from alert_groups g where g.id = :i"),
                          {"i": group_id}).mappings().one_or_none()
    if row is None:
        raise NotFound(f"group {group_id} does not exist")
    members = session.execute(sa.text("""
        select id, severity, state, summary, service, device_id, fingerprint, duplicate_count,
               created_at, resolved_at
        from alerts where group_id = :i
        order by (state in ('resolved','closed')), severity_rank, created_at
        limit 1000"""), {"i": group_id}).mappings().all()
    return {**row, "members": [dict(m) for m in members], **incident_paging(session, group_id)}


ESCALATION_SQL = f"""
select e.alert_id as lead_alert_id, {ESCALATION_STATE_SQL} as state,
       {ESCALATION_REASON_SQL} as stopped_reason, e.cycle, e.started_at,
       {ESCALATION_NEXT_AT_SQL} as next_at, e.policy_snapshot ->> 'name' as policy
from alert_escalations e join alerts a on a.id = e.alert_id where e.group_id = :i
"""
PAGED_SQL = """
select count(*) filter (where n.status = 'sent') as sent,
       count(*) filter (where n.status in ('pending', 'sending')) as queued,
       count(*) filter (where n.status = 'cancelled') as cancelled
from notifications n where n.group_id = :i and {pages}
"""


def incident_paging(session: Session, group_id: int) -> dict[str, Any]:
    """The incident's escalation (None if it never started) and its page counts."""
    esc = session.execute(sa.text(ESCALATION_SQL), {"i": group_id}).mappings().one_or_none()
    paged = session.execute(sa.text(PAGED_SQL.format(pages=PAGES)), {"i": group_id}).mappings().one()
    return {"escalation": dict(esc) if esc else None,
            "notifications": {k: int(v) for k, v in paged.items()}}


STATS_SQL = """
select count(*) as alerts,
       coalesce(sum(duplicate_count), 0) as raw_events,
       count(distinct group_id) + count(*) filter (where group_id is null) as groups,
       count(distinct group_id) filter (where group_id is not null) as grouped_groups,
       count(*) filter (where group_id is null) as ungrouped_alerts
from alerts where created_at >= :start and created_at < :end {extra}
"""


# A page (about one alert, or an incident) as the delivery log holds it: not a test
# message, not a PagerDuty follow-up.
PAGES = "coalesce(n.payload ->> 'kind', 'page') in ('page', 'incident')"
SENT_SQL = f"""
select count(*) from notifications n join alerts a on a.id = n.alert_id
where n.created_at >= :start and n.created_at < :end and n.status = 'sent' and {PAGES} {{extra}}
"""


def sent_pages(session: Session, start: datetime, end: datetime, extra: str = "",
               params: dict[str, Any] | None = None) -> int:
    """Pages the delivery log shows as sent in [start, end) (``extra`` filters alias a)."""
    return int(session.scalar(sa.text(SENT_SQL.format(extra=extra)),
                              {"start": start, "end": end, **(params or {})}) or 0)


def group_stats(session: Session, start: datetime, end: datetime,
                service: str | None = None) -> dict[str, Any]:
    """Raw events (every signal, duplicates included) -> alerts (after dedup) -> groups
    (after grouping) -> notifications: the pages the delivery log shows as sent in the
    period (one per target of each escalation step; messages folded into another one to
    the same contact, cancelled and failed ones do not count). Noise reduction = 1 -
    notifications / raw events (below zero when every event reaches several targets)."""
    if end <= start:
        raise FieldError("end", "must be after start")
    extra = "and service = :service" if service else ""
    params = {"start": start, "end": end, "service": service}
    row = session.execute(sa.text(STATS_SQL.format(extra=extra)), params).mappings().one()
    raw, groups = int(row["raw_events"]), int(row["groups"])
    sent = sent_pages(session, start, end, "and a.service = :service" if service else "",
                      {"service": service})
    return {"start": start, "end": end, "service": service, "raw_events": raw,
            "alerts": int(row["alerts"]), "groups": groups, "notifications": sent,
            "dedup_reduction_pct": _pct(raw - int(row["alerts"]), raw),
            "noise_reduction_pct": _pct(raw - sent, raw)}


def _pct(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 2)


SERIES_SQL = """
select date_bin(cast(:bucket as interval), created_at, :origin) as bucket,
       sum(duplicate_count) as raw_events, count(*) as alerts,
       count(distinct group_id) + count(*) filter (where group_id is null) as groups
from alerts where created_at >= :start and created_at < :end {extra}
group by 1 order by 1
"""


def noise_series(session: Session, start: datetime, end: datetime, bucket: timedelta,
                 service: str | None = None) -> list[dict[str, Any]]:
    """Raw events, alerts and groups per time bucket (a group spanning buckets counts in
    each one it has new members in). Empty buckets are left out."""
    if end <= start:
        raise FieldError("end", "must be after start")
    extra = "and service = :service" if service else ""
    rows = session.execute(sa.text(SERIES_SQL.format(extra=extra)), {
        "bucket": bucket, "origin": start, "start": start, "end": end,
        "service": service}).mappings().all()
    return [{k: (int(v) if k != "bucket" else v) for k, v in r.items()} for r in rows]


def group_summary(session: Session, group_id: int) -> dict[str, Any] | None:
    row = session.execute(sa.text(f"select {GROUP_COLS} from alert_groups g where g.id = :i"),
                          {"i": group_id}).mappings().one_or_none()
    return None if row is None else dict(row)
