"""On-call schedules, pure: no database, no clock (instants are parameters).

A schedule has an IANA time zone and ordered layers; a layer is a rotation of participants.
Rotation math happens in the schedule's zone (zoneinfo):
- shift ``k`` of a layer starts at a boundary: ``daily`` the local date ``start + k`` days at
  ``handoff``, ``weekly`` ``start + 7k`` days at ``handoff``; ``custom`` every ``shift_hours``:
  a multiple of 24 h steps in local days (wall clock, like daily/weekly), any other length
  steps in absolute hours from ``start`` at ``handoff``. So a 09:00 handoff stays 09:00 local
  across DST and the shift spanning the change lasts 23 or 25 h. A handoff the clock skips
  (02:30 on a spring-forward night) counts as the time after the jump; one it repeats, as its
  first occurrence. Shift ``k`` belongs to ``participants[k % len]``; before shift 0 the
  layer has nobody.
- restrictions limit a layer to windows: ``days`` (1 = Monday .. 7 = Sunday: the day the
  window opens), ``from``/``to`` local times; ``to <= from`` ends the next day (equal: 24 h).
  Outside its windows a layer has nobody, so the layers below show through.
- precedence: overrides win over layers (among overlapping overrides, the latest created
  wins); a higher layer (later in the list: ``position`` = index) wins where it has someone.
  Where nobody is on call the final schedule has an explicit gap (username None, source "gap").
Final shifts join adjacent segments of the same person (a hand-off to oneself is no
hand-off); a joined shift's source lists its parts ("primary + override").
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
GAP, OVERRIDE = "gap", "override"
REACH = timedelta(days=35)  # how far a joined shift is followed beyond the asked range
EPS = timedelta(microseconds=1)
Seg = tuple[datetime, datetime, "str | None", str]  # start, end, username, source


@dataclass(frozen=True)
class Restriction:
    days: tuple[int, ...]  # ISO weekdays the window opens on
    start: time            # "from"
    end: time              # "to" (<= start: the next day)


@dataclass(frozen=True)
class Layer:
    name: str
    rotation: str
    handoff: time
    start: date
    participants: tuple[str, ...]
    restrictions: tuple[Restriction, ...] = ()
    shift_hours: int | None = None


@dataclass(frozen=True)
class Schedule:
    name: str
    timezone: str
    layers: tuple[Layer, ...]  # position = index: later layers win
    description: str = ""
    enabled: bool = True
    id: int | None = None


@dataclass(frozen=True)
class Override:
    username: str
    start: datetime
    end: datetime
    created_at: datetime
    id: int = 0


@dataclass(frozen=True)
class Shift:
    username: str | None
    start: datetime
    end: datetime
    source: str  # layer name(s), "override", or "gap"


@dataclass(frozen=True)
class OnCall:
    username: str | None
    shift_start: datetime
    shift_end: datetime
    next: Shift | None = None


# ---- rotation math -------------------------------------------------------------------

def local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Wall-clock ``day at`` in ``zone``, as UTC (a skipped time: after the jump)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _period_days(layer: Layer) -> int | None:
    """Shift length in local days, or None when it steps in absolute hours."""
    if layer.rotation == "daily":
        return 1
    if layer.rotation == "weekly":
        return 7
    hours = layer.shift_hours or 24
    return hours // 24 if hours % 24 == 0 else None


def _first_index(layer: Layer, zone: ZoneInfo, at: datetime) -> int:
    """Index of the shift holding ``at`` (at least 0: shift 0 may start after ``at``)."""
    days = _period_days(layer)
    if days is None:
        epoch = local(layer.start, layer.handoff, zone)
        return max((at - epoch) // timedelta(hours=layer.shift_hours or 24), 0)
    k = (at.astimezone(zone).date() - layer.start).days // days
    if local(layer.start + timedelta(days=k * days), layer.handoff, zone) > at:
        k -= 1
    return max(k, 0)


def _layer_segments(layer: Layer, zone: ZoneInfo, lo: datetime, hi: datetime) -> list[Seg]:
    """The layer's rotation shifts overlapping [lo, hi), whole (not clipped)."""
    k = _first_index(layer, zone, lo)
    days = _period_days(layer)
    n = len(layer.participants)
    if days is None:
        step = timedelta(hours=layer.shift_hours or 24)
        epoch = local(layer.start, layer.handoff, zone)
        bounds: Iterable[datetime] = (epoch + i * step for i in range(k, 1 << 62))
    else:
        bounds = (local(layer.start + timedelta(days=i * days), layer.handoff, zone)
                  for i in range(k, 1 << 62))
    out: list[Seg] = []
    it = iter(bounds)
    start = next(it)
    while start < hi:
        end = next(it)
        if n:
            out.append((start, end, layer.participants[k % n], layer.name))
        k, start = k + 1, end
    return out


def _windows(restrictions: Sequence[Restriction], zone: ZoneInfo, lo: datetime,
             hi: datetime) -> list[tuple[datetime, datetime]]:
    """The restriction windows overlapping [lo, hi), sorted and merged."""
    day, last = lo.astimezone(zone).date() - timedelta(days=1), hi.astimezone(zone).date()
    spans: list[tuple[datetime, datetime]] = []
    while day <= last:
        for r in restrictions:
            if day.isoweekday() in r.days:
                end_day = day + timedelta(days=1) if r.end <= r.start else day
                spans.append((local(day, r.start, zone), local(end_day, r.end, zone)))
        day += timedelta(days=1)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        elif a < b:
            merged.append((a, b))
    return merged


def _restrict(segs: list[Seg], windows: list[tuple[datetime, datetime]]) -> list[Seg]:
    """The parts of ``segs`` inside ``windows`` (both sorted, two pointers)."""
    out: list[Seg] = []
    j = 0
    for a, b, who, src in segs:
        while j < len(windows) and windows[j][1] <= a:
            j += 1
        k = j
        while k < len(windows) and windows[k][0] < b:
            lo, hi = max(a, windows[k][0]), min(b, windows[k][1])
            if lo < hi:
                out.append((lo, hi, who, src))
            k += 1
    return out


def _paint(base: list[Seg], top: Sequence[Seg]) -> list[Seg]:
    """``top`` (sorted, disjoint, inside the range) over ``base`` (covers the range)."""
    out: list[Seg] = []
    it = iter(base)
    cur = next(it, None)
    for t in top:
        while cur is not None and cur[1] <= t[0]:
            out.append(cur)
            cur = next(it, None)
        if cur is not None and cur[0] < t[0]:
            out.append((cur[0], t[0], cur[2], cur[3]))
        out.append(t)
        while cur is not None and cur[1] <= t[1]:
            cur = next(it, None)
        if cur is not None and cur[0] < t[1]:
            cur = (t[1], cur[1], cur[2], cur[3])
    if cur is not None:
        out.append(cur)
    out.extend(it)
    return out


def _merge(segs: list[Seg]) -> list[Seg]:
    """Join adjacent segments of the same person (or gap); sources listed once each."""
    out: list[Seg] = []
    for seg in segs:
        if out and out[-1][2] == seg[2]:
            prev = out[-1]
            src = prev[3] if seg[3] in prev[3].split(" + ") else f"{prev[3]} + {seg[3]}"
            out[-1] = (prev[0], seg[1], prev[2], src)
        else:
            out.append(seg)
    return out


def _compose(schedule: Schedule, overrides: Sequence[Override], lo: datetime,
             hi: datetime) -> list[Seg]:
    """The final timeline over [lo, hi): layers painted bottom-up, then overrides oldest
    first (the latest created ends on top), gaps where nobody is; joined."""
    zone = ZoneInfo(schedule.timezone)
    timeline: list[Seg] = [(lo, hi, None, GAP)]
    for layer in schedule.layers:
        segs = [(max(a, lo), min(b, hi), w, s) for a, b, w, s in
                _layer_segments(layer, zone, lo, hi) if b > lo]
        if layer.restrictions:
            segs = _restrict(segs, _windows(layer.restrictions, zone, lo, hi))
        timeline = _paint(timeline, segs)
    flat: list[Seg] = [(lo, hi, None, "")]  # overrides alone first (few), then painted once
    for o in sorted(overrides, key=lambda o: (o.created_at, o.id)):
        if o.end > lo and o.start < hi:
            flat = _paint(flat, [(max(o.start, lo), min(o.end, hi), o.username, OVERRIDE)])
    return _merge(_paint(timeline, [x for x in flat if x[3]]))


def pad(schedule: Schedule) -> timedelta:
    """Margin computed around a range so the shifts at its edges come out whole."""
    longest = max((_period_days(x) or 0) * 24 or (x.shift_hours or 24)
                  for x in schedule.layers) if schedule.layers else 24
    return timedelta(hours=longest + 24)


def reach(schedule: Schedule) -> timedelta:
    """How far outside [start, end) :func:`final_shifts` may look (load overrides so wide)."""
    return REACH + pad(schedule)


def final_shifts(schedule: Schedule, overrides: Sequence[Override], start: datetime,
                 end: datetime) -> list[Shift]:
    """What will really happen over [start, end): the shifts overlapping it, in order, with
    their true start and end (a shift longer than ``REACH`` beyond the range is cut there),
    gaps explicit (username None). Arithmetic on boundaries: O(shifts), not O(minutes)."""
    if end <= start:
        return []
    margin = pad(schedule)
    lo, hi = start - margin, end + margin
    segs = _compose(schedule, overrides, lo, hi)
    wide_lo = start - REACH - margin if segs[0][1] > start else lo
    wide_hi = end + REACH + margin if segs[-1][0] < end else hi
    if (wide_lo, wide_hi) != (lo, hi):
        segs = _compose(schedule, overrides, wide_lo, wide_hi)
    return [Shift(w, a, b, s) for a, b, w, s in segs if b > start and a < end]


def who_is_on(schedule: Schedule, overrides: Sequence[Override], at: datetime) -> OnCall:
    """Who is on call at ``at`` (None: nobody), their shift, and the next shift: a shift
    longer than ``REACH`` (one person alone, a long gap) is followed up to a year ahead;
    ``next`` is None when nothing changes within that year."""
    [cur] = final_shifts(schedule, overrides, at, at + EPS)
    end = cur.end
    for _ in range(366 // REACH.days + 1):
        [after] = final_shifts(schedule, overrides, end, end + EPS)
        if after.username != cur.username:
            return OnCall(cur.username, cur.start, end, after)
        end = after.end
    return OnCall(cur.username, cur.start, end, None)


def layer_shifts(schedule: Schedule, start: datetime, end: datetime) -> dict[str, list[Shift]]:
    """Each layer's own shifts over [start, end) after its restrictions (for timelines)."""
    zone = ZoneInfo(schedule.timezone)
    out: dict[str, list[Shift]] = {}
    for layer in schedule.layers:
        segs = _layer_segments(layer, zone, start, end)
        if layer.restrictions:
            segs = _restrict(segs, _windows(layer.restrictions, zone, start, end))
        out[layer.name] = [Shift(w, a, b, s) for a, b, w, s in segs if b > start and a < end]
    return out
