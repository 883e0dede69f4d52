"""GET /api/v1/reports/weekly: JSON shape, file formats and headers, 422s naming the field."""
import csv
import io
from datetime import date, datetime, timedelta, timezone

from core.weekly.report import last_complete_week
from tests.factories import act, make_alert

URL = "/api/v1/reports/weekly"
# 2026-W44 in New York: Mon Oct 26 04:00Z .. Mon Nov 2 05:00Z (169 h, clocks fall back).
T = datetime(2026, 11, 2, 4, 30, tzinfo=timezone.utc)  # Sun Nov 1 23:30 EST


def history(engine) -> None:  # type: ignore[no-untyped-def]
    a = make_alert(engine, T, summary="<script>alert(1)</script> | pipes", service="pay|ments",
                   labels={"team": "core"})
    act(engine, a, "acknowledge", T + timedelta(seconds=90))
    make_alert(engine, T - timedelta(days=3), summary="quiet", service="web")


def test_json_by_iso_week_or_monday(http, engine, viewer) -> None:
    history(engine)
    params = {"week": "2026-W44", "tz": "America/New_York"}
    r = http.get(URL, params=params, headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["week"], body["week_start"], body["hours"], body["tz"]) == (
        "2026-W44", "2026-10-26", 169, "America/New_York")
    assert body["alerts"]["total"] == 2 and body["alerts"]["per_day"][6]["alerts"] == 1
    assert body["sla"]["current"]["mtta_s"] == 90
    assert body["on_call"]["people"] == [{"username": "olga", "oncall_hours": 0,
                                          "responded": 1, "paged": 0}]
    same = http.get(URL, params={"week_start": "2026-10-26", "tz": "America/New_York"},
                    headers=viewer).json()
    assert same["alerts"] == body["alerts"]
    team = http.get(URL, params={**params, "team": "core"}, headers=viewer).json()
    assert (team["team"], team["alerts"]["total"]) == ("core", 1)
    utc = http.get(URL, params={"week": "2026-W44", "tz": "UTC"}, headers=viewer).json()
    assert utc["hours"] == 168 and utc["alerts"]["total"] == 1  # Nov 2 04:30Z is W45 in UTC


def test_files_have_types_names_and_escaped_data(http, engine, viewer) -> None:
    history(engine)
    base = {"week": "2026-W44", "tz": "America/New_York", "service": "pay|ments"}
    expected = {"html": "text/html", "md": "text/markdown", "csv": "text/csv"}
    for fmt, media in expected.items():
        r = http.get(URL, params={**base, "format": fmt}, headers=viewer)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == f"{media}; charset=utf-8"
        assert r.headers["content-disposition"] == (
            f'attachment; filename="weekly-report-2026-W44-pay-ments.{fmt}"')
        assert ("<script>alert(1)" in r.text) == (fmt == "csv")  # CSV keeps data as typed
    html = http.get(URL, params={**base, "format": "html"}, headers=viewer).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | pipes" in html
    md = http.get(URL, params={**base, "format": "md"}, headers=viewer).text
    assert "\\<script\\>alert(1)\\</script\\> \\| pipes" in md
    rows = list(csv.reader(io.StringIO(
        http.get(URL, params={**base, "format": "csv"}, headers=viewer).text)))
    assert ["Alerts", "1", "0", "1"] in rows


def test_default_week_is_the_last_complete_one_in_the_callers_zone(http, engine, viewer) -> None:
    with engine.begin() as c:
        c.exec_driver_sql("update users set timezone = 'Asia/Tokyo' where username = 'victor'")
    body = http.get(URL, headers=viewer).json()
    now = datetime.now(timezone.utc)
    assert body["tz"] == "Asia/Tokyo"
    assert body["week_start"] in {last_complete_week(now, "Asia/Tokyo").isoformat(),
                                  last_complete_week(now - timedelta(minutes=1),
                                                     "Asia/Tokyo").isoformat()}
    assert date.fromisoformat(body["week_start"]).weekday() == 0 and body["complete"]


def test_bad_input_is_422_naming_the_field(http, viewer) -> None:
    cases = [({"week": "2026-W54"}, "week"), ({"week": "next"}, "week"),
             ({"week_start": "2026-11-17"}, "week_start"), ({"week_start": "soon"}, "week_start"),
             ({"week": "2026-W47", "week_start": "2026-11-16"}, "week"),
             ({"tz": "Mars/Olympus"}, "tz"), ({"format": "pdf"}, "format"),
             ({"team": "x" * 300}, "team")]
    for params, field in cases:
        r = http.get(URL, params=params, headers=viewer)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["field"] == field and field in r.json()["error"]
    assert http.get(URL).status_code == 401


def test_unknown_team_or_service_is_404_naming_it(http, engine, viewer, manager) -> None:
    history(engine)
    week = {"week": "2026-W44", "tz": "America/New_York"}
    for field, value in (("team", "nosuch"), ("service", "nosuch")):
        r = http.get(URL, params={**week, field: value}, headers=viewer)
        assert r.status_code == 404, r.text
        assert r.json()["field"] == field and "'nosuch'" in r.json()["error"]
    # a team that owns a service is known even with no alert that week; so is "(no team)"
    r = http.put("/api/v1/settings/teams", json={"web": "payments"}, headers=manager)
    assert r.status_code == 200, r.text
    for params in ({"team": "payments"}, {"team": "(no team)"}, {"service": "web"}):
        r = http.get(URL, params={**week, **params}, headers=viewer)
        assert r.status_code == 200, (params, r.text)
