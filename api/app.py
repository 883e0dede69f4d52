"""The FastAPI application: `uvicorn api.app:app`. OpenAPI at /docs."""
from __future__ import annotations

from fastapi import Depends, FastAPI

from api import errors
from api.body import reject_unstorable_body
from api.headers import SecurityHeadersMiddleware
from api.limits import BodyLimitMiddleware
from api.query import reject_nul, reject_unknown_query
from api.routes_admin import health
from api.routes_admin import router as admin_router
from api.routes_alerts import router as alerts_router
from api.routes_audit import router as audit_router
from api.routes_escalation import router as escalation_router
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
    app = FastAPI(title="Alertdesk API", version="1.0",
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
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)   # last added = outermost: 413s get them too
    return app


app = create_app()
