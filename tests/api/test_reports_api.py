"""GET /api/v1/reports/*: shapes, related alerts scored by history, 404/422/401."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import act, make_alert

T = datetime(2026, 3, 7, 4, 59, tzinfo=timezone.utc)  # 2026-03-06 23:59 in New York
PERIOD = {"start": "2026-03-06T05:00:00Z", "end": "2026-03-09T04:00:00Z"}  # 3 NY days


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def test_statistics_and_trends(http, engine, viewer) -> None:
    a = make_alert(engine, T, fingerprint="disk", summary="disk full")
    act(engine, a, "acknowledge", T + timedelta(seconds=60))
    make_alert(engine, T + timedelta(minutes=2), severity="high", service="web")
    r = http.get("/api/v1/reports/statistics", params=PERIOD, headers=viewer)
    assert r.status_code == 200, r.text
    st = r.json()
    assert (st["alerts"], st["open"], st["mtta_s"], st["services"]) == (2, 2, 60, 2)
    assert st["by_severity"]["critical"] == 1 and st["by_state"]["acknowledged"] == 1
    assert st["start"] == "2026-03-06T05:00:00Z"
    r = http.get("/api/v1/reports/trends", headers=viewer,
                 params={**PERIOD, "tz": "America/New_York"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["bucket"], body["tz"], body["total"]) == ("day", "America/New_York", 3)
    assert [(d["label"], d["hours"], d["alerts"]) for d in body["data"]] == [
        ("2026-03-06", 24, 1), ("2026-03-07", 24, 1), ("2026-03-08", 23, 0)]
    r = http.get("/api/v1/reports/trends", headers=viewer,
                 params={**PERIOD, "bucket": "hour", "tz": "America/New_York"})
    hours = r.json()["data"]
    assert len(hours) == 24 + 24 + 23
    assert [h["alerts"] for h in hours[23:25]] == [1, 1]   # 23:59 and 00:01 local
    assert hours[23]["label"] == "2026-03-06T23:00:00-05:00"


def test_top_alerts_and_daily(http, engine, viewer) -> None:
    make_alert(engine, T, fingerprint="disk", summary="disk full")
    make_alert(engine, T + timedelta(seconds=30), fingerprint="disk", summary="disk full")
    make_alert(engine, T + timedelta(minutes=2), fingerprint="cpu", summary="cpu hot")
    r = http.get("/api/v1/reports/top-alerts", params={**PERIOD, "limit": 1}, headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["by"], body["limit"], body["total"]) == ("occurrences", 1, 1)
    top = body["data"][0]
    assert (top["fingerprint"], top["occurrences"], top["alerts"], top["summary"]) == (
        "disk", 2, 1, "disk full")
    r = http.get("/api/v1/reports/daily", headers=viewer,
                 params={"date": "2026-03-07", "tz": "America/New_York"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["date"], d["hours"], d["alerts"]) == ("2026-03-07", 24, 1)   # cpu at 00:01
    assert d["busiest_hour"]["label"] == "2026-03-07T00:00:00-05:00"
    assert d["sla"]["by_severity"][0]["severity"] == "critical"
    assert http.get("/api/v1/reports/daily", headers=viewer).status_code == 200  # today


@pytest.fixture
def related(engine) -> dict[str, int]:
    """db-down fires on three days; api-errors within 3 min each time; cache-miss only on
    the third; noise 10 min later; a db replica joins db-down's group 8 min later."""
    ids: dict[str, int] = {}
    db = {"service": "db", "labels": {"alertname": "DbDown"}}
    for day in (2, 3):
        old = make_alert(engine, at(day, 10, 0), fingerprint="db-down", **db)
        act(engine, old, "resolve", at(day, 10, 30))
        api = make_alert(engine, at(day, 10, day - 1), fingerprint="api-errors", service="api")
        act(engine, api, "resolve", at(day, 10, 20))
    ids["db"] = make_alert(engine, at(4, 10, 0), fingerprint="db-down", **db)
    make_alert(engine, at(4, 10, 4), fingerprint="db-down", **db)   # dup: the group lives on
    ids["api"] = make_alert(engine, at(4, 10, 3), fingerprint="api-errors", service="api")
    ids["cache"] = make_alert(engine, at(4, 9, 57), fingerprint="cache-miss", service="cache")
    ids["noise"] = make_alert(engine, at(4, 10, 10), fingerprint="noise", service="other")
    ids["replica"] = make_alert(engine, at(4, 10, 8), fingerprint="db-replica", **db)
    return ids


def test_related_alerts_scored_by_co_occurrence(http, viewer, related) -> None:
    r = http.get(f"/api/v1/reports/related/{related['db']}", headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["alert"]["id"], body["window_s"], body["history"], body["total"]) == (
        related["db"], 300, 3, 3)
    got = [(x["id"], x["co_occurrences"], x["confidence"], x["same_group"], x["offset_s"])
           for x in body["data"]]
    assert got == [(related["api"], 3, 1.0, False, 180),        # with every db-down
                   (related["cache"], 1, 0.333, False, -180),   # only this time
                   (related["replica"], 0, 0.0, True, 480)]     # same group, outside window
    r = http.get(f"/api/v1/reports/related/{related['db']}", headers=viewer,
                 params={"window_s": 600})
    assert [(x["id"], x["co_occurrences"]) for x in r.json()["data"]] == [
        (related["api"], 3), (related["replica"], 1), (related["cache"], 1),
        (related["noise"], 1)]   # ties: same group first, then the closest in time
    r = http.get(f"/api/v1/reports/related/{related['db']}", headers=viewer,
                 params={"limit": 1})
    assert [x["id"] for x in r.json()["data"]] == [related["api"]] and r.json()["total"] == 3


def test_related_alone_and_unknown(http, engine, viewer) -> None:
    lone = make_alert(engine, T, fingerprint="lone")
    body = http.get(f"/api/v1/reports/related/{lone}", headers=viewer).json()
    assert (body["history"], body["total"], body["data"]) == (1, 0, [])
    r = http.get("/api/v1/reports/related/999999", headers=viewer)
    assert r.status_code == 404 and "999999" in r.json()["error"]


@pytest.mark.parametrize(("path", "params", "field"), [
    ("statistics", {"start": "2026-03-09", "end": "2026-03-01"}, "end"),
    ("statistics", {"start": "2024-01-01", "end": "2026-01-01"}, "end"),
    ("statistics", {"start": "yesterday"}, "start"),
    ("statistics", {"severity": "urgent"}, "severity"),
    ("trends", {"tz": "Mars/Olympus"}, "tz"),
    ("trends", {"bucket": "week"}, "bucket"),
    ("trends", {"bucket": "hour", "start": "2026-01-01", "end": "2026-03-01"}, "end"),
    ("top-alerts", {"by": "noise"}, "by"),
    ("top-alerts", {"limit": 0}, "limit"),
    ("top-alerts", {"limit": "many"}, "limit"),
    ("related/1", {"window_s": 0}, "window_s"),
    ("daily", {"date": "2026-02-30"}, "date"),
    ("daily", {"date": "2026-03-07T00:00"}, "date"),
])
def test_bad_input_is_422_naming_the_field(http, viewer, path, params, field) -> None:
    r = http.get(f"/api/v1/reports/{path}", params=params, headers=viewer)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and field in r.json()["error"]


def test_reports_need_a_login(http) -> None:
    for path in ("statistics", "trends", "top-alerts", "related/1", "daily"):
        assert http.get(f"/api/v1/reports/{path}").status_code == 401


def test_unknown_service_is_404_naming_it(http, engine, viewer) -> None:
    make_alert(engine, datetime.now(timezone.utc) - timedelta(hours=1), service="web")
    for path in ("statistics", "trends", "top-alerts", "daily"):
        r = http.get(f"/api/v1/reports/{path}", params={"service": "nosuch"}, headers=viewer)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["field"] == "service", r.text
        ok = http.get(f"/api/v1/reports/{path}", params={"service": "web"}, headers=viewer)
        assert ok.status_code == 200, (path, ok.text)
