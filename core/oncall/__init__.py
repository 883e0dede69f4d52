"""On-call: who carries the pager, when.

- ``rules``: schedules, layers, rotations, restrictions, overrides and final shifts (pure,
  zoneinfo, DST-correct; instants are parameters);
- ``parse``: the schedule and override bodies of the REST contract (pure, FieldError);
- ``store``: schedules and overrides in the database, who is on call, schedule targets;
- ``ics``: the iCalendar feed of a schedule's shifts.
"""
