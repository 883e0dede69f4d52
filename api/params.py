"""Query-string parsing shared by list endpoints: comma lists and ISO-8601 instants."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from core.clock import check_day, ensure_utc
from core.errors import FieldError


def csv_list(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(out)


def instant(value: str | None, field: str) -> datetime | None:
    """ISO-8601 with an offset, or a bare date (midnight UTC); naive times and instants
    outside ``core.clock``'s EARLIEST..LATEST are refused."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(field, f"{value[:40]!r} is not an ISO-8601 date or time") from None
    if len(value) == 10:  # a date: the start of that day in UTC
        return datetime.combine(check_day(parsed.date(), field), time(0), tzinfo=timezone.utc)
    if parsed.tzinfo is None:
        raise FieldError(field, "must include a time zone offset, e.g. 2026-03-02T09:00:00Z")
    return ensure_utc(parsed, field)


def day(value: str, field: str) -> date:
    """A calendar day ``YYYY-MM-DD`` within the accepted range, or FieldError(field)."""
    try:
        parsed = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise FieldError(field, f"{value[:40]!r} is not a date; use YYYY-MM-DD")
    return check_day(parsed, field)


MAX_LIMIT = 500


def page_of(rows: list[Any], page: int, limit: int) -> dict[str, Any]:
    """A whole list read in one go (a few hundred rows at most, e.g. users, API keys) as one
    page of the list shape; 422 naming ``page`` / ``limit`` outside 1.. / 1..500."""
    if page < 1:
        raise FieldError("page", "must be 1 or more")
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"must be between 1 and {MAX_LIMIT}")
    first = (page - 1) * limit
    return {"data": rows[first:first + limit], "page": page, "limit": limit, "total": len(rows)}
