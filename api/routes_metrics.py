"""``GET /metrics``: Prometheus text format (scrape with a viewer API key:
``authorization: {type: Bearer, credentials: ad_...}`` in the scrape config)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.retry import RetryingRoute
from api.security import Viewer
from core import db as core_db
from core import metrics
from core.actor import Actor
from core.clock import SYSTEM_CLOCK

router = APIRouter(route_class=RetryingRoute, tags=["metrics"])


@router.get("/metrics", summary="Alertdesk's own state for Prometheus")
def prometheus_metrics(_: Actor = Viewer) -> Response:
    with core_db.transaction() as s:
        body = metrics.render(s, SYSTEM_CLOCK.now())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
