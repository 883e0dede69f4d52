"""GET /api/v1/sla/trends and /sla/breaches: shapes, local days, 422 for bad input."""
from datetime import datetime, timedelta, timezone

from tests.factories import act, make_alert

T = datetime(2026, 3, 7, 4, 59, tzinfo=timezone.utc)  # 2026-03-06 23:59 in New York
PERIOD = {"start": "2026-03-06T05:00:00Z", "end": "2026-03-09T04:00:00Z"}  # 3 NY days


def test_trends_shape_and_local_days(http, engine, viewer) -> None:
    a = make_alert(engine, T, summary="late evening")
    act(engine, a, "acknowledge", T + timedelta(seconds=60))
    make_alert(engine, T + timedelta(minutes=2), summary="after midnight", severity="high")
    r = http.get("/api/v1/sla/trends", params={**PERIOD, "tz": "America/New_York"},
                 headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tz"] == "America/New_York" and body["total"] == 3
    days = body["data"]
    assert [d["day"] for d in days] == ["2026-03-06", "2026-03-07", "2026-03-08"]
    assert [d["hours"] for d in days] == [24, 24, 23]  # Mar 8: spring forward
    assert [d["alerts"] for d in days] == [1, 1, 0]
    assert days[0]["mtta_s"] == 60 and days[0]["tta_compliance_pct"] == 100
    assert set(days[0]["breaches_by_severity"]) == {"critical", "high", "medium", "low", "info"}
    assert {"tta_compliance_pct", "ttr_compliance_pct", "mttr_s", "breaches",
            "day_start", "day_end"} <= set(days[0])


def test_breaches_shape_and_order(http, engine, viewer) -> None:
    slow = make_alert(engine, T, summary="slow ack")
    act(engine, slow, "acknowledge", T + timedelta(seconds=400))   # TTA 100 s over
    open_one = make_alert(engine, T, summary="never touched", severity="low")
    r = http.get("/api/v1/sla/breaches", params=PERIOD, headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2
    assert [(b["id"], b["breached"]) for b in body["data"]] == [
        (slow, "TTA+TTR"), (open_one, "TTA+TTR")]  # both clocks ran past due by now
    first = body["data"][0]
    assert {"severity", "service", "summary", "created_at", "tta_s", "ttr_s", "tta_target_s",
            "ttr_target_s", "overrun_s"} <= set(first)
    assert first["tta_s"] == 400 and "total" not in first


def test_bad_tz_period_and_auth(http, viewer) -> None:
    r = http.get("/api/v1/sla/trends", params={"tz": "Mars/Olympus"}, headers=viewer)
    assert r.status_code == 422 and r.json()["field"] == "tz" and "tz" in r.json()["error"]
    r = http.get("/api/v1/sla/trends", params={"start": "2026-03-09", "end": "2026-03-01"},
                 headers=viewer)
    assert r.status_code == 422 and r.json()["field"] == "end"
    r = http.get("/api/v1/sla/breaches", params={"start": "yesterday"}, headers=viewer)
    assert r.status_code == 422 and r.json()["field"] == "start"
    r = http.get("/api/v1/sla/trends", params={"start": "2024-01-01", "end": "2026-01-01"},
                 headers=viewer)
    assert r.status_code == 422 and r.json()["field"] == "end"
    assert http.get("/api/v1/sla/trends").status_code == 401
    assert http.get("/api/v1/sla/breaches", headers=viewer).status_code == 200
