"""Silences in the database: create, list, expire by hand, and ``apply_silences`` — the
set-based statement that keeps every open alert's ``silence_id`` mark in line with the
silences active at ``now``, appending a 'silence_mark' event whenever a mark changes.

Operators (and above) create and expire silences; everyone can read them. A silence is
never deleted: expiring it records who and when, and releases its alerts at once.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import audit
from core.actor import SYSTEM, WORKER, Actor
from core.errors import Conflict, FieldError, Forbidden, NotFound
from core.lifecycle import OPEN_SQL
from core.paging import check_page
from core.suppression.silences import (
    ACTIVE,
    EXPIRED,
    PENDING,
    STATES,
    Matcher,
    compile_sql,
    parse_matchers,
    parse_silence,
    silence_matchers,
    silence_state,
)
from core.tables import silences

MAX_LIMIT = 500


def check_regexes_in_db(session: Session, matchers: Sequence[Matcher], field: str) -> None:
    """PostgreSQL runs the regexes, so it must accept them too (its dialect differs from
    Python's); FieldError names the matcher. Runs in a savepoint: nothing is left behind."""
    for i, m in enumerate(matchers):
        if m.op not in ("=~", "!~"):
            continue
        try:
            with session.begin_nested():
                session.execute(sa.text("select '' ~ :p"), {"p": m.pattern})
        except sa.exc.DBAPIError as err:
            reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
            raise FieldError(f"{field}[{i}].value",
                             f"is not a valid regular expression for PostgreSQL: {reason}") from None


def create_silence(session: Session, body: Mapping[str, Any], actor: Actor,
                   now: datetime) -> dict[str, Any]:
    """Validate, store, and mark the matching open alerts if it is already active."""
    if not actor.can("operator"):
        raise Forbidden(f"{actor.name} may not create silences (operator role needed)")
    new = parse_silence(body, now)
    check_regexes_in_db(session, new.matchers, "matchers")
    silence_id = session.scalar(sa.insert(silences).values(
        matchers=[m.as_json() for m in new.matchers], starts_at=new.starts_at,
        ends_at=new.ends_at, created_by=actor.name, comment=new.comment, created_at=now,
    ).returning(silences.c.id))
    apply_silences(session, now, actor=actor)
    after = get_silence(session, int(silence_id or 0), now)
    audit.record(session, actor, "silence", silence_id, "create", None, after, now)
    return after


PREVIEW_LIMIT, MAX_PREVIEW = 20, 100
# The predicate is the one apply_silences compiles, over the open alerts only (their partial
# indexes); the window count is taken before the limit, so it is every match.
PREVIEW_SQL = f"""
select a.id, a.severity, a.state, a.service, a.device_id, a.summary, a.silence_id,
       count(*) over () as total
from alerts a where a.state in {OPEN_SQL} and {{pred}}
order by a.severity_rank, a.created_at desc, a.id desc limit :limit
"""


def preview_silence(session: Session, matchers: object, limit: int = PREVIEW_LIMIT
                    ) -> dict[str, Any]:
    """What a silence with these matchers would mute now: how many open alerts match, and
    the first ``limit`` (most severe, then newest), each with the silence that already
    mutes it, if any (the one ending last keeps an alert). Checked as ``create_silence``
    checks matchers (FieldError naming the matcher); nothing is written."""
    if not 0 < limit <= MAX_PREVIEW:
        raise FieldError("limit", f"must be between 1 and {MAX_PREVIEW}")
    parsed = silence_matchers(matchers)
    check_regexes_in_db(session, parsed, "matchers")
    pred, params = compile_sql(parsed, "p")
    rows = session.execute(sa.text(PREVIEW_SQL.format(pred=pred)),
                           {**params, "limit": limit}).mappings().all()
    return {"matching_open_alerts": int(rows[0]["total"]) if rows else 0, "limit": limit,
            "alerts": [{k: r[k] for k in r.keys() if k != "total"} for r in rows]}


def expire_silence(session: Session, silence_id: int, actor: Actor,
                   now: datetime) -> dict[str, Any]:
    """End a pending or active silence now (404 unknown, 409 already expired); its alerts
    are released in the same transaction."""
    if not actor.can("operator"):
        raise Forbidden(f"{actor.name} may not expire silences (operator role needed)")
    row = session.execute(sa.select(silences).where(silences.c.id == silence_id)
                          .with_for_update()).one_or_none()
    if row is None:
        raise NotFound(f"silence {silence_id} does not exist")
    if silence_state(row.starts_at, row.ends_at, row.expired_at, now) == EXPIRED:
        raise Conflict(f"silence {silence_id} has already expired")
    before = get_silence(session, silence_id, now)
    session.execute(sa.update(silences).where(silences.c.id == silence_id)
                    .values(expired_at=now, expired_by=actor.name))
    apply_silences(session, now, actor=actor)
    after = get_silence(session, silence_id, now)
    audit.record(session, actor, "silence", silence_id, "expire", before, after, now)
    return after


LIST_SQL = f"""
select s.*, (select count(*) from alerts a where a.silence_id = s.id and a.state in {OPEN_SQL})
            as alerts
from silences s where {{where}}
order by s.created_at desc, s.id desc
"""
STATE_SQL = {
    ACTIVE: "s.expired_at is null and s.starts_at <= :now and s.ends_at > :now",
    PENDING: "s.expired_at is null and s.starts_at > :now and s.ends_at > :now",
    EXPIRED: "(s.expired_at is not null or s.ends_at <= :now)",
}


def list_silences(session: Session, now: datetime, state: str | None = None, page: int = 1,
                  limit: int = 100) -> tuple[list[dict[str, Any]], int]:
    """Newest first, optionally only active | pending | expired at ``now``; each with its
    state and how many open alerts it marks."""
    if state is not None and state not in STATES:
        raise FieldError("state", f"must be one of {', '.join(STATES)}")
    offset = check_page(page, limit, MAX_LIMIT)
    where = STATE_SQL[state] if state else "true"
    params = {"now": now, "limit": limit, "offset": offset}
    rows = session.execute(sa.text(LIST_SQL.format(where=where) + " limit :limit offset :offset"),
                           params).mappings().all()
    total = session.scalar(sa.text(f"select count(*) from silences s where {where}"), params)
    return [_silence_json(r, now) for r in rows], int(total or 0)


def get_silence(session: Session, silence_id: int, now: datetime) -> dict[str, Any]:
    row = session.execute(sa.text(LIST_SQL.format(where="s.id = :id")),
                          {"id": silence_id}).mappings().one_or_none()
    if row is None:
        raise NotFound(f"silence {silence_id} does not exist")
    return _silence_json(row, now)


def _silence_json(row: Any, now: datetime) -> dict[str, Any]:
    out = dict(row)
    out["state"] = silence_state(row["starts_at"], row["ends_at"], row["expired_at"], now)
    return out


APPLY_SQL = f"""
with scope as (
    select a.id, a.state, a.silence_id, a.labels, a.service, a.device_id, a.severity, a.source
    from alerts a where a.state in {OPEN_SQL} {{scope}}
), hits as ({{hits}}
), pick as (
    select distinct on (h.id) h.id, h.silence_id from hits h join silences s on s.id = h.silence_id
    order by h.id, s.ends_at desc, s.id desc
), changed as (
    select a.id, a.silence_id as old, p.silence_id as new
    from scope a left join pick p on p.id = a.id
    where a.silence_id is distinct from p.silence_id
), locked as (
    select a.id from alerts a join changed c on c.id = a.id order by a.id
    for no key update of a skip locked  -- FK checks (key share) of others never wait on it
), upd as (
    update alerts a set silence_id = c.new, updated_at = greatest(a.updated_at, :now)
    from changed c join locked l on l.id = c.id
    where a.id = c.id and a.silence_id is not distinct from c.old and a.state in {OPEN_SQL}
    returning a.id, a.state, c.old, c.new
), ev as (
    insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
    select u.id, :now, :actor, :source, 'silence_mark', u.state, u.state,
           case when u.new is not null then
               format('silenced by silence #%s (%s, until %s): %s', ns.id, ns.created_by,
                      to_char(ns.ends_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), ns.comment)
           else format('silence #%s no longer applies: %s', os.id,
                       case when os.expired_at is not null then 'expired by ' || os.expired_by
                            when os.ends_at <= :now then 'it ended'
                            else 'the alert no longer matches' end) end,
           jsonb_build_object('action', case when u.new is null then 'release' else 'mark' end,
                              'silence_id', u.new, 'previous_silence_id', u.old)
    from upd u left join silences ns on ns.id = u.new left join silences os on os.id = u.old
)
select count(*) from upd
"""
NO_HITS = "select null::bigint as silence_id, null::bigint as id where false"


ACTIVE_SQL = """
select id, matchers from silences
where expired_at is null and starts_at <= :now and ends_at > :now order by id
"""


def apply_silences(session: Session, now: datetime, alert_ids: Sequence[int] | None = None,
                   actor: Actor = SYSTEM, release: bool = True,
                   active: Sequence[tuple[int, Any]] | None = None) -> int:
    """Set ``silence_id`` on the open alerts (all, or just ``alert_ids``) that an active
    silence matches — the one ending last — and clear it where none does; one statement,
    the active silences compiled into its predicates. Rows another transaction holds are
    skipped (the next worker tick catches up). Returns how many marks changed.
    ``release=False`` (ingest, when the alerts are new or counted, none reopened): with no
    active silence, do nothing rather than look for stale marks to clear. ``active``: the
    (id, matchers) of the silences active at ``now`` when the caller has read them
    already (ingest reads them with its other settings in one round trip)."""
    if active is None:
        active = [(r.id, r.matchers) for r in session.execute(sa.text(ACTIVE_SQL), {"now": now})]
    params: dict[str, Any] = {"now": now, "actor": actor.name, "source": actor.source}
    hits: list[str] = []
    for sid, matchers in active:
        pred, pred_params = compile_sql(parse_matchers(matchers), f"s{sid}")
        hits.append(f"select cast(:s{sid} as bigint) as silence_id, a.id from scope a "
                    f"where {pred}")
        params.update(pred_params, **{f"s{sid}": sid})
    if not hits and not release:
        return 0
    scope = "" if hits else "and a.silence_id is not null"
    if alert_ids is not None:
        scope += " and a.id = any(cast(:ids as bigint[]))"
        params["ids"] = list(alert_ids)
    sql = APPLY_SQL.format(scope=scope, hits="\n    union all ".join(hits) or NO_HITS)
    return int(session.scalar(sa.text(sql), params) or 0)


def silences_tick(session: Session, now: datetime) -> int:
    """Worker job: pending silences start and ended ones stop muting as time passes."""
    return apply_silences(session, now, actor=WORKER)
