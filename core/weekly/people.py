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
- Paged: the pages the person received: notifications sent to them in the week (as a
  user target, as whoever a schedule had on call, or as a responder added by hand), about
  alerts that match the filters (PAGED_SQL).
- Busiest: the person with the most responses; ties go to more pages received, then more
  hours on call, then the name. Nobody is busiest when nobody responded or was on call.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.oncall.rules import final_shifts, reach
from core.oncall.store import list_schedules, overrides, to_schedule

BUSIEST_RULE = ("most alerts responded to (first human acknowledge/investigate/resolve in "
                "the week); ties: more pages received, then more hours on call")

RESPONSES_SQL = """
select e.actor as username, count(*) as responded
from alert_events e join alerts a on a.id = e.alert_id and a.acknowledged_at = e.at
where e.kind = 'transition' and e.from_state is distinct from e.to_state
  and e.at >= :start and e.at < :end and e.from_state = 'new'
  and e.metadata->>'action' in ('acknowledge', 'investigate', 'resolve') {where}
group by 1
"""

# The pages each person received: notifications to them (a user target, or the person a
# schedule had on call, or a responder added by hand: the outbox key names them as
# ``user:<username>:``, core.escalation.fire.user_sends / manual) that were sent in the week,
# about alerts that match the filters. A message bundled into another is not a page.
PAGED_SQL = """
select substring(n.idempotency_key from ':user:([a-z0-9][a-z0-9._@-]*):') as username,
       count(*) as pages
from notifications n join alerts a on a.id = n.alert_id
where n.status = 'sent' and n.sent_at >= :start and n.sent_at < :end
  and n.idempotency_key like '%:user:%' {where}
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


def paged(session: Session, start: datetime, end: datetime, where: str,
          params: dict[str, Any]) -> dict[str, int]:
    """Pages sent to each person in the week (PAGED_SQL)."""
    rows = session.execute(sa.text(PAGED_SQL.format(where=where)),
                           {**params, "start": start, "end": end})
    return {str(name): int(n) for name, n in rows if name}


def people_section(session: Session, start: datetime, end: datetime, where: str,
                   params: dict[str, Any]) -> dict[str, Any]:
    hours, _, n_schedules = on_call_hours(session, start, end)
    rows = session.execute(sa.text(RESPONSES_SQL.format(where=where)),
                           {**params, "start": start, "end": end})
    responded = {str(name): int(n) for name, n in rows}
    pages = paged(session, start, end, where, params)
    people: list[dict[str, Any]] = [
        {"username": name, "oncall_hours": round(hours.get(name, 0.0), 2),
         "responded": responded.get(name, 0), "paged": pages.get(name, 0)}
        for name in set(hours) | set(responded) | set(pages)]
    people.sort(key=lambda p: (-p["responded"], -p["paged"], -p["oncall_hours"], p["username"]))
    busiest = people[0] if people and (people[0]["responded"] or people[0]["oncall_hours"]) else None
    return {"people": people, "busiest": busiest, "rule": BUSIEST_RULE,
            "schedules": n_schedules}
