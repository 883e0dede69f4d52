"""Contact methods and notification rules in the database. A person edits their own; an
admin edits anyone's; every change is audited (entity 'user'). Escalation reads them all at
once for the people a step names (``reach``)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Conflict, Forbidden, NotFound
from core.people.rules import (
    MAX_METHODS,
    ContactMethod,
    Rule,
    method_json,
    parse_method,
    parse_rules,
)
from core.tables import contact_methods as cm_t
from core.tables import notification_rules as nr_t
from core.tables import users


def _user_id(session: Session, username: str, actor: Actor) -> int:
    name = (username or "").strip().lower()
    if actor.name != name and not actor.can("admin"):
        raise Forbidden("only the user themself or an admin may change how they are reached")
    uid = session.scalar(sa.select(users.c.id).where(users.c.username == name))
    if uid is None:
        raise NotFound(f"user {name!r} does not exist")
    return int(uid)


def list_methods(session: Session, username: str, actor: Actor) -> list[dict[str, Any]]:
    uid = _user_id(session, username, actor)
    rows = session.execute(sa.select(cm_t).where(cm_t.c.user_id == uid).order_by(cm_t.c.id))
    return [method_json(r.id, ContactMethod(r.type, r.address, r.label)) for r in rows]


def add_method(session: Session, username: str, body: object, actor: Actor,
               now: datetime) -> dict[str, Any]:
    m = parse_method(body)
    uid = _user_id(session, username, actor)
    count = session.scalar(sa.select(sa.func.count()).where(cm_t.c.user_id == uid)) or 0
    if count >= MAX_METHODS:
        raise Conflict(f"at most {MAX_METHODS} contact methods per user")
    row = session.execute(insert(cm_t).values(
        user_id=uid, type=m.type, address=m.address, label=m.label, created_at=now)
        .on_conflict_do_nothing().returning(cm_t.c.id)).scalar_one_or_none()
    if row is None:
        raise Conflict(f"{username} already has the {m.type} contact {m.address}")
    out = method_json(int(row), m)
    audit.record(session, actor, "user", username, "contact_add", None, out, now)
    return out


def delete_method(session: Session, username: str, method_id: int, actor: Actor,
                  now: datetime) -> dict[str, Any]:
    uid = _user_id(session, username, actor)
    row = session.execute(sa.delete(cm_t).where(cm_t.c.id == method_id, cm_t.c.user_id == uid)
                          .returning(cm_t)).one_or_none()
    if row is None:
        raise NotFound(f"{username} has no contact method {method_id}")
    out = method_json(row.id, ContactMethod(row.type, row.address, row.label))
    audit.record(session, actor, "user", username, "contact_delete", out, None, now,
                 "its notification rules went with it")
    return out


def list_rules(session: Session, username: str, actor: Actor) -> list[dict[str, Any]]:
    uid = _user_id(session, username, actor)
    rows = session.execute(sa.select(nr_t.c.urgency, nr_t.c.contact_method_id, nr_t.c.delay_s)
                           .where(nr_t.c.user_id == uid)
                           .order_by(nr_t.c.urgency, nr_t.c.delay_s, nr_t.c.contact_method_id))
    return [dict(r) for r in rows.mappings()]


def put_rules(session: Session, username: str, body: object, actor: Actor,
              now: datetime) -> list[dict[str, Any]]:
    """Replace the user's rules (all of them, both urgencies) with ``body``."""
    uid = _user_id(session, username, actor)
    methods = {int(r.id): r.type for r in session.execute(
        sa.select(cm_t.c.id, cm_t.c.type).where(cm_t.c.user_id == uid))}
    rules = parse_rules(body, methods)
    before = list_rules(session, username, actor)
    session.execute(sa.delete(nr_t).where(nr_t.c.user_id == uid))
    if rules:
        session.execute(nr_t.insert(), [{"user_id": uid, "urgency": r.urgency,
                                         "contact_method_id": r.contact_method_id,
                                         "delay_s": r.delay_s} for r in rules])
    after = list_rules(session, username, actor)
    audit.record(session, actor, "user", username, "rules_set", {"rules": before},
                 {"rules": after}, now)
    return after


Reach = tuple[dict[int, ContactMethod], list[Rule]]


def reach(session: Session, usernames: Iterable[str]) -> dict[str, Reach]:
    """For escalation: per active user, their contact methods (id -> method) and rules."""
    names = sorted(set(usernames))
    if not names:
        return {}
    out: dict[str, Reach] = {}
    rows = session.execute(sa.select(users.c.username, cm_t.c.id, cm_t.c.type, cm_t.c.address,
                                     cm_t.c.label)
                           .join(cm_t, cm_t.c.user_id == users.c.id)
                           .where(users.c.username.in_(names), users.c.is_active)
                           .order_by(cm_t.c.id))
    for r in rows:
        out.setdefault(r.username, ({}, []))[0][int(r.id)] = ContactMethod(r.type, r.address,
                                                                           r.label)
    rules = session.execute(sa.select(users.c.username, nr_t.c.urgency, nr_t.c.contact_method_id,
                                      nr_t.c.delay_s)
                            .join(nr_t, nr_t.c.user_id == users.c.id)
                            .where(users.c.username.in_(names), users.c.is_active)
                            .order_by(nr_t.c.delay_s, nr_t.c.contact_method_id))
    for u in rules:
        out.setdefault(u.username, ({}, []))[1].append(
            Rule(u.urgency, int(u.contact_method_id), int(u.delay_s)))
    return out
