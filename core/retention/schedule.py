"""Retention on a schedule: with the ``retention`` setting (``{"older_than": "90d"}``, set
by a manager: ``PUT /api/v1/settings/retention``), the worker runs the retention job
(core/retention/cleanup.py) once a day by itself; without it, nothing is deleted unless someone
runs ``python -m dashboard cleanup``.

"Once a day" is read from the audit trail (the last ``retention``/``cleanup`` row, which
every real run writes), so it holds across restarts and any number of workers; a session
advisory lock keeps two workers from running it at the same moment. The worker runs it on
a thread of its own (``RetentionRunner``): a long first run over years of history never
holds up escalations.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import db as core_db
from core.actor import WORKER, Actor
from core.errors import FieldError
from core.retention.cleanup import cleanup, format_age, parse_age
from core.settings import put_setting
from core.tables import audit_log, settings

KEY = "retention"
EVERY = timedelta(days=1)
CHECK_EVERY_S = 600.0
LOCK = 7_231_001  # pg advisory lock key: one scheduled run at a time
log = logging.getLogger("alertdesk.retention")


def parse_policy(body: Any) -> dict[str, str] | None:
    """``{"older_than": "90d"}``, or ``{"older_than": null}`` / null to switch it off."""
    if body is None:
        return None
    if not isinstance(body, dict) or set(body) - {"older_than"}:
        raise FieldError("body", 'must be {"older_than": "90d"} or {"older_than": null}')
    if body.get("older_than") is None:
        return None
    if not isinstance(body["older_than"], str):
        raise FieldError("older_than", "must be an age such as 90d, 12w")
    return {"older_than": format_age(parse_age(body["older_than"]))}


def load_policy(session: Session) -> dict[str, str] | None:
    value = session.scalar(sa.select(settings.c.value).where(settings.c.key == KEY))
    return value if isinstance(value, dict) and value.get("older_than") else None


def put_policy(session: Session, body: Any, actor: Actor, now: datetime) -> dict[str, Any]:
    policy = parse_policy(body)
    put_setting(session, KEY, policy or {"older_than": None}, actor, now)
    return {"older_than": policy["older_than"] if policy else None}


def due(session: Session, now: datetime) -> timedelta | None:
    """The age to clean up to, when the policy is on and no run happened in the last day."""
    policy = load_policy(session)
    if policy is None:
        return None
    last = session.scalar(sa.select(sa.func.max(audit_log.c.at)).where(
        audit_log.c.entity == "retention", audit_log.c.action == "cleanup"))
    return parse_age(policy["older_than"]) if last is None or last <= now - EVERY else None


def run_if_due(engine: sa.Engine, now: datetime) -> dict[str, Any] | None:
    """One scheduled run when it is due (and no other worker is running one)."""
    with engine.connect() as conn:
        if not conn.scalar(sa.text("select pg_try_advisory_lock(:k)"), {"k": LOCK}):
            return None
        try:
            with core_db.transaction(engine) as s:
                age = due(s, now)
            return None if age is None else cleanup(engine, age, now, WORKER)
        finally:
            conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": LOCK})
            conn.commit()


class RetentionRunner:
    """Started by the worker's loop every tick; looks every ``CHECK_EVERY_S`` at most and
    runs a due job on its own thread."""

    def __init__(self, check_every_s: float = CHECK_EVERY_S) -> None:
        self._every = check_every_s
        self._last: float | None = None
        self._thread: threading.Thread | None = None

    def poke(self, engine: sa.Engine, now: datetime, monotonic: float) -> threading.Thread | None:
        if self._thread is not None and self._thread.is_alive():
            return None
        if self._last is not None and monotonic - self._last < self._every:
            return None
        self._last = monotonic
        self._thread = threading.Thread(target=self._run, args=(engine, now),
                                        name="retention", daemon=True)
        self._thread.start()
        return self._thread

    @staticmethod
    def _run(engine: sa.Engine, now: datetime) -> None:
        try:
            report = run_if_due(engine, now)
            if report is not None:
                log.info("scheduled retention: %s", report["deleted"])
        except Exception:  # noqa: BLE001 - logged; the next check tries again
            log.exception("scheduled retention failed")
