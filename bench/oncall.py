"""The on-call figure: final shifts (layers, restrictions, overrides merged) for 50
schedules over 90 days, pure (no database): ``core.oncall.rules.final_shifts`` as the API's
shifts endpoint and the On-call page call it. Target: <= 200 ms in total.

Schedules (fixed, seeded): 10 time zones (DST in both hemispheres, a 30-minute one), each
with a weekly primary rotation of 4-8 people, a daily secondary, a business-hours layer
(weekdays 09:00-17:00) on every other schedule and a 12-hour custom rotation on every
third; 12 overrides each, some overlapping. The 90 days start 2026-03-01, across the
March/April DST changes.

Figures: ``oncall_shifts_50x90d_ms`` (median of ``runs``), ``oncall_shifts_50x90d_max_ms``,
``oncall_shifts_count`` (final shifts produced per run).
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

from core.oncall.rules import Layer, Override, Restriction, Schedule, final_shifts

ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "UTC",
         "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tokyo",
         "America/Sao_Paulo")
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
DAYS = 90
WEEKDAYS = (Restriction((1, 2, 3, 4, 5), datetime.strptime("09:00", "%H:%M").time(),
                        datetime.strptime("17:00", "%H:%M").time()),)


def _layers(i: int, rng: random.Random) -> tuple[Layer, ...]:
    crew = tuple(f"user{rng.randrange(200)}" for _ in range(rng.randint(4, 8)))
    nine = datetime.strptime("09:00", "%H:%M").time()
    layers = [Layer("primary", "weekly", nine, date(2026, 1, 5), crew),
              Layer("secondary", "daily", nine, date(2026, 2, 1), crew[::-1])]
    if i % 2 == 0:
        layers.append(Layer("business", "weekly", nine, date(2026, 1, 5), crew[:2], WEEKDAYS))
    if i % 3 == 0:
        layers.append(Layer("follow-the-sun", "custom", nine, date(2026, 2, 1), crew[2:], (), 12))
    return tuple(layers)


def schedules(count: int = 50, seed: int = 20261125) -> list[tuple[Schedule, list[Override]]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        sched = Schedule(f"schedule {i}", ZONES[i % len(ZONES)], _layers(i, rng), id=i + 1)
        overrides = []
        for j in range(12):
            start = START + timedelta(hours=rng.randrange(DAYS * 24))
            overrides.append(Override(f"user{rng.randrange(200)}", start,
                                      start + timedelta(hours=rng.randint(2, 72)),
                                      START - timedelta(days=30) + timedelta(minutes=j), j))
        out.append((sched, overrides))
    return out


def run(runs: int = 7) -> dict[str, Any]:
    """Time final_shifts for every schedule over the 90 days, ``runs`` times."""
    data = schedules()
    end = START + timedelta(days=DAYS)
    timings, produced = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        produced = sum(len(final_shifts(s, o, START, end)) for s, o in data)
        timings.append((time.perf_counter() - started) * 1000)
    return {"oncall_shifts_50x90d_ms": round(statistics.median(timings), 1),
            "oncall_shifts_50x90d_max_ms": round(max(timings), 1),
            "oncall_shifts_count": produced}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
