"""Grouping in the database: assign a batch's alerts to groups (set-based), backfill.

Assignment for a batch: a fingerprint that already has an open alert stays in that
alert's group; the rest are keyed by their group_by values. Per key (under a transaction
advisory lock, taken in key order so concurrent batches cannot both open a group): the
latest group seen within the window is reused, else a new one is opened. The ingest
upsert counts new members and signals (core/ingest/sql.py); state changes are counted by
the update trigger of migration 0003.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.grouping import rules as grouping
from core.lifecycle import OPEN_SQL
from core.tables import settings


def load_config(session: Session) -> grouping.GroupingConfig:
    return grouping.config_from_setting(
        session.scalar(sa.select(settings.c.value).where(settings.c.key == "grouping")))


# The latest group of each key seen since :group_since: the batch lookup reads it with its
# other lookups (core/ingest/sql.py), ``_open_groups`` again under the key's lock.
LATEST_SQL = """
select distinct on (g.group_key) g.group_key, g.id from alert_groups g
where g.group_key = any(cast(:keys as text[])) and g.last_seen_at >= :group_since
order by g.group_key, g.id desc
"""

CREATE_SQL = """
insert into alert_groups (group_key, group_by, status, first_seen_at, last_seen_at, notify_at)
select x.group_key, x.group_by, 'active', :now, :now, :now
from jsonb_to_recordset(cast(:rows as jsonb)) as x(group_key text, group_by jsonb)
order by x.group_key
returning group_key, id
"""


def assign(session: Session, keyed: dict[str, tuple[str, dict[str, str]]],
           known: dict[str, int], latest: dict[str, int], since: datetime,
           now: datetime) -> dict[str, int]:
    """fingerprint -> group id. A fingerprint with an open alert (``known``) stays in that
    alert's group; the rest join the latest group of their key seen since ``since``
    (``latest``, read with the batch's other lookups) or open one. Takes only advisory
    locks (per new group key, in key order) and inserts new groups; the group rows are
    updated once, by the upsert (core/ingest/sql.py)."""
    group_of = dict(known)
    missing: dict[str, dict[str, Any]] = {}
    for fp, (key, values) in keyed.items():
        if fp in group_of:
            continue
        if key in latest:
            group_of[fp] = latest[key]
        else:
            missing.setdefault(key, {"group_key": key, "group_by": values})
    if missing:
        opened = _open_groups(session, missing, since, now)
        for fp, (key, _) in keyed.items():
            if fp not in group_of:
                group_of[fp] = latest.get(key) or opened[key]
    return group_of


def _open_groups(session: Session, keyed: dict[str, dict[str, Any]], since: datetime,
                 now: datetime) -> dict[str, int]:
    """Group id per key that had no live group: under a transaction advisory lock per key
    (in key order), look again — a concurrent batch may have opened it — else create it.
    Joining an existing group needs no lock, so steady traffic never queues here."""
    keys = sorted(keyed)
    session.execute(sa.text("select pg_advisory_xact_lock(hashtextextended(k, 7231)) "
                            "from unnest(cast(:keys as text[])) as k order by k"),
                    {"keys": keys})
    ids = {r.group_key: r.id for r in session.execute(
        sa.text(LATEST_SQL), {"keys": keys, "group_since": since})}
    new = [keyed[k] for k in keys if k not in ids]
    if new:
        ids.update({r.group_key: r.id for r in session.execute(
            sa.text(CREATE_SQL), {"rows": json.dumps(new), "now": now})})
    return ids


ALERTNAME_SQL = ("coalesce(nullif(a.labels->>'alertname', ''), nullif(a.labels->>'event', ''), "
                 "a.summary)")


BACKFILL_SQL = """
with keyed as (
    select a.id, a.created_at, a.last_seen_at, a.resolved_at, a.duplicate_count, a.severity_rank,
           a.state in {open} as is_open,
           {values} as gb
    from alerts a where a.group_id is null
), hashed as (
    select k.*, left(encode(sha256(convert_to((select string_agg(e.key || '=' || e.value,
           chr(31) order by e.key) from jsonb_each_text(k.gb) e), 'UTF8')), 'hex'), 32) as gk
    from keyed k
), gaps as (
    select h.*, case when lag(h.last_seen_at) over w is null
                      or h.created_at - max(h.last_seen_at) over wp > :window then 1 else 0 end as brk
    from hashed h
    window w as (partition by h.gk order by h.created_at, h.id),
           wp as (partition by h.gk order by h.created_at, h.id
                  rows between unbounded preceding and 1 preceding)
), sess as (
    select g.*, sum(g.brk) over (partition by g.gk order by g.created_at, g.id) as sid from gaps g
), agg as (
    select gk, sid, min(gb::text)::jsonb as gb, min(created_at) as first_seen,
           max(last_seen_at) as last_seen, count(*) as members,
           count(*) filter (where is_open) as open, min(severity_rank) as rank,
           sum(duplicate_count) as raw, max(resolved_at) as resolved
    from sess group by gk, sid
), ins as (
    insert into alert_groups (group_key, group_by, status, first_seen_at, last_seen_at,
        resolved_at, notify_at, notified_at, member_count, open_count, max_severity_rank,
        raw_events)
    select gk, gb, case when open > 0 then 'active' else 'resolved' end, first_seen, last_seen,
           case when open > 0 then null else coalesce(resolved, last_seen) end,
           first_seen, first_seen, members, open, rank, raw
    from agg order by first_seen
    returning id, group_key, first_seen_at
)
update alerts a set group_id = ins.id
from sess s join ins on ins.group_key = s.gk and ins.first_seen_at = (
    select first_seen from agg where agg.gk = s.gk and agg.sid = s.sid)
where a.id = s.id
"""


def backfill(session: Session) -> int:
    """Group every alert that has no group yet (history loaded in bulk: demo data, imports)
    with the current settings, in one statement; returns the alerts grouped. Backfilled
    groups count as already notified."""
    config = load_config(session)
    params: dict[str, Any] = {"window": config.window}
    parts = []
    for i, name in enumerate(config.group_by):
        params[f"k{i}"] = name
        if name in grouping.FIELDS:
            expr = f"a.{name}"
        elif name == "alertname":
            expr = ALERTNAME_SQL
        else:
            expr = f"coalesce(a.labels->>cast(:k{i} as text), '')"
        parts.append(f"cast(:k{i} as text), {expr}")
    sql = BACKFILL_SQL.format(open=OPEN_SQL, values="jsonb_build_object(" + ", ".join(parts) + ")")
    return int(getattr(session.execute(sa.text(sql), params), "rowcount", 0) or 0)
