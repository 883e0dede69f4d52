"""One ingest path for every source (REST, generic webhook, Alertmanager, anomalies):
validate the whole batch, then a fixed number of set-based statements whatever its size.

A batch is all or nothing: one bad alert refuses the request with the field named
(``alerts[3].severity``) and nothing is stored, so a sender can fix and resend it whole
without creating half of it twice. Within a batch the last signal per fingerprint decides
its status and firing repeats are counted, so the statements never touch a row twice.

Statements, in order (each over the whole batch):
1. resolve: open alerts whose fingerprint is reported resolved -> resolved (source
   resolution: it stops the clocks but is not a human response), with events;
2. reopen: a fingerprint firing again within the flap window reopens its latest alert
   (resolved, not closed) instead of opening a new one;
3. upsert: ``INSERT .. ON CONFLICT`` on the unique partial index (one open alert per
   fingerprint) creates alerts or counts duplicates, and writes the ``created`` events.
Rows are fed in fingerprint order, so concurrent batches lock rows in the same order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import grouping_store, sla
from core.actor import Actor
from core.alerts import AlertIn
from core.errors import FieldError
from core.inhibition_store import apply_marks
from core.sla_store import load_targets

FIRING, RESOLVED = "firing", "resolved"
MAX_BATCH = 10_000
DEFAULT_FLAP_WINDOW = timedelta(minutes=5)
OPEN = "('new','acknowledged','investigating','silenced')"


@dataclass(frozen=True)
class Signal:
    """One alert as a source reports it: firing (create or count) or resolved."""

    alert: AlertIn
    status: str = FIRING


@dataclass(frozen=True)
class BatchResult:
    created: list[int]
    deduplicated: list[int]
    reopened: list[int]
    resolved: list[int]
    unmatched_resolved: int  # resolved signals with no open alert (already resolved, unknown)
    ids: dict[str, int]      # fingerprint -> alert id, for every signal that matched an alert

    def summary(self) -> dict[str, int]:
        return {"created": len(self.created), "deduplicated": len(self.deduplicated),
                "reopened": len(self.reopened), "resolved": len(self.resolved),
                "unmatched_resolved": self.unmatched_resolved}


def prepare(signals: list[Signal], field: str | None = "alerts"
            ) -> list[tuple[AlertIn, str, int]]:
    """Validate every signal (FieldError names ``alerts[i].field``; just ``field`` when
    ``field`` is None), then collapse by fingerprint: (alert, last status, firing count),
    sorted by fingerprint."""
    if len(signals) > MAX_BATCH:
        raise FieldError(field or "alerts",
                         f"at most {MAX_BATCH} alerts per request ({len(signals)} sent)")
    merged: dict[str, tuple[AlertIn, str, int]] = {}
    for i, signal in enumerate(signals):
        where = f"{field}[{i}]." if field else ""
        if signal.status not in (FIRING, RESOLVED):
            raise FieldError(f"{where}status", "must be firing or resolved")
        try:
            alert = signal.alert.normalize()
        except FieldError as err:
            raise FieldError(f"{where}{err.field}", err.message) from None
        key = alert.dedup_key()
        alert = replace(alert, fingerprint=key)  # later steps read it instead of re-hashing
        _, _, count = merged.get(key, (alert, FIRING, 0))
        merged[key] = (alert, signal.status, count + (signal.status == FIRING))
    return [merged[k] for k in sorted(merged)]


def ingest_batch(session: Session, signals: list[Signal], actor: Actor, now: datetime,
                 flap_window: timedelta | None = None,
                 field: str | None = "alerts") -> BatchResult:
    """Apply a batch of signals in the caller's transaction (see the module docstring).
    ``flap_window`` None: the ``flap_window_s`` setting."""
    items = prepare(signals, field)
    if flap_window is None:
        flap_window = _flap_window(session)
    resolving = [a.dedup_key() for a, status, _ in items if status == RESOLVED]
    firing = [(a, n) for a, status, n in items if status == FIRING]
    resolved = _resolve(session, resolving, actor, now) if resolving else {}
    reopened = _reopen(session, [a.dedup_key() for a, _ in firing], actor, now,
                       flap_window) if firing and flap_window > timedelta(0) else {}
    groups = grouping_store.assign(session, firing, now) if firing else None
    upserted = _upsert(session, firing, groups.group_of, actor, now) if groups else []
    if groups:
        grouping_store.touch(session, groups, now)
    ids = {**resolved, **{fp: i for fp, i, _ in upserted}}
    reopened_ids = set(reopened.values())
    touched = [i for _, i, new in upserted if new] + [*reopened_ids, *resolved.values()]
    # Label silences, same transaction. Only a reopened alert can carry a stale mark to
    # clear; without one, and with no silence active, no statement is needed.
    apply_marks(session, now, touched, release=bool(reopened_ids))
    return BatchResult(
        created=[i for _, i, new in upserted if new],
        deduplicated=[i for _, i, new in upserted if not new and i not in reopened_ids],
        reopened=sorted(reopened_ids), resolved=sorted(resolved.values()),
        unmatched_resolved=len(resolving) - len(resolved), ids=ids)


def _flap_window(session: Session) -> timedelta:
    value = session.scalar(sa.text("select value from settings where key = 'flap_window_s'"))
    return DEFAULT_FLAP_WINDOW if value is None else timedelta(seconds=int(value))


def _event_meta(action: str, rule: str) -> str:
    return json.dumps({"action": action, "rule": rule})


RESOLVE_SQL = f"""
with tgt as (
    select a.id, a.fingerprint, a.state from alerts a
    where a.fingerprint = any(cast(:fps as text[])) and a.state in {OPEN}
    order by a.id for update
), upd as (
    update alerts a set state = 'resolved', resolved_at = :now, updated_at = :now,
           silenced_until = null, state_before_silence = null, last_seen_at = :now
    from tgt where a.id = tgt.id
    returning a.id, a.fingerprint, tgt.state as from_state
), ev as (
    insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
    select id, :now, :actor, :source, 'transition', from_state, 'resolved',
           'resolved by the source', cast(:meta as jsonb) from upd
)
select fingerprint, id from upd
"""


def _resolve(session: Session, fps: list[str], actor: Actor, now: datetime) -> dict[str, int]:
    rows = session.execute(sa.text(RESOLVE_SQL), {
        "fps": fps, "now": now, "actor": actor.name, "source": actor.source,
        "meta": _event_meta("resolve", "RES-SRC")}).all()
    return {r.fingerprint: r.id for r in rows}


REOPEN_SQL = f"""
with latest as (
    select (select a.id from alerts a where a.fingerprint = f order by a.id desc limit 1) as id
    from unnest(cast(:fps as text[])) as f
), tgt as (
    select a.id from alerts a join latest on a.id = latest.id
    where a.state = 'resolved' and a.resolved_at > :since
    order by a.id for update of a
), upd as (
    update alerts a set state = 'new', resolved_at = null, closed_at = null, resolution = null,
           reopen_count = a.reopen_count + 1, updated_at = :now, last_seen_at = :now
    from tgt where a.id = tgt.id and a.state = 'resolved'
      and not exists (select 1 from alerts o where o.fingerprint = a.fingerprint and o.state in {OPEN})
    returning a.id, a.fingerprint
), ev as (
    insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
    select id, :now, :actor, :source, 'transition', 'resolved', 'new',
           'fired again within the flap window', cast(:meta as jsonb) from upd
)
select fingerprint, id from upd
"""


def _reopen(session: Session, fps: list[str], actor: Actor, now: datetime,
            window: timedelta) -> dict[str, int]:
    rows = session.execute(sa.text(REOPEN_SQL), {
        "fps": fps, "now": now, "since": now - window, "actor": actor.name,
        "source": actor.source, "meta": _event_meta("reopen", "REO-SRC")}).all()
    return {r.fingerprint: r.id for r in rows}


UPSERT_SQL = f"""
with input as (
    select * from jsonb_to_recordset(cast(:rows as jsonb)) as x(
        fingerprint text, source text, service text, device_id text, severity text,
        summary text, description text, labels jsonb, annotations jsonb, metadata jsonb,
        n int, tta_s int, ttr_s int, ord int, group_id bigint)
    order by ord
), up as (
    insert into alerts (fingerprint, source, service, device_id, severity, state, summary,
        description, labels, annotations, metadata, duplicate_count, reopen_count, created_at,
        last_seen_at, updated_at, tta_target_s, ttr_target_s, tta_due_at, ttr_due_at, group_id)
    select fingerprint, source, service, device_id, severity, 'new', summary, description,
        labels, annotations, metadata, n, 0, :now, :now, :now, tta_s, ttr_s,
        :now + make_interval(secs => tta_s), :now + make_interval(secs => ttr_s), group_id
    from input
    on conflict (fingerprint) where state in {OPEN} do update
        set duplicate_count = alerts.duplicate_count + excluded.duplicate_count,
            last_seen_at = greatest(alerts.last_seen_at, excluded.last_seen_at),
            annotations = excluded.annotations
    returning id, fingerprint, severity, (xmax = 0) as inserted
), ev as (
    insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note, metadata)
    select id, :now, :actor, :source, 'created', null, 'new', null,
           jsonb_build_object('fingerprint', fingerprint, 'severity', severity)
    from up where inserted
)
select fingerprint, id, inserted from up
"""


def _upsert(session: Session, firing: list[tuple[AlertIn, int]], groups: dict[str, int],
            actor: Actor, now: datetime) -> list[tuple[str, int, bool]]:
    policies = load_targets(session)
    rows: list[dict[str, Any]] = []
    for ord_, (a, n) in enumerate(firing):
        t = sla.pick_targets(policies, a.severity, a.service)
        rows.append({"fingerprint": a.dedup_key(), "source": a.source, "service": a.service,
                     "device_id": a.device_id, "severity": a.severity, "summary": a.summary,
                     "description": a.description, "labels": a.labels,
                     "annotations": a.annotations, "metadata": a.metadata, "n": max(n, 1),
                     "tta_s": t.tta_s, "ttr_s": t.ttr_s, "ord": ord_,
                     "group_id": groups.get(a.dedup_key())})
    result = session.execute(sa.text(UPSERT_SQL), {
        "rows": json.dumps(rows), "now": now, "actor": actor.name, "source": actor.source})
    return [(r.fingerprint, r.id, bool(r.inserted)) for r in result]
