"""The period picker of the report pages: last 24 hours / 7 days / 30 days (whole local
days, today included), optionally all time, or a custom range of local days. Days start at
local midnight in the viewer's zone, so a week read in New York is New York's week."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ROLLING = ["Last 24 hours", "Last 7 days", "Last 30 days"]
CUSTOM = "Custom range"
ALL_TIME = "All time"


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def bounds(label: str, now: datetime, tz: ZoneInfo, custom: tuple[date, date] | None = None
           ) -> tuple[datetime | None, datetime | None]:
    """[start, end) for a period label; (None, None) for all time."""
    today = now.astimezone(tz).date()
    if label == "Last 24 hours":
        return now - timedelta(hours=24), now
    if label in ("Last 7 days", "Last 30 days"):
        days = 7 if label == "Last 7 days" else 30
        return local_midnight(today - timedelta(days=days - 1), tz), now
    if label == ALL_TIME:
        return None, None
    first, last = custom or (today, today)
    return local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)


def picker(key: str, now: datetime, tz: ZoneInfo, label_col: Any, days_col: Any,
           all_time: bool = False) -> tuple[datetime | None, datetime | None]:
    """The period select box (and the days picker for a custom range) in two columns."""
    options = [*ROLLING, *([ALL_TIME] if all_time else []), CUSTOM]
    label = label_col.selectbox("Period", options, index=1, key=f"{key}_period")
    custom = None
    if label == CUSTOM:
        today = now.astimezone(tz).date()
        picked = days_col.date_input("Days (local)", (today - timedelta(days=6), today),
                                     max_value=today, key=f"{key}_days")
        dates = list(picked) if isinstance(picked, tuple) else [picked]
        custom = (dates[0], dates[-1]) if dates else None
    return bounds(label, now, tz, custom)
