"""Settings as data (the ``settings`` table): small JSON values edited by managers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Forbidden
from core.tables import settings


def put_setting(session: Session, key: str, value: Any, actor: Actor, now: datetime) -> None:
    if not actor.can("manager"):
        raise Forbidden("changing settings needs the manager role")
    before = session.scalar(sa.select(settings.c.value).where(settings.c.key == key))
    stmt = insert(settings).values(key=key, value=value, updated_at=now, updated_by=actor.name)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[settings.c.key],
        set_={"value": value, "updated_at": now, "updated_by": actor.name}))
    audit.record(session, actor, "setting", key, "create" if before is None else "update",
                 None if before is None else {"value": before}, {"value": value}, now)
