"""Grafana Alerting's webhook contact point payload (``"version": "1"``, with ``orgId``) ->
signals. Pure.

Its shape is Alertmanager's (Grafana's alerting is built on it), read the same way
(core/ingest/sources/alertmanager.py): each ``alerts[]`` member keeps its own status, so one
recovering alert resolves only itself, never the whole group (the trap of grafana/oncall
#542). The dedup key is Grafana's fingerprint within its organisation,
``grafana:<orgId>:<fingerprint>``. Kept on the alert: under ``metadata.grafana`` the group
fields (receiver, groupKey, externalURL, truncatedAlerts, orgId, title, state) and each
alert's times, URLs and ``values``; the URLs (rule, silence, dashboard, panel, screenshot)
as ``metadata.links`` for the alert page; the values also as the annotation ``values``
("B=44.2, C=1"). The deprecated ``message`` (a rendering of the whole group) is not kept.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.alerts.links import link
from core.errors import FieldError
from core.ingest.signal import Signal
from core.ingest.sources.alertmanager import GROUP_FIELDS, ITEM_FIELDS, Flavour, signals

SOURCE = "grafana"
URLS = (("generatorURL", "Alert rule"), ("silenceURL", "Silence"),
        ("dashboardURL", "Dashboard"), ("panelURL", "Panel"), ("imageURL", "Screenshot"))


def is_grafana(payload: Any) -> bool:
    """Grafana's payload: version "1" and an ``orgId`` (Alertmanager sends version "4")."""
    return isinstance(payload, dict) and str(payload.get("version")) == "1" \
        and "orgId" in payload


def parse(payload: Any) -> list[Signal]:
    """Every alert of the payload as a signal, or FieldError naming the first bad field."""
    if not isinstance(payload, dict):
        raise FieldError("body", "must be a Grafana Alerting webhook object")
    if not is_grafana(payload):
        raise FieldError("version", "must be \"1\" with an orgId (Grafana Alerting's webhook "
                                    "payload); Alertmanager's goes to "
                                    "/api/v1/webhooks/alertmanager")
    org = payload["orgId"]
    if isinstance(org, bool) or not isinstance(org, (int, str)):
        raise FieldError("orgId", "must be a number")
    flavour = Flavour(SOURCE, f"grafana:{org}:",
                      (*GROUP_FIELDS, "orgId", "title", "state"),
                      (*ITEM_FIELDS, *(name for name, _ in URLS[1:])))
    found = signals(payload, flavour)
    return [_enrich(s, payload["alerts"][i], i) for i, s in enumerate(found)]


def _enrich(signal: Signal, item: dict[str, Any], i: int) -> Signal:
    alert = signal.alert
    values = item.get("values")
    if values is not None and not isinstance(values, dict):
        raise FieldError(f"alerts[{i}].values", "must be an object")
    meta = {**alert.metadata, SOURCE: {**alert.metadata[SOURCE],
                                       **({"values": values} if values else {})}}
    links = [link(text, item.get(name)) for name, text in URLS]
    meta["links"] = [x for x in links if x is not None]
    annotations = alert.annotations
    if values and "values" not in annotations:
        annotations = {**annotations, "values": ", ".join(f"{k}={v}" for k, v in values.items())}
    return replace(signal, alert=replace(alert, metadata=meta, annotations=annotations))
