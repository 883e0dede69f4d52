"""Normalisers, pure: real Alertmanager payloads (captured from the Debian binary, 0.25.0),
the generic webhook shapes, PagerDuty Events API v2 events, Grafana Alerting payloads
(fixtures from its documentation), the alert page's links, and the anomaly confidence bands."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.alerts.links import web_links
from core.errors import FieldError
from core.ingest.batch import prepare
from core.ingest.sources import alertmanager, anomaly, generic, grafana, pagerduty

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_real_alertmanager_group_keeps_each_members_status() -> None:
    signals = alertmanager.parse(load("alertmanager_v4_group_one_resolved.json"))
    assert [s.status for s in signals] == ["firing", "resolved", "firing"]
    first = signals[0].alert.normalize()
    assert first.source == "alertmanager" and first.severity == "medium"  # warning
    assert (first.service, first.device_id) == ("checkout", "web-0:9100")
    assert first.summary == "p99 high on web-0"
    assert first.fingerprint == "am:6f6f2af22e1af178"
    assert first.labels["alertname"] == "HighLatency"
    meta = first.metadata["alertmanager"]
    assert meta["receiver"] == "desk" and meta["generatorURL"] == "http://prom/graph"
    assert "groupKey" in meta and meta["startsAt"].startswith("20")


@pytest.mark.parametrize("label, expected", [
    ("critical", "critical"), ("page", "critical"), ("error", "high"), ("major", "high"),
    ("warning", "medium"), ("minor", "low"), ("info", "info"), ("none", "info")])
def test_alertmanager_severity_label_mapping(label: str, expected: str) -> None:
    payload = load("alertmanager_v4_firing.json")
    payload["alerts"][0]["labels"]["severity"] = label
    assert alertmanager.parse(payload)[0].alert.normalize().severity == expected


def test_alertmanager_without_severity_or_summary_gets_defaults() -> None:
    payload = {"version": "4", "alerts": [{"status": "firing", "labels": {
        "alertname": "NodeDown", "instance": "db-1:9100", "job": "node"}}]}
    alert = alertmanager.parse(payload)[0].alert.normalize()
    assert alert.severity == "medium" and alert.metadata["severity_defaulted"] is True
    assert alert.summary == "NodeDown on db-1:9100" and alert.service == "node"
    assert alert.fingerprint and alert.fingerprint.startswith("am:")  # hash of the labels


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p.update(version="3"), "version"),
    (lambda p: p.update(alerts="x"), "alerts"),
    (lambda p: p["alerts"][1].update(status="firingish"), "alerts[1].status"),
    (lambda p: p["alerts"][2].update(labels={}), "alerts[2].labels"),
    (lambda p: p["alerts"][0]["labels"].update(severity="urgent"), "alerts[0].labels.severity"),
    (lambda p: p["alerts"][0]["labels"].update(team=7), "alerts[0].labels.team"),
    (lambda p: p["alerts"][0].update(annotations=["x"]), "alerts[0].annotations"),
])
def test_alertmanager_bad_payload_names_the_field(mutate, field: str) -> None:
    payload = load("alertmanager_v4_group_one_resolved.json")
    mutate(payload)
    with pytest.raises(FieldError) as err:
        prepare(alertmanager.parse(payload))
    assert err.value.field == field


def test_generic_accepts_one_a_list_or_an_envelope() -> None:
    one = {"summary": "disk", "severity": "L1", "device_id": "db-1", "extra": "ignored"}
    assert len(generic.parse(one, "zabbix")) == 1
    assert len(generic.parse([one, one], "zabbix")) == 2
    signals = generic.parse({"alerts": [one, {**one, "status": "resolved"}]}, "zabbix")
    assert [s.status for s in signals] == ["firing", "resolved"]
    alert = signals[0].alert.normalize()
    assert (alert.source, alert.severity) == ("zabbix", "critical")


def test_generic_batch_error_names_the_alert() -> None:
    body = [{"summary": "ok", "severity": "low"}, {"summary": "", "severity": "low"}]
    with pytest.raises(FieldError) as err:
        prepare(generic.parse(body, "x"))
    assert err.value.field == "alerts[1].summary"
    with pytest.raises(FieldError, match="body"):
        generic.parse("just text", "x")


@pytest.mark.parametrize("confidence, severity, escalate", [
    (0.69, None, False), (0.70, "low", False), (0.7499, "low", False), (0.75, "medium", False),
    (0.80, "medium", True), (0.85, "high", True), (0.95, "critical", True), (1.0, "critical", True)])
def test_anomaly_confidence_bands(confidence: float, severity: str | None, escalate: bool) -> None:
    decision = anomaly.decide({"device_id": "sw-1", "metric": "if_errors", "value": 42.5,
                               "model_id": "iforest-v3", "confidence": confidence})
    if severity is None:
        assert decision.alert is None and "below 0.70" in decision.reason
        return
    assert decision.alert is not None
    alert = decision.alert.normalize()
    assert alert.severity == severity and alert.metadata["auto_escalate"] is escalate
    assert alert.metadata["model_id"] == "iforest-v3" and alert.metadata["value"] == 42.5


@pytest.mark.parametrize("body, field", [
    ({"metric": "m", "value": 1, "model_id": "x", "confidence": 0.9}, "device_id"),
    ({"device_id": "d", "metric": "m", "value": "high", "model_id": "x", "confidence": 0.9}, "value"),
    ({"device_id": "d", "metric": "m", "value": 1, "model_id": "x", "confidence": 1.5}, "confidence"),
    ({"device_id": "d", "metric": "m", "value": 1, "model_id": "x", "confidence": True}, "confidence"),
])
def test_anomaly_bad_input_names_the_field(body: dict, field: str) -> None:
    with pytest.raises(FieldError) as err:
        anomaly.decide(body)
    assert err.value.field == field


def test_batch_collapses_repeats_last_status_wins() -> None:
    a = {"summary": "x", "severity": "low", "fingerprint": "fp-1"}
    items, order = prepare(generic.parse([a, a, {**a, "status": "resolved"},
                                          {**a, "fingerprint": "fp-0"}], "s"))
    assert [(i[0].fingerprint, i[1], i[2]) for i in items] == [
        ("fp-0", "firing", 1), ("fp-1", "resolved", 2)]
    assert [items[0][0].dedup_key() == k for k in order] == [False, False, False, True]


@pytest.mark.parametrize("bad, message", [
    ("nul\x00here", "NUL"), ("lone \ud800 surrogate", "surrogate")])
def test_batch_metadata_check_names_the_alert_that_postgres_would_refuse(bad: str,
                                                                         message: str) -> None:
    """The metadata of a batch is checked in one encode; the error still names the alert."""
    body = [{"summary": f"a{i}", "severity": "low", "metadata": {"k": {"deep": "ok é"}}}
            for i in range(4)]
    body[2]["metadata"] = {"k": {"deep": bad}}
    with pytest.raises(FieldError) as err:
        prepare(generic.parse(body, "x"))
    assert err.value.field == "alerts[2].metadata" and message in err.value.message


def test_batch_metadata_beyond_64_bit_integers_and_emoji_are_kept() -> None:
    body = [{"summary": "big", "severity": "low", "metadata": {"n": 2**70, "e": "🚀"}}]
    ((alert, _, _),), _ = prepare(generic.parse(body, "x"))
    assert alert.metadata == {"n": 2**70, "e": "🚀"}


@pytest.mark.parametrize("where, index, field", [
    ("labels", 1, "alerts[1].labels.k"), ("annotations", 3, "alerts[3].annotations.k")])
def test_batch_label_and_annotation_checks_name_the_alert_and_key(where: str, index: int,
                                                                  field: str) -> None:
    for bad in ("nul\x00", "lone \udc00"):
        body = [{"summary": f"a{i}", "severity": "low", "labels": {"k": "v"},
                 "annotations": {"k": "ok ü"}} for i in range(4)]
        body[index][where] = {"k": bad}
        with pytest.raises(FieldError) as err:
            prepare(generic.parse(body, "x"))
        assert err.value.field == field


PD_TRIGGER = {"routing_key": "k", "event_action": "trigger", "dedup_key": "d-1",
              "payload": {"summary": "CPU high", "source": "web-1", "severity": "critical"}}


@pytest.mark.parametrize("sent, severity", [
    ("critical", "critical"), ("error", "high"), ("warning", "medium"), ("info", "info"),
    ("Error", "high"), ("high", "high"), ("low", "low")])
def test_pagerduty_severities(sent: str, severity: str) -> None:
    body = {**PD_TRIGGER, "payload": {**PD_TRIGGER["payload"], "severity": sent}}
    event = pagerduty.parse(body, "zabbix", "new")
    assert event.alert is not None and event.alert.severity == severity


def test_pagerduty_follow_ups_ignore_the_payload_and_dedup_keys_are_scoped() -> None:
    resolve = {"event_action": "resolve", "dedup_key": "d-1", "payload": {"severity": "?"}}
    event = pagerduty.parse(resolve, "zabbix", "unused")
    assert (event.action, event.alert, event.fingerprint) == ("resolve", None, "pd:zabbix:d-1")
    trig = pagerduty.parse({k: v for k, v in PD_TRIGGER.items() if k != "dedup_key"}, "z", "gen")
    assert (trig.dedup_key, trig.fingerprint) == ("gen", "pd:z:gen")
    long = pagerduty.parse({**PD_TRIGGER, "dedup_key": "x" * 255}, "zabbix", "n")
    assert long.fingerprint.startswith("pd:zabbix:sha256:") and len(long.fingerprint) <= 200
    assert long.alert is not None and long.alert.fingerprint == long.fingerprint
    numeric = pagerduty.parse({"event_action": "acknowledge", "dedup_key": 4711}, "zabbix", "n")
    assert numeric.fingerprint == "pd:zabbix:4711"


def test_pagerduty_events_api_v1_names_and_routing_key_sources() -> None:
    v1 = {"service_key": " svc ", "event_type": "trigger", "incident_key": "i-9",
          "description": "Disk full", "details": {"mount": "/"}, "client": "Nagios"}
    assert pagerduty.routing_key(v1) == "svc"
    assert pagerduty.routing_key({"event_action": "trigger"}, "hdr") == "hdr"
    with pytest.raises(FieldError, match="routing_key"):
        pagerduty.routing_key({"routing_key": "  "})
    event = pagerduty.parse(v1, "nagios", "n")
    assert event.alert is not None and event.dedup_key == "i-9"
    assert (event.alert.summary, event.alert.device_id, event.alert.severity) == (
        "Disk full", "Nagios", "high")
    assert event.alert.annotations["mount"] == "/"


def test_pagerduty_summary_cut_and_only_http_links_kept() -> None:
    body = {**PD_TRIGGER, "payload": {**PD_TRIGGER["payload"], "summary": "s" * 1024},
            "links": [{"href": "ftp://x", "text": "f"}, {"href": "HTTPS://ok.example/a"},
                      {"href": "javascript:alert(1)", "text": "x"}],
            "images": [{"src": "data:image/png;base64,AAAA"}]}
    alert = pagerduty.parse(body, "k", "n").alert
    assert alert is not None and len(alert.summary) == 1000 and alert.summary.endswith("…")
    assert alert.metadata["links"] == [{"text": "HTTPS://ok.example/a",
                                        "href": "HTTPS://ok.example/a"}]
    assert len(alert.metadata["pagerduty"]["links"]) == 3  # kept as sent


def test_grafana_documented_payload() -> None:
    """tests/fixtures/grafana_webhook_firing.json is the example of Grafana's documentation
    ("Configure the webhook notifier for Alerting"), as published."""
    payload = load("grafana_webhook_firing.json")
    assert grafana.is_grafana(payload) and not grafana.is_grafana(load("alertmanager_v4_firing.json"))
    signals = grafana.parse(payload)
    assert [s.status for s in signals] == ["firing", "firing"]
    alert = signals[0].alert.normalize()
    assert (alert.source, alert.severity, alert.fingerprint) == (
        "grafana", "medium", "grafana:1:c6eadffa33fcdf37")
    assert alert.summary == "This alert was triggered for zone us-1"
    assert alert.labels["alertname"] == "High memory usage"
    assert alert.annotations["values"] == "B=44.23943737541908, C=1"
    meta = alert.metadata["grafana"]
    assert (meta["orgId"], meta["state"], meta["values"]) == (1, "alerting", {"B": 44.23943737541908, "C": 1})
    assert meta["silenceURL"].startswith("https://play.grafana.org/alerting/silence/new")
    assert "message" not in meta
    assert [x["text"] for x in alert.metadata["links"]] == ["Alert rule", "Silence"]  # empty URLs left out


def test_grafana_one_resolved_member_resolves_only_itself() -> None:
    signals = grafana.parse(load("grafana_webhook_one_resolved.json"))
    assert [s.status for s in signals] == ["resolved", "firing"]
    links = signals[0].alert.metadata["links"]
    assert [x["text"] for x in links] == ["Alert rule", "Silence", "Dashboard", "Panel", "Screenshot"]


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p.update(orgId=None), "orgId"),
    (lambda p: p["alerts"][1].update(values=[1]), "alerts[1].values"),
    (lambda p: p["alerts"][0].update(status="pending"), "alerts[0].status"),
    (lambda p: p.update(version="4"), "version"),
])
def test_grafana_bad_payload_names_the_field(mutate, field: str) -> None:
    payload = load("grafana_webhook_firing.json")
    mutate(payload)
    with pytest.raises(FieldError) as err:
        prepare(grafana.parse(payload))
    assert err.value.field == field


def test_alertmanager_route_hint_for_a_version_1_without_org() -> None:
    with pytest.raises(FieldError, match="Grafana"):
        alertmanager.parse({"version": "1", "alerts": []})


@pytest.mark.parametrize("href, kept", [
    ("https://grafana.example/d/1", True), ("http://10.0.0.1:3000/x", True),
    ("HTTPS://UPPER.example", True), ("javascript:alert(1)", False),
    ("data:text/html,<script>", False), ("//evil.example/x", False), ("/relative", False),
    ("https://", False), ("https://a.example/x y", False), ("https://a\n.example", False),
    (7, False), (None, False)])
def test_alert_page_links_are_web_urls_only(href: object, kept: bool) -> None:
    links = web_links({"links": [{"text": "t", "href": href}]})
    assert bool(links) is kept


def test_alert_links_include_the_generator_url_once_and_tolerate_junk() -> None:
    meta = {"links": [{"text": "Rule", "href": "http://prom/graph"}, "junk", {"href": None}],
            "alertmanager": {"generatorURL": "http://prom/graph"}}
    assert web_links(meta) == [{"text": "Rule", "href": "http://prom/graph"}]
    assert web_links({"alertmanager": {"generatorURL": "http://p/g"}})[0]["text"].startswith("Alert rule")
    assert web_links(None) == web_links({"links": "x"}) == []
