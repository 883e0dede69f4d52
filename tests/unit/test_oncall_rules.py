"""core/oncall/rules.py with fixed instants (never the system clock): rotations, DST by brute
force (3 zones + a 30-minute one), leap day, overrides, gaps, restrictions, joins, parsing."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import FieldError
from core.oncall.parse import parse_override, parse_schedule, schedule_json
from core.oncall.rules import (
    UTC,
    Layer,
    Override,
    Restriction,
    Schedule,
    Shift,
    final_shifts,
    layer_shifts,
    who_is_on,
)

H9 = time(9)
PEOPLE = ("ann", "bob", "cid")


def sched(*layers: Layer, tz: str = "UTC") -> Schedule:
    return Schedule("NOC primary", tz, layers)


def layer(rotation: str = "daily", start: date = date(2026, 3, 2), people: tuple[str, ...] = PEOPLE,
          name: str = "primary", handoff: time = H9, hours: int | None = None,
          restrictions: tuple[Restriction, ...] = ()) -> Layer:
    return Layer(name, rotation, handoff, start, people, restrictions, hours)


def at(tz: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def people(shifts: list[Shift]) -> list[str | None]:
    return [s.username for s in shifts]


def test_daily_rotation_hands_off_at_the_handoff_time() -> None:
    s = sched(layer())
    assert who_is_on(s, [], utc(2026, 3, 2, 8, 59)).username is None  # before the start
    on = who_is_on(s, [], utc(2026, 3, 2, 9))
    assert (on.username, on.shift_start, on.shift_end) == ("ann", utc(2026, 3, 2, 9),
                                                            utc(2026, 3, 3, 9))
    assert on.next == Shift("bob", utc(2026, 3, 3, 9), utc(2026, 3, 4, 9), "primary")
    assert who_is_on(s, [], utc(2026, 3, 5, 8, 59)).username == "cid"
    assert who_is_on(s, [], utc(2026, 3, 5, 9)).username == "ann"


def test_weekly_rotation() -> None:
    s = sched(layer("weekly", people=("ann", "bob")))
    shifts = final_shifts(s, [], utc(2026, 3, 2, 9), utc(2026, 3, 30))
    assert [(x.username, x.start.day) for x in shifts] == [
        ("ann", 2), ("bob", 9), ("ann", 16), ("bob", 23)]
    assert all(x.end - x.start == timedelta(days=7) for x in shifts)


@pytest.mark.parametrize(("hours", "starts"), [
    # 12 h: absolute hours, so the local hand-off moves with DST (09:00 EST -> 10:00 EDT)
    (12, ["03-07 09:00", "03-07 21:00", "03-08 10:00", "03-08 22:00"]),
    # 48 h: whole days step in wall-clock time, 09:00 local on both sides
    (48, ["03-06 09:00", "03-08 09:00", "03-10 09:00", "03-12 09:00"]),
])
def test_custom_rotation_steps(hours: int, starts: list[str]) -> None:
    tz = "America/New_York"
    s = sched(layer("custom", start=date(2026, 3, 2), hours=hours), tz=tz)
    shifts = final_shifts(s, [], at(tz, 2026, 3, 7, 9), at(tz, 2026, 3, 9, 9) if hours == 12
                          else at(tz, 2026, 3, 13, 9))
    assert [x.start.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M") for x in shifts] == starts
    if hours == 12:
        assert all(x.end - x.start == timedelta(hours=12) for x in shifts)


DST = [  # zone, the local date of a change, length of the 09:00-09:00 shift spanning it
    ("America/New_York", date(2026, 3, 8), 23), ("America/New_York", date(2026, 11, 1), 25),
    ("Europe/London", date(2026, 3, 29), 23), ("Europe/London", date(2026, 10, 25), 25),
    ("Australia/Sydney", date(2026, 4, 5), 25), ("Australia/Sydney", date(2026, 10, 4), 23),
    ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),  # a 30-minute change
]


@pytest.mark.parametrize(("tz", "day", "hours"), DST)
def test_dst_handoff_stays_local_and_the_spanning_shift_is_23_or_25_h(
        tz: str, day: date, hours: float) -> None:
    zone = ZoneInfo(tz)
    start = day - timedelta(days=10)
    s = sched(layer(start=start), tz=tz)
    shifts = final_shifts(s, [], at(tz, *(day - timedelta(days=7)).timetuple()[:3], 9),
                          at(tz, *(day + timedelta(days=7)).timetuple()[:3], 9))
    assert len(shifts) == 14
    for x in shifts:
        assert x.start.astimezone(zone).time() == H9 and x.end.astimezone(zone).time() == H9
    lengths = {x.start.astimezone(zone).date(): (x.end - x.start) / timedelta(hours=1)
               for x in shifts}
    assert lengths.pop(day - timedelta(days=1)) == hours  # 09:00 the day before -> 09:00 on it
    assert set(lengths.values()) == {24}


@pytest.mark.parametrize(("tz", "day", "hours"), DST)
def test_dst_brute_force_every_15_minutes_against_local_wall_clock(
        tz: str, day: date, hours: float) -> None:
    """Oracle: the person is participants[local days since start, counting from 09:00]."""
    zone = ZoneInfo(tz)
    start = day - timedelta(days=4)
    s = sched(layer(start=start), tz=tz)
    t = at(tz, *(day - timedelta(days=2)).timetuple()[:3])
    while t < at(tz, *(day + timedelta(days=2)).timetuple()[:3]):
        wall = t.astimezone(zone)
        k = (wall.date() - start).days - (1 if wall.time() < H9 else 0)
        on = who_is_on(s, [], t)
        assert on.username == PEOPLE[k % 3], t
        assert on.shift_start <= t < on.shift_end
        assert on.shift_start.astimezone(zone).time() == H9
        t += timedelta(minutes=15)


def test_a_handoff_the_clock_skips_or_repeats() -> None:
    tz = "America/New_York"
    skipped = sched(layer(handoff=time(2, 30)), tz=tz)  # 2026-03-08 02:30 does not exist
    on = who_is_on(skipped, [], at(tz, 2026, 3, 8, 12))
    assert on.shift_start.astimezone(ZoneInfo(tz)).strftime("%H:%M %Z") == "03:30 EDT"
    repeated = sched(layer(handoff=time(1, 30)), tz=tz)  # 2026-11-01 01:30 happens twice
    on = who_is_on(repeated, [], at(tz, 2026, 11, 1, 12))
    assert on.shift_start == utc(2026, 11, 1, 5, 30)  # the first 01:30 (EDT)


def test_leap_day() -> None:
    s = sched(layer(start=date(2028, 2, 28), people=("ann", "bob")))
    assert [(x.username, x.start.date()) for x in final_shifts(
        s, [], utc(2028, 2, 28, 9), utc(2028, 3, 2, 9))] == [
        ("ann", date(2028, 2, 28)), ("bob", date(2028, 2, 29)), ("ann", date(2028, 3, 1))]
    weekly = sched(layer("weekly", start=date(2028, 2, 29), people=("ann", "bob")))
    assert who_is_on(weekly, [], utc(2028, 3, 7, 9)).shift_start == utc(2028, 3, 7, 9)
    assert who_is_on(weekly, [], utc(2028, 3, 7, 9)).username == "bob"


def test_an_override_cuts_a_shift_in_two() -> None:
    s = sched(layer())
    o = Override("zed", utc(2026, 3, 2, 13), utc(2026, 3, 2, 15), utc(2026, 3, 1))
    shifts = final_shifts(s, [o], utc(2026, 3, 2, 9), utc(2026, 3, 3, 9))
    assert [(x.username, x.start.hour, x.end.hour, x.source) for x in shifts] == [
        ("ann", 9, 13, "primary"), ("zed", 13, 15, "override"), ("ann", 15, 9, "primary")]
    assert who_is_on(s, [o], utc(2026, 3, 2, 14)).username == "zed"


def test_overlapping_overrides_the_latest_created_wins() -> None:
    s = sched(layer(people=("ann",)))
    older = Override("bob", utc(2026, 3, 2, 10), utc(2026, 3, 2, 14), utc(2026, 3, 1, 8), 1)
    newer = Override("cid", utc(2026, 3, 2, 12), utc(2026, 3, 2, 16), utc(2026, 3, 1, 9), 2)
    for given in ([older, newer], [newer, older]):  # input order does not matter
        got = final_shifts(s, given, utc(2026, 3, 2, 10), utc(2026, 3, 2, 16))
        assert [(x.username, x.start.hour, x.end.hour) for x in got] == [
            ("bob", 10, 12), ("cid", 12, 16)]
    # the same windows created the other way round: bob's covers 12-14 again
    swapped = [Override("bob", older.start, older.end, utc(2026, 3, 1, 10), 3), newer]
    got = final_shifts(s, swapped, utc(2026, 3, 2, 10), utc(2026, 3, 2, 16))
    assert [(x.username, x.start.hour, x.end.hour) for x in got] == [
        ("bob", 10, 14), ("cid", 14, 16)]
    tie = [Override("bob", older.start, older.end, utc(2026, 3, 1), 9),
           Override("cid", newer.start, newer.end, utc(2026, 3, 1), 8)]  # same instant: id
    assert who_is_on(s, tie, utc(2026, 3, 2, 13)).username == "bob"


def test_an_empty_layer_is_an_explicit_gap() -> None:
    s = sched(layer(people=()))
    on = who_is_on(s, [], utc(2026, 3, 10, 12))
    assert on.username is None
    [gap] = final_shifts(s, [], utc(2026, 3, 10), utc(2026, 3, 11))
    assert (gap.username, gap.source) == (None, "gap")
    covered = sched(layer(people=()), layer(name="backup", people=("bob",)))
    assert who_is_on(covered, [], utc(2026, 3, 10, 12)).username == "bob"


WEEKDAYS = (Restriction((1, 2, 3, 4, 5), time(9), time(17)),)


@pytest.mark.parametrize(("when", "who"), [
    (utc(2026, 3, 2, 10), "biz"),      # Monday 10:00
    (utc(2026, 3, 2, 16, 59), "biz"),
    (utc(2026, 3, 2, 17), "ann"),      # Monday 17:00: the window closed
    (utc(2026, 3, 3, 8, 59), "ann"),
    (utc(2026, 3, 6, 12), "biz"),      # Friday
    (utc(2026, 3, 7, 12), "ann"),      # Saturday: 24/7 layer only
])
def test_a_business_hours_layer_over_a_24_7_layer(when: datetime, who: str) -> None:
    s = sched(layer(people=("ann",), name="always"),
              layer("weekly", people=("biz",), name="business", restrictions=WEEKDAYS))
    assert who_is_on(s, [], when).username == who


def test_an_overnight_restriction_ends_the_next_day() -> None:
    nights = (Restriction((5,), time(22), time(6)),)  # Friday 22:00 -> Saturday 06:00
    s = sched(layer(people=("owl",), restrictions=nights))
    assert who_is_on(s, [], utc(2026, 3, 6, 23)).username == "owl"
    assert who_is_on(s, [], utc(2026, 3, 7, 5, 59)).username == "owl"
    assert who_is_on(s, [], utc(2026, 3, 7, 6)).username is None
    assert who_is_on(s, [], utc(2026, 3, 7, 23)).username is None
    [night] = [x for x in final_shifts(s, [], utc(2026, 3, 2), utc(2026, 3, 9)) if x.username]
    assert (night.start, night.end) == (utc(2026, 3, 6, 22), utc(2026, 3, 7, 6))


def test_final_shifts_join_the_same_person() -> None:
    s = sched(layer(people=("ann",)))  # hands off to herself every day
    [one] = final_shifts(s, [], utc(2026, 3, 10), utc(2026, 3, 12))
    assert one.username == "ann" and one.start <= utc(2026, 3, 10) and one.end >= utc(2026, 3, 12)
    rota = sched(layer(people=("ann", "bob")))
    o = Override("bob", utc(2026, 3, 2, 20), utc(2026, 3, 3, 9), utc(2026, 3, 1))
    shifts = final_shifts(rota, [o], utc(2026, 3, 2, 9), utc(2026, 3, 4, 9))
    assert [(x.username, x.start, x.end, x.source) for x in shifts] == [
        ("ann", utc(2026, 3, 2, 9), utc(2026, 3, 2, 20), "primary"),
        ("bob", utc(2026, 3, 2, 20), utc(2026, 3, 4, 9), "override + primary")]
    assert who_is_on(rota, [o], utc(2026, 3, 2, 21)).shift_end == utc(2026, 3, 4, 9)


def test_final_shifts_cover_the_range_without_holes() -> None:
    s = sched(layer(people=("ann", "bob")),
              layer("weekly", people=("biz",), name="business", restrictions=WEEKDAYS),
              tz="Europe/London")
    shifts = final_shifts(s, [], utc(2026, 3, 1), utc(2026, 4, 30))
    assert shifts[0].start <= utc(2026, 3, 1) and shifts[-1].end >= utc(2026, 4, 30)
    assert all(a.end == b.start and a.username != b.username for a, b in zip(shifts, shifts[1:]))
    layers = layer_shifts(s, utc(2026, 3, 2), utc(2026, 3, 9))
    assert len(layers["business"]) == 5 and len(layers["primary"]) == 7  # Mar 2..8


@pytest.mark.parametrize(("change", "field"), [
    ({"timezone": "Mars/Olympus"}, "timezone"), ({"timezone": ""}, "timezone"),
    ({"layers": [{"handoff": "25:00"}]}, "layers[0].handoff"),
    ({"layers": [{"handoff": "9h"}]}, "layers[0].handoff"), ({"owner": "x"}, "owner"),
    ({"layers": [{"rotation": "monthly"}]}, "layers[0].rotation"),
    ({"layers": [{"rotation": "custom"}]}, "layers[0].shift_hours"),
    ({"layers": [{"rotation": "custom", "shift_hours": 0}]}, "layers[0].shift_hours"),
    ({"layers": [{"shift_hours": 12}]}, "layers[0].shift_hours"),
    ({"layers": [{"start": "2026-02-30"}]}, "layers[0].start"),
    ({"layers": [{"participants": []}]}, "layers[0].participants"),
    ({"layers": [{"participants": ["ann", ""]}]}, "layers[0].participants[1]"),
    ({"layers": [{"restrictions": [{"days": [0], "from": "09:00", "to": "17:00"}]}]},
     "layers[0].restrictions[0].days"),
    ({"layers": [{"restrictions": [{"days": [8], "from": "09:00", "to": "17:00"}]}]},
     "layers[0].restrictions[0].days"),
    ({"layers": [{"restrictions": [{"days": [1], "from": "9", "to": "17:00"}]}]},
     "layers[0].restrictions[0].from"),
    ({"layers": [{"restrictions": [{"days": [1], "from": "09:00", "to": "24:00"}]}]},
     "layers[0].restrictions[0].to"),
    ({"layers": [{"name": "gap"}]}, "layers[0].name"), ({"layers": []}, "layers"),
    ({"layers": [{}, {}]}, "layers[1].name"),  # two layers named alike
    ({"layers": [{"colour": "red"}]}, "layers[0].colour"),
])
def test_parse_schedule_names_the_bad_field(change: dict, field: str) -> None:
    body: dict = {"name": "NOC", "timezone": "America/New_York", "layers": [{}]}
    body.update({k: v for k, v in change.items() if k != "layers"})
    base = {"name": "primary", "rotation": "daily", "handoff": "09:00", "start": "2026-03-02",
            "participants": ["ann", "bob"]}
    body["layers"] = [{**base, **x} for x in change.get("layers", [{}])]
    with pytest.raises(FieldError) as err:
        parse_schedule(body)
    assert err.value.field == field, err.value


def test_parse_schedule_round_trips() -> None:
    body = {"name": "NOC", "timezone": "Australia/Sydney", "description": "", "enabled": True,
            "layers": [{"name": "primary", "rotation": "custom", "shift_hours": 12,
                        "handoff": "08:30", "start": "2026-03-02", "participants": ["ann"],
                        "restrictions": [{"days": [1, 5], "from": "22:00", "to": "06:00"}]}]}
    assert schedule_json(parse_schedule(body)) == body


@pytest.mark.parametrize(("change", "field"), [
    ({"end": "2026-03-02T08:00:00Z"}, "end"), ({"end": "2026-03-02T09:00:00Z"}, "end"),
    ({"start": "2026-03-02T09:00:00"}, "start"),
    ({"schedule_id": "1"}, "schedule_id"), ({"username": ""}, "username"),
])
def test_parse_override_names_the_bad_field(change: dict, field: str) -> None:
    body = {"schedule_id": 1, "username": "ann", "start": "2026-03-02T09:00:00Z",
            "end": "2026-03-02T17:00:00+00:00", **change}
    with pytest.raises(FieldError) as err:
        parse_override(body)
    assert err.value.field == field


def test_who_is_on_follows_a_long_shift_and_a_long_gap() -> None:
    alone = sched(layer(people=("ann",)))
    on = who_is_on(alone, [], utc(2026, 6, 1))
    assert on.username == "ann" and on.next is None  # nothing changes within a year
    assert on.shift_end - utc(2026, 6, 1) > timedelta(days=300)
    later = sched(layer(start=date(2026, 9, 1)))
    on = who_is_on(later, [], utc(2026, 3, 2))
    assert on.username is None and on.shift_end == utc(2026, 9, 1, 9)
    assert on.next is not None and on.next.username == "ann"
