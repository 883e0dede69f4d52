"""Who is calling: a bearer JWT (people) or an API key (machines: `Authorization: Bearer
ad_...` or `X-API-Key`). Role checks are dependencies on every route."""
from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from core import auth
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.errors import AuthError, Forbidden

API_KEY_PREFIX = "ad_"


def _credentials(request: Request) -> tuple[str, str]:
    key = request.headers.get("x-api-key")
    if key:
        return "key", key.strip()
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError("missing credentials: send 'Authorization: Bearer <token or API key>'")
    value = value.strip()
    return ("key" if value.startswith(API_KEY_PREFIX) else "jwt"), value


def current_actor(request: Request) -> Actor:
    kind, value = _credentials(request)
    with core_db.transaction() as session:
        if kind == "key":
            return auth.actor_from_api_key(session, value, SYSTEM_CLOCK.now())
        return auth.actor_from_token(session, value)


def require(role: str) -> Callable[[Actor], Actor]:
    def check(actor: Actor = Depends(current_actor)) -> Actor:
        if not actor.can(role):
            raise Forbidden(f"{actor.name} has role {actor.role}; this needs {role} or above")
        return actor

    check.__name__ = f"require_{role}"
    return check


Viewer = Depends(require("viewer"))
Operator = Depends(require("operator"))
Manager = Depends(require("manager"))
Admin = Depends(require("admin"))
