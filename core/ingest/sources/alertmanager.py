"""Prometheus Alertmanager webhook payload (version 4) -> signals. Pure.

Each ``alerts[]`` member carries its own status and fingerprint, so one resolved member of
a group resolves only itself. The Alertmanager fingerprint (a hash of the label set) is the
dedup key, prefixed ``am:`` so it never collides with another source's keys.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core import severity as sev
from core.alerts.model import AlertIn
from core.errors import FieldError
from core.ingest.signal import FIRING, RESOLVED, Signal

SOURCE = "alertmanager"
DEFAULT_SEVERITY = "medium"  # an alert without a severity label is treated as a warning
DEVICE_LABELS = ("device", "device_id", "instance", "host", "hostname", "node")
SERVICE_LABELS = ("service", "app", "job")
SUMMARY_ANNOTATIONS = ("summary", "title", "message")
GROUP_FIELDS = ("receiver", "groupKey", "externalURL", "truncatedAlerts")
ITEM_FIELDS = ("startsAt", "endsAt", "generatorURL")


@dataclass(frozen=True)
class Flavour:
    """What differs between senders of this payload shape (Grafana Alerting sends it too,
    core/ingest/sources/grafana.py): the source name, the fingerprint's prefix, and the
    group and per-alert string fields kept under ``metadata[source]``."""

    source: str
    prefix: str
    group_fields: tuple[str, ...] = GROUP_FIELDS
    item_fields: tuple[str, ...] = ITEM_FIELDS


ALERTMANAGER = Flavour(SOURCE, "am:")


def parse(payload: Any) -> list[Signal]:
    """Every alert of the payload as a signal, or FieldError naming the first bad field."""
    if not isinstance(payload, dict):
        raise FieldError("body", "must be an Alertmanager webhook object")
    version = payload.get("version", "4")
    if str(version) != "4":
        raise FieldError("version", f"webhook payload version {version!r} is not supported; "
                                    "Alertdesk reads Alertmanager's version 4 (and Grafana "
                                    "Alerting's version 1, which carries orgId)")
    return signals(payload, ALERTMANAGER)


def signals(payload: dict[str, Any], flavour: Flavour) -> list[Signal]:
    """Each ``alerts[]`` member as a signal (the version is the caller's to check)."""
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise FieldError("alerts", "must be a list")
    group = {k: payload[k] for k in flavour.group_fields if k in payload}
    if isinstance(payload.get("groupLabels"), dict):
        group["groupLabels"] = payload["groupLabels"]
    return [_signal(item, i, group, flavour) for i, item in enumerate(alerts)]


def _signal(item: Any, i: int, group: dict[str, Any], flavour: Flavour) -> Signal:
    where = f"alerts[{i}]"
    if not isinstance(item, dict):
        raise FieldError(where, "must be an object")
    status = item.get("status")
    if status not in (FIRING, RESOLVED):
        raise FieldError(f"{where}.status", "must be firing or resolved")
    labels = item.get("labels")
    if not isinstance(labels, dict) or not labels:
        raise FieldError(f"{where}.labels", "must be a non-empty object")
    for key, value in labels.items():
        if not isinstance(value, str):
            raise FieldError(f"{where}.labels.{key}", "must be a string")
    annotations = item.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise FieldError(f"{where}.annotations", "must be an object")
    raw_severity = labels.get("severity")
    try:
        severity = sev.normalize(raw_severity) if raw_severity else DEFAULT_SEVERITY
    except FieldError as err:
        raise FieldError(f"{where}.labels.severity", err.message) from None
    fingerprint = item.get("fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise FieldError(f"{where}.fingerprint", "must be a string")
    times = {k: item[k] for k in flavour.item_fields if isinstance(item.get(k), str)}
    meta: dict[str, Any] = {flavour.source: {**group, **times}}
    if not raw_severity:
        meta["severity_defaulted"] = True
    return Signal(AlertIn(
        summary=_summary(labels, annotations), severity=severity, source=flavour.source,
        service=_first(labels, SERVICE_LABELS), device_id=_first(labels, DEVICE_LABELS),
        description=str(annotations.get("description", "")),
        fingerprint=flavour.prefix + (fingerprint or _label_hash(labels)),
        labels=labels, annotations={k: str(v) for k, v in annotations.items()}, metadata=meta,
    ), status)


def _first(labels: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        value = labels.get(name)
        if value:
            return value
    return ""


def _summary(labels: dict[str, str], annotations: dict[str, Any]) -> str:
    for name in SUMMARY_ANNOTATIONS:
        if str(annotations.get(name, "")).strip():
            return str(annotations[name])
    name = labels.get("alertname", "Alertmanager alert")
    device = _first(labels, DEVICE_LABELS)
    return f"{name} on {device}" if device else name


def _label_hash(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
