"""One ingest path for every source (REST, generic webhook, Alertmanager, anomalies):
validate the whole batch, then a fixed number of set-based statements whatever its size.

A batch is all or nothing: one bad alert refuses the request with the field named
(``alerts[3].severity``) and nothing is stored, so a sender can fix and resend it whole
without creating half of it twice. Within a batch the last signal per fingerprint decides
its status and firing repeats are counted, so the statements never touch a row twice.

Statements, in order (each over the whole batch; SQL in core/ingest/sql.py):
0. context: flap window, grouping settings, SLA targets, active silences (one read);
1. resolve: open alerts whose fingerprint is reported resolved -> resolved (source
   resolution: it stops the clocks but is not a human response), with events;
2. lookup: a fingerprint firing again within the flap window reopens its latest alert
   (resolved, not closed) instead of opening a new one; the same statement reads the
   open alerts and live groups of the batch (a new group key also takes a lock and an
   insert, core/grouping/store.py);
3. upsert: ``INSERT .. ON CONFLICT`` on the unique partial index (one open alert per
   fingerprint) creates alerts or counts duplicates, writes the ``created`` events and
   updates each touched group once;
4. silences, only when one is active or an alert reopened.
Rows are fed in fingerprint order, so concurrent batches lock rows in the same order.
A steady batch of firing alerts into live groups is three statements plus the commit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.actor import Actor
from core.alerts.model import AlertIn, bad_content, dump_json
from core.errors import FieldError
from core.grouping import rules as grouping
from core.grouping import store as grouping_store
from core.ingest import context as ingest_context
from core.ingest.signal import FIRING, RESOLVED, Signal
from core.ingest.sql import LOOKUP, RESOLVE, UPSERT
from core.sla import rules as sla
from core.suppression.silences_store import apply_silences

MAX_BATCH = 10_000


@dataclass(frozen=True)
class BatchResult:
    created: list[int]
    deduplicated: list[int]
    reopened: list[int]
    resolved: list[int]
    unmatched_resolved: int  # resolved signals with no open alert (already resolved, unknown)
    ids: dict[str, int]      # fingerprint -> alert id, for every signal that matched an alert
    order: list[str] = field(default_factory=list)  # each input signal's fingerprint, in order
    duplicates: int = 0      # firing signals counted on an alert they did not create/reopen

    def summary(self) -> dict[str, int]:
        return {"created": len(self.created), "deduplicated": self.duplicates,
                "reopened": len(self.reopened), "resolved": len(self.resolved),
                "unmatched_resolved": self.unmatched_resolved}


def prepare(signals: list[Signal], field: str | None = "alerts"
            ) -> tuple[list[tuple[AlertIn, str, int]], list[str]]:
    """Validate every signal (FieldError names ``alerts[i].field``; just ``field`` when
    ``field`` is None), then collapse by fingerprint: (alert, last status, firing count),
    sorted by fingerprint; and each signal's fingerprint in input order."""
    if len(signals) > MAX_BATCH:
        raise FieldError(field or "alerts",
                         f"at most {MAX_BATCH} alerts per request ({len(signals)} sent)")
    merged: dict[str, tuple[AlertIn, str, int]] = {}
    clean: list[AlertIn] = []
    order: list[str] = []
    for i, signal in enumerate(signals):
        where = f"{field}[{i}]." if field else ""
        if signal.status not in (FIRING, RESOLVED):
            raise FieldError(f"{where}status", "must be firing or resolved")
        try:  # keyed: later steps read the dedup key instead of re-hashing
            alert = signal.alert.normalize(keyed=True, batch=True)
        except FieldError as err:
            raise FieldError(f"{where}{err.field}", err.message) from None
        clean.append(alert)
        key = alert.dedup_key()
        order.append(key)
        _, _, count = merged.get(key, (alert, FIRING, 0))
        merged[key] = (alert, signal.status, count + (signal.status == FIRING))
    bad = bad_content(clean)
    if bad is not None:
        index, error = bad
        raise FieldError(f"{field}[{index}].{error.field}" if field else error.field,
                         error.message)
    return [merged[k] for k in sorted(merged)], order


def ingest_batch(session: Session, signals: list[Signal], actor: Actor, now: datetime,
                 flap_window: timedelta | None = None,
                 field: str | None = "alerts") -> BatchResult:
    """Apply a batch of signals in the caller's transaction (see the module docstring).
    ``flap_window`` None: the ``flap_window_s`` setting."""
    items, order = prepare(signals, field)
    return apply(session, items, order, actor, now, flap_window)


def apply(session: Session, items: list[tuple[AlertIn, str, int]], order: list[str],
          actor: Actor, now: datetime, flap_window: timedelta | None = None) -> BatchResult:
    """The statements of a batch ``prepare`` made: ``items`` one per fingerprint, sorted by
    it (the lock order); ``order`` each signal's fingerprint as sent."""
    ctx = ingest_context.load(session, now)
    window = ctx.flap_window if flap_window is None else flap_window
    resolving = [a.dedup_key() for a, status, _ in items if status == RESOLVED]
    firing = [(a, n) for a, status, n in items if status == FIRING]
    resolved = _resolve(session, resolving, actor, now) if resolving else {}
    reopened: dict[str, int] = {}
    upserted: list[tuple[str, int, bool]] = []
    if firing:
        keyed = grouping.keys_for(firing, ctx.grouping)
        found = _lookup(session, keyed, actor, now, window, ctx.grouping.window)
        reopened = found.reopened
        group_of = grouping_store.assign(session, keyed, found.known, found.latest,
                                         now - ctx.grouping.window, now)
        upserted = _upsert(session, firing, group_of, found.previous, ctx, actor, now)
    ids = {**resolved, **{fp: i for fp, i, _ in upserted}}
    reopened_ids = set(reopened.values())
    touched = [i for _, i, new in upserted if new] + [*reopened_ids, *resolved.values()]
    # Label silences, same transaction. Only a reopened alert can carry a stale mark to
    # clear; without one, and with no silence active, no statement is needed. Inhibition
    # is left to the worker's tick (every 5 s), which runs before any job that notifies,
    # so an inhibited alert still never notifies: evaluating it in every batch cost 15-40 ms
    # per 100 alerts on the 1M bench, for a mark the page shows at most one tick sooner.
    if touched:
        apply_silences(session, now, touched, release=bool(reopened_ids), active=ctx.silences)
    fired = {a.dedup_key(): n for a, n in firing}
    fresh = {fp for fp, i, new in upserted if new or i in reopened_ids}
    return BatchResult(
        created=[i for _, i, new in upserted if new],
        deduplicated=[i for _, i, new in upserted if not new and i not in reopened_ids],
        reopened=sorted(reopened_ids), resolved=sorted(resolved.values()),
        unmatched_resolved=len(resolving) - len(resolved), ids=ids, order=order,
        duplicates=sum(n - (fp in fresh) for fp, n in fired.items()))


def _event_meta(action: str, rule: str) -> str:
    return json.dumps({"action": action, "rule": rule})


def _resolve(session: Session, fps: list[str], actor: Actor, now: datetime) -> dict[str, int]:
    rows = RESOLVE.rows(session, {
        "fps": fps, "now": now, "actor": actor.name, "source": actor.source,
        "meta": _event_meta("resolve", "RES-SRC")})
    return {fingerprint: id_ for fingerprint, id_ in rows}


@dataclass(frozen=True)
class Found:
    reopened: dict[str, int]  # fingerprint -> alert reopened within the flap window
    known: dict[str, int]     # fingerprint -> group of its open alert
    latest: dict[str, int]    # group key -> latest live group
    previous: dict[str, dict[str, Any]]  # fingerprint -> its latest alert's prev_* fields


def _lookup(session: Session, keyed: dict[str, tuple[str, dict[str, str]]], actor: Actor,
            now: datetime, window: timedelta, group_window: timedelta) -> Found:
    """Reopen within the flap window (none when it is 0) and read the open alerts and live
    groups of the batch, in one statement (core/ingest/sql.py LOOKUP_SQL)."""
    rows = LOOKUP.rows(session, {
        "fps": list(keyed), "keys": sorted({k for k, _ in keyed.values()}),
        "now": now, "since": now - max(window, timedelta(0)), "group_since": now - group_window,
        "actor": actor.name, "source": actor.source, "meta": _event_meta("reopen", "REO-SRC")})
    found = Found({}, {}, {}, {})
    for kind, key, id_, group_id, at, service, device_id in rows:
        if kind == "group":
            found.latest[key] = group_id
            continue
        if kind in ("open", "latest"):
            found.previous[key] = {"prev_at": at.isoformat(), "prev_service": service,
                                   "prev_device": device_id}
        if kind == "latest":
            continue
        if kind == "reopened":
            found.reopened[key] = id_
        if group_id is not None:
            found.known[key] = group_id
    return found


def _upsert(session: Session, firing: list[tuple[AlertIn, int]], groups: dict[str, int],
            previous: dict[str, dict[str, Any]], ctx: ingest_context.BatchContext,
            actor: Actor, now: datetime) -> list[tuple[str, int, bool]]:
    rows: list[dict[str, Any]] = []
    for ord_, (a, n) in enumerate(firing):
        t = sla.pick_targets(ctx.policies, a.severity, a.service)
        fp = a.dedup_key()
        rows.append({"fingerprint": fp, "source": a.source, "service": a.service,
                     "device_id": a.device_id, "severity": a.severity, "summary": a.summary,
                     "description": a.description, "labels": a.labels,
                     "annotations": a.annotations, "metadata": a.metadata, "n": max(n, 1),
                     "tta_s": t.tta_s, "ttr_s": t.ttr_s, "ord": ord_, "group_id": groups.get(fp),
                     "wait_s": ctx.grouping.wait_for(a.severity), **previous.get(fp, {})})
    result = UPSERT.rows(session, {
        "rows": dump_json(rows), "now": now, "actor": actor.name, "source": actor.source})
    return [(fingerprint, id_, bool(inserted)) for fingerprint, id_, inserted in result]


@dataclass(frozen=True)
class IngestResult:
    alert_id: int
    created: bool


def ingest(session: Session, alert: AlertIn, actor: Actor, now: datetime) -> IngestResult:
    """Create the alert, or count a duplicate on the open alert with the same fingerprint
    (or reopen it within the flap window): the batch path with a batch of one."""
    result = ingest_batch(session, [Signal(alert)], actor, now, field=None)
    return IngestResult(next(iter(result.ids.values())), bool(result.created))
