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
  it points the alert after each deleted one (per key) at its previous alert still there
  (``relink``), so a pointer never names a deleted alert.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

# Migration 0033 keeps a frozen copy.
BACKFILL_SQL = """
update alerts a set prev_at = p.prev_at, prev_service_at = p.prev_service_at,
                    prev_device_at = p.prev_device_at
from (select id,
             lag(created_at) over (partition by fingerprint order by created_at, id) as prev_at,
             lag(created_at) over (partition by fingerprint, service
                                   order by created_at, id) as prev_service_at,
             lag(created_at) over (partition by fingerprint, device_id
                                   order by created_at, id) as prev_device_at
      from alerts) p
where a.id = p.id
  and (a.prev_at is distinct from p.prev_at
       or a.prev_service_at is distinct from p.prev_service_at
       or a.prev_device_at is distinct from p.prev_device_at)
"""


# The next alert after each deleted one, per key, set again by probes, all along
# alerts_fingerprint_latest (a moved fingerprint walks a little further for its service /
# device). ``is not distinct from`` (the columns are NOT NULL: the same as =) keeps the
# planner off alerts_device_created: ANDing it with the fingerprint's index in a bitmap read
# ~340 rows per probe (a 5,000-alert retention batch: 4.9 s instead of 0.1 s).
_NEXT = """select n.id from gone g cross join lateral (
        select a.id from alerts a where a.fingerprint = g.fingerprint {same} and a.id > g.id
        order by a.fingerprint, a.id limit 1) n"""
_PREV = """(select p.created_at from alerts p where p.fingerprint = s.fingerprint {same}
        and p.id < s.id order by p.fingerprint, p.id desc limit 1)"""
RELINK_SQL = f"""
with gone as (
    select * from unnest(cast(:id as bigint[]), cast(:fingerprint as text[]),
                         cast(:service as text[]), cast(:device_id as text[]))
        as g(id, fingerprint, service, device_id)
), next_alerts as (
    {_NEXT.format(same="")}
    union {_NEXT.format(same="and a.service is not distinct from g.service")}
    union {_NEXT.format(same="and a.device_id is not distinct from g.device_id")}
)
update alerts s set prev_at = {_PREV.format(same="")},
    prev_service_at = {_PREV.format(same="and p.service is not distinct from s.service")},
    prev_device_at = {_PREV.format(same="and p.device_id is not distinct from s.device_id")}
where s.id in (select id from next_alerts)
"""


def link_history(session: Session) -> int:
    """Set every alert's pointers from the history as it stands; returns the rows changed."""
    return int(session.execute(sa.text(BACKFILL_SQL)).rowcount or 0)  # type: ignore[attr-defined]


def relink(session: Session, gone: list[dict[str, Any]]) -> int:
    """After the alerts ``gone`` (their id, fingerprint, service, device_id) were deleted: point
    the alert that followed each of them, per fingerprint and per fingerprint and service /
    device, at its previous alert still there (by id, as ingest does). Index probes per deleted
    alert, not a pass over the fingerprints' histories; returns the rows changed."""
    if not gone:
        return 0
    cols = {k: [g[k] for g in gone] for k in ("id", "fingerprint", "service", "device_id")}
    result = session.execute(sa.text(RELINK_SQL), cols)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
