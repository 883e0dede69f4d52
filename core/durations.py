"""Durations for people: 50s, 4m 10s, 53m, 3h 5m, 2d 4h — seconds only while they matter
(under 10 minutes), two units at most. One format for the pages and the report files."""
from __future__ import annotations


def human(seconds: float) -> str:
    """Rounded to the second; negative durations keep their sign."""
    s = int(round(abs(seconds)))
    sign = "-" if seconds < 0 else ""
    if s < 60:
        return f"{sign}{s}s"
    m, s = divmod(s, 60)
    if m < 10:
        return f"{sign}{m}m {s}s"
    if m < 60:
        return f"{sign}{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{sign}{h}h {m}m"
    d, h = divmod(h, 24)
    return f"{sign}{d}d {h}h"
