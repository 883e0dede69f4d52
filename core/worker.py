"""The worker: the only thing that acts on time passing. A list of named, idempotent,
set-based jobs, each run in its own transaction every tick. Rows are claimed with
``FOR UPDATE SKIP LOCKED`` inside the jobs, so any number of workers can run side by side.
Later issues add jobs here (escalation steps, SLA-breach events, notification delivery)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import db as core_db
from core.alerts.flapping import mark_flapping
from core.alerts.store import expire_silences
from core.clock import Clock
from core.demo.live import demo_activity
from core.escalation.jobs import (
    escalate_due,
    expedite_breaches,
    expire_acks,
    raise_severities,
    start_escalations,
    stop_finished,
)
from core.escalation.renotify import renotify_duplicates
from core.ingest.heartbeats import check_heartbeats
from core.login_throttle import forget_login_failures
from core.notify.deliver import deliver_for
from core.notify.followups import pagerduty_followups
from core.retention.schedule import RetentionRunner
from core.sla.jobs import mark_sla_breaches
from core.suppression.inhibition_store import inhibitions_tick
from core.suppression.silences_store import silences_tick

log = logging.getLogger("alertdesk.worker")

Job = Callable[[Session, datetime], int]
# Order matters: the marks (silences, inhibitions) come before any job that notifies, so
# a muted alert never notifies even though ingest leaves inhibition to the tick.
JOBS: list[tuple[str, Job]] = [
    ("demo_activity", demo_activity),     # ALERTDESK_DEMO only: the fleet keeps firing
    ("expire_silences", expire_silences),
    ("apply_silences", silences_tick),        # maintenance windows start and end
    ("apply_inhibitions", inhibitions_tick),  # sources resolved by operators release targets
    ("check_heartbeats", check_heartbeats),
    ("mark_sla_breaches", mark_sla_breaches),      # one 'sla_breach' event per missed clock
    ("expire_acks", expire_acks),                  # forgotten acks back to 'new' (escalation)
    ("stop_escalations", stop_finished),           # acked/resolved/silenced/muted: stop paging
    ("pagerduty_followups", pagerduty_followups),  # PagerDuty hears the ack / resolve
    ("start_escalations", start_escalations),      # new alerts get their policy frozen in
    ("expedite_escalations", expedite_breaches),   # SLA breach: the pending step is due now
    ("escalate_due", escalate_due),                # due tiers -> outbox + 'escalation' events
    ("renotify_duplicates", renotify_duplicates),  # force-send after N more signals
    ("raise_severities", raise_severities),        # severity escalation rule
    ("mark_flapping", mark_flapping),  # last: counts the state changes the jobs above made
    ("forget_login_failures", forget_login_failures),  # quiet failed sign-ins count from 0
]


def tick(engine: sa.Engine, now: datetime, clock: Clock | None = None) -> dict[str, int]:
    """Run every job once at ``now``; returns how many rows each job changed. ``clock``
    (the running worker's) times each delivery attempt as it happens."""
    done: dict[str, int] = {}
    for name, job in JOBS:
        done[name] = _run_job(engine, job, now)
    # Outbox delivery: claims in short transactions, sends outside any (core/notify/deliver.py).
    done["deliver"] = sum(deliver_for(engine, now, clock=clock).values())
    return done


def _run_job(engine: sa.Engine, job: Job, now: datetime) -> int:
    return core_db.run_transaction(lambda session: job(session, now), engine)


def run_forever(engine: sa.Engine, clock: Clock, interval_s: float = 5.0,
                stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    retention = RetentionRunner()  # the daily retention job, on its own thread when due
    log.info("worker started; tick every %.1f s", interval_s)
    while not stop.is_set():
        started = time.monotonic()
        try:
            changed = {k: v for k, v in tick(engine, clock.now(), clock).items() if v}
            if changed:
                log.info("tick: %s", changed)
            retention.poke(engine, clock.now(), started)
        except Exception:  # noqa: BLE001 - a bad tick must not kill the worker; next tick retries
            log.exception("worker tick failed")
        stop.wait(max(0.0, interval_s - (time.monotonic() - started)))
