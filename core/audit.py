"""The audit trail: configuration changes (who, when, before → after) in ``audit_log``,
read together with alert actions from ``alert_events`` as one searchable stream.

``record`` is called by each store in the same transaction as the change it describes, so a
refused or rolled-back change leaves no row. Secrets never reach a row: sealed target
values are masked as on the API (``secret.public_target``) and password/API-key hashes are
dropped (a password change is recorded as ``"password": "changed"``).
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import csvstream
from core.actor import SYSTEM, Actor
from core.clock import ensure_utc
from core.errors import FieldError
from core.paging import check_page
from core.secret import public_target
from core.tables import audit_log

ENTITIES = ("sla_policy", "setting", "escalation_policy", "oncall_schedule", "oncall_override",
            "silence", "inhibition_rule", "user", "api_key", "retention")  # retention: 0013
HIDDEN = frozenset({"password", "password_hash", "key", "key_hash", "token", "secret_key"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def mask(value: Any) -> Any:
    """``value`` as JSON fit for the audit log: hashes and clear secrets dropped, sealed
    values masked, times as ISO-8601 text."""
    if isinstance(value, Mapping):
        shown = public_target({str(k): v for k, v in value.items() if str(k) not in HIDDEN})
        return {k: mask(v) for k, v in shown.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return json.loads(json.dumps(value, default=_plain))


def record(session: Session, actor: Actor | None, entity: str, entity_id: object, action: str,
           before: Mapping[Any, Any] | None, after: Mapping[Any, Any] | None,
           now: datetime | None, note: str | None = None) -> None:
    """Append one audit row. ``actor`` None: the system (first-start bootstrap, the CLI);
    ``now`` None: the transaction's time (for callers that were never given a ``now``)."""
    who = actor or SYSTEM
    session.execute(audit_log.insert().values(
        at=sa.func.now() if now is None else now, actor=who.name, actor_role=who.role,
        source=who.source, entity=entity, entity_id=str(entity_id), action=action,
        before=None if before is None else mask(before),
        after=None if after is None else mask(after), note=note))


# -- reading: config changes and alert actions as one stream ---------------------------------

STREAM_ENTITIES = ("alert", *ENTITIES)
CONFIG = "config"  # entity filter: every configuration change, no alert actions
MAX_LIMIT = 500
COUNT_CAP = 10_000
COLUMNS = ("at", "actor", "actor_role", "source", "entity", "entity_id", "action", "changes",
           "note", "before", "after", "metadata")
NOISE = frozenset({"updated_at", "updated_by", "created_at", "created_by"})

CONFIG_SQL = """select 'config' as stream, id, at, actor, actor_role, source, entity, entity_id,
       action, before, after, note, null::jsonb as metadata from audit_log"""
# Bookkeeping keys of an alert event's metadata (shown as action/before/after already); the
# rest is what the caller sent with the action or note ("metadata" in the request body).
EVENT_KEYS = ("action", "rule", "actor_role", "from", "to")
# The actor's role: recorded on the event since alert actions carry it (core.alerts.store);
# older events: the API key's role (actor "key:<name>") or the user's current role.
EVENT_ROLE = """coalesce(e.metadata->>'actor_role', case when e.actor like 'key:%'
    then (select k.role from api_keys k where k.name = substr(e.actor, 5) order by k.id desc limit 1)
    else (select u.role from users u where u.username = e.actor) end)"""
EVENTS_SQL = f"""select 'alert' as stream, e.id, e.at, e.actor, {EVENT_ROLE} as actor_role, e.source,
       'alert'::text as entity, e.alert_id::text as entity_id,
       case when e.kind = 'transition' then coalesce(e.metadata->>'action', 'transition')
            else e.kind end as action,
       case e.kind when 'transition' then jsonb_build_object('state', e.from_state)
                   when 'assign' then jsonb_build_object('assignee', e.metadata->'from') end
           as before,
       case e.kind when 'transition' then jsonb_build_object('state', e.to_state)
                   when 'assign' then jsonb_build_object('assignee', e.metadata->'to') end
           as after,
       e.note, nullif(e.metadata - array{list(EVENT_KEYS)}, '{{}}'::jsonb) as metadata
from alert_events e where e.kind in ('transition', 'note', 'assign')"""
ORDER = "order by at desc, stream desc, id desc"


@dataclass(frozen=True)
class AuditFilter:
    """Search text (entity, id, actor, action, note, before/after), exact actor, entity
    (one of STREAM_ENTITIES, or "config"), and the period [start, end)."""
    q: str | None = None
    actor: str | None = None
    entity: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def normalize(self) -> AuditFilter:
        entity = (self.entity or "").strip() or None
        if entity is not None and entity not in (*STREAM_ENTITIES, CONFIG):
            raise FieldError("entity", f"must be one of {', '.join((*STREAM_ENTITIES, CONFIG))}")
        start, end = (None if t is None else ensure_utc(t, name)
                      for t, name in ((self.start, "start"), (self.end, "end")))
        if start is not None and end is not None and end <= start:
            raise FieldError("end", "must be after start")
        return AuditFilter((self.q or "").strip() or None, (self.actor or "").strip() or None,
                           entity, start, end)


def _where(f: AuditFilter) -> tuple[str, dict[str, Any]]:
    conds, params = ["true"], {}
    if f.q:
        params["q"] = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append("concat_ws(' ', b.entity, b.entity_id, b.actor, b.action, b.note, "
                     "b.before::text, b.after::text, b.metadata::text) ilike :q")
    for name, cond in (("actor", "b.actor = :actor"), ("start", "b.at >= :start"),
                       ("end", "b.at < :end")):
        if getattr(f, name) is not None:
            conds.append(cond)
            params[name] = getattr(f, name)
    if f.entity not in (None, CONFIG):
        conds.append("b.entity = :entity")
        params["entity"] = f.entity
    return " and ".join(conds), params


def _branches(f: AuditFilter) -> list[str]:
    return [sql for sql, stream in ((CONFIG_SQL, "config"), (EVENTS_SQL, "alert"))
            if f.entity is None or (stream == "alert") == (f.entity == "alert")]


def _union(f: AuditFilter, upto: int | None) -> tuple[str, dict[str, Any]]:
    """The stream as one statement; with ``upto`` each branch stops after that many rows."""
    where, params = _where(f)
    cap = "" if upto is None else f" {ORDER} limit {int(upto)}"
    parts = [f"(select * from ({sql}) b where {where}{cap})" for sql in _branches(f)]
    return f"select * from ({' union all '.join(parts)}) u {ORDER}", params


class AuditPage(NamedTuple):
    rows: list[dict[str, Any]]
    total: int     # entries matching, counted up to COUNT_CAP
    capped: bool   # True: more than COUNT_CAP match (total is COUNT_CAP)


def search(session: Session, filters: AuditFilter, page: int = 1, limit: int = 50) -> AuditPage:
    """One page of the stream, newest first, and how many entries match. The count stops
    at COUNT_CAP: the alert actions of a busy site are millions of rows, and a count
    that reads them all (or matches search text in each) would cost seconds per page."""
    offset = check_page(page, limit, MAX_LIMIT)
    f = filters.normalize()
    sql, params = _union(f, page * limit)
    rows = session.execute(sa.text(f"{sql} limit :limit offset :offset"),
                           {**params, "limit": limit, "offset": offset}).mappings()
    where, _ = _where(f)
    total = sum(int(session.scalar(sa.text(
        f"select count(*) from (select 1 from ({b}) b where {where} limit {COUNT_CAP + 1}) c"),
        params) or 0) for b in _branches(f))
    return AuditPage([_entry(r) for r in rows], min(total, COUNT_CAP), total > COUNT_CAP)


def _entry(row: Mapping[Any, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("at", "actor", "actor_role", "source", "entity", "entity_id",
                               "action", "before", "after", "note", "metadata")}
    out["changes"] = changes(row["before"], row["after"])
    return out


def _show(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True)
    return text if len(text) <= width else text[:width - 1] + "…"


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """Before → after, readable: the changed keys only (bookkeeping keys left out)."""
    old, new = dict(before or {}), dict(after or {})
    keys = [k for k in sorted(set(old) | set(new)) if k not in NOISE and old.get(k) != new.get(k)]
    if before is None:
        return "; ".join(f"{k}: {_show(new[k])}" for k in keys)
    if after is None:
        return "; ".join(f"{k}: {_show(old[k])} → (deleted)" for k in keys)
    return "; ".join(f"{k}: {_show(old.get(k))} → {_show(new.get(k))}" for k in keys)


def iter_csv(engine: sa.Engine, filters: AuditFilter) -> Iterator[str]:
    """The whole stream matching ``filters`` as CSV (COLUMNS), streamed in batches."""
    sql, params = _union(filters.normalize(), None)
    stmt = sa.text(sql).bindparams(**params)
    return csvstream.stream(engine, stmt, COLUMNS, lambda r: [
        csvstream.cell(v) for v in (r.at, r.actor, r.actor_role, r.source, r.entity,
                                    r.entity_id, r.action, changes(r.before, r.after), r.note,
                                    r.before, r.after, r.metadata)])
