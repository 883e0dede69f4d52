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
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"must be between 1 and {MAX_LIMIT}")
    if page < 1:
        raise FieldError("page", "must be 1 or more")
    where, params = f.where()
    rows = session.execute(sa.text(f"""
        select {GROUP_COLS} from alert_groups g where {where}
        order by (g.status = 'active') desc, g.max_severity_rank, g.last_seen_at desc, g.id desc
        limit :limit offset :offset"""), {**params, "limit": limit,
                                          "offset": (page - 1) * limit}).mappings().all()
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
    return {**row, "members": [dict(m) for m in members]}


STATS_SQL = """
select count(*) as alerts,
       coalesce(sum(duplicate_count), 0) as raw_events,
       count(distinct group_id) + count(*) filter (where group_id is null) as groups,
       count(distinct group_id) filter (where group_id is not null) as grouped_groups,
       count(*) filter (where group_id is null) as ungrouped_alerts
from alerts where created_at >= :start and created_at < :end {extra}
"""


def group_stats(session: Session, start: datetime, end: datetime,
                service: str | None = None) -> dict[str, Any]:
    """Raw events (every signal, duplicates included) -> alerts (after dedup) -> groups
    (after grouping) -> notifications that would be sent (one per group; an ungrouped
    alert notifies on its own). Noise reduction = 1 - notifications / raw events."""
    if end <= start:
        raise FieldError("end", "must be after start")
    extra = "and service = :service" if service else ""
    row = session.execute(sa.text(STATS_SQL.format(extra=extra)),
                          {"start": start, "end": end, "service": service}).mappings().one()
    raw, groups = int(row["raw_events"]), int(row["groups"])
    return {"start": start, "end": end, "service": service, "raw_events": raw,
            "alerts": int(row["alerts"]), "groups": groups, "notifications": groups,
            "dedup_reduction_pct": _pct(raw - int(row["alerts"]), raw),
            "noise_reduction_pct": _pct(raw - groups, raw)}


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
