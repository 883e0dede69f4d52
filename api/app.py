"""The FastAPI application: `uvicorn api.app:app`. OpenAPI at /docs."""
from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.routing import NoMatchFound

from api import errors
from api.body import reject_unstorable_body
from api.headers import SecurityHeadersMiddleware
from api.limits import BodyLimitMiddleware
from api.query import reject_nul, reject_unknown_query
from api.routes_actions import router as actions_router
from api.routes_admin import health
from api.routes_admin import router as admin_router
from api.routes_alerts import router as alerts_router
from api.routes_audit import router as audit_router
from api.routes_escalation import router as escalation_router
from api.routes_events_v2 import router as events_v2_router
from api.routes_groups import router as groups_router
from api.routes_health import router as health_router
from api.routes_heartbeats import router as heartbeats_router
from api.routes_ingest import router as ingest_router
from api.routes_integrations import router as integrations_router
from api.routes_metrics import router as metrics_router
from api.routes_notify import router as notify_router
from api.routes_oncall import router as oncall_router
from api.routes_people import router as people_router
from api.routes_reports import router as reports_router
from api.routes_retention import router as retention_router
from api.routes_sla_trends import router as sla_trends_router
from api.routes_suppress import router as suppress_router
from api.routes_weekly import router as weekly_router


def create_app() -> FastAPI:
    # Swagger UI from the package (fastapi-offline's copy of swagger-ui 5), not a CDN: the
    # docs work on a desk with no internet.
    app = FastAPIOffline(title="Alertdesk API", version="1.0",
                  description="Alert operations desk: intake, lifecycle, SLA. "
                              "Auth: `Authorization: Bearer <JWT or API key>` or `X-API-Key`.",
                  dependencies=[Depends(reject_unknown_query), Depends(reject_nul),
                                Depends(reject_unstorable_body)])
    errors.install(app)
    app.include_router(health)
    app.include_router(admin_router)
    app.include_router(alerts_router)
    app.include_router(groups_router)
    app.include_router(ingest_router)
    app.include_router(events_v2_router)
    app.include_router(metrics_router)
    app.include_router(heartbeats_router)
    app.include_router(suppress_router)
    app.include_router(notify_router)
    app.include_router(escalation_router)
    app.include_router(oncall_router)
    app.include_router(sla_trends_router)
    app.include_router(audit_router)
    app.include_router(weekly_router)
    app.include_router(retention_router)
    app.include_router(reports_router)
    app.include_router(health_router)
    app.include_router(people_router)
    app.include_router(integrations_router)
    app.include_router(actions_router)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)   # last added = outermost: 413s get them too
    _build_routes_now(app)
    _declare_security(app)
    return app


PUBLIC_PATHS = ("/healthz", "/api/v1/auth/token", "/api/v1/integrations/", "/a/")
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "A JWT from POST /api/v1/auth/token, or an API key (ad_…)"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key (python -m dashboard create-api-key, or the admin page)"},
}


def _declare_security(app: FastAPI) -> None:
    """The OpenAPI names how to authenticate (so /docs has an Authorize button): a bearer
    JWT or API key, or X-API-Key, on every route but the public ones (sign-in, health,
    the providers' signed callbacks, action links)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        schema["security"] = [{"bearer": []}, {"apiKey": []}]
        for path, operations in schema.get("paths", {}).items():
            if path.startswith(PUBLIC_PATHS) or path == "/v2/enqueue":
                for operation in operations.values():
                    operation["security"] = []
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _build_routes_now(app: FastAPI) -> None:
    """FastAPI (0.165) prepares an included router's routes on the first request that
    reaches it. The first requests of a busy start arrive together, and preparing routers
    on several threads at once races in pydantic's schema building and in the process-wide
    warnings filters (seen: 500s and reset connections under the mixed-load test). Resolving
    a name that matches no route walks, and so prepares, every route now, on one thread."""
    try:
        app.url_path_for("-prepare-every-route-")
    except NoMatchFound:
        pass


app = create_app()
