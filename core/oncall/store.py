"""On-call schedules in the database: create/replace/list/get schedules, overrides, who is on call
(``current``), final shifts, and the schedule targets of escalation tiers. The rotation
rules live in core/oncall/rules.py; bodies are read by core/oncall/parse.py. The caller owns the
session (one transaction per action); time is a parameter.

Rules enforced here:
- schedules are created by managers; every participant must be an active user
  (FieldError ``layers[i].participants[j]``); names are unique (Conflict).
- overrides: a manager may put anyone on call; anyone else (operator+) only themselves, and
  only on a schedule they take part in ("their own shifts"). The end must follow the start
  (FieldError ``end``); the username must be an active user. Overlaps are allowed.
- ``current`` / escalation use enabled schedules; a disabled or missing schedule has nobody.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Conflict, FieldError, Forbidden, NotFound
from core.oncall.parse import ROTATIONS, parse_hhmm, parse_override, parse_schedule, schedule_json
from core.oncall.rules import Layer, Override, Restriction, Schedule, Shift, final_shifts, reach, who_is_on
from core.tables import oncall_layers, oncall_overrides, oncall_schedules, users

MAX_RANGE = timedelta(days=366)


def _active_users(session: Session, names: Iterable[str]) -> set[str]:
    wanted = set(names)
    if not wanted:
        return set()
    return set(session.scalars(sa.select(users.c.username).where(
        users.c.username.in_(wanted), users.c.is_active)))


def _checked(session: Session, body: object, actor: Actor, schedule_id: int | None) -> Schedule:
    """Parse, check participants are active users and the name is free (manager+)."""
    if not actor.can("manager"):
        raise Forbidden("editing on-call schedules needs the manager role")
    schedule = parse_schedule(body)
    found = _active_users(session, (p for x in schedule.layers for p in x.participants))
    for i, layer in enumerate(schedule.layers):
        for j, name in enumerate(layer.participants):
            if name not in found:
                raise FieldError(f"layers[{i}].participants[{j}]", f"no active user {name!r}")
    same = sa.select(oncall_schedules.c.id).where(oncall_schedules.c.name == schedule.name,
                                                  oncall_schedules.c.id != (schedule_id or 0))
    if session.scalar(same) is not None:
        raise Conflict(f"an on-call schedule named {schedule.name!r} already exists")
    return schedule


def _store_layers(session: Session, sid: int, schedule: Schedule) -> None:
    session.execute(sa.delete(oncall_layers).where(oncall_layers.c.schedule_id == sid))
    stored = schedule_json(schedule)["layers"]
    session.execute(oncall_layers.insert(), [
        {"schedule_id": sid, "position": i, "name": x.name, "rotation": x.rotation,
         "shift_hours": x.shift_hours, "handoff": x.handoff, "start": x.start,
         "participants": list(x.participants), "restrictions": stored[i]["restrictions"]}
        for i, x in enumerate(schedule.layers)])


def create_schedule(session: Session, body: object, actor: Actor, now: datetime) -> dict[str, Any]:
    """Validate (FieldError naming the field, nothing stored) and store a schedule with its
    layers (manager+). Layer ``position`` is its index in ``layers``: later layers win."""
    schedule = _checked(session, body, actor, None)
    sid = int(session.scalar(oncall_schedules.insert().values(
        name=schedule.name, timezone=schedule.timezone, description=schedule.description,
        enabled=schedule.enabled, created_by=actor.name, created_at=now, updated_at=now,
    ).returning(oncall_schedules.c.id)) or 0)
    _store_layers(session, sid, schedule)
    after = get_schedule(session, sid)
    audit.record(session, actor, "oncall_schedule", sid, "create", None, after, now)
    return after


def replace_schedule(session: Session, schedule_id: int, body: object, actor: Actor,
                     now: datetime) -> dict[str, Any]:
    """Replace a schedule whole, layers included (manager+; the rotation editor). Overrides
    stay. Escalations resolve the schedule when a tier fires, so the change applies at once."""
    before = get_schedule(session, schedule_id)
    schedule = _checked(session, body, actor, schedule_id)
    session.execute(sa.update(oncall_schedules).where(oncall_schedules.c.id == schedule_id).values(
        name=schedule.name, timezone=schedule.timezone, description=schedule.description,
        enabled=schedule.enabled, updated_at=now))
    _store_layers(session, schedule_id, schedule)
    after = get_schedule(session, schedule_id)
    audit.record(session, actor, "oncall_schedule", schedule_id, "update", before, after, now)
    return after


def _rows(session: Session, ids: Sequence[int] | None, enabled: bool | None,
          rotation_type: str | None) -> list[dict[str, Any]]:
    """Schedule rows (filtered) with their layers in position order."""
    query = sa.select(oncall_schedules).order_by(oncall_schedules.c.name)
    if ids is not None:
        query = query.where(oncall_schedules.c.id.in_(ids))
    if enabled is not None:
        query = query.where(oncall_schedules.c.enabled.is_(enabled))
    if rotation_type is not None:
        if rotation_type not in ROTATIONS:
            raise FieldError("rotation_type", f"must be one of {', '.join(ROTATIONS)}")
        query = query.where(sa.exists().where(oncall_layers.c.schedule_id == oncall_schedules.c.id,
                                              oncall_layers.c.rotation == rotation_type))
    rows = [dict(r) for r in session.execute(query).mappings()]
    layers = session.execute(sa.select(oncall_layers).where(
        oncall_layers.c.schedule_id.in_([r["id"] for r in rows]))
        .order_by(oncall_layers.c.position)).mappings().all()
    for row in rows:
        row["layers"] = [{"position": x["position"], "name": x["name"],
                          "rotation": x["rotation"], "shift_hours": x["shift_hours"],
                          "handoff": x["handoff"].strftime("%H:%M"),
                          "start": x["start"].isoformat(),
                          "participants": list(x["participants"]),
                          "restrictions": x["restrictions"]}
                         for x in layers if x["schedule_id"] == row["id"]]
    return rows


def list_schedules(session: Session, enabled: bool | None = None,
                   rotation_type: str | None = None) -> list[dict[str, Any]]:
    """Schedules by name, with layers; filters: enabled, a layer's rotation type."""
    return _rows(session, None, enabled, rotation_type)


def get_schedule(session: Session, schedule_id: int) -> dict[str, Any]:
    rows = _rows(session, [schedule_id], None, None)
    if not rows:
        raise NotFound(f"on-call schedule {schedule_id} does not exist")
    return rows[0]


def to_schedule(row: dict[str, Any]) -> Schedule:
    """A stored row (from list/get) as the pure Schedule."""
    layers = tuple(Layer(
        x["name"], x["rotation"], parse_hhmm(x["handoff"], "handoff"),
        date.fromisoformat(x["start"]), tuple(x["participants"]),
        tuple(Restriction(tuple(r["days"]), parse_hhmm(r["from"], "from"),
                          parse_hhmm(r["to"], "to")) for r in x["restrictions"]),
        x["shift_hours"]) for x in row["layers"])
    return Schedule(row["name"], row["timezone"], layers, row["description"], row["enabled"],
                    row["id"])


def load_schedule(session: Session, schedule_id: int) -> Schedule:
    return to_schedule(get_schedule(session, schedule_id))


def overrides(session: Session, schedule_ids: Sequence[int], start: datetime,
              end: datetime) -> dict[int, list[Override]]:
    """Overrides overlapping [start, end), by schedule, oldest created first."""
    rows = session.execute(sa.select(oncall_overrides).where(
        oncall_overrides.c.schedule_id.in_(schedule_ids), oncall_overrides.c.ends_at > start,
        oncall_overrides.c.starts_at < end).order_by(oncall_overrides.c.created_at,
                                                     oncall_overrides.c.id)).mappings()
    out: dict[int, list[Override]] = {sid: [] for sid in schedule_ids}
    for r in rows:
        out[r["schedule_id"]].append(Override(r["username"], r["starts_at"], r["ends_at"],
                                              r["created_at"], r["id"]))
    return out


def list_overrides(session: Session, schedule_id: int, start: datetime,
                   end: datetime) -> list[dict[str, Any]]:
    """The overrides of one schedule overlapping [start, end), as stored."""
    rows = session.execute(sa.select(oncall_overrides).where(
        oncall_overrides.c.schedule_id == schedule_id, oncall_overrides.c.ends_at > start,
        oncall_overrides.c.starts_at < end).order_by(oncall_overrides.c.starts_at,
                                                     oncall_overrides.c.id)).mappings()
    return [_override_json(r) for r in rows]


def _override_json(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "schedule_id": r["schedule_id"], "username": r["username"],
            "start": r["starts_at"], "end": r["ends_at"], "created_by": r["created_by"],
            "created_at": r["created_at"]}


def create_override(session: Session, body: object, actor: Actor, now: datetime) -> dict[str, Any]:
    """Store an override ``{schedule_id, username, start, end}`` (rules: module doc)."""
    sid, username, start, end = parse_override(body)
    rows = _rows(session, [sid], None, None)
    if not rows:
        raise FieldError("schedule_id", f"no on-call schedule {sid}")
    if not actor.can("manager"):
        if not actor.can("operator") or actor.name != username:
            raise Forbidden("only a manager may put someone else on call; "
                            f"{actor.name} may override only with themselves")
        if not any(username in x["participants"] for x in rows[0]["layers"]):
            raise Forbidden(f"{username} takes no part in schedule {rows[0]['name']!r}")
    if username not in _active_users(session, [username]):
        raise FieldError("username", f"no active user {username!r}")
    row = session.execute(oncall_overrides.insert().values(
        schedule_id=sid, username=username, starts_at=start, ends_at=end,
        created_by=actor.name, created_at=now).returning(*oncall_overrides.c)).mappings().one()
    audit.record(session, actor, "oncall_override", row["id"], "create", None, _override_json(row),
                 now)
    return _override_json(row)


def delete_override(session: Session, override_id: int, actor: Actor, now: datetime) -> dict[str, Any]:
    """Remove an override (a manager any; an operator one that puts them on call or that
    they created). The schedule falls back to its layers for that time; audited."""
    row = session.execute(sa.select(oncall_overrides).where(
        oncall_overrides.c.id == override_id).with_for_update()).mappings().one_or_none()
    if row is None:
        raise NotFound(f"no on-call override {override_id}")
    if not actor.can("manager") and not (
            actor.can("operator") and actor.name in (row["username"], row["created_by"])):
        raise Forbidden("only a manager may remove someone else's override")
    session.execute(sa.delete(oncall_overrides).where(oncall_overrides.c.id == override_id))
    audit.record(session, actor, "oncall_override", override_id, "delete", _override_json(row),
                 None, now)
    return _override_json(row)


def shifts(session: Session, schedule_id: int, start: datetime, end: datetime) -> list[Shift]:
    """The final shifts of one schedule overlapping [start, end) (at most a year)."""
    if end <= start:
        raise FieldError("end", "must be after start")
    if end - start > MAX_RANGE:
        raise FieldError("end", "the range may span at most 366 days")
    schedule = load_schedule(session, schedule_id)
    wide = reach(schedule)
    found = overrides(session, [schedule_id], start - wide, end + wide)[schedule_id]
    return final_shifts(schedule, found, start, end)


def _on_call(session: Session, schedules: list[Schedule], at: datetime) -> list[tuple[Schedule, Any]]:
    wide = max((reach(s) for s in schedules), default=timedelta(0)) * 2
    ids = [int(s.id or 0) for s in schedules]  # who_is_on may look up to a year ahead
    found = overrides(session, ids, at - wide, at + MAX_RANGE + wide)
    return [(s, who_is_on(s, found[int(s.id or 0)], at)) for s in schedules]


def current(session: Session, schedule_id: int | None, at: datetime) -> list[dict[str, Any]]:
    """Who is on call at ``at``: one entry per enabled schedule (or the one asked for, even
    disabled), in the contract shape, plus the schedule name, zone and the person's contact."""
    rows = (_rows(session, None, True, None) if schedule_id is None
            else [get_schedule(session, schedule_id)])
    pairs = _on_call(session, [to_schedule(r) for r in rows], at)
    names = {n for _, on in pairs for n in (on.username, on.next and on.next.username) if n}
    contacts = {r.username: {"display_name": r.display_name, "email": r.email, "phone": r.phone}
                for r in session.execute(sa.select(users).where(users.c.username.in_(names)))}
    return [{"schedule_id": s.id, "schedule_name": s.name, "timezone": s.timezone,
             "username": on.username, "shift_start": on.shift_start, "shift_end": on.shift_end,
             "contact": contacts.get(on.username or ""),
             "next": None if on.next is None else {
                 "username": on.next.username, "shift_start": on.next.start,
                 "shift_end": on.next.end}} for s, on in pairs]


def resolve_schedule_targets(session: Session, schedule_ids: Iterable[int],
                             at: datetime) -> dict[int, tuple[str, str | None]]:
    """For escalation: schedule id -> (schedule name, who is on call at ``at`` or None).
    A disabled schedule has nobody; a missing one is left out."""
    rows = _rows(session, sorted(set(schedule_ids)), None, None)
    enabled = [to_schedule(r) for r in rows if r["enabled"]]
    out: dict[int, tuple[str, str | None]] = {int(r["id"]): (r["name"], None) for r in rows}
    for s, on in _on_call(session, enabled, at):
        out[int(s.id or 0)] = (s.name, on.username)
    return out


def resolve_schedule_target(session: Session, schedule_id: int, at: datetime) -> str | None:
    """The username on call for an escalation tier firing at ``at`` (None: nobody)."""
    return resolve_schedule_targets(session, [schedule_id], at).get(schedule_id, ("", None))[1]


def missing_schedules(session: Session, schedule_ids: Iterable[int]) -> set[int]:
    """The ids that name no on-call schedule (escalation policies check their targets)."""
    wanted = set(schedule_ids)
    if not wanted:
        return set()
    return wanted - set(session.scalars(sa.select(oncall_schedules.c.id).where(
        oncall_schedules.c.id.in_(wanted))))
