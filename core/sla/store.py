"""SLA policies in the database: read for intake, edited by managers."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core import audit
from core import severity as sev
from core.actor import Actor
from core.errors import FieldError, Forbidden
from core.sla.rules import Targets
from core.tables import sla_policies

MAX_TARGET_S = 90 * 24 * 3600


def load_targets(session: Session) -> dict[tuple[str, str | None], Targets]:
    return targets_from(session.execute(sa.select(
        sla_policies.c.severity, sla_policies.c.service, sla_policies.c.tta_s,
        sla_policies.c.ttr_s)).all())


def targets_from(rows: Iterable[Sequence[Any]]) -> dict[tuple[str, str | None], Targets]:
    """(severity, service, tta_s, ttr_s) policy rows as ``sla.pick_targets`` reads them."""
    return {(sev_, svc): Targets(tta, ttr) for sev_, svc, tta, ttr in rows}


def list_policies(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(sla_policies).order_by(
            sa.case({s: i for i, s in enumerate(sev.SEVERITIES)}, value=sla_policies.c.severity),
            sla_policies.c.service.nulls_first())).mappings().all()
    return [dict(r) for r in rows]


def _target(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(name, "must be a whole number of seconds")
    if not 0 < value <= MAX_TARGET_S:
        raise FieldError(name, f"must be between 1 and {MAX_TARGET_S} seconds")
    return value


def upsert_policy(session: Session, body: dict[str, Any], actor: Actor,
                  now: datetime) -> dict[str, Any]:
    """Create or replace the targets for (severity, service); service None = the default."""
    if not actor.can("manager"):
        raise Forbidden("editing SLA targets needs the manager role")
    severity = sev.normalize(body.get("severity"))
    service = body.get("service") or None
    if service is not None and not isinstance(service, str):
        raise FieldError("service", "must be a string or null")
    tta, ttr = _target(body.get("tta_s"), "tta_s"), _target(body.get("ttr_s"), "ttr_s")
    if ttr < tta:
        raise FieldError("ttr_s", "must not be shorter than tta_s")
    before = session.execute(sa.select(sla_policies).where(
        sla_policies.c.severity == severity,
        sla_policies.c.service.is_not_distinct_from(service))).mappings().one_or_none()
    base = insert(sla_policies).values(severity=severity, service=service, tta_s=tta, ttr_s=ttr,
                                       updated_at=now, updated_by=actor.name)
    stmt = base.on_conflict_do_update(
        index_elements=[sla_policies.c.severity, sla_policies.c.service],
        set_={"tta_s": tta, "ttr_s": ttr, "updated_at": now, "updated_by": actor.name},
    ).returning(*sla_policies.c)
    row = dict(session.execute(stmt).mappings().one())
    audit.record(session, actor, "sla_policy", f"{severity}/{service or '*'}",
                 "update" if before else "create", before, row, now)
    return row


def delete_override(session: Session, severity: str, service: str, actor: Actor,
                    now: datetime | None = None) -> bool:
    """Remove a per-service override (the severity default can only be changed, not removed)."""
    if not actor.can("manager"):
        raise Forbidden("editing SLA targets needs the manager role")
    row = session.execute(sa.delete(sla_policies).where(
        sla_policies.c.severity == sev.normalize(severity), sla_policies.c.service == service)
        .returning(*sla_policies.c)).mappings().one_or_none()
    if row is not None:
        audit.record(session, actor, "sla_policy", f"{row['severity']}/{service}", "delete",
                     dict(row), None, now)
    return row is not None
