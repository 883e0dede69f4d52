"""GET /metrics: the Prometheus text format, parsed with prometheus_client's own parser."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_open_alerts_and_need_credentials(http, ingest_key, viewer,
                                                        operator) -> None:
    assert http.get("/metrics").status_code == 401
    for i, sev in enumerate(("critical", "critical", "low")):
        r = http.post("/api/v1/alerts", headers=ingest_key, json={
            "summary": f"a{i}", "severity": sev, "service": "edge", "fingerprint": f"f{i}"})
        assert r.status_code == 201
    http.post(f"/api/v1/alerts/{r.json()['id']}/acknowledge", headers=operator)
    r = http.get("/metrics", headers=viewer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    got = samples(r.text)
    key = ("alertdesk_open_alerts", (("service", "edge"), ("severity", "critical"),
                                     ("state", "new")))
    assert got[key] == 2
    assert got[("alertdesk_open_alerts", (("service", "edge"), ("severity", "low"),
                                          ("state", "acknowledged")))] == 1
    assert got[("alertdesk_sla_breached_open_alerts", (("severity", "critical"),))] == 0
    assert got[("alertdesk_worker_lag_seconds", (("queue", "delivery"),))] == 0


def test_metrics_say_who_is_on_call(http, viewer, manager) -> None:
    body = {"name": "NOC primary", "timezone": "Europe/Berlin", "layers": [{
        "name": "all", "rotation": "daily", "handoff": "09:00", "start": "2026-01-05",
        "participants": ["olga"]}]}
    assert http.post("/api/v1/on-call/schedules", json=body, headers=manager).status_code == 201
    got = samples(http.get("/metrics", headers=viewer).text)
    assert got[("alertdesk_oncall", (("schedule", "NOC primary"), ("username", "olga")))] == 1
