"""Health scores, their daily trend and the alerts behind them, against a hand-computed
history (the formula: core.health.rules; expected penalties worked out next to each test).

NOW is 2026-03-11 12:00Z; the 7-day window is [03-04 12:00Z, NOW). Targets (defaults):
critical 300/1800 s, high 900/7200, medium 3600/28800, low 14400/86400, info 86400/604800.
The trend viewer is in America/New_York: 2026-03-08 is spring-forward (23 h); local
midnight is 05:00Z up to Mar 8 and 04:00Z from Mar 9 on.
"""
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.alerts.flapping import mark_flapping
from core.errors import FieldError
from core.health.detail import alerts_behind, service_health
from core.health.store import daily_scores, health_scores
from tests.factories import act, make_alert, make_users

NY = "America/New_York"
MACHINE = Actor("key:am", "operator", "api", is_human=False)
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc)
WEEK = timedelta(days=7)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.fixture
def history(engine: sa.Engine) -> dict[str, int]:
    make_users(engine)
    ids: dict[str, int] = {}

    def alert(name: str, at: datetime, **kw: str) -> int:
        ids[name] = make_alert(engine, at, summary=kw.pop("summary", name), **kw)
        return ids[name]

    alert("b_old", utc(1, 10))                        # before the window, still open
    b1 = alert("b1", utc(6, 4, 30))                   # Mar 5 23:30 EST, 06 in UTC
    act(engine, b1, "acknowledge", utc(6, 4, 30) + s(60))
    act(engine, b1, "resolve", utc(6, 4, 30) + s(900))     # ratio 0.5
    b2 = alert("b2", utc(6, 10), severity="high")
    act(engine, b2, "acknowledge", utc(6, 10) + s(1000))   # TTA 1000 > 900: breach
    act(engine, b2, "resolve", utc(6, 10) + s(3600))       # ratio 0.5
    b3 = alert("b3", utc(7, 10), summary="disk full")
    act(engine, b3, "acknowledge", utc(7, 10) + s(60))
    act(engine, b3, "resolve", utc(7, 10) + s(3600))       # TTR 3600 > 1800: breach, 2.0
    b4 = alert("b4", utc(8, 10), summary="disk full")      # same fingerprint: a repeat
    act(engine, b4, "acknowledge", utc(8, 10) + s(60))
    act(engine, b4, "resolve", utc(8, 10) + s(1800))       # exactly on target: met, 1.0
    b5 = alert("b5", utc(10, 10), severity="medium")
    act(engine, b5, "acknowledge", utc(10, 10) + s(120))
    act(engine, b5, "resolve", utc(10, 10) + s(600))
    act(engine, b5, "reopen", utc(10, 10) + s(700))        # reopened once
    act(engine, b5, "resolve", utc(10, 10) + s(900))       # ratio 900/28800
    alert("b6", utc(11, 11), severity="low", device_id="db-02")  # open, inside its TTA
    w1 = alert("w1", utc(9, 10), severity="info", service="web", device_id="web-01")
    act(engine, w1, "resolve", utc(9, 10) + s(60), actor=MACHINE)
    d1 = alert("d1", NOW - timedelta(minutes=20), service="dns", device_id="ns-01")
    for minute, action in ((1, "acknowledge"), (2, "resolve"), (3, "reopen"), (4, "resolve"),
                           (5, "reopen")):
        act(engine, d1, action, NOW - timedelta(minutes=20 - minute))
    with core_db.transaction(engine) as ses:
        assert mark_flapping(ses, NOW) == 1              # 5 changes in 30 min > 4
    return ids


def scores(engine: sa.Engine, by: str = "service", **kw: str) -> list[dict]:  # type: ignore[type-arg]
    with core_db.transaction(engine) as ses:
        return health_scores(ses, by, WEEK, NOW, **kw)


def test_service_scores_match_hand_computed(engine, history) -> None:
    rows = scores(engine)
    assert [(r["entity"], r["score"], r["band"]) for r in rows] == [
        ("billing", 59.6, "Poor"), ("dns", 71.7, "Fair"), ("web", 100.0, "Excellent")]
    billing = rows[0]
    # 6 alerts (b1-b6); breached b2, b3 -> 1/3 -> 25 * 0.667 = 16.67; MTTR ratios
    # (0.5 + 0.5 + 2 + 1 + 0.03125) / 5 = 0.80625 -> 0; recurrences b4 (repeat) + b5
    # (reopen) = 2/6 -> 10; open b_old critical + b6 low: W 26 -> 40 * 26 / 76 = 13.68.
    assert billing["penalties"] == {"open": 13.68, "breaches": 16.67, "mttr": 0.0,
                                    "recurrence": 10.0}
    assert (billing["alerts"], billing["breaches"], billing["resolved"],
            billing["recurring"], billing["open"], billing["open_weight"]) == (6, 2, 5, 2, 2, 26)
    assert billing["mttr_ratio"] == 0.806
    assert billing["open_by_severity"] == {"critical": 1, "high": 0, "medium": 0, "low": 1,
                                           "info": 0}
    dns = rows[1]
    # one open critical (13.33) reopened twice and flapping: 3 recurrences of 1 alert -> 15
    assert dns["penalties"] == {"open": 13.33, "breaches": 0.0, "mttr": 0.0,
                                "recurrence": 15.0}
    assert (dns["recurring"], dns["resolved"], dns["mttr_ratio"]) == (3, 0, None)


def test_device_scores_and_service_filter(engine, history) -> None:
    rows = {r["entity"]: r for r in scores(engine, "device")}
    assert set(rows) == {"db-01", "db-02", "ns-01", "web-01"}
    # db-01: b1-b5, 2 breached of 5 -> 20; 2 recurrences of 5 -> 12; b_old open -> 13.33
    assert (rows["db-01"]["score"], rows["db-01"]["band"]) == (54.7, "Poor")
    assert rows["db-02"]["score"] == 99.2                 # one open low: 40 / 51 = 0.78
    only = scores(engine, "device", service="billing")
    assert [r["entity"] for r in only] == ["db-01", "db-02"]


def test_a_quiet_service_scores_100_and_nothing_is_listed_for_an_empty_db(engine) -> None:
    assert scores(engine) == []
    [quiet] = scores(engine, service="nobody")
    assert (quiet["entity"], quiet["score"], quiet["band"], quiet["alerts"]) == (
        "nobody", 100.0, "Excellent", 0)


def test_daily_trend_local_days_dst_and_open_at_day_end(engine, history) -> None:
    with core_db.transaction(engine) as ses:
        trend = daily_scores(ses, "service", 7, NY, NOW)
    assert set(trend) == {"billing", "dns", "web"}
    days = trend["billing"]
    assert [d["day"] for d in days] == [date(2026, 3, n) for n in range(5, 12)]
    assert days[3]["day_start"] == utc(8, 5) and days[3]["day_end"] == utc(9, 4)  # 23 h
    assert [d["alerts"] for d in days] == [1, 1, 1, 1, 0, 1, 1]
    # b_old is open at every day end (W 25 -> 13.33); b6 adds a low on Mar 11.
    assert [d["open_weight"] for d in days] == [25, 25, 25, 25, 25, 25, 26]
    # Mar 5 b1 fine; Mar 6 b2 breached (25); Mar 7 b3 breached + 2x MTTR (45); Mar 8 b4
    # alone that day (no repeat within the day); Mar 9 quiet; Mar 10 b5 reopened (15).
    assert [d["score"] for d in days] == [86.7, 61.7, 41.7, 86.7, 86.7, 71.7, 86.3]
    assert [d["band"] for d in days][:3] == ["Good", "Fair", "Poor"]
    web = trend["web"]
    assert [d["score"] for d in web] == [100.0] * 7 and web[4]["alerts"] == 1


def test_trend_in_utc_moves_the_late_evening_alert_to_the_next_day(engine, history) -> None:
    with core_db.transaction(engine) as ses:
        days = daily_scores(ses, "service", 7, "UTC", NOW, "billing")["billing"]
    assert [d["day"] for d in days][:2] == [date(2026, 3, 5), date(2026, 3, 6)]
    assert [d["alerts"] for d in days] == [0, 2, 1, 1, 0, 1, 1]  # b1 + b2 on Mar 6
    # Mar 6 (UTC): b1 fine + b2 breached -> 1/2 -> 25; open b_old 13.33 -> 61.7
    assert days[1]["score"] == 61.7


def test_open_at_day_end_counts_an_alert_resolved_days_later(engine) -> None:
    make_users(engine)
    a = make_alert(engine, utc(8, 12), severity="high", summary="slow")  # Mar 8 NY
    act(engine, a, "acknowledge", utc(8, 12) + s(60))
    act(engine, a, "resolve", utc(10, 12))            # open at the ends of Mar 8 and 9
    with core_db.transaction(engine) as ses:
        days = daily_scores(ses, "service", 5, NY, NOW, "billing")["billing"]
    assert [d["day"] for d in days] == [date(2026, 3, n) for n in range(7, 12)]
    assert [d["open_weight"] for d in days] == [0, 10, 10, 0, 0]


def test_a_fingerprint_that_moves_recurs_on_each_service_and_device_by_itself(engine) -> None:
    """A source's own fingerprint may come back on another service or device: each entity
    counts every alert after the first of the fingerprint *on that entity*."""
    make_users(engine)
    places = [("billing", "db-01"), ("web", "db-01"), ("billing", "db-02"), ("billing", "db-01")]
    for i, (service, device) in enumerate(places):  # one after another, each resolved
        at = utc(10, 1 + 2 * i)
        a = make_alert(engine, at, fingerprint="moving", service=service, device_id=device)
        act(engine, a, "resolve", at + s(60))
    # billing: 3 alerts of one fingerprint -> 2 recurrences; web: 1 -> 0;
    # db-01: 3 alerts (billing, web, billing) -> 2; db-02: 1 -> 0
    by_service = {r["entity"]: r["recurring"] for r in scores(engine, "service")}
    by_device = {r["entity"]: r["recurring"] for r in scores(engine, "device")}
    assert (by_service, by_device) == ({"billing": 2, "web": 0}, {"db-01": 2, "db-02": 0})
    with core_db.transaction(engine) as ses:
        services = daily_scores(ses, "service", 2, "UTC", NOW)
        devices = daily_scores(ses, "device", 2, "UTC", NOW)
    assert {k: [d["recurring"] for d in v] for k, v in services.items()} == {
        "billing": [2, 0], "web": [0, 0]}
    assert {k: [d["recurring"] for d in v] for k, v in devices.items()} == {
        "db-01": [2, 0], "db-02": [0, 0]}
    # the next day starts afresh: a fifth alert on Mar 11 is its day's first
    a = make_alert(engine, utc(11, 1), fingerprint="moving", service="billing",
                   device_id="db-01")
    with core_db.transaction(engine) as ses:
        days = daily_scores(ses, "service", 2, "UTC", NOW, "billing")["billing"]
    assert [(d["alerts"], d["recurring"]) for d in days] == [(3, 2), (1, 0)]
    assert {r["entity"]: r["recurring"] for r in scores(engine, "service")}["billing"] == 3


def test_quiet_service_trend_is_all_100(engine) -> None:
    with core_db.transaction(engine) as ses:
        days = daily_scores(ses, "service", 3, NY, NOW, "nobody")["nobody"]
    assert [(d["day"], d["score"]) for d in days] == [
        (date(2026, 3, 9), 100.0), (date(2026, 3, 10), 100.0), (date(2026, 3, 11), 100.0)]


def test_alerts_behind_the_score_say_why(engine, history) -> None:
    with core_db.transaction(engine) as ses:
        rows = alerts_behind(ses, "service", "billing", WEEK, NOW)
    ids = history
    assert [(r["id"], r["why"]) for r in rows] == [
        (ids["b4"], "repeat"), (ids["b3"], "SLA breached"), (ids["b_old"], "open, SLA breached"),
        (ids["b2"], "SLA breached"), (ids["b5"], "reopened 1x"), (ids["b6"], "open")]
    assert rows[0]["total"] == 6


def test_service_health_analytics(engine, history) -> None:
    with core_db.transaction(engine) as ses:
        out = service_health(ses, "billing", WEEK, NOW, NY, 7)
    assert out["health"]["score"] == 59.6
    assert out["counts"]["by_severity"] == {"critical": 3, "high": 1, "medium": 1, "low": 1,
                                            "info": 0}
    assert out["counts"]["by_state"] == {"resolved": 5, "new": 1}
    t = out["times"]
    assert (t["mtta_s"], t["mttr_s"], t["acknowledged"], t["resolved"]) == (260, 2160, 5, 5)
    assert t["mttr_ratio"] == 0.806
    top = out["top_recurring"]
    assert [(r["summary"], r["alerts"], r["reopens"], r["recurrences"]) for r in top] == [
        ("b5", 1, 1, 1), ("disk full", 2, 0, 1)]
    assert top[1]["latest_id"] == history["b4"]
    assert [d["score"] for d in out["trend"]][-1] == 86.3


def test_bad_input_names_the_field(engine) -> None:
    with core_db.transaction(engine) as ses:
        for call, field in (
                (lambda: health_scores(ses, "team", WEEK, NOW), "by"),
                (lambda: daily_scores(ses, "service", 0, NY, NOW), "days"),
                (lambda: daily_scores(ses, "service", 7, "Mars/Base", NOW), "tz"),
                (lambda: alerts_behind(ses, "service", "x", WEEK, NOW, limit=0), "limit")):
            with pytest.raises(FieldError) as err:
                call()
            assert err.value.field == field


def test_the_why_list_and_top_recurring_count_repeats_as_the_score_does(engine) -> None:
    """The drill-down reads the same pointers as the score: per entity, and a pointer that a
    race skipped (set NULL here) makes the alert a first occurrence in all three."""
    make_users(engine)
    places = [("billing", "db-01"), ("web", "db-01"), ("billing", "db-02"), ("billing", "db-01")]
    ids = []
    for i, (service, device) in enumerate(places):
        at = utc(10, 1 + 2 * i)
        ids.append(make_alert(engine, at, fingerprint="moving", service=service,
                              device_id=device))
        act(engine, ids[-1], "resolve", at + s(60))

    def repeats(by: str, entity: str) -> set[int]:
        with core_db.transaction(engine) as ses:
            rows = alerts_behind(ses, by, entity, WEEK, NOW)
        return {r["id"] for r in rows if "repeat" in r["why"]}

    def top(service: str) -> int:
        with core_db.transaction(engine) as ses:
            out = service_health(ses, service, WEEK, NOW, "UTC", 2)["top_recurring"]
        return sum(r["recurrences"] for r in out)

    assert (repeats("service", "billing"), repeats("device", "db-01")) == (
        {ids[2], ids[3]}, {ids[1], ids[3]})
    assert repeats("service", "web") == set() and top("billing") == 2 and top("web") == 0
    with engine.begin() as c:  # the race: ids[3] lost its pointer on billing
        c.execute(sa.text("update alerts set prev_service_at = null where id = :i"),
                  {"i": ids[3]})
    score = {r["entity"]: r["recurring"] for r in scores(engine, "service")}["billing"]
    assert (score, top("billing"), repeats("service", "billing")) == (1, 1, {ids[2]})
