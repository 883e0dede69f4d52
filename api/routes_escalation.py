"""Escalation policies (list: viewer; create/replace: manager) and one alert's escalation
timeline. Bodies are checked by core/escalation/rules.py ``parse_policy``, whose errors name the
field (``tiers[1].delay_s``, ``tiers[0].targets[1].username``) and leave as 422."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from api.retry import RetryingRoute
from api.security import Manager, Operator, Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.escalation import store
from core.escalation.manual import add_responder, escalate_now
from core.escalation.preview import preview

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1", tags=["escalation"])

EXAMPLE = {
    "name": "payments-critical", "priority": 50,
    "match": {"severity": ["critical", "high"], "service": "payments", "labels": {}},
    "tiers": [{"delay_s": 0, "targets": [{"type": "user", "username": "olga"},
                                         {"type": "slack", "webhook": "noc"}]},
              {"delay_s": 300, "targets": [{"type": "email", "to": "payments-oncall@example.com"}]}],
    "repeat": {"every_s": 900, "times": 3}, "ack_timeout_s": 3600,
    "severity_escalation": {"after_s": 1800, "steps": 1}}
POLICY_DOC = (
    "TARGET: user {username}, schedule {schedule_id} (whoever is on call when the tier "
    "fires), email {to}, sms {to}, slack {webhook (secret name) | webhook_url}, "
    "webhook {url | url_ref, secret}, pagerduty {routing_key_ref | routing_key}, console. "
    "Secrets given in clear are sealed before storing. Delays must increase; of the enabled "
    "policies that match, the lowest priority wins, then the most specific (1 for a service, "
    "1 per label), then the oldest; POST /escalation-policies/preview shows the pick.")


@router.get("/escalation-policies", summary="Escalation policies in evaluation order")
def list_policies(_: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        rows = store.list_policies(s)
    return {"data": rows, "page": 1, "limit": len(rows), "total": len(rows)}


PREVIEW_EXAMPLE = {"severity": "critical", "service": "payments", "labels": {"team": "db"}}


@router.post("/escalation-policies/preview",
             summary="Which policy an alert would get (and why not the others), and who each "
                     "tier would notify, on which contact, at that time (operator)",
             description="Body: an alert object (the fields of POST /alerts; summary optional) "
                         "or {\"alert_id\": N}. Writes nothing.")
def preview_routing(body: Any = Body(examples=[PREVIEW_EXAMPLE, {"alert_id": 42}]),
                    _: Actor = Operator) -> dict[str, Any]:
    with core_db.transaction() as s:
        return preview(s, body, SYSTEM_CLOCK.now())


@router.get("/escalation-policies/{policy_id}", summary="One escalation policy")
def get_policy(policy_id: int, _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.get_policy(s, policy_id)


@router.post("/escalation-policies", status_code=201, description=POLICY_DOC,
             summary="Create an escalation policy (manager)")
def create_policy(body: dict[str, Any] = Body(examples=[EXAMPLE]),
                  actor: Actor = Manager) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.create_policy(s, body, actor, SYSTEM_CLOCK.now())


@router.put("/escalation-policies/{policy_id}", description=POLICY_DOC,
            summary="Replace an escalation policy (manager); alerts already escalating keep "
                    "the version frozen when they started")
def replace_policy(policy_id: int, body: dict[str, Any] = Body(examples=[EXAMPLE]),
                   actor: Actor = Manager) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.replace_policy(s, policy_id, body, actor, SYSTEM_CLOCK.now())


@router.get("/alerts/{alert_id}/escalation",
            summary="One alert's escalation: policy frozen, steps fired, delivery status")
def alert_escalation(alert_id: int, _: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.alert_timeline(s, alert_id)


RESPONDER_EXAMPLES = [{"type": "user", "username": "olga"}, {"type": "schedule", "schedule_id": 1}]


def _manual_routes(kind: str) -> None:
    """escalate now / add a responder, on an incident (group) or on an alert."""
    def escalate(item_id: int, actor: Actor = Operator) -> dict[str, Any]:
        with core_db.transaction() as s:
            return escalate_now(s, actor, SYSTEM_CLOCK.now(), **{f"{kind}_id": item_id})

    def responders(item_id: int, body: Any = Body(examples=RESPONDER_EXAMPLES),
                   actor: Actor = Operator) -> dict[str, Any]:
        with core_db.transaction() as s:
            return add_responder(s, body, actor, SYSTEM_CLOCK.now(), **{f"{kind}_id": item_id})

    base = "groups" if kind == "group" else "alerts"
    escalate.__name__, responders.__name__ = f"escalate_{kind}", f"add_responder_{kind}"
    router.add_api_route(f"/{base}/{{item_id}}/escalate", escalate, methods=["POST"],
                         summary=f"Escalate the {kind}'s running escalation now: its next tier "
                                 "is due at once (operator; 409 unless it is running)")
    router.add_api_route(f"/{base}/{{item_id}}/responders", responders, methods=["POST"],
                         summary=f"Page a user, or whoever a schedule has on call, about the "
                                 f"{kind} now (operator)")


for _kind in ("group", "alert"):
    _manual_routes(_kind)
