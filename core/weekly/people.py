"""The people part of the weekly report: hours on call, responses, the busiest person.

- Hours on call: the final shifts (``core.oncall.rules.final_shifts``: layers, restrictions and
  overrides merged) of every enabled schedule, clipped to the week, summed per person.
  A person on two schedules at once counts both. Schedules belong to no service or team,
  so the hours are not filtered.
- Responded: the alerts whose *first human response* (the instant that stopped their TTA
  clock: acknowledge, investigate or resolve by a person) fell in the week, credited to
  the person who made it (the actor of that transition in ``alert_events``; an
  acknowledge also makes them the assignee, but the assignee can change later, the event
  cannot). Filtered by service/team like the alerts.
- Paged: alerts (filtered) created while the person was on call.
- Busiest: the person with the most responses; ties go to more alerts paged, then more
  hours on call, then the name. Nobody is busiest when nobody responded or was on call.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.oncall.rules import final_shifts, reach
from core.oncall.store import list_schedules, overrides, to_schedule

BUSIEST_RULE = ("most alerts responded to (first human acknowledge/investigate/resolve in "
                "the week); ties: more alerts raised while on call, then more hours on call")

RESPONSES_SQL = """
select e.actor as username, count(*) as responded
from alert_events e join alerts a on a.id = e.alert_id and a.acknowledged_at = e.at
where e.kind = 'transition' and e.from_state is distinct from e.to_state
  and e.at >= :start and e.at < :end and e.from_state = 'new'
  and e.metadata->>'action' in ('acknowledge', 'investigate', 'resolve') {where}
group by 1
"""

# Alerts per elementary interval between consecutive shift boundaries (one pass over the
# week's alerts); each person's shifts are unions of such intervals.
PAGED_SQL = """
select width_bucket(created_at, cast(:bounds as timestamptz[])) as n, count(*) as alerts
from alerts a where created_at >= :start and created_at < :end {where}
group by 1
"""


def on_call_hours(session: Session, start: datetime, end: datetime
                  ) -> tuple[dict[str, float], list[tuple[str, datetime, datetime]], int]:
    """Hours per person, the clipped shifts and how many schedules were read."""
    schedules = [to_schedule(r) for r in list_schedules(session, enabled=True)]
    if not schedules:
        return {}, [], 0
    wide = max(reach(s) for s in schedules)
    found = overrides(session, [int(s.id or 0) for s in schedules], start - wide, end + wide)
    hours: dict[str, float] = defaultdict(float)
    clipped: list[tuple[str, datetime, datetime]] = []
    for s in schedules:
        for shift in final_shifts(s, found[int(s.id or 0)], start, end):
            if shift.username is None:
                continue
            lo, hi = max(shift.start, start), min(shift.end, end)
            hours[shift.username] += (hi - lo).total_seconds() / 3600
            clipped.append((shift.username, lo, hi))
    return dict(hours), clipped, len(schedules)


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def paged(session: Session, start: datetime, end: datetime, where: str, params: dict[str, Any],
          shifts: list[tuple[str, datetime, datetime]]) -> dict[str, int]:
    """Alerts created while each person was on call (a person on two schedules at once
    counts an alert once)."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for name, lo, hi in shifts:
        spans[name].append((lo, hi))
    if not spans:
        return {}
    bounds = sorted({start, end} | {t for _, lo, hi in shifts for t in (lo, hi)})
    rows = session.execute(sa.text(PAGED_SQL.format(where=where)),
                           {**params, "start": start, "end": end, "bounds": bounds})
    counts = {int(n): int(c) for n, c in rows}  # bucket n = [bounds[n-1], bounds[n])
    out: dict[str, int] = {}
    for name, person in spans.items():
        total = 0
        for lo, hi in _merged(person):
            first, last = bisect_left(bounds, lo) + 1, bisect_left(bounds, hi)
            total += sum(counts.get(n, 0) for n in range(first, last + 1))
        out[name] = total
    return out


def people_section(session: Session, start: datetime, end: datetime, where: str,
                   params: dict[str, Any]) -> dict[str, Any]:
    hours, shifts, n_schedules = on_call_hours(session, start, end)
    rows = session.execute(sa.text(RESPONSES_SQL.format(where=where)),
                           {**params, "start": start, "end": end})
    responded = {str(name): int(n) for name, n in rows}
    pages = paged(session, start, end, where, params, shifts)
    people: list[dict[str, Any]] = [
        {"username": name, "oncall_hours": round(hours.get(name, 0.0), 2),
         "responded": responded.get(name, 0), "paged": pages.get(name, 0)}
        for name in set(hours) | set(responded)]
    people.sort(key=lambda p: (-p["responded"], -p["paged"], -p["oncall_hours"], p["username"]))
    busiest = people[0] if people and (people[0]["responded"] or people[0]["oncall_hours"]) else None
    return {"people": people, "busiest": busiest, "rule": BUSIEST_RULE,
            "schedules": n_schedules}
