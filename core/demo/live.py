"""A demo that lives: with ALERTDESK_DEMO on, the worker's ``demo_activity`` job plays the
simulated fleet's monitoring tools every tick, so a first run shows a NOC at work rather
than a snapshot that never changes. Off (0 rows, nothing read) outside the demo.

Each tick (about 5 s) it may, through the real ingest path as the fleet's sources:
- fire a new alert from the fleet's catalogue (about one every 40 s, more while the queue
  is short, weighted by how often each severity fires);
- repeat a firing alert (a duplicate, as sources re-send);
- resolve one the source sees recovered (about one every 50 s, more while the queue is
  long; never one a person is investigating), so the queue stays between ~25 and ~70;
- flap: one alert fires, recovers a minute later, fires again a minute after that (inside
  the flap window, so it reopens and the flapping detector marks it).
Decisions are drawn from a generator seeded by the tick's time slot, so two workers in the
same slot make the same ones (and ingest's dedup absorbs the repeat).
"""
from __future__ import annotations

import bisect
import random
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import config, lifecycle
from core.actor import Actor
from core.demo.fleet import CATALOG, CUM_WEIGHTS, Service
from core.demo.seed import Fire, alert_in, source_of
from core.ingest.batch import ingest_batch
from core.ingest.signal import RESOLVED, Signal
from core.tables import alerts

SLOT_S = 5
LOW, HIGH = 25, 70           # the open queue the demo keeps to
FLAPPER = 7                  # the catalogue entry that flaps (a fixed one, easy to find)


def demo_activity(session: Session, now: datetime) -> int:
    """The fleet's activity for this tick; returns the alerts it touched."""
    if not config.demo_enabled():
        return 0
    rng = random.Random(int(now.timestamp()) // SLOT_S)
    open_now = int(session.scalar(sa.select(sa.func.count()).select_from(alerts).where(
        alerts.c.state.in_(lifecycle.OPEN_STATES))) or 0)
    fire_p = 0.25 if open_now < LOW else 0.12 if open_now < HIGH else 0.03
    resolve_p = 0.02 if open_now < LOW else 0.10 if open_now < HIGH else 0.3
    touched = 0
    if rng.random() < fire_p:
        touched += _fire(session, now, _pick(rng))
    if rng.random() < 0.3:
        touched += _repeat(session, now, rng)
    if rng.random() < resolve_p:
        touched += _recover(session, now, rng)
    minute, second = divmod(int(now.timestamp()), 60)
    if second < SLOT_S and minute % 2 == 0:
        touched += _fire(session, now, CATALOG[FLAPPER])             # it fires...
    elif second < SLOT_S and minute % 2 == 1:
        touched += _fire(session, now, CATALOG[FLAPPER], RESOLVED)   # ...and recovers
    return touched


Entry = tuple[Service, str, tuple[str, ...]]   # a catalogue entry: service, device, type


def _pick(rng: random.Random) -> Entry:
    return CATALOG[min(bisect.bisect(CUM_WEIGHTS, rng.uniform(0, CUM_WEIGHTS[-1])),
                       len(CATALOG) - 1)]


def _fire(session: Session, now: datetime, entry: Entry, status: str = "firing") -> int:
    svc, device, atype = entry
    fire = Fire(now, svc, device, atype, atype[1])
    bot = Actor("key:" + source_of(fire.svc), "operator", "api", is_human=False)
    ingest_batch(session, [Signal(alert_in(fire), status)], bot, now, field=None)
    return 1


def _repeat(session: Session, now: datetime, rng: random.Random) -> int:
    """A source re-sends one of its firing alerts (a duplicate)."""
    row = _open_one(session, rng, lifecycle.OPEN_STATES)
    return _resend(session, now, row, "firing") if row else 0


def _recover(session: Session, now: datetime, rng: random.Random) -> int:
    """A source sees one of its alerts recover (never one being investigated)."""
    row = _open_one(session, rng, (lifecycle.NEW, lifecycle.ACKNOWLEDGED))
    return _resend(session, now, row, RESOLVED) if row else 0


def _open_one(session: Session, rng: random.Random, states: tuple[str, ...]) -> sa.Row[Any] | None:
    ids = session.scalars(sa.select(alerts.c.id).where(alerts.c.state.in_(states))
                          .order_by(alerts.c.id).limit(500)).all()
    if not ids:
        return None
    return session.execute(sa.select(alerts).where(alerts.c.id == rng.choice(ids))).one()


def _resend(session: Session, now: datetime, row: sa.Row[Any], status: str) -> int:
    match = next(((svc, dev, t) for svc, dev, t in CATALOG
                  if dev == row.device_id and svc[0] == row.service
                  and t[0] == (row.labels or {}).get("alertname")), None)
    return _fire(session, now, match, status) if match else 0
