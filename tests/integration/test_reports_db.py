"""Analytics reports (core.reports.stats, core.reports.top) against a hand-computed history.

The viewer is in America/New_York. 2026-03-08 is the spring-forward day there (23 h):
local midnight is 05:00Z up to 2026-03-08 and 04:00Z from 2026-03-09 on.

    alert  created (UTC)  NY local      severity  service  fingerprint  what happens
    before Mar 6 04:59    Mar 5 23:59   critical  billing  old          outside the period
    a1     Mar 7 04:59    Mar 6 23:59   critical  billing  disk-db01    ack +60 s, dup +90 s,
                                                                        resolve +600 s
    a2     Mar 7 05:00    Mar 7 00:00   critical  billing  cpu-app01    investigate +400 s,
                                                                        resolve +2000 s
    a3     Mar 7 12:00    Mar 7 07:00   high      billing  disk-db01    source resolves +100 s
    a4     Mar 8 06:30    Mar 8 01:30-5 medium    web      latency-web  2 dups, open (new)
    a5     Mar 8 07:30    Mar 8 03:30-4 low       web      cpu-app01    ack +1000 s, open
    (Mar 9: no alerts)
    after  Mar 10 04:00   Mar 10 00:00  info      web      later        outside (end excl.)
"""
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.actor import Actor
from core.errors import FieldError
from core.escalation.jobs import escalate_due, start_escalations
from core.reports.stats import daily, scope, statistics, trends
from core.reports.top import top_alerts
from tests.factories import act, make_alert, make_users

NY = "America/New_York"
MACHINE = Actor("key:am", "operator", "api", is_human=False)
START = datetime(2026, 3, 6, 5, 0, tzinfo=timezone.utc)   # 2026-03-06 00:00 EST
END = datetime(2026, 3, 10, 4, 0, tzinfo=timezone.utc)    # 2026-03-10 00:00 EDT
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
SEVS = ("critical", "high", "medium", "low", "info")


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.fixture
def history(engine: sa.Engine) -> dict[str, int]:
    make_users(engine)
    ids: dict[str, int] = {}
    make_alert(engine, utc(6, 4, 59), fingerprint="old")
    ids["a1"] = a1 = make_alert(engine, utc(7, 4, 59), fingerprint="disk-db01")
    act(engine, a1, "acknowledge", utc(7, 4, 59) + s(60))
    assert make_alert(engine, utc(7, 4, 59) + s(90), fingerprint="disk-db01") == a1  # dup
    act(engine, a1, "resolve", utc(7, 4, 59) + s(600))
    ids["a2"] = a2 = make_alert(engine, utc(7, 5), fingerprint="cpu-app01")
    act(engine, a2, "investigate", utc(7, 5) + s(400))
    act(engine, a2, "resolve", utc(7, 5) + s(2000))
    ids["a3"] = a3 = make_alert(engine, utc(7, 12), fingerprint="disk-db01", severity="high")
    act(engine, a3, "resolve", utc(7, 12) + s(100), actor=MACHINE)
    web = {"service": "web", "device_id": "web-01"}
    ids["a4"] = a4 = make_alert(engine, utc(8, 6, 30), fingerprint="latency-web",
                                severity="medium", **web)
    for dup in (60, 120):
        assert make_alert(engine, utc(8, 6, 30) + s(dup), fingerprint="latency-web",
                          severity="medium", **web) == a4
    ids["a5"] = a5 = make_alert(engine, utc(8, 7, 30), fingerprint="cpu-app01",
                                severity="low", **web)
    act(engine, a5, "acknowledge", utc(8, 7, 30) + s(1000))
    make_alert(engine, utc(10, 4), fingerprint="later", severity="info", **web)
    return ids


def run(engine: sa.Engine, fn, *args, **kw):  # type: ignore[no-untyped-def]
    with core_db.transaction(engine) as ses:
        return fn(ses, *args, **kw)


def test_statistics_counts_times_and_services(engine, history) -> None:
    st = run(engine, statistics, scope(START, END, NOW), top_services=1)
    assert (st["alerts"], st["occurrences"], st["open"]) == (5, 8, 2)
    assert st["by_severity"] == {"critical": 2, "high": 1, "medium": 1, "low": 1, "info": 0}
    assert st["by_state"] == {"new": 1, "acknowledged": 1, "investigating": 0,
                              "resolved": 3, "closed": 0, "silenced": 0}
    assert st["services"] == 2
    assert st["by_service"] == [{"service": "billing", "alerts": 3}]
    assert st["other_services"] == {"services": 1, "alerts": 2}
    # Human responses: a1 60 s, a2 400 s (investigate), a5 1000 s; a3 was source-resolved.
    assert st["acknowledgement_s"] == {"count": 3, "avg": 486.667, "min": 60, "max": 1000,
                                       "p50": 400, "p90": 880}  # 400 + 0.8 * 600
    assert st["resolution_s"] == {"count": 3, "avg": 900, "min": 100, "max": 2000,
                                  "p50": 600, "p90": 1720}      # 600 + 0.8 * 1400
    assert (st["mtta_s"], st["mttr_s"]) == (486.667, 900)


def test_statistics_filters_and_empty_period(engine, history) -> None:
    web = run(engine, statistics, scope(START, END, NOW, service="web"))
    assert (web["alerts"], web["occurrences"], web["open"]) == (2, 4, 2)
    assert web["resolution_s"] == {"count": 0, "avg": None, "min": None, "max": None,
                                   "p50": None, "p90": None}
    assert web["by_service"] == [{"service": "web", "alerts": 2}]
    crit = run(engine, statistics, scope(START, END, NOW, severity="page"))  # an alias
    assert crit["severity"] == "critical" and crit["alerts"] == 2
    empty = run(engine, statistics, scope(utc(1, 0, month=1), utc(2, 0, month=1), NOW))
    assert (empty["alerts"], empty["occurrences"], empty["services"]) == (0, 0, 0)
    assert empty["by_service"] == [] and empty["other_services"] == {"services": 0, "alerts": 0}
    assert set(empty["by_severity"].values()) == {0} and empty["mtta_s"] is None


def test_daily_trend_in_local_days_with_dst_and_empty_day(engine, history) -> None:
    days = run(engine, trends, scope(START, END, NOW), "day", NY)
    assert [d["label"] for d in days] == ["2026-03-06", "2026-03-07", "2026-03-08",
                                          "2026-03-09"]
    assert [d["hours"] for d in days] == [24, 24, 23, 24]
    assert days[2]["start"] == utc(8, 5) and days[2]["end"] == utc(9, 4)
    assert [d["alerts"] for d in days] == [1, 2, 2, 0]   # a1 is Mar 6 in New York
    assert days[1]["by_severity"] == {"critical": 1, "high": 1, "medium": 0, "low": 0, "info": 0}
    assert [(d["acknowledged"], d["resolved"]) for d in days] == [(1, 1), (1, 2), (1, 0), (0, 0)]
    assert (days[1]["mtta_s"], days[1]["mttr_s"]) == (400, 1050)   # (2000 + 100) / 2
    assert (days[3]["mtta_s"], days[3]["mttr_s"]) == (None, None)
    assert days[3]["by_severity"] == dict.fromkeys(SEVS, 0)


def test_daily_trend_in_utc_moves_the_midnight_alert(engine, history) -> None:
    days = run(engine, trends, scope(START, END, NOW), "day", "UTC")
    assert [d["label"] for d in days] == [f"2026-03-{n:02d}" for n in (6, 7, 8, 9, 10)]
    assert [d["alerts"] for d in days] == [0, 3, 2, 0, 0]


def test_hourly_trend_on_spring_forward_day(engine, history) -> None:
    hours = run(engine, trends, scope(utc(8, 5), utc(9, 4), NOW), "hour", NY)
    assert len(hours) == 23
    assert [h["label"] for h in hours[:4]] == [
        "2026-03-08T00:00:00-05:00", "2026-03-08T01:00:00-05:00",
        "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"]
    assert [h["alerts"] for h in hours[:4]] == [0, 1, 1, 0]   # a4 01:30 EST, a5 03:30 EDT
    assert sum(h["alerts"] for h in hours) == 2 and hours[1]["by_severity"]["medium"] == 1


def test_hourly_trend_in_a_half_hour_zone_keeps_partial_edge_buckets(engine, history) -> None:
    hours = run(engine, trends, scope(utc(7, 4), utc(7, 6), NOW), "hour", "Asia/Kolkata")
    assert [(h["start"], h["label"], h["alerts"]) for h in hours] == [
        (utc(7, 3, 30), "2026-03-07T09:00:00+05:30", 0),   # only 04:00-04:30Z is in scope
        (utc(7, 4, 30), "2026-03-07T10:00:00+05:30", 2),   # a1 04:59Z, a2 05:00Z
        (utc(7, 5, 30), "2026-03-07T11:00:00+05:30", 0)]


def test_daily_summary_with_sla_and_busiest_hour(engine, history) -> None:
    d = run(engine, daily, date(2026, 3, 7), NY, NOW)
    assert (d["date"], d["hours"], d["start"], d["end"]) == (
        date(2026, 3, 7), 24, utc(7, 5), utc(8, 5))
    assert (d["alerts"], d["mtta_s"], d["mttr_s"]) == (2, 400, 1050)   # a2 and a3
    assert d["by_severity"]["critical"] == 1 and d["by_severity"]["high"] == 1
    # a2: TTA 400 > 300 and TTR 2000 > 1800 (a breach); a3: source resolved in 100 s, met.
    sla = d["sla"]
    assert (sla["tta_met"], sla["tta_decided"], sla["ttr_met"], sla["ttr_decided"]) == (1, 2, 1, 2)
    assert (sla["tta_compliance_pct"], sla["ttr_compliance_pct"], sla["breaches"]) == (50, 50, 1)
    assert [r["severity"] for r in sla["by_severity"]] == ["critical", "high"]
    assert d["top_services"] == [{"service": "billing", "alerts": 2}]
    assert d["busiest_hour"] == {"start": utc(7, 5), "end": utc(7, 6),
                                 "label": "2026-03-07T00:00:00-05:00", "alerts": 1}  # tie: first
    assert len(d["hourly"]) == 24 and d["hourly"][7]["alerts"] == 1


def test_daily_summary_of_a_dst_day_and_of_an_empty_day(engine, history) -> None:
    d = run(engine, daily, date(2026, 3, 8), NY, NOW)
    assert (d["hours"], len(d["hourly"]), d["alerts"]) == (23, 23, 2)
    assert d["busiest_hour"]["label"] == "2026-03-08T01:00:00-05:00"
    empty = run(engine, daily, date(2026, 3, 9), NY, NOW)
    assert (empty["alerts"], empty["busiest_hour"], len(empty["hourly"])) == (0, None, 24)
    assert empty["sla"]["tta_compliance_pct"] is None and empty["top_services"] == []


def test_busiest_hour_on_fall_back_day_tells_the_two_one_oclocks_apart(engine) -> None:
    make_alert(engine, utc(1, 5, 30, month=11), fingerprint="x1")   # 01:30 EDT
    make_alert(engine, utc(1, 6, 30, month=11), fingerprint="x2")   # 01:30 EST
    make_alert(engine, utc(1, 6, 45, month=11), fingerprint="x3")   # 01:45 EST
    d = run(engine, daily, date(2026, 11, 1), NY, utc(2, 12, month=11))
    assert d["hours"] == 25 and len(d["hourly"]) == 25
    assert [h["label"] for h in d["hourly"][1:3]] == ["2026-11-01T01:00:00-04:00",
                                                      "2026-11-01T01:00:00-05:00"]
    assert d["busiest_hour"]["label"] == "2026-11-01T01:00:00-05:00"
    assert d["busiest_hour"]["alerts"] == 2


def test_top_alerts_by_occurrences_and_resolution_time(engine, history) -> None:
    top = run(engine, top_alerts, scope(START, END, NOW))
    assert [(t["fingerprint"], t["occurrences"], t["alerts"]) for t in top] == [
        ("disk-db01", 3, 2), ("latency-web", 3, 1), ("cpu-app01", 2, 2)]
    disk = top[0]
    assert (disk["latest_id"], disk["severity"], disk["state"]) == (
        history["a3"], "high", "resolved")   # the latest recurrence describes it
    assert (disk["resolved"], disk["mttr_s"], disk["max_ttr_s"], disk["total_ttr_s"],
            disk["mtta_s"], disk["escalations"]) == (2, 350, 600, 700, 60, 0)
    slow = run(engine, top_alerts, scope(START, END, NOW), "resolution_time")
    assert [(t["fingerprint"], t["mttr_s"]) for t in slow] == [("cpu-app01", 2000),
                                                               ("disk-db01", 350)]
    one = run(engine, top_alerts, scope(START, END, NOW, service="web"), limit=1)
    assert [t["fingerprint"] for t in one] == ["latency-web"]
    assert run(engine, top_alerts, scope(utc(1, 0, month=1), utc(2, 0, month=1), NOW)) == []


def test_top_alerts_by_escalations(engine) -> None:
    def escalate(at: datetime) -> None:
        with core_db.transaction(engine) as ses:
            start_escalations(ses, at)
            escalate_due(ses, at)

    t = utc(2, 9)   # the seeded 'medium' policy: one tier at 0 s, no repeat
    q1 = make_alert(engine, t, fingerprint="queue-lag", severity="medium")
    escalate(t + s(30))   # the medium group wait (30 s) is over
    act(engine, q1, "resolve", t + s(60))
    make_alert(engine, t + s(3600), fingerprint="queue-lag", severity="medium")
    make_alert(engine, t + s(7200), fingerprint="disk", severity="medium")
    make_alert(engine, t + s(7200), fingerprint="quiet", severity="info")   # no policy
    escalate(t + s(7230))
    sc = scope(t, t + s(86400), t + s(86400))
    top = run(engine, top_alerts, sc, "escalations")
    assert [(x["fingerprint"], x["escalations"]) for x in top] == [("queue-lag", 2), ("disk", 1)]
    by_occ = {x["fingerprint"]: x["escalations"] for x in run(engine, top_alerts, sc)}
    assert by_occ == {"queue-lag": 2, "disk": 1, "quiet": 0}


@pytest.mark.parametrize(("call", "field"), [
    (lambda: scope(END, START, NOW), "end"),
    (lambda: scope(START, START + timedelta(days=367), NOW), "end"),
    (lambda: scope(datetime(2026, 3, 1), END, NOW), "start"),
    (lambda: scope(START, END, NOW, severity="urgent"), "severity"),
])
def test_bad_scope_names_the_field(call, field) -> None:
    with pytest.raises(FieldError) as err:
        call()
    assert err.value.field == field


@pytest.mark.parametrize(("fn", "kw", "field"), [
    (trends, {"bucket": "week"}, "bucket"),
    (trends, {"tz": "Mars/Olympus"}, "tz"),
    (statistics, {"top_services": 0}, "top_services"),
    (top_alerts, {"by": "noise"}, "by"),
    (top_alerts, {"limit": 101}, "limit"),
])
def test_bad_report_options_name_the_field(engine, fn, kw, field) -> None:
    with pytest.raises(FieldError) as err:
        run(engine, fn, scope(START, END, NOW), **kw)
    assert err.value.field == field


def test_hourly_trend_is_limited_to_31_days(engine) -> None:
    with pytest.raises(FieldError) as err:
        run(engine, trends, scope(START, START + timedelta(days=32), NOW), "hour")
    assert err.value.field == "end"
    assert len(run(engine, trends, scope(START, START + timedelta(days=31), NOW), "hour")) == 744
