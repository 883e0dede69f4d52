"""Pure helpers of the On-call page (pages/oncall.py): the rotation editor's line syntax,
shift labels, shift tables and timeline frames in the viewer's zone. No widgets, no SQL.

Editor syntax, one layer per line (later lines win where they have someone on call)::

    name | daily|weekly|custom:HOURS | handoff HH:MM | start YYYY-MM-DD | user1, user2 | restrictions

Restrictions are optional: windows separated by ``;``, each ``DAYS FROM-TO`` with days
1 = Monday .. 7 = Sunday as a list or ranges (``1-5 09:00-17:00; 6,7 10:00-14:00``).
Values are passed to core as typed, so core's FieldError names the bad field.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from core.errors import FieldError
from core.oncall.rules import Shift
from dashboard.ui import duration

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

NOBODY = "nobody"
GAP_COLOR = "#d32f2f"
GAP_CSS = "background-color: #ffebee; color: #b71c1c"
PALETTE = ["#1565c0", "#2e7d32", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#283593",
           "#9e9d24", "#ad1457", "#455a64"]  # no red: red means "nobody"
LINE_HELP = ("One layer per line: name | daily, weekly or custom:HOURS | handoff HH:MM | "
             "start YYYY-MM-DD | user1, user2 | restrictions (optional, e.g. 1-5 09:00-17:00; "
             "days 1 = Monday). Later lines win where they have someone on call.")
WINDOW = re.compile(r"^\s*([0-9][0-9,\-\s]*?)\s+(\S+?)\s*-\s*(\S+)\s*$")
SHIFT_COLUMNS = ["Person", "Start", "End", "Length", "Source"]


# --- the editor's line syntax -------------------------------------------------------------

def _days(text: str, where: str) -> list[int]:
    out: list[int] = []
    for item in (x.strip() for x in text.split(",") if x.strip()):
        lo, _, hi = item.partition("-")
        if not lo.strip().isdigit() or (hi and not hi.strip().isdigit()):
            raise FieldError(where, f"days {item!r}: write numbers 1-7 or a range like 1-5")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def parse_restrictions(text: str, where: str) -> list[dict[str, Any]]:
    """``1-5 09:00-17:00; 6,7 10:00-14:00`` -> restriction objects (empty text: none)."""
    out: list[dict[str, Any]] = []
    for part in (p for p in text.split(";") if p.strip()):
        m = WINDOW.match(part)
        if m is None:
            raise FieldError(where, f"{part.strip()!r}: write days and hours, "
                                    "e.g. 1-5 09:00-17:00 (1 = Monday)")
        out.append({"days": _days(m[1], where), "from": m[2], "to": m[3]})
    return out


def _rotation(text: str, where: str) -> tuple[str, int | None]:
    kind, _, hours = text.strip().lower().partition(":")
    if kind.strip() != "custom":
        return text.strip().lower(), None  # core names a bad rotation
    if not hours.strip().isdigit():
        raise FieldError(where, "a custom rotation takes its shift length in hours, "
                                "e.g. custom:12")
    return "custom", int(hours)


def parse_layer_line(line: str, n: int) -> dict[str, Any]:
    """One editor line -> the layer object of the schedule body."""
    parts = [p.strip() for p in line.split("|")]
    if len(parts) not in (5, 6):
        raise FieldError(f"layers line {n}", "write name | rotation | handoff HH:MM | "
                                             "start YYYY-MM-DD | user1, user2 | restrictions")
    rotation, hours = _rotation(parts[1], f"layers line {n}: rotation")
    layer: dict[str, Any] = {
        "name": parts[0], "rotation": rotation, "handoff": parts[2], "start": parts[3],
        "participants": [u.strip() for u in parts[4].split(",") if u.strip()],
        "restrictions": parse_restrictions(parts[5] if len(parts) == 6 else "",
                                           f"layers line {n}: restrictions")}
    if hours is not None:
        layer["shift_hours"] = hours
    return layer


def parse_layers(text: str) -> tuple[list[dict[str, Any]], list[int]]:
    """The text area -> (layers, the line number of each layer); blank lines skipped."""
    layers, lines = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            layers.append(parse_layer_line(line, n))
            lines.append(n)
    return layers, lines


def _restrictions_text(restrictions: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{','.join(str(d) for d in r['days'])} {r['from']}-{r['to']}"
                     for r in restrictions)


def layers_text(layers: Sequence[Mapping[str, Any]]) -> str:
    """Stored layers as editor lines (what :func:`parse_layers` reads back)."""
    out = []
    for x in layers:
        rotation = f"custom:{x['shift_hours']}" if x["rotation"] == "custom" else x["rotation"]
        cells = [x["name"], rotation, x["handoff"], x["start"], ", ".join(x["participants"])]
        if x.get("restrictions"):
            cells.append(_restrictions_text(x["restrictions"]))
        out.append(" | ".join(cells))
    return "\n".join(out)


def schedule_body(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """The editor's values -> the schedule JSON body (DESIGN.md) and the layers' lines."""
    layers, lines = parse_layers(values["layers"])
    return {"name": values["name"], "timezone": values["timezone"],
            "description": values.get("description") or "",
            "enabled": bool(values.get("enabled", True)), "layers": layers}, lines


def explain(err: FieldError, lines: Sequence[int]) -> str:
    """Core's ``layers[1].handoff: ...`` named by the editor's line too."""
    m = re.match(r"layers\[(\d+)\]\.?(.*)", err.field)
    if m and int(m[1]) < len(lines):
        return f"layers line {lines[int(m[1])]} ({m[2] or 'layer'}): {err.message}"
    return str(err)


# --- times and frames ------------------------------------------------------------------------

def to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A date and time typed in the viewer's zone as an aware UTC instant."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)


def short(value: datetime, tz: ZoneInfo, ref: datetime | None = None) -> str:
    """``Mon 24 Nov 09:00``; ``Tue 09:00`` when within six days after ``ref``."""
    local = value.astimezone(tz)
    if ref is not None and timedelta(0) <= local - ref.astimezone(tz) < timedelta(days=6):
        return local.strftime("%a %H:%M")
    return local.strftime("%a %d %b %H:%M")


def shift_label(shift: Shift, tz: ZoneInfo) -> str:
    """``Mon 24 Nov 09:00 – Tue 09:00 olga`` (gaps: nobody)."""
    return (f"{short(shift.start, tz)} – {short(shift.end, tz, shift.start)} "
            f"{shift.username or NOBODY}")


def shifts_frame(shifts: Sequence[Shift], tz: ZoneInfo,
                 schedule: str | None = None) -> pd.DataFrame:
    """Shifts as a table in the viewer's zone (``schedule``: a first column naming it)."""
    df = pd.DataFrame({
        "Person": [x.username or NOBODY for x in shifts],
        "Start": [x.start.astimezone(tz).strftime("%Y-%m-%d %H:%M") for x in shifts],
        "End": [x.end.astimezone(tz).strftime("%Y-%m-%d %H:%M") for x in shifts],
        "Length": [duration((x.end - x.start).total_seconds()) for x in shifts],
        "Source": [x.source for x in shifts]}, columns=SHIFT_COLUMNS)
    if schedule is not None:
        df.insert(0, "Schedule", schedule)
    return df


def style_gaps(df: pd.DataFrame) -> Styler:
    return df.style.apply(lambda r: [GAP_CSS if r["Person"] == NOBODY else ""] * len(r), axis=1)


def timeline_rows(row: str, shifts: Sequence[Shift], tz: ZoneInfo, lo: datetime,
                  hi: datetime) -> list[dict[str, str]]:
    """One timeline row's bars, clipped to [lo, hi), as local-time strings (RECIPES §7)."""
    return [{"Row": row, "Person": x.username or NOBODY, "Source": x.source,
             "Start": max(x.start, lo).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
             "End": min(x.end, hi).astimezone(tz).strftime("%Y-%m-%d %H:%M")}
            for x in shifts if x.end > lo and x.start < hi]


def colors(people: Sequence[str]) -> dict[str, str]:
    """A colour per person (pass every user: the same colour in every chart); nobody red."""
    named = sorted({p for p in people if p != NOBODY})
    return {NOBODY: GAP_COLOR, **{p: PALETTE[i % len(PALETTE)] for i, p in enumerate(named)}}
