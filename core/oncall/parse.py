"""Reading on-call bodies (the JSON contract of docs/DESIGN.md), pure: FieldError names
the first bad field (``timezone``, ``layers[0].handoff``, ``layers[1].participants[0]``,
``layers[0].restrictions[0].days``, ``end``). Whether participants and override users
exist is the store's check (core/oncall/store.py).

Defaults: ``handoff`` "09:00", ``restrictions`` none (always on), ``enabled`` true. Layer
names "gap" and "override" are reserved (they label final shifts).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.clock import check_day, ensure_utc
from core.errors import FieldError
from core.oncall.rules import GAP, OVERRIDE, Layer, Restriction, Schedule

ROTATIONS = ("daily", "weekly", "custom")
MAX_LAYERS, MAX_PARTICIPANTS, MAX_SHIFT_HOURS = 10, 100, 24 * 28
MAX_OVERRIDE_DAYS = 366
HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
KEYS = {"name", "timezone", "description", "enabled", "layers"}
LAYER_KEYS = {"name", "rotation", "shift_hours", "handoff", "start", "participants",
              "restrictions"}


def parse_zone(value: object, field: str = "timezone") -> str:
    """An IANA zone name zoneinfo knows ("Europe/London"), else FieldError."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError(field, "is required: an IANA time zone such as Europe/London")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):   # OSError: a name too long for a path
        raise FieldError(field, f"unknown time zone {value[:60]!r}") from None
    return value.strip()


def parse_hhmm(value: object, field: str) -> time:
    """"HH:MM" (00:00-23:59)."""
    match = HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise FieldError(field, f"must be a time of day HH:MM (00:00-23:59), not {value!r}")
    return time(int(match[1]), int(match[2]))


def _text(value: object, field: str, limit: int = 100) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise FieldError(field, f"is required (1-{limit} characters)")
    return value.strip()


def _unknown(body: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in body:
        if key not in allowed:
            raise FieldError(where + (key or '""'), "unknown field")   # '""': the empty key


def parse_schedule(body: object) -> Schedule:
    """A checked Schedule from the JSON contract, or FieldError naming the first bad field
    (``timezone``, ``layers[0].handoff``, ``layers[1].participants[0]`` ...). Whether the
    participants are users is the store's check."""
    if not isinstance(body, Mapping):
        raise FieldError("body", "must be an object")
    _unknown(body, KEYS, "")
    name, zone = _text(body.get("name"), "name"), parse_zone(body.get("timezone"))
    description = body.get("description") or ""
    if not isinstance(description, str):
        raise FieldError("description", "must be a string")
    if not isinstance(body.get("enabled", True), bool):
        raise FieldError("enabled", "must be true or false")
    raw = body.get("layers")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LAYERS:
        raise FieldError("layers", f"must list 1 to {MAX_LAYERS} layers")
    layers = tuple(_layer(item, f"layers[{i}]") for i, item in enumerate(raw))
    for i, layer in enumerate(layers):
        if layer.name in (x.name for x in layers[:i]):
            raise FieldError(f"layers[{i}].name", f"another layer is named {layer.name!r}")
    return Schedule(name, zone, layers, description, bool(body.get("enabled", True)))


def _layer(raw: object, where: str) -> Layer:
    if not isinstance(raw, Mapping):
        raise FieldError(where, "must be an object")
    _unknown(raw, LAYER_KEYS, f"{where}.")
    name = _text(raw.get("name"), f"{where}.name")
    if name in (GAP, OVERRIDE):
        raise FieldError(f"{where}.name", f"{name!r} is reserved")
    rotation = raw.get("rotation")
    if rotation not in ROTATIONS:
        raise FieldError(f"{where}.rotation", f"must be one of {', '.join(ROTATIONS)}")
    hours = raw.get("shift_hours")
    if rotation != "custom" and hours is not None:
        raise FieldError(f"{where}.shift_hours", "only a custom rotation takes shift_hours")
    if rotation == "custom" and (isinstance(hours, bool) or not isinstance(hours, int)
                                 or not 1 <= hours <= MAX_SHIFT_HOURS):
        raise FieldError(f"{where}.shift_hours", f"must be a whole number 1-{MAX_SHIFT_HOURS}")
    try:
        start = check_day(date.fromisoformat(str(raw.get("start"))), f"{where}.start")
    except ValueError:
        raise FieldError(f"{where}.start", "must be a date YYYY-MM-DD") from None
    return Layer(name, str(rotation), parse_hhmm(raw.get("handoff", "09:00"), f"{where}.handoff"),
                 start, _participants(raw.get("participants"), f"{where}.participants"),
                 tuple(_restriction(r, f"{where}.restrictions[{j}]")
                       for j, r in enumerate(_list(raw.get("restrictions"), where))), hours)


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(f"{where}.restrictions", "must be a list of {days, from, to}")
    return value


def _participants(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_PARTICIPANTS:
        raise FieldError(where, f"must list 1 to {MAX_PARTICIPANTS} usernames (rotation order)")
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            raise FieldError(f"{where}[{i}]", "must be a username")
    return tuple(str(n).strip().lower() for n in value)


def _restriction(raw: object, where: str) -> Restriction:
    if not isinstance(raw, Mapping):
        raise FieldError(where, "must be an object {days, from, to}")
    _unknown(raw, {"days", "from", "to"}, f"{where}.")
    days = raw.get("days")
    if not isinstance(days, list) or not days or any(
            isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days):
        raise FieldError(f"{where}.days", "must list days 1 (Monday) to 7 (Sunday)")
    return Restriction(tuple(sorted(set(days))), parse_hhmm(raw.get("from"), f"{where}.from"),
                       parse_hhmm(raw.get("to"), f"{where}.to"))


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    """The contract shape of a schedule (what :func:`parse_schedule` reads back)."""
    return {"name": schedule.name, "timezone": schedule.timezone,
            "description": schedule.description, "enabled": schedule.enabled,
            "layers": [{"name": x.name, "rotation": x.rotation, "shift_hours": x.shift_hours,
                        "handoff": x.handoff.strftime("%H:%M"), "start": x.start.isoformat(),
                        "participants": list(x.participants),
                        "restrictions": [{"days": list(r.days), "from": r.start.strftime("%H:%M"),
                                          "to": r.end.strftime("%H:%M")}
                                         for r in x.restrictions]}
                       for x in schedule.layers]}


def parse_instant(value: object, field: str) -> datetime:
    """ISO-8601 with an offset ("2026-03-02T09:00:00Z"), as UTC; naive times are refused."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(field, f"{str(value)[:40]!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise FieldError(field, "must include a time zone offset, e.g. 2026-03-02T09:00:00Z")
    return ensure_utc(parsed, field)


def parse_override(body: object) -> tuple[int, str, datetime, datetime]:
    """(schedule_id, username, start, end) from ``{"schedule_id", "username", "start",
    "end"}``; the end must come after the start (FieldError "end"), at most a year later."""
    if not isinstance(body, Mapping):
        raise FieldError("body", "must be an object")
    _unknown(body, {"schedule_id", "username", "start", "end"}, "")
    sid = body.get("schedule_id")
    if isinstance(sid, bool) or not isinstance(sid, int) or sid < 1:
        raise FieldError("schedule_id", "must be a schedule id")
    username = _text(body.get("username"), "username", 63).lower()
    start = parse_instant(body.get("start"), "start")
    end = parse_instant(body.get("end"), "end")
    if end <= start:
        raise FieldError("end", "must be after start")
    if (end - start).days > MAX_OVERRIDE_DAYS:
        raise FieldError("end", f"an override lasts at most {MAX_OVERRIDE_DAYS} days")
    return sid, username, start, end


def schedule_target(value: Mapping[str, Any], where: str) -> dict[str, Any]:
    """An escalation TARGET ``{"type": "schedule", "schedule_id": N}``: the person on call
    when the tier fires (that the schedule exists is the policy store's check)."""
    for key in value:
        if key not in ("type", "schedule_id"):
            raise FieldError(f"{where}.{key}", "unknown field for a schedule target")
    sid = value.get("schedule_id")
    if isinstance(sid, bool) or not isinstance(sid, int) or sid < 1:
        raise FieldError(f"{where}.schedule_id", "must be an on-call schedule id")
    return {"type": "schedule", "schedule_id": sid}
