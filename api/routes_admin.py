"""Tokens, users, API keys, SLA policies and compliance, health."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.body import check_text
from api.params import MAX_LIMIT, instant, page_of
from api.retry import RetryingRoute
from api.schemas import ApiKeyBody, SlaPolicyBody, TokenRequest, UserBody, UserPatchBody
from api.security import Admin, Manager, Viewer
from core import auth, teams
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.errors import FieldError, NotFound
from core.sla.compliance import ComplianceQuery, compliance
from core.sla.store import delete_override, list_policies, upsert_policy

router = APIRouter(route_class=RetryingRoute, prefix="/api/v1")
health = APIRouter(route_class=RetryingRoute)


@router.post("/auth/token", tags=["auth"], summary="Username + password -> bearer JWT")
async def token(request: Request) -> dict[str, Any]:
    """401 for a wrong username or password; 429 with Retry-After, unchecked, while the
    account or the client address is throttled after failures (core/login_throttle.py)."""
    creds = await _token_request(request)
    now = SYSTEM_CLOCK.now()
    address = request.client.host if request.client else None
    # bcrypt takes ~0.25 s by design: off the event loop, so logins never stall other requests
    actor = await run_in_threadpool(_authenticate, creds.username, creds.password, now, address)
    return {"access_token": auth.issue_token(actor, now), "token_type": "bearer",
            "expires_in": int(auth.TOKEN_TTL.total_seconds()), "role": actor.role}


def _authenticate(username: str, password: str, now: datetime, address: str | None) -> Actor:
    with core_db.transaction() as s:
        attempt = auth.attempt(s, username, password, now, address)
    return attempt.result()   # after the commit: a failure stays counted


async def _token_request(request: Request) -> TokenRequest:
    """JSON body, or the OAuth2 password form that /docs' Authorize button sends."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        return _storable(TokenRequest(username=str(form.get("username", "")),
                                      password=str(form.get("password", ""))))
    try:
        data = await request.json()
    except (ValueError, RecursionError):
        from fastapi.exceptions import RequestValidationError
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                       "msg": "malformed JSON",
                                       "ctx": {"error": "invalid JSON"}}]) from None
    if not isinstance(data, dict):
        raise FieldError("body", "must be an object with username and password")
    try:
        creds = TokenRequest.model_validate(data)
    except ValidationError as err:   # a 422 naming the field, as FastAPI's own
        from fastapi.exceptions import RequestValidationError
        raise RequestValidationError(err.errors()) from None
    return _storable(creds)


def _storable(creds: TokenRequest) -> TokenRequest:
    check_text("username", creds.username)   # NUL / a lone surrogate failed in SQL or bcrypt
    check_text("password", creds.password)
    return creds


@router.get("/users", tags=["admin"])
def users(page: int = 1, limit: int = MAX_LIMIT, _: Actor = Admin) -> dict[str, Any]:
    with core_db.transaction() as s:
        rows = auth.list_users(s)
    return page_of(rows, page, limit)


@router.post("/users", tags=["admin"], status_code=201)
def create_user(body: UserBody, actor: Actor = Admin) -> dict[str, Any]:
    with core_db.transaction() as s:
        return auth.create_user(s, body.username, body.password, body.role, actor,
                                body.display_name, body.email, body.timezone)


@router.patch("/users/{username}", tags=["admin"],
              summary="Change a user's role, active flag or password (admin; audited)")
def update_user(username: str, body: UserPatchBody, actor: Actor = Admin) -> dict[str, Any]:
    with core_db.transaction() as s:
        return auth.update_user(s, username, actor, SYSTEM_CLOCK.now(), role=body.role,
                                is_active=body.is_active, password=body.password)


@router.get("/api-keys", tags=["admin"],
            summary="Every API key: name, prefix, role, last use, revocation (never the key)")
def api_keys(page: int = 1, limit: int = MAX_LIMIT, actor: Actor = Admin) -> dict[str, Any]:
    with core_db.transaction() as s:
        rows = auth.list_api_keys(s, actor)
    return page_of(rows, page, limit)


@router.delete("/api-keys/{key_id}", tags=["admin"],
               summary="Revoke an API key: it stops working at once (admin; audited)")
def revoke_api_key(key_id: int, actor: Actor = Admin) -> dict[str, Any]:
    with core_db.transaction() as s:
        return auth.revoke_api_key(s, key_id, actor, SYSTEM_CLOCK.now())


@router.post("/api-keys", tags=["admin"], status_code=201,
             summary="Create an API key (or, with scope wall/calendar, a URL token for that "
                     "view only); the key is shown once in this response")
def create_api_key(body: ApiKeyBody, actor: Actor = Admin) -> dict[str, Any]:
    with core_db.transaction() as s:
        key, row = auth.create_api_key(s, body.name, body.role, actor, scope=body.scope)
    return {**row, "key": key}


@router.get("/sla/policies", tags=["sla"])
def sla_policies(_: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        rows = list_policies(s)
    return {"data": rows, "page": 1, "limit": len(rows), "total": len(rows)}


@router.put("/sla/policies", tags=["sla"], summary="Set targets for a severity (and service)")
def put_sla_policies(body: SlaPolicyBody | list[SlaPolicyBody] = Body(...),
                     actor: Actor = Manager) -> dict[str, Any]:
    items = body if isinstance(body, list) else [body]
    now = SYSTEM_CLOCK.now()
    with core_db.transaction() as s:
        rows = [upsert_policy(s, item.model_dump(), actor, now) for item in items]
    return {"data": rows, "page": 1, "limit": len(rows), "total": len(rows)}


@router.delete("/sla/policies/{severity}/{service}", tags=["sla"], status_code=204,
               summary="Remove a per-service override (managers; audited): the service "
                       "falls back to the severity's default")
def delete_sla_override(severity: str, service: str, actor: Actor = Manager) -> Response:
    with core_db.transaction() as s:
        if not delete_override(s, severity, service, actor, SYSTEM_CLOCK.now()):
            raise NotFound(f"no SLA override for {severity}/{service}")
    return Response(status_code=204)


@router.get("/sla/compliance", tags=["sla"], summary="SLA compliance over a period")
def sla_compliance(start: str | None = None, end: str | None = None, service: str | None = None,
                   severity: str | None = None, group_by: str = "severity",
                   team: str | None = None, _: Actor = Viewer) -> dict[str, Any]:
    now = SYSTEM_CLOCK.now()
    end_at = instant(end, "end") or now
    start_at = instant(start, "start") or end_at - timedelta(days=30)
    query = ComplianceQuery(start_at, end_at, group_by, service, severity, team)
    with core_db.transaction() as s:
        rows = compliance(s, query, now)
    return {"data": rows, "start": start_at, "end": end_at, "group_by": group_by,
            "page": 1, "limit": len(rows), "total": len(rows)}


@router.get("/settings/teams", tags=["sla"], summary="Which team owns each service")
def get_teams(_: Actor = Viewer) -> dict[str, Any]:
    with core_db.transaction() as s:
        return teams.load(s)


@router.put("/settings/teams", tags=["sla"],
            summary="Replace the service -> team map (manager); reports group by it")
def put_teams(body: Any = Body(...), actor: Actor = Manager) -> dict[str, Any]:
    with core_db.transaction() as s:
        return teams.put(s, body, actor, SYSTEM_CLOCK.now())


@health.get("/healthz", tags=["health"], summary="Liveness and database reachability")
def healthz() -> JSONResponse:
    try:
        with core_db.get_engine().connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as err:  # noqa: BLE001 - any DB failure means "not healthy"
        return JSONResponse({"status": "error", "database": f"unreachable ({type(err).__name__})"},
                            status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ok", "database": "ok"})
