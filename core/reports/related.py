"""Related alerts: the alerts that fire together with a given one, scored by history.

Candidates: every other alert of the same group (``group_id``), and every alert created
within ``window_s`` seconds either side of the given alert's ``created_at``; alerts with
the given alert's own fingerprint are recurrences of it, not related alerts, and are left
out.

Score (``co_occurrences``): of the given fingerprint's latest ``HISTORY`` alerts (its
history, this one included), how many had an alert of the candidate's fingerprint created
within ``window_s`` of them. ``confidence`` is that count over the history examined
(``history``), so 1.0 means "whenever this fired, that fired too". A same-group alert
outside the window may score 0.

Order: ``co_occurrences`` descending, same group first, the closest in time, then id.

Cost: the history side is bounded (``HISTORY`` occurrences x the alerts of a window, by
``alerts_fingerprint_latest`` and ``alerts_created_at``), the candidates by the window and
the group (``alerts_group``); nothing scans the table.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import FieldError, NotFound

HISTORY = 500
MAX_WINDOW_S = 86_400
MAX_LIMIT = 200

# The given alert's values are bound parameters (not a CTE), so the planner sees the real
# window and picks the index range scans (with a CTE it guessed 10 % of the table).
RELATED_SQL = """
with cand as (
    select id from alerts where created_at between :lo and :hi
    union
    select id from alerts where group_id = :group_id
), related as (
    select a.*, coalesce(a.group_id = :group_id, false) as same_group,
           extract(epoch from a.created_at - :at) as offset_s
    from alerts a join cand using (id)
    where a.fingerprint <> :fingerprint
), hist as (
    select id, created_at from alerts where fingerprint = :fingerprint
    order by id desc limit :history
), co as (
    -- per occurrence, a range scan of its window ("offset 0" keeps the planner from
    -- reading every row of the candidates' fingerprints instead, unbounded for noisy ones)
    select x.fingerprint, count(distinct h.id) as co_occurrences
    from hist h cross join lateral (
        select fingerprint from alerts
        where created_at between h.created_at - :w and h.created_at + :w offset 0) x
    where x.fingerprint in (select fingerprint from related)
    group by x.fingerprint
)
select r.id, r.fingerprint, r.service, r.device_id, r.severity, r.state, r.summary,
       r.created_at, r.group_id, r.same_group, r.offset_s,
       coalesce(co.co_occurrences, 0) as co_occurrences,
       (select count(*) from hist) as history, count(*) over () as total
from related r left join co using (fingerprint)
order by co_occurrences desc, r.same_group desc, abs(r.offset_s), r.id
limit :limit
"""
ME_SQL = """select id, fingerprint, group_id, created_at, summary, service, severity
from alerts where id = :id"""


def related_alerts(session: Session, alert_id: int, window_s: int = 300,
                   limit: int = 50) -> dict[str, Any]:
    """The alert, the history examined, and its related alerts (see the module):
    ``{"alert": {...}, "window_s", "history", "total", "data": [...]}``."""
    if not 0 < window_s <= MAX_WINDOW_S:
        raise FieldError("window_s", f"must be between 1 and {MAX_WINDOW_S} seconds")
    if not 0 < limit <= MAX_LIMIT:
        raise FieldError("limit", f"must be between 1 and {MAX_LIMIT}")
    me = session.execute(sa.text(ME_SQL), {"id": alert_id}).mappings().one_or_none()
    if me is None:
        raise NotFound(f"alert {alert_id} not found")
    w = timedelta(seconds=window_s)
    rows = session.execute(sa.text(RELATED_SQL), {
        "lo": me["created_at"] - w, "hi": me["created_at"] + w, "at": me["created_at"],
        "group_id": me["group_id"], "fingerprint": me["fingerprint"], "w": w,
        "history": HISTORY, "limit": limit}).mappings().all()
    history = int(rows[0]["history"]) if rows else _history(session, str(me["fingerprint"]))
    return {"alert": dict(me), "window_s": window_s, "history": history,
            "total": int(rows[0]["total"]) if rows else 0,
            "data": [_related(r, history) for r in rows]}


def _history(session: Session, fingerprint: str) -> int:
    return int(session.scalar(sa.text(
        "select count(*) from (select 1 from alerts where fingerprint = :f limit :h) h"),
        {"f": fingerprint, "h": HISTORY}) or 0)


def _related(r: Any, history: int) -> dict[str, Any]:
    co = int(r["co_occurrences"])
    return {"id": int(r["id"]), "fingerprint": r["fingerprint"], "service": r["service"],
            "device_id": r["device_id"], "severity": r["severity"], "state": r["state"],
            "summary": r["summary"], "created_at": r["created_at"], "group_id": r["group_id"],
            "same_group": bool(r["same_group"]), "offset_s": round(float(r["offset_s"]), 3),
            "co_occurrences": co, "confidence": round(co / history, 3) if history else None}
