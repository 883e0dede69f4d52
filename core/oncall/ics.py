"""An iCalendar feed of a schedule's final shifts (RFC 5545, via the ``icalendar`` library),
for Google Calendar / Outlook / Apple Calendar subscriptions.

One VEVENT per final shift given (the API passes the next ``FEED_DAYS`` days): UID stable per
schedule and shift start (``oncall-<schedule id>-<start UTC>@alertdesk``), so a refresh updates
an event instead of duplicating it; DTSTART/DTEND in UTC (clients show them in the viewer's
zone); SUMMARY "On call: <username>" or "NOBODY on call" for a gap; DESCRIPTION names the
source (layer, override). The calendar carries METHOD:PUBLISH, X-WR-CALNAME, X-WR-TIMEZONE
(the schedule's zone) and a refresh hint of one hour.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from core.oncall.rules import UTC, Schedule, Shift

FEED_DAYS = 60
PRODID = "-//Alertdesk//On-call schedules//EN"


def _uid(schedule: Schedule, shift: Shift) -> str:
    return f"oncall-{schedule.id}-{shift.start.astimezone(UTC):%Y%m%dT%H%M%SZ}@alertdesk"


def _event(schedule: Schedule, shift: Shift, now: datetime) -> Event:
    event = Event()
    event.add("uid", _uid(schedule, shift))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    who = shift.username
    event.add("summary", f"On call: {who}" if who else "NOBODY on call")
    event.add("description", f"Schedule '{schedule.name}' ({schedule.timezone}); "
                             f"source: {shift.source}")
    event.add("transp", "TRANSPARENT")
    return event


def ics_feed(schedule: Schedule, shifts: Sequence[Shift], now: datetime) -> bytes:
    """The feed as bytes (CRLF lines, folded), one event per shift in ``shifts``."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"On call: {schedule.name}")
    cal.add("x-wr-timezone", schedule.timezone)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for shift in shifts:
        cal.add_component(_event(schedule, shift, now))
    return bytes(cal.to_ical())
