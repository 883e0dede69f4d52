"""Time is injected: core functions take ``now``; only service edges read a Clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol


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
    """Return ``value`` as an aware UTC datetime; naive datetimes are refused."""
    from core.errors import FieldError

    if value.tzinfo is None or value.utcoffset() is None:
        raise FieldError(field, "must include a time zone offset")
    return value.astimezone(timezone.utc)


SYSTEM_CLOCK = SystemClock()
