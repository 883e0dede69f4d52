"""Test data factories over the real core services (no hand-written INSERTs)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.alerts.model import AlertIn
from core.alerts.store import ActionRequest, apply
from core.auth import create_user
from core.ingest.batch import ingest

OPERATOR = Actor("olga", "operator", "ui")
VIEWER = Actor("victor", "viewer", "ui")
MANAGER = Actor("maria", "manager", "ui")
ADMIN = Actor("ada", "admin", "ui")
_n = iter(range(10**9))


def make_users(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        for a in (OPERATOR, VIEWER, MANAGER, ADMIN):
            create_user(s, a.name, "secret-pass-1", a.role)


def make_alert(engine: sa.Engine, now: datetime, **fields: Any) -> int:
    body: dict[str, Any] = {"summary": f"disk full #{next(_n)}", "severity": "critical",
                            "service": "billing", "device_id": "db-01"}
    body.update(fields)
    with core_db.transaction(engine) as s:
        return ingest(s, AlertIn(**body), Actor("key:test", "operator", "api", False), now).alert_id


def act(engine: sa.Engine, alert_id: int, action: str, now: datetime,
        actor: Actor = OPERATOR, **kw: Any) -> None:
    with core_db.transaction(engine) as s:
        apply(s, alert_id, ActionRequest(action, **kw), actor, now)


def row(engine: sa.Engine, alert_id: int) -> sa.Row[Any]:
    with engine.connect() as c:
        return c.execute(sa.text("select * from alerts where id = :i"), {"i": alert_id}).one()


def event_rows(engine: sa.Engine, alert_id: int) -> list[sa.Row[Any]]:
    with engine.connect() as c:
        return list(c.execute(sa.text(
            "select * from alert_events where alert_id = :i order by id"), {"i": alert_id}))
