"""Retention: delete closed/resolved alert history past an age, and say what went.

Rules:

- An alert goes when it is ``resolved`` or ``closed`` and its ``resolved_at``,
  ``closed_at``, ``last_seen_at`` and ``updated_at`` are all before the cutoff
  (``now - older_than``). Its dependent rows go with it: events, escalation row,
  notifications and their delivery attempts. Open alerts (new, acknowledged,
  investigating, silenced) are never touched, nor silences, rules or any configuration.
- An alert stays, even past retention, while something that stays points at it: an alert
  it inhibits or inhibited, a notification of another alert bundled into one of its own,
  a heartbeat whose last miss it is, or a message of its own still in the outbox
  (pending/sending). Those are reported as ``kept_referenced``; a later run takes them
  once the reference is gone.
- A group goes when it is resolved (before the cutoff) and no member is left.
- ``older_than`` is ``<n>h``, ``<n>d`` or ``<n>w`` and at least one day (``MIN_AGE``),
  so a typo cannot wipe yesterday.

The run walks ``alerts`` (then ``alert_groups``) in id ranges of ``batch_size`` ids, one
short transaction per range (retried on deadlock/serialization failure), so a first run
over a large history never holds one giant transaction, and the rows it locks
(``FOR UPDATE SKIP LOCKED``) are old resolved ones, never the open queue. That is why
``cleanup`` takes the engine, like ``core.notify.deliver.deliver_due``, not a session.
An interrupted run leaves whole batches done and the rest as it was. A dry run reads the
same ranges and counts, writing nothing. A real run appends one ``audit_log`` row
(entity ``retention``) with the report, and logs it.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import audit
from core import db as core_db
from core.actor import Actor
from core.errors import FieldError
from core.retention import sql as store

log = logging.getLogger("alertdesk.retention")

UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MIN_AGE = timedelta(days=1)
MAX_AGE = timedelta(days=36500)
BATCH_IDS = 5000
TABLES = ("alerts", "alert_events", "alert_escalations", "notifications",
          "notification_attempts", "alert_groups")
_AGE = re.compile(r"(\d{1,6})([hdw])")


def parse_age(text: str, field: str = "older_than") -> timedelta:
    """``"90d"`` -> 90 days; ``h`` hours, ``d`` days, ``w`` weeks; at least ``MIN_AGE``."""
    match = _AGE.fullmatch(str(text).strip().lower())
    if not match:
        raise FieldError(field, f"{text!r} is not an age: use a number and a unit h, d or w, "
                                "e.g. 90d, 36h, 2w")
    age = int(match.group(1)) * UNITS[match.group(2)]
    if age < MIN_AGE:
        raise FieldError(field, f"{text!r} is less than the minimum of 1d (24h): "
                                "retention never removes the last day's history")
    if age > MAX_AGE:
        raise FieldError(field, f"{text!r} is more than the maximum of {MAX_AGE.days}d")
    return age


def format_age(age: timedelta) -> str:
    """The shortest exact ``parse_age`` spelling of ``age``: 90d, 2w, 36h."""
    hours = int(age.total_seconds()) // 3600
    if hours % (24 * 7) == 0:
        return f"{hours // (24 * 7)}w"
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


def deletable(batch: Collection[int], pinned: Iterable[int],
              needed_by: Iterable[tuple[int, int | None]]) -> set[int]:
    """The candidates of ``batch`` that can go. ``needed_by`` holds (candidate, referrer)
    pairs: the candidate stays while the referrer stays, and a referrer stays when it is
    None (not an alert) or not in the batch, or stays itself (chains are followed)."""
    ids = set(batch)
    keep = set(pinned) & ids
    targets: dict[int, list[int]] = {}
    for target, referrer in needed_by:
        if target not in ids:
            continue
        if referrer is None or referrer not in ids:
            keep.add(target)
        else:
            targets.setdefault(referrer, []).append(target)
    todo = list(keep)
    while todo:
        for target in targets.get(todo.pop(), ()):
            if target not in keep:
                keep.add(target)
                todo.append(target)
    return ids - keep


def ranges(span: tuple[int, int] | None, size: int) -> Iterator[tuple[int, int]]:
    """Inclusive id ranges of ``size`` ids covering ``span``."""
    if span is None:
        return
    for lo in range(span[0], span[1] + 1, size):
        yield lo, min(lo + size - 1, span[1])


def alert_batch(s: Session, lo: int, hi: int, cutoff: datetime,
                dry_run: bool) -> tuple[dict[str, int], list[int]]:
    """One id range of alerts in the caller's transaction: (rows per table deleted, or
    counted with ``dry_run``; ids of candidates kept because something points at them)."""
    ids = store.candidates(s, lo, hi, cutoff, lock=not dry_run)
    if not ids:
        return {}, []
    pinned, pairs = store.references(s, ids)
    gone = deletable(ids, pinned, pairs)
    kept = sorted(set(ids) - gone)
    if not gone:
        return {}, kept
    return (store.count_alerts(s, gone) if dry_run else store.delete_alerts(s, gone)), kept


def _group_batch(s: Session, lo: int, hi: int, cutoff: datetime, kept: list[int] | None) -> int:
    """Delete the groups left empty; with ``kept`` (dry run) count those that would be."""
    if kept is None:
        return store.delete_groups(s, lo, hi, cutoff)
    return store.count_groups(s, lo, hi, cutoff, kept)


def cleanup(engine: sa.Engine, older_than: timedelta, now: datetime, actor: Actor,
            dry_run: bool = False, batch_size: int = BATCH_IDS) -> dict[str, Any]:
    """Delete (``dry_run``: count) the history past ``older_than`` at ``now``; the report:
    rows per table, alerts kept because something still points at them, cutoff, duration."""
    if older_than < MIN_AGE:
        raise FieldError("older_than", "must be at least 1d (24h)")
    started, cutoff = time.monotonic(), now - older_than
    rows = dict.fromkeys(TABLES, 0)
    kept: list[int] = []
    report: dict[str, Any] = {"older_than": format_age(older_than), "cutoff": cutoff,
                              "now": now, "dry_run": dry_run, "deleted": rows}
    try:
        with core_db.transaction(engine) as s:
            alert_span, group_span = store.id_span(s, "alerts"), store.id_span(s, "alert_groups")
        for lo, hi in ranges(alert_span, batch_size):
            counts, batch_kept = core_db.run_transaction(
                partial(alert_batch, lo=lo, hi=hi, cutoff=cutoff, dry_run=dry_run), engine)
            for table, n in counts.items():
                rows[table] += n
            kept.extend(batch_kept)
        for lo, hi in ranges(group_span, batch_size):
            rows["alert_groups"] += core_db.run_transaction(
                partial(_group_batch, lo=lo, hi=hi, cutoff=cutoff, kept=kept if dry_run else None),
                engine)
    except Exception as err:
        report["error"] = f"{type(err).__name__}: {err}"
        raise
    finally:
        report["kept_referenced"] = len(kept)
        report["duration_s"] = round(time.monotonic() - started, 3)
        _record(engine, report, actor, now)
    return report


def _record(engine: sa.Engine, report: dict[str, Any], actor: Actor, now: datetime) -> None:
    """Log every run; a real one (not a dry run) also appends an audit_log row."""
    log.info("retention %s by %s: %s", "dry run" if report["dry_run"] else "run", actor.name,
             {k: v for k, v in report.items() if k not in ("now",)})
    if report["dry_run"]:
        return
    note = f"older than {report['older_than']}" + (" (interrupted)" if "error" in report else "")
    with core_db.transaction(engine) as s:
        audit.record(s, actor, "retention", report["cutoff"].isoformat(), "cleanup",
                     None, report, now, note=note)


def report_text(report: dict[str, Any]) -> str:
    """The report as a small table for a terminal (the CLI's default output)."""
    verb = "would delete" if report["dry_run"] else "deleted"
    lines = [f"retention {'dry run' if report['dry_run'] else 'run'}: older than "
             f"{report['older_than']} (cutoff {report['cutoff'].isoformat()})",
             f"{'table':<24}{verb:>14}"]
    lines += [f"{table:<24}{n:>14,}" for table, n in report["deleted"].items()]
    lines.append(f"kept (still referenced): {report['kept_referenced']:,}; "
                 f"took {report['duration_s']:.1f} s")
    return "\n".join(lines)
