"""Alert JSON as the contract shows it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.alerts import queue


def alert_json(row: Any, now: datetime) -> dict[str, Any]:
    return queue.alert_dict(row, now)


def alert_with_events(session: Session, alert_id: int, now: datetime) -> dict[str, Any]:
    out = alert_json(queue.get_alert(session, alert_id), now)
    out["events"] = queue.events(session, alert_id)
    return out
