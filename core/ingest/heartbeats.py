"""Heartbeats (dead man's switches): a job or device beats at least every ``timeout_s``;
when a beat is overdue the worker raises an alert, and the next beat resolves it.

Rules:
- the first beat of a name creates the monitor (timeout 300 s, severity high unless the
  beat says otherwise); each beat sets ``last_beat_at = now`` and
  ``expires_at = now + timeout_s`` and may change timeout, service, device, severity;
- the worker (:func:`check_heartbeats`) claims the 'ok' monitors with ``expires_at <= now``
  (SKIP LOCKED), marks them 'missed' and fires one alert each through the one ingest path
  (fingerprint ``heartbeat:<name>``, source ``heartbeat``); a missed monitor is not claimed
  again, so a second tick raises nothing more;
- a beat to a 'missed' monitor sends the same fingerprint 'resolved' through the ingest path,
  under the beating caller's actor, and sets the monitor back to 'ok'; a late beat that
  arrives before the worker noticed simply renews the monitor (no alert);
- ``alert_id`` keeps the alert of the latest miss (also once recovered), for the record.
Either step also appends a ``heartbeat`` event to that alert's timeline.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import severity as sev
from core.actor import WORKER, Actor
from core.alerts.model import AlertIn
from core.errors import FieldError
from core.ingest.batch import ingest_batch
from core.ingest.signal import FIRING, RESOLVED, Signal
from core.paging import check_page
from core.tables import heartbeats

NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,100}")
DEFAULT_TIMEOUT_S = 300
MAX_TIMEOUT_S = 30 * 86400
MAX_TEXT = 200
MAX_LIMIT = 500
CLAIM_BATCH = 1000
FIELDS = ("name", "state", "timeout_s", "last_beat_at", "expires_at", "service", "device_id",
          "severity", "alert_id", "created_at")


def check_name(name: object) -> str:
    """1-100 characters of letters, digits, '.', '_' or '-'."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise FieldError("name", "must be 1-100 characters of letters, digits, '.', '_' or '-'")
    return name


@dataclass(frozen=True)
class BeatIn:
    """What a beat may set; None keeps the stored value (or the default on the first beat)."""

    timeout_s: int | None = None
    service: str | None = None
    device_id: str | None = None
    severity: str | None = None

    def normalize(self) -> BeatIn:
        """A clean copy, or FieldError naming the first bad field."""
        t = self.timeout_s
        if t is not None and (not isinstance(t, int) or isinstance(t, bool)
                              or not 1 <= t <= MAX_TIMEOUT_S):
            raise FieldError("timeout_s", f"must be a whole number of seconds, 1 to {MAX_TIMEOUT_S}")
        return BeatIn(t, _text(self.service, "service"), _text(self.device_id, "device_id"),
                      None if self.severity is None else sev.normalize(self.severity))


def _text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(field, "must be a string")
    if len(value.strip()) > MAX_TEXT:
        raise FieldError(field, f"is longer than {MAX_TEXT} characters")
    return value.strip()


def fingerprint(name: str) -> str:
    return f"heartbeat:{name}"


def alert_for(hb: Any) -> AlertIn:
    """The alert a missed heartbeat raises (and its resolve signal matches by fingerprint)."""
    since = hb.last_beat_at.isoformat(timespec="seconds")
    return AlertIn(
        summary=f"Heartbeat {hb.name} missed: no beat since {since} (timeout {hb.timeout_s} s)",
        severity=hb.severity, source="heartbeat", service=hb.service, device_id=hb.device_id,
        description=f"POST /api/v1/heartbeats/{hb.name} at least every {hb.timeout_s} s; "
                    "the next beat resolves this alert.",
        fingerprint=fingerprint(hb.name),
        labels={"alertname": "HeartbeatMissed", "heartbeat": hb.name},
        annotations={"last_beat_at": since, "timeout_s": str(hb.timeout_s)})


@dataclass(frozen=True)
class BeatResult:
    heartbeat: dict[str, Any]
    created: bool
    resolved_alert_id: int | None  # the miss alert this beat resolved, if it was open


UPSERT_SQL = """
insert into heartbeats as h (name, timeout_s, service, device_id, severity, state,
                             last_beat_at, expires_at, created_at)
values (:name, coalesce(:timeout_s, :default_timeout), coalesce(:service, ''),
        coalesce(:device_id, ''), coalesce(:severity, 'high'), 'ok', :now,
        :now + make_interval(secs => coalesce(:timeout_s, :default_timeout)), :now)
on conflict (name) do update set
    timeout_s = coalesce(:timeout_s, h.timeout_s), service = coalesce(:service, h.service),
    device_id = coalesce(:device_id, h.device_id), severity = coalesce(:severity, h.severity),
    state = 'ok', last_beat_at = :now,
    expires_at = :now + make_interval(secs => coalesce(:timeout_s, h.timeout_s))
returning h.*, (xmax = 0) as inserted
"""


def beat(session: Session, name: str, body: BeatIn, actor: Actor, now: datetime) -> BeatResult:
    """Record a beat (see the module docstring); validates everything before writing."""
    name, body = check_name(name), body.normalize()
    prev = session.execute(sa.select(heartbeats).where(heartbeats.c.name == name)
                           .with_for_update()).one_or_none()
    row = session.execute(sa.text(UPSERT_SQL), {
        "name": name, "timeout_s": body.timeout_s, "default_timeout": DEFAULT_TIMEOUT_S,
        "service": body.service, "device_id": body.device_id, "severity": body.severity,
        "now": now}).one()
    resolved: int | None = None
    if prev is not None and prev.state == "missed":
        result = ingest_batch(session, [Signal(alert_for(prev), RESOLVED)], actor, now,
                              field=None)
        resolved = result.resolved[0] if result.resolved else None
        if prev.alert_id is not None:
            _events(session, [(prev.alert_id, f"heartbeat {name} beat again")], actor, now)
    return BeatResult(as_dict(row), bool(row.inserted), resolved)


CLAIM_SQL = """
with due as (
    select id from heartbeats where state = 'ok' and expires_at <= :now
    order by expires_at limit :batch
    for update skip locked
)
update heartbeats h set state = 'missed' from due where h.id = due.id
returning h.id, h.name, h.timeout_s, h.service, h.device_id, h.severity, h.last_beat_at
"""


def check_heartbeats(session: Session, now: datetime) -> int:
    """Worker job: mark overdue heartbeats missed and raise their alerts (one ingest batch);
    returns how many were missed. Idempotent: a missed heartbeat is not claimed again."""
    missed = session.execute(sa.text(CLAIM_SQL), {"now": now, "batch": CLAIM_BATCH}).all()
    if not missed:
        return 0
    result = ingest_batch(session, [Signal(alert_for(hb), FIRING) for hb in missed],
                          WORKER, now)
    ids = {hb.id: result.ids[fingerprint(hb.name)] for hb in missed}
    session.execute(sa.text("""
        update heartbeats h set alert_id = m.alert_id
        from unnest(cast(:hb as bigint[]), cast(:alert as bigint[])) as m(id, alert_id)
        where h.id = m.id
    """), {"hb": list(ids), "alert": list(ids.values())})
    _events(session, [(ids[hb.id], f"heartbeat {hb.name} missed: no beat since "
                       f"{hb.last_beat_at.isoformat(timespec='seconds')}") for hb in missed],
            WORKER, now)
    return len(missed)


def _events(session: Session, notes: list[tuple[int, str]], actor: Actor,
            now: datetime) -> None:
    """One ``heartbeat`` event per (alert id, note), in one statement."""
    session.execute(sa.text("""
        insert into alert_events (alert_id, at, actor, source, kind, from_state, to_state, note)
        select a.id, :now, :actor, :source, 'heartbeat', a.state, a.state, n.note
        from unnest(cast(:ids as bigint[]), cast(:notes as text[])) as n(alert_id, note)
        join alerts a on a.id = n.alert_id
    """), {"ids": [i for i, _ in notes], "notes": [n for _, n in notes], "now": now,
           "actor": actor.name, "source": actor.source})


def as_dict(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def list_heartbeats(session: Session, page: int = 1, limit: int = 100
                    ) -> tuple[list[dict[str, Any]], int]:
    """One page of heartbeats by name, and the total."""
    offset = check_page(page, limit, MAX_LIMIT)
    rows = session.execute(sa.select(heartbeats).order_by(heartbeats.c.name)
                           .limit(limit).offset(offset)).all()
    total = session.scalar(sa.select(sa.func.count()).select_from(heartbeats)) or 0
    return [as_dict(r) for r in rows], int(total)
