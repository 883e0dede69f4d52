"""Teams own services: the ``service_teams`` setting maps each service to the team that
answers for it (as PagerDuty and Grafana OnCall attach services to teams). Reports break
down and filter by team through this map, so a team's numbers need no label on every
alert and stay on the covering index of the compliance query. Services nobody claimed
fall under ``NO_TEAM``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.errors import FieldError, UnknownName
from core.settings import put_setting
from core.tables import alerts, settings

KEY = "service_teams"
NO_TEAM = "(no team)"
MAX_NAME = 100


def parse(body: Any) -> dict[str, str]:
    """``{"service": "team", ...}``; FieldError names the bad entry."""
    if not isinstance(body, dict):
        raise FieldError(KEY, "must be an object of service -> team")
    out: dict[str, str] = {}
    for service, team in body.items():
        where = f"{KEY}.{service}"
        if not isinstance(service, str) or not service.strip() or len(service) > 200:
            raise FieldError(where, "service names are 1-200 characters")
        if not isinstance(team, str) or not team.strip() or len(team.strip()) > MAX_NAME:
            raise FieldError(where, f"team must be a name of 1-{MAX_NAME} characters")
        if team.strip() == NO_TEAM:
            raise FieldError(where, f"{NO_TEAM!r} is reserved for services without a team")
        out[service.strip()] = team.strip()
    return dict(sorted(out.items()))


def load(session: Session) -> dict[str, str]:
    value = session.scalar(sa.select(settings.c.value).where(settings.c.key == KEY))
    return dict(value) if isinstance(value, dict) else {}


def put(session: Session, body: Any, actor: Actor, now: datetime) -> dict[str, str]:
    mapping = parse(body)
    put_setting(session, KEY, mapping, actor, now)
    return mapping


def services_of(mapping: dict[str, str], team: str) -> tuple[list[str], bool]:
    """(services, negate): the team's services, or for ``NO_TEAM`` every mapped service
    with ``negate`` set (its alerts are those of no listed service)."""
    if team == NO_TEAM:
        return sorted(mapping), True
    return sorted(s for s, t in mapping.items() if t == team), False


def teams(mapping: dict[str, str]) -> list[str]:
    return sorted(set(mapping.values()))


def check_service(session: Session, service: str | None,
                  mapping: dict[str, str] | None = None) -> None:
    """A service filter must name a service the desk knows: one with an alert (an indexed
    look-up) or an owner. Otherwise UnknownName (404 naming ``service``), not zeros."""
    if service is None or not service.strip():
        return
    if service in (load(session) if mapping is None else mapping):
        return
    if not session.scalar(sa.select(sa.exists().where(alerts.c.service == service))):
        raise UnknownName("service", f"no alert has service {service!r}")
