"""Webhook receivers and ML anomalies: parse the source's payload (core.ingest.sources), then the
one ingest path (core.ingest.batch). A batch is all or nothing (see core/ingest/batch.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Body, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.body import PAYLOAD_DOC, Payload
from api.encode import alert_json
from api.intake import Part, Route
from api.params import instant
from api.retry import RetryingRoute
from api.security import Caller, Credentials, Operator, Viewer
from core import db as core_db
from core.actor import Actor
from core.alerts import queue
from core.clock import SYSTEM_CLOCK
from core.ingest.anomaly import model_stats
from core.ingest.batch import BatchResult, ingest_batch
from core.ingest.signal import Signal
from core.ingest.sources import alertmanager, anomaly, generic, grafana

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1", tags=["ingest"])
PAYLOAD = Body(..., description="The source's JSON payload")


def _summary(_: Session | None, result: BatchResult, received: int, now: datetime
             ) -> dict[str, Any]:
    """A webhook's answer. ``alert_ids``: one id per alert sent, in the order sent (null: a
    resolve that matched nothing), so a sender can map them back; the same id twice for two
    signals of one alert."""
    return {"status": "ok", "received": received, **result.summary(),
            "alert_ids": [result.ids.get(fp) for fp in result.order]}


def _run(caller: Credentials, parse: Callable[[Actor], tuple[list[Signal], Actor]]
         ) -> dict[str, Any]:
    """Check the caller, parse, ingest: one transaction (and one connection) per request.
    The caller is checked first, so a bad body from an unknown caller is a 401."""
    now = SYSTEM_CLOCK.now()

    def work(s: Session) -> tuple[int, BatchResult]:
        signals, actor = parse(caller.actor(s, "operator"))
        return len(signals), ingest_batch(s, signals, actor, now)

    received, result = core_db.run_transaction(work)
    return _summary(None, result, received, now)


@router.post("/webhooks/alertmanager", openapi_extra=PAYLOAD_DOC,
             summary="Prometheus Alertmanager webhook (payload version 4, send_resolved: true); "
                     "Grafana Alerting's webhook payload (version 1 with orgId) too")
async def alertmanager_webhook(payload: Any = Payload, caller: Credentials = Caller
                               ) -> dict[str, Any]:
    if grafana.is_grafana(payload):
        return await grafana_webhook(payload, caller)
    return await run_in_threadpool(_run, caller, lambda actor: (
        alertmanager.parse(payload), replace(actor, source="alertmanager")))


GRAFANA = Route("grafana", lambda s, caller: replace(caller.actor(s, "operator"),
                                                     source="webhook"), field="alerts")


@router.post("/webhooks/grafana", openapi_extra=PAYLOAD_DOC,
             summary="Grafana Alerting webhook contact point (payload version 1)")
async def grafana_webhook(payload: Any = Payload, caller: Credentials = Caller
                          ) -> dict[str, Any]:
    """Grafana sends a request per alert group, often of one alert: the same caller's
    requests that come while its previous one is written share the next transaction
    (api/intake.py); each is still all or nothing and answered on its own."""
    def parse(actor: Actor) -> tuple[list[Signal], int]:
        signals = grafana.parse(payload)
        return signals, len(signals)

    alerts = payload.get("alerts") if isinstance(payload, dict) else None
    size = len(alerts) if isinstance(alerts, list) else 1
    return dict(await GRAFANA.submit(Part(caller, parse, _summary, max(size, 1))))


@router.post("/webhooks/generic", openapi_extra=PAYLOAD_DOC,
             summary="One alert, a list of alerts, or {\"alerts\": [...]}; status firing|resolved")
def generic_webhook(payload: Any = Payload, caller: Credentials = Caller) -> dict[str, Any]:
    return _run(caller, lambda actor: (generic.parse(payload, actor.name.removeprefix("key:")),
                                       replace(actor, source="webhook")))


@router.post("/anomalies", status_code=201,
             summary="An ML anomaly: confidence >= 0.70 raises an alert (severity by confidence)")
def post_anomaly(response: Response, payload: Any = PAYLOAD,
                 actor: Actor = Operator) -> dict[str, Any]:
    decision = anomaly.decide(payload)
    if decision.alert is None:
        response.status_code = 200
        return {"alert": None, "created": False, "reason": decision.reason}
    now = SYSTEM_CLOCK.now()
    alert = decision.alert

    def write(s: Session) -> tuple[BatchResult, dict[str, Any]]:
        result = ingest_batch(s, [Signal(alert)], replace(actor, source="api"), now, field=None)
        return result, alert_json(queue.get_alert(s, next(iter(result.ids.values()))), now)

    result, out = core_db.run_transaction(write)
    if not result.created:
        response.status_code = 200
    return {"alert": out, "created": bool(result.created), "reason": decision.reason}


@router.get("/anomalies/models", summary="False-positive rate per anomaly model")
def anomaly_models(start: str | None = None, end: str | None = None,
                   _: Actor = Viewer) -> dict[str, Any]:
    now = SYSTEM_CLOCK.now()
    start_at = instant(start, "start") or now - timedelta(days=30)
    end_at = instant(end, "end") or now
    with core_db.transaction() as s:
        rows = model_stats(s, start_at, end_at)
    return {"data": rows, "start": start_at, "end": end_at,
            "page": 1, "limit": len(rows), "total": len(rows)}
