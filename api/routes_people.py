"""How a person is reached: their contact methods and notification rules. A person edits
their own (``me`` names the caller), an admin anyone's; bodies are checked by
core/people/rules.py, whose errors name the field (``address``, ``rules[1].delay_s``)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from api.retry import RetryingRoute
from api.security import Viewer
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.people import store

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1/users/{username}", tags=["people"])

METHOD_EXAMPLES = [{"type": "sms", "address": "+15551234567", "label": "work phone"},
                   {"type": "voice", "address": "+15551234567"},
                   {"type": "email", "address": "olga@example.com"},
                   {"type": "slack", "address": "U024BE7LH"}]
RULES_EXAMPLE = {"rules": [
    {"urgency": "high", "contact_method_id": 1, "delay_s": 0},
    {"urgency": "high", "contact_method_id": 2, "delay_s": 120},
    {"urgency": "high", "contact_method_id": 3, "delay_s": 300},
    {"urgency": "low", "contact_method_id": 3, "delay_s": 0}]}


def _who(username: str, actor: Actor) -> str:
    return actor.name if username == "me" else username


@router.get("/contact-methods", summary="A user's contact methods (themself or admin)")
def list_methods(username: str, actor: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        rows = store.list_methods(s, _who(username, actor), actor)
    return {"data": rows, "page": 1, "limit": len(rows), "total": len(rows)}


@router.post("/contact-methods", status_code=201,
             summary="Add a contact method: sms/voice (E.164 phone), email, slack (member id)")
def add_method(username: str, body: Any = Body(examples=METHOD_EXAMPLES),
               actor: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.add_method(s, _who(username, actor), body, actor, SYSTEM_CLOCK.now())


@router.delete("/contact-methods/{method_id}",
               summary="Remove a contact method (and the rules that use it)")
def delete_method(username: str, method_id: int, actor: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return store.delete_method(s, _who(username, actor), method_id, actor,
                                   SYSTEM_CLOCK.now())


@router.get("/notification-rules", summary="A user's notification rules per urgency")
def list_rules(username: str, actor: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        rules = store.list_rules(s, _who(username, actor), actor)
    # the list shape of every list, plus "rules": the body PUT takes (GET, edit, PUT back)
    return {"data": rules, "page": 1, "limit": len(rules), "total": len(rules), "rules": rules}


@router.put("/notification-rules",
            summary="Replace a user's notification rules: per urgency (high: critical and "
                    "high alerts; low: the rest), a contact method and a delay in seconds")
def put_rules(username: str, body: Any = Body(examples=[RULES_EXAMPLE]),
              actor: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return {"rules": store.put_rules(s, _who(username, actor), body, actor,
                                         SYSTEM_CLOCK.now())}
