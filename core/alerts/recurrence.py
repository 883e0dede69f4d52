"""When an alert's identity last fired: ``prev_at``, ``prev_service_at``, ``prev_device_at``
(migration 0033).

Each alert row carries the ``created_at`` of the previous alert with the same fingerprint
(``prev_at``), with the same fingerprint and service (``prev_service_at``) and with the same
fingerprint and device (``prev_device_at``); NULL when it is the first. "Every alert after the
first of its fingerprint in a period" (the health score's recurrences, per service or device)
is then the count of the period's alerts whose pointer falls inside the period: a filtered
count in the scan that counts the alerts, not a hash of every fingerprint. The identities
with more than one alert in a period (top alerts) are those of the alerts whose ``prev_at``
falls in it (the partial index ``alerts_repeats``).

- Ingest sets them when it creates the alert (``core.ingest.sql.UPSERT_SQL``, from the
  fingerprint's latest alert by id, which LOOKUP reads anyway; a probe only when that one was
  on another service or device). Live alerts are created at their arrival, so the latest by
  id is the latest by ``created_at`` but for a race: another sender's alert of the same
  fingerprint created *and* settled between LOOKUP and UPSERT (milliseconds) is skipped, or
  may be later than the new alert. Readers count a pointer only when it is not after the
  alert (``prev <= created_at``), and top alerts fall back to the plain hash if a
  fingerprint ever comes out twice.
- History written directly (the demo seed, the bench) is linked with ``link_history``:
  the previous alert in ``created_at`` order, then id. Migration 0033 ran the same statement.
- Retention deletes alerts by when they settled, so a kept alert may follow a deleted one:
  it re-links the other alerts of the fingerprints it deleted from (``relink``), so a pointer
  never names a deleted alert.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

# Migration 0033 keeps a frozen copy (of the whole-table form).
BACKFILL_SQL = """
update alerts a set prev_at = p.prev_at, prev_service_at = p.prev_service_at,
                    prev_device_at = p.prev_device_at
from (select id,
             lag(created_at) over (partition by fingerprint order by created_at, id) as prev_at,
             lag(created_at) over (partition by fingerprint, service
                                   order by created_at, id) as prev_service_at,
             lag(created_at) over (partition by fingerprint, device_id
                                   order by created_at, id) as prev_device_at
      from alerts {only}) p
where a.id = p.id
  and (a.prev_at is distinct from p.prev_at
       or a.prev_service_at is distinct from p.prev_service_at
       or a.prev_device_at is distinct from p.prev_device_at)
"""


def link_history(session: Session) -> int:
    """Set every alert's pointers from the history as it stands; returns the rows changed."""
    sql = BACKFILL_SQL.format(only="")
    return int(session.execute(sa.text(sql)).rowcount or 0)  # type: ignore[attr-defined]


def relink(session: Session, fingerprints: list[str]) -> int:
    """Set the pointers of the alerts of ``fingerprints`` again (after retention deleted some of
    their alerts: the next alert of a deleted one pointed at it); returns the rows changed."""
    if not fingerprints:
        return 0
    sql = BACKFILL_SQL.format(only="where fingerprint = any(cast(:fps as text[]))")
    result = session.execute(sa.text(sql), {"fps": fingerprints})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
