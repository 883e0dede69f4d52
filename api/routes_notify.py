"""Notifications: the delivery log (outbox rows with status, attempts, errors, provider
ids), its CSV export, and "send a test notification now" through a real channel. Targets
come back with sealed secrets masked; the rules live in core/notify/."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.params import csv_list, instant
from api.retry import RetryingRoute
from api.security import Manager, Viewer
from api.streams import csv_response
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.errors import NotFound
from core.notify.base import CHANNELS
from core.notify.deliver import send_test
from core.notify.log import iter_log_csv
from core.notify.outbox import LogFilter, delivery_log, get_notification
from core.notify.vault import validate_target

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/notifications", tags=["notifications"])


class TestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description=f"One of {', '.join(CHANNELS)}")
    target: dict[str, Any] = Field(default_factory=dict, description=(
        'e.g. {"to": "noc@example.com"}, {"webhook": "noc"} (Slack, reads '
        "ALERTDESK_SLACK_WEBHOOK_NOC), {\"url\": ...}, {\"to\": \"+15551234567\"}, "
        '{"routing_key_ref": "noc"}, {}'))


def _filter(status: list[str] | None, channel: list[str] | None, alert_id: int | None,
            start: str | None, end: str | None) -> LogFilter:
    f = LogFilter(csv_list(status), csv_list(channel), alert_id, instant(start, "start"),
                  instant(end, "end"))
    f.where()  # refuse unknown statuses/channels with a 422 before anything runs
    return f


@router.get("", summary="The delivery log, newest first")
def list_notifications(status: list[str] | None = Query(None),
                       channel: list[str] | None = Query(None), alert_id: int | None = None,
                       start: str | None = None, end: str | None = None, page: int = 1,
                       limit: int = 50, _: Actor = Viewer) -> dict[str, Any]:
    """Filters: ``status`` (pending, sending, sent, failed, rate_limited, bundled,
    cancelled; comma list), ``channel``, ``alert_id``, ``start``/``end`` (created_at,
    ISO-8601); ``limit`` ≤ 500."""
    f = _filter(status, channel, alert_id, start, end)
    with core_db.transaction() as s:
        rows, total = delivery_log(s, f, page, limit)
    return {"data": rows, "page": page, "limit": limit, "total": total}


@router.get("/export.csv", summary="CSV of the delivery log matching the filters (streamed)")
def export_csv(status: list[str] | None = Query(None), channel: list[str] | None = Query(None),
               alert_id: int | None = None, start: str | None = None, end: str | None = None,
               _: Actor = Viewer) -> StreamingResponse:
    f = _filter(status, channel, alert_id, start, end)
    return csv_response(iter_log_csv(core_db.get_engine(), f), "notifications.csv")


@router.post("/test", summary="Send a test notification now (manager)")
def test_notification(body: TestBody, actor: Actor = Manager) -> dict[str, Any]:
    """Goes through the real channel code at once (no throttling, no retry) and is logged
    in the outbox with reason "test"; the answer is its log entry with the attempt."""
    validate_target(body.channel, body.target)
    return send_test(core_db.get_engine(), body.channel, body.target, SYSTEM_CLOCK.now(), actor.name)


@router.get("/{notification_id}", summary="One notification with its delivery attempts")
def get_one(notification_id: int, _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        out = get_notification(s, notification_id)
    if out is None:
        raise NotFound(f"notification {notification_id} does not exist")
    return out
