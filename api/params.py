"""Query-string parsing shared by list endpoints: comma lists and ISO-8601 instants."""
from __future__ import annotations

from datetime import datetime, time, timezone

from core.errors import FieldError


def csv_list(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(out)


def instant(value: str | None, field: str) -> datetime | None:
    """ISO-8601 with an offset, or a bare date (midnight UTC); naive times are refused."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(field, f"{value!r} is not an ISO-8601 date or time") from None
    if len(value) == 10:  # a date: the start of that day in UTC
        return datetime.combine(parsed.date(), time(0), tzinfo=timezone.utc)
    if parsed.tzinfo is None:
        raise FieldError(field, "must include a time zone offset, e.g. 2026-03-02T09:00:00Z")
    return parsed.astimezone(timezone.utc)
