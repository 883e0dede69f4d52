"""The weekly report against a hand-built history with known numbers.

The viewer is in America/New_York. Week 2026-W44 runs Mon 2026-10-26 00:00 EDT (04:00Z) to
Mon 2026-11-02 00:00 EST (05:00Z): 169 hours, clocks fall back on Sun Nov 1. The previous
week starts Mon 2026-10-19 00:00 EDT (04:00Z). Targets (defaults): critical 300/1800 s,
high 900/7200, medium 3600/28800, low 14400/86400, info 86400/604800. NOW is long after, so
every outcome is decided.

On call (schedule "primary", NY, daily at 09:00 from 2026-10-01, olga then maria, so olga
has the odd days of October): olga Oct 25 09:00-Oct 26 09:00 (9 h in the week), Oct 27,
Oct 29, Oct 31 (25 h: fall back) = 82 h; maria Oct 26, 28, 30 and Nov 1 09:00-24:00 (15 h)
= 87 h. ada's override Oct 28 12:00-18:00Z (08:00-14:00 EDT) takes 1 h of olga's shift and
5 h of maria's: olga 81 h, maria 82 h, ada 6 h.
"""
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import db as core_db
from core import teams
from core.actor import Actor
from core.errors import FieldError
from core.notify.base import NotifyConfig
from core.notify.deliver import deliver_due
from core.notify.outbox import enqueue
from core.oncall.store import create_override, create_schedule
from core.sla.compliance import ComplianceQuery, compliance
from core.weekly.report import last_complete_week, parse_week, weekly_report
from tests.factories import MANAGER, act, make_alert, make_users

NY = "America/New_York"
MACHINE = Actor("key:am", "operator", "api", is_human=False)
WEEK = date(2026, 10, 26)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def alert(engine, at, fp, **kw) -> int:  # type: ignore[no-untyped-def]
    return make_alert(engine, at, fingerprint=fp, summary=kw.pop("summary", fp), **kw)


def notify(engine, alert_id: int, channel: str, at: datetime, deliver: bool) -> None:  # type: ignore[no-untyped-def]
    target = {"type": "console"} if channel == "console" else {"type": "email", "to": "a@b.test"}
    with core_db.transaction(engine) as ses:
        enqueue(ses, channel=channel, target=target, recipient="", payload={"summary": "x"},
                idempotency_key=f"t:{alert_id}:{channel}", now=at, alert_id=alert_id)
    if deliver:
        assert deliver_due(engine, at, config=NotifyConfig())["sent"] == 1


@pytest.fixture
def history(engine: sa.Engine) -> dict[str, int]:
    make_users(engine)
    with core_db.transaction(engine) as ses:
        sched = create_schedule(ses, {"name": "primary", "timezone": NY, "layers": [
            {"name": "daily", "rotation": "daily", "handoff": "09:00", "start": "2026-10-01",
             "participants": ["olga", "maria"]}]}, MANAGER, utc(10, 1, 0))
        create_override(ses, {"schedule_id": sched["id"], "username": "ada",
                              "start": "2026-10-28T12:00:00Z", "end": "2026-10-28T18:00:00Z"},
                        MANAGER, utc(10, 2, 0))
    ids: dict[str, int] = {}
    # previous week
    ids["p2"] = p2 = alert(engine, utc(10, 20, 10), "fp-p2", severity="info", service="web")
    act(engine, p2, "resolve", utc(10, 20, 10) + s(50), actor=MACHINE)
    ids["p1"] = p1 = alert(engine, utc(10, 26, 3, 59), "fp-p1")  # Sun 23:59 EDT: previous
    notify(engine, p1, "console", utc(10, 26, 3, 59), deliver=True)
    act(engine, p1, "acknowledge", utc(10, 26, 3, 59) + s(120))  # responded in the week
    act(engine, p1, "resolve", utc(10, 26, 3, 59) + s(1200))
    # this week
    t = utc(10, 26, 4)  # Mon 00:00 EDT: the first instant of the week
    ids["c1"] = c1 = alert(engine, t, "fp-disk", device_id="db-01")
    alert(engine, t + s(20), "fp-disk", device_id="db-01")
    alert(engine, t + s(40), "fp-disk", device_id="db-01")      # 3 occurrences
    notify(engine, c1, "console", t, deliver=True)
    act(engine, c1, "acknowledge", t + s(60))                      # TTA 60 met
    act(engine, c1, "resolve", t + s(600))                         # TTR 600 met
    t = utc(10, 27, 14)
    ids["c2"] = c2 = alert(engine, t, "fp-c2", device_id="db-02", labels={"team": "payments"})
    act(engine, c2, "acknowledge", t + s(400), actor=MANAGER)      # TTA 400 > 300
    act(engine, c2, "resolve", t + s(2000))                        # TTR 2000 > 1800
    t = utc(10, 29, 12)                                            # Thu 08:00 EDT (maria)
    ids["c4"] = alert(engine, t, "fp-c4", severity="medium", service="web",
                      device_id="web-01", labels={"alertname": "latency"})  # open: missed
    ids["c7"] = alert(engine, t + s(120), "fp-c7", severity="medium", service="web",
                      device_id="web-01", labels={"alertname": "latency"})  # same group
    notify(engine, ids["c4"], "email", t, deliver=False)           # never delivered
    t = utc(10, 30, 10)                                            # Fri 06:00 EDT (olga)
    ids["c6"] = c6 = alert(engine, t, "fp-cpu", severity="low", service="web", device_id="web-02")
    for i in range(3):
        alert(engine, t + s(10 * (i + 1)), "fp-cpu", severity="low", service="web",
              device_id="web-02")                                  # 4 occurrences
    act(engine, c6, "acknowledge", t + s(1000))                    # TTA met; TTR missed (open)
    t = utc(11, 2, 4, 30)  # Sun Nov 1 23:30 EST: still this week (would be Monday in EDT)
    ids["c3"] = c3 = alert(engine, t, "fp-c3", severity="high", service="web",
                           device_id="web-01", labels={"team": "frontend"})
    act(engine, c3, "resolve", t + s(100), actor=MACHINE)          # source resolved: met
    alert(engine, utc(11, 2, 5), "fp-next", service="web")         # Mon 00:00 EST: next week
    return ids


def report(engine, week: date = WEEK, tz: str = NY, **kw):  # type: ignore[no-untyped-def]
    with core_db.transaction(engine) as ses:
        return weekly_report(ses, week, tz, kw.get("service"), kw.get("team"), NOW)


def test_week_bounds_days_and_previous_week_deltas(engine, history) -> None:
    r = report(engine)
    assert (r["week"], r["start"], r["end"], r["hours"]) == (
        "2026-W44", utc(10, 26, 4), utc(11, 2, 5), 169)
    assert r["complete"] and r["last_day"] == date(2026, 11, 1)
    a = r["alerts"]
    assert [d["day"] for d in a["per_day"]] == [WEEK + timedelta(days=i) for i in range(7)]
    assert [d["alerts"] for d in a["per_day"]] == [1, 1, 0, 2, 1, 0, 1]
    assert a["per_day"][3]["by_severity"]["medium"] == 2
    assert (a["total"], a["previous"], a["delta"], a["delta_pct"]) == (6, 2, 4, 200.0)
    assert [(x["severity"], x["alerts"], x["previous"], x["delta"]) for x in a["by_severity"]] == [
        ("critical", 2, 1, 1), ("high", 1, 0, 1), ("medium", 2, 0, 2), ("low", 1, 0, 1),
        ("info", 0, 1, -1)]


def test_sla_means_percentiles_and_compliance(engine, history) -> None:
    sla = report(engine)["sla"]
    cur, prev = sla["current"], sla["previous"]
    assert (cur["tta_met"], cur["tta_decided"], cur["ttr_met"], cur["ttr_decided"]) == (3, 6, 2, 6)
    assert (cur["tta_compliance_pct"], cur["ttr_compliance_pct"], cur["breaches"]) == (50, 33.33, 4)
    # human responses: 60, 400, 1000 s; resolutions: 600, 2000, 100 s
    assert (cur["mtta_s"], cur["p50_tta_s"], cur["p90_tta_s"]) == (486.667, 400, 880)
    assert (cur["mttr_s"], cur["p50_ttr_s"], cur["p90_ttr_s"]) == (900, 600, 1720)
    assert (prev["alerts"], prev["mtta_s"], prev["mttr_s"], prev["tta_compliance_pct"]) == (
        2, 120, 625, 100)
    assert sla["deltas"] == {"mtta_s": 366.667, "mttr_s": 275, "tta_compliance_pct": -50,
                             "ttr_compliance_pct": -66.67}
    assert [x["severity"] for x in sla["by_severity"]] == ["critical", "high", "medium", "low"]
    with core_db.transaction(engine) as ses:  # the same rule as the compliance report
        rows = compliance(ses, ComplianceQuery(utc(10, 26, 4), utc(11, 2, 5)), NOW)
    for mine, theirs in zip(sla["by_severity"], rows):
        for key in ("alerts", "tta_met", "ttr_met", "breaches", "tta_compliance_pct",
                    "ttr_compliance_pct", "mtta_s", "mttr_s", "p90_tta_s", "p50_ttr_s"):
            assert mine[key] == theirs[key], key


def test_top_offenders_noise_and_notifications(engine, history) -> None:
    r = report(engine)
    top = r["top_offenders"]
    assert [(x["key"], x["occurrences"], x["alerts"]) for x in top["alerts"]] == [
        ("fp-cpu", 4, 1), ("fp-disk", 3, 1), ("fp-c2", 1, 1), ("fp-c3", 1, 1), ("fp-c4", 1, 1)]
    assert (top["alerts"][0]["summary"], top["alerts"][0]["service"]) == ("fp-cpu", "web")
    assert [(x["key"], x["occurrences"], x["alerts"]) for x in top["services"]] == [
        ("web", 7, 4), ("billing", 4, 2)]
    assert [(x["key"], x["occurrences"], x["alerts"]) for x in top["devices"]] == [
        ("web-02", 4, 1), ("web-01", 3, 3), ("db-01", 3, 1), ("db-02", 1, 1)]
    assert r["noise"] == {"raw_events": 11, "alerts": 6, "groups": 5, "notifications": 1,
                          "dedup_reduction_pct": 45.45, "noise_reduction_pct": 90.91}
    n = r["notifications"]
    assert (n["queued"], n["sent"], n["failed"]) == (2, 1, 0)  # p1's was the week before
    assert n["by_channel"] == [{"channel": "console", "queued": 1, "sent": 1, "failed": 0},
                               {"channel": "email", "queued": 1, "sent": 0, "failed": 0}]


def test_on_call_hours_responses_and_busiest(engine, history) -> None:
    oc = report(engine)["on_call"]
    people = {p["username"]: p for p in oc["people"]}
    assert {k: v["oncall_hours"] for k, v in people.items()} == {"olga": 81, "maria": 82, "ada": 6}
    # olga: p1 (acked Mon 04:01Z), c1, c6; maria: c2. Nobody was paged (no person targets).
    assert {k: (v["responded"], v["paged"]) for k, v in people.items()} == {
        "olga": (3, 0), "maria": (1, 0), "ada": (0, 0)}
    assert [p["username"] for p in oc["people"]] == ["olga", "maria", "ada"]
    assert oc["busiest"]["username"] == "olga" and oc["schedules"] == 1


def page(engine, alert_id: int, username: str, at: datetime, deliver: bool,  # type: ignore[no-untyped-def]
         tier: int = 1) -> None:
    """A page to a person as the escalation queues it (the key names the user), then marked
    sent as delivery records it (the alerts are resolved by now: delivery would cancel)."""
    key = f"esc:{alert_id}:{tier}:0:user:{username}:console"
    with core_db.transaction(engine) as ses:
        enqueue(ses, channel="console", target={"type": "console"}, recipient="",
                payload={"summary": "x"}, now=at, alert_id=alert_id, idempotency_key=key)
        if deliver:
            ses.execute(sa.text("update notifications set status = 'sent', sent_at = :at, "
                                "attempts = 1 where idempotency_key = :k"), {"at": at, "k": key})


def test_paged_counts_the_pages_each_person_received(engine, history) -> None:
    page(engine, history["c1"], "olga", utc(10, 26, 4, 10), deliver=True)
    page(engine, history["c1"], "olga", utc(10, 26, 4, 15), deliver=True, tier=2)
    page(engine, history["c6"], "olga", utc(10, 30, 10, 5), deliver=False)  # never sent
    page(engine, history["p2"], "olga", utc(10, 20, 10, 5), deliver=True)   # the week before
    page(engine, history["c2"], "maria", utc(10, 27, 14, 5), deliver=True)
    page(engine, history["c4"], "ada", utc(10, 29, 12, 5), deliver=True)  # not on call: counts
    people = {p["username"]: p["paged"] for p in report(engine)["on_call"]["people"]}
    assert people == {"olga": 2, "maria": 1, "ada": 1}
    team = {p["username"]: p["paged"] for p in report(engine, team="payments")["on_call"]["people"]}
    assert team == {"olga": 0, "maria": 1, "ada": 0}  # c2 is the payments team's


def test_two_schedules_at_once_add_hours_but_count_each_alert_once(engine, history) -> None:
    with core_db.transaction(engine) as ses:
        create_schedule(ses, {"name": "backup", "timezone": NY, "layers": [
            {"name": "all week", "rotation": "weekly", "handoff": "09:00",
             "start": "2026-10-01", "participants": ["olga"]}]}, MANAGER, utc(10, 1, 0))
    oc = report(engine)["on_call"]
    people = {p["username"]: (p["oncall_hours"], p["responded"], p["paged"]) for p in oc["people"]}
    assert people == {"olga": (81 + 169, 3, 0), "maria": (82, 1, 0), "ada": (6, 0, 0)}
    assert oc["schedules"] == 2


def test_team_and_service_filters(engine, history) -> None:
    r = report(engine, team="payments")
    assert (r["alerts"]["total"], r["alerts"]["previous"], r["team"]) == (1, 0, "payments")
    assert r["noise"]["raw_events"] == 1 and r["notifications"]["queued"] == 0
    people = {p["username"]: (p["responded"], p["paged"]) for p in r["on_call"]["people"]}
    assert people == {"maria": (1, 0), "olga": (0, 0), "ada": (0, 0)}
    assert r["on_call"]["busiest"]["username"] == "maria"
    web = report(engine, service="web")
    assert (web["alerts"]["total"], web["alerts"]["previous"]) == (4, 1)
    assert web["noise"]["raw_events"] == 7 and web["notifications"]["queued"] == 1
    assert report(engine, service="web", team="frontend")["alerts"]["total"] == 1
    with core_db.transaction(engine) as ses:  # teams own services (the SLA page's map)
        teams.put(ses, {"web": "frontend"}, MANAGER, NOW)
    assert report(engine, team="frontend")["alerts"]["total"] == 4  # web's 4, label or not
    unowned = report(engine, team=teams.NO_TEAM)["alerts"]["total"]
    assert unowned == report(engine)["alerts"]["total"] - 4 - 1  # minus web, minus payments


def test_empty_week_has_zeros_and_no_fake_percentages(engine, history) -> None:
    r = report(engine, week=date(2026, 11, 9))
    assert r["hours"] == 168 and r["alerts"]["total"] == 0
    assert [d["alerts"] for d in r["alerts"]["per_day"]] == [0] * 7
    assert r["alerts"]["previous"] == 1 and r["alerts"]["delta_pct"] == -100  # fp-next
    cur = r["sla"]["current"]
    assert (cur["tta_compliance_pct"], cur["mtta_s"], cur["p90_ttr_s"]) == (None, None, None)
    assert r["top_offenders"] == {"alerts": [], "services": [], "devices": []}
    assert r["noise"]["noise_reduction_pct"] is None and r["notifications"]["queued"] == 0
    assert {p["username"]: p["responded"] for p in r["on_call"]["people"]} == {
        "olga": 0, "maria": 0}
    # olga 9 + 3 x 24 = 81 h, maria 3 x 24 + 15 = 87 h: on call all the same
    assert (r["on_call"]["busiest"]["username"], r["on_call"]["busiest"]["oncall_hours"]) == (
        "maria", 87)


def test_utc_viewer_sees_other_days(engine, history) -> None:
    r = report(engine, tz="UTC")
    assert (r["start"], r["end"], r["hours"]) == (utc(10, 26, 0), utc(11, 2, 0), 168)
    assert [d["alerts"] for d in r["alerts"]["per_day"]] == [2, 1, 0, 2, 1, 0, 0]


def test_weeks_and_bad_input() -> None:
    assert parse_week("2026-W47") == date(2026, 11, 16)
    assert parse_week("2026-W53", "week") == date(2026, 12, 28)
    for bad in ("2026-47", "2025-W53", "2026-W00", "x"):
        with pytest.raises(FieldError) as err:
            parse_week(bad)
        assert err.value.field == "week"
    # Mon 2026-11-23 01:00 in NY is Mon 06:00Z: the last complete week began Nov 16
    assert last_complete_week(utc(11, 23, 6), NY) == date(2026, 11, 16)
    assert last_complete_week(utc(11, 23, 4, 59), NY) == date(2026, 11, 9)  # still Sunday


def test_bad_week_start_tz_and_filter(engine) -> None:
    for week, tz, kw, field in ((date(2026, 10, 27), NY, {}, "week_start"),
                                (WEEK, "Mars/Olympus", {}, "tz"),
                                (WEEK, NY, {"team": "x" * 201}, "team")):
        with pytest.raises(FieldError) as err:
            report(engine, week, tz, **kw)
        assert err.value.field == field
