"""SLA trends per local day and the breached list, against a hand-computed history.

The viewer is in America/New_York. 2026-03-08 is the spring-forward day there (23 h):
local midnight is 05:00Z up to 2026-03-08 and 04:00Z from 2026-03-09 on.
Targets (defaults): critical 300/1800 s, high 900/7200, medium 3600/28800, low 14400/86400,
info 86400/604800.
"""
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.errors import FieldError
from core.sla.compliance import ComplianceQuery, compliance
from core.sla.trends import breached_alerts, daily_trend
from tests.factories import act, make_alert, make_users

NY = "America/New_York"
MACHINE = Actor("key:am", "operator", "api", is_human=False)
START = datetime(2026, 3, 6, 5, 0, tzinfo=timezone.utc)   # 2026-03-06 00:00 EST
END = datetime(2026, 3, 11, 4, 0, tzinfo=timezone.utc)    # 2026-03-11 00:00 EDT
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.fixture
def history(engine: sa.Engine) -> dict[str, int]:
    """Each alert's expected day and outcome is written next to it."""
    make_users(engine)
    ids: dict[str, int] = {}
    make_alert(engine, utc(6, 4, 59), summary="before")   # Mar 5 23:59 EST: outside
    ids["a1"] = a1 = make_alert(engine, utc(7, 4, 59), summary="a1")  # Mar 6 23:59 EST
    act(engine, a1, "acknowledge", utc(7, 4, 59) + s(60))
    act(engine, a1, "resolve", utc(7, 4, 59) + s(600))           # TTA met, TTR met
    ids["a2"] = a2 = make_alert(engine, utc(7, 5), summary="a2")  # Mar 7 00:00 EST
    act(engine, a2, "investigate", utc(7, 5) + s(400))           # TTA 400 > 300
    act(engine, a2, "resolve", utc(7, 5) + s(2000))              # TTR 2000 > 1800
    ids["a3"] = a3 = make_alert(engine, utc(7, 12), summary="a3", severity="high")
    act(engine, a3, "resolve", utc(7, 12) + s(100), actor=MACHINE)  # source resolved: met
    ids["a9"] = a9 = make_alert(engine, utc(7, 15), summary="a9")
    act(engine, a9, "acknowledge", utc(7, 15) + s(120))          # TTA met
    act(engine, a9, "resolve", utc(7, 15) + s(3600))             # TTR 1800 s over
    ids["a4"] = make_alert(engine, utc(9, 3, 59), summary="a4",  # Mar 8 23:59 EDT, open
                           severity="medium")
    # Mar 9: no alerts.
    ids["a5"] = a5 = make_alert(engine, utc(10, 4), summary="a5", severity="low")  # Mar 10
    act(engine, a5, "acknowledge", utc(10, 4) + s(1000))         # TTA met; TTR due 11 04:00Z
    ids["a6"] = make_alert(engine, utc(10, 20), summary="a6", severity="info")  # undecided
    make_alert(engine, utc(11, 4), summary="after")  # Mar 11 00:00 EDT: outside (end excl.)
    return ids


def trend(engine: sa.Engine, tz: str = NY, **kw: str) -> list[dict]:  # type: ignore[type-arg]
    with core_db.transaction(engine) as ses:
        return daily_trend(ses, START, END, tz, now=NOW, **kw)


def test_days_are_local_with_dst_day_once_and_empty_day_zero(engine, history) -> None:
    days = trend(engine)
    assert [d["day"] for d in days] == [date(2026, 3, n) for n in (6, 7, 8, 9, 10)]
    assert [d["hours"] for d in days] == [24, 24, 23, 24, 24]
    assert days[2]["day_start"] == utc(8, 5) and days[2]["day_end"] == utc(9, 4)
    assert [d["alerts"] for d in days] == [1, 3, 1, 0, 2]
    empty = days[3]
    assert (empty["tta_compliance_pct"], empty["mtta_s"], empty["breaches"]) == (None, None, 0)
    assert empty["breaches_by_severity"] == dict.fromkeys(
        ("critical", "high", "medium", "low", "info"), 0)


def test_per_day_compliance_means_and_breaches_match_hand_computed(engine, history) -> None:
    days = trend(engine)
    got = [(d["tta_met"], d["tta_decided"], d["ttr_met"], d["ttr_decided"]) for d in days]
    assert got == [(1, 1, 1, 1), (2, 3, 1, 3), (0, 1, 0, 1), (0, 0, 0, 0), (1, 1, 0, 1)]
    assert [d["tta_compliance_pct"] for d in days] == [100, 66.67, 0, None, 100]
    assert [d["ttr_compliance_pct"] for d in days] == [100, 33.33, 0, None, 0]
    assert [d["mtta_s"] for d in days] == [60, 260, None, None, 1000]
    assert [d["mttr_s"] for d in days] == [600, 1900, None, None, None]
    assert [d["breaches"] for d in days] == [0, 2, 1, 0, 1]
    assert days[1]["breaches_by_severity"]["critical"] == 2
    assert days[2]["breaches_by_severity"]["medium"] == 1
    assert days[4]["breaches_by_severity"]["low"] == 1


def test_days_agree_with_the_compliance_report(engine, history) -> None:
    with core_db.transaction(engine) as ses:
        report = compliance(ses, ComplianceQuery(START, END), NOW)
    days = trend(engine)
    for key in ("alerts", "tta_met", "tta_decided", "ttr_met", "ttr_decided", "breaches"):
        assert sum(d[key] for d in days) == sum(r[key] for r in report), key


def test_same_history_in_utc_moves_the_midnight_alerts(engine, history) -> None:
    days = trend(engine, tz="UTC")
    by_day = {d["day"]: d["alerts"] for d in days}
    # START..END in UTC spans Mar 6 05:00Z .. Mar 11 04:00Z: days 6..11, all 24 h long.
    assert list(by_day) == [date(2026, 3, n) for n in range(6, 12)]
    assert by_day[date(2026, 3, 6)] == 0          # a1 (04:59Z Mar 7) is Mar 7 in UTC
    assert by_day[date(2026, 3, 7)] == 4
    assert by_day[date(2026, 3, 9)] == 1          # a4 (03:59Z Mar 9)
    assert {d["hours"] for d in days} == {24}


def test_filters_and_bad_input(engine, history) -> None:
    days = trend(engine, severity="critical")
    assert [d["alerts"] for d in days] == [1, 2, 0, 0, 0]
    assert [d["alerts"] for d in trend(engine, service="nothing")] == [0] * 5
    with pytest.raises(FieldError) as err:
        trend(engine, tz="Mars/Olympus")
    assert err.value.field == "tz"
    with pytest.raises(FieldError) as err:
        with core_db.transaction(engine) as ses:
            daily_trend(ses, END, START, NY, now=NOW)
    assert err.value.field == "end"


def test_breached_list_content_and_worst_first_order(engine, history) -> None:
    with core_db.transaction(engine) as ses:
        rows = breached_alerts(ses, START, END, now=NOW)
        top = breached_alerts(ses, START, END, limit=1, now=NOW)
        crit = breached_alerts(ses, START, END, severity="critical", now=NOW)
    ids = history
    assert [r["id"] for r in rows] == [ids["a9"], ids["a2"], ids["a4"], ids["a5"]]
    assert [r["breached"] for r in rows] == ["TTR", "TTA+TTR", "TTA+TTR", "TTR"]
    assert [r["overrun_s"] for r in rows] == [1800, 200, 198060, 28800]
    a4 = rows[2]  # open since Mar 9 03:59Z: both clocks run to NOW (2 d 8 h 1 min)
    assert (a4["tta_s"], a4["ttr_s"], a4["tta_target_s"], a4["ttr_target_s"]) == (
        201660, 201660, 3600, 28800)
    assert (rows[1]["tta_s"], rows[1]["ttr_s"], rows[1]["state"]) == (400, 2000, "resolved")
    assert rows[0]["total"] == 4 and [r["id"] for r in top] == [ids["a9"]]
    assert top[0]["total"] == 4
    assert [r["id"] for r in crit] == [ids["a9"], ids["a2"]]
