"""Time is injected: core functions take ``now``; only service edges read a Clock.

The validators of what a caller says about time (a zone name, a period) live here too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import FieldError

MAX_PERIOD_DAYS = 400
# The instants a caller may name. Python's datetime ends at year 9999 and the desk adds
# periods to what it is given (a day, a week, 400 days): past these bounds that arithmetic
# would overflow instead of answering, so such input is refused by name.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class FrozenClock:
    """A clock for tests and simulations: it only moves when told to."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current = self.current + timedelta(**kwargs)
        return self.current


def ensure_utc(value: datetime, field: str = "time") -> datetime:
    """Return ``value`` as an aware UTC datetime; naive datetimes and instants outside
    EARLIEST..LATEST are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise FieldError(field, "must include a time zone offset")
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:   # 9999-12-31T23:00-05:00 is past year 9999 in UTC
        raise _out_of_range(field) from None
    if not EARLIEST <= utc <= LATEST:
        raise _out_of_range(field)
    return utc


def check_day(value: date, field: str) -> date:
    """A calendar day within EARLIEST..LATEST, or FieldError naming ``field``."""
    if not EARLIEST.date() <= value <= LATEST.date():
        raise _out_of_range(field)
    return value


def _out_of_range(field: str) -> FieldError:
    return FieldError(field, f"must be between {EARLIEST.date()} and {LATEST.date()}")



def check_zone(tz: str) -> str:
    """The IANA zone name, or FieldError("tz")."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):   # OSError: a name too long for a path
        raise FieldError("tz", f"unknown time zone {tz[:60]!r}; use an IANA name such as "
                               "Europe/Berlin") from None
    return tz


def check_period(start: datetime, end: datetime, max_days: int = MAX_PERIOD_DAYS) -> None:
    """FieldError naming ``start`` (no offset) or ``end`` (not after start, too long)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise FieldError("start", "start and end need a time zone offset")
    if end <= start:
        raise FieldError("end", "must be after start")
    if end - start > timedelta(days=max_days):
        raise FieldError("end", f"the period may span at most {max_days} days")


SYSTEM_CLOCK = SystemClock()
