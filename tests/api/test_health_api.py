"""GET /api/v1/reports/health, /health/trend, /health/alerts and /service-health/{service}:
shapes, hand-computed scores, 422 naming the field, viewer role."""
from datetime import datetime, timedelta, timezone

from tests.factories import act, make_alert

ago = timedelta(hours=30)


def history(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """billing: one breached critical (ack after 10 min) resolved, one open high inside its
    TTA; web: one resolved info. Outcomes do not move while the test runs."""
    t = datetime.now(timezone.utc) - ago
    late = make_alert(engine, t, summary="late ack", service="billing", device_id="db-01")
    act(engine, late, "acknowledge", t + timedelta(minutes=10))   # TTA 600 > 300: breach
    act(engine, late, "resolve", t + timedelta(minutes=15))       # TTR 900 of 1800: 0.5
    fresh = make_alert(engine, datetime.now(timezone.utc) - timedelta(minutes=1),
                       summary="fresh", severity="high", service="billing", device_id="db-02")
    calm = make_alert(engine, t, summary="calm", severity="info", service="web",
                      device_id="web-01")
    act(engine, calm, "resolve", t + timedelta(minutes=1))
    return {"late": late, "fresh": fresh, "calm": calm}


def test_scores_per_service_worst_first(http, engine, viewer) -> None:
    history(engine)
    r = http.get("/api/v1/reports/health", params={"window": "7d"}, headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["by"], body["window"], body["total"]) == ("service", "7d", 2)
    billing, web = body["data"]
    # billing: 1 of 2 breached -> 25; open high W 10 -> 40 * 10 / 60 = 6.67; MTTR 0.5 -> 0
    assert (billing["service"], billing["score"], billing["band"]) == ("billing", 68.3, "Fair")
    assert billing["penalties"] == {"open": 6.67, "breaches": 25.0, "mttr": 0.0,
                                    "recurrence": 0.0}
    assert (billing["alerts"], billing["open"], billing["mttr_ratio"]) == (2, 1, 0.5)
    assert (web["service"], web["score"], web["band"]) == ("web", 100.0, "Excellent")
    assert "entity" not in billing


def test_devices_limit_and_service_filter(http, engine, viewer) -> None:
    history(engine)
    r = http.get("/api/v1/reports/health", params={"by": "device", "service": "billing",
                                                   "limit": 1}, headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and [d["device"] for d in body["data"]] == ["db-01"]
    assert body["data"][0]["score"] == 75.0   # 1 alert, breached -> 25


def test_trend_and_alerts_behind(http, engine, viewer) -> None:
    ids = history(engine)
    r = http.get("/api/v1/reports/health/trend", params={"service": "billing", "days": 3,
                                                         "tz": "Europe/Berlin"}, headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["data"][0]["service"] == "billing"
    days = body["data"][0]["days"]
    assert len(days) == 3 and {"day", "score", "band", "penalties", "alerts"} <= set(days[0])
    assert days[-1]["open_weight"] == 10   # the open high, at today's end
    r = http.get("/api/v1/reports/health/alerts", params={"name": "billing"}, headers=viewer)
    assert r.status_code == 200, r.text
    assert [(a["id"], a["why"]) for a in r.json()["data"]] == [
        (ids["late"], "SLA breached"), (ids["fresh"], "open")]


def test_service_health_endpoint(http, engine, viewer) -> None:
    history(engine)
    r = http.get("/api/v1/reports/service-health/billing", params={"days": 5}, headers=viewer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["health"]["service"] == "billing" and body["health"]["score"] == 68.3
    assert body["counts"]["by_severity"]["critical"] == 1
    assert body["counts"]["by_state"] == {"resolved": 1, "new": 1}
    assert (body["times"]["mtta_s"], body["times"]["mttr_s"]) == (600, 900)
    assert body["top_recurring"] == [] and len(body["trend"]) == 5
    quiet = http.get("/api/v1/reports/service-health/nobody", headers=viewer).json()
    assert quiet["health"]["score"] == 100 and quiet["times"]["mttr_s"] is None


def test_bad_input_and_auth(http, viewer) -> None:
    for path, params, field in (
            ("/api/v1/reports/health", {"by": "team"}, "by"),
            ("/api/v1/reports/health", {"window": "7w"}, "window"),
            ("/api/v1/reports/health", {"limit": 0}, "limit"),
            ("/api/v1/reports/health/trend", {"days": 0}, "days"),
            ("/api/v1/reports/health/trend", {"tz": "Mars/Base"}, "tz"),
            ("/api/v1/reports/health/alerts", {}, "name"),
            ("/api/v1/reports/service-health/billing", {"window": "100d"}, "window")):
        r = http.get(path, params=params, headers=viewer)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["field"] == field and field in r.json()["error"]
    assert http.get("/api/v1/reports/health").status_code == 401
