"""PagerDuty Events API v2 (``POST /v2/enqueue``) -> one event. Pure.

A body is ``{routing_key, event_action: trigger|acknowledge|resolve, dedup_key?, payload:
{summary, source, severity, timestamp?, component?, group?, class?, custom_details?},
links?, images?, client?, client_url?}``. ``routing_key`` is an Alertdesk API key (the
route checks it); the dedup key is scoped to that key's name, as PagerDuty scopes it to the
integration key, so two tools sending the same dedup key do not meet. A trigger without a
dedup key gets a generated one (returned to the sender). Only a trigger reads ``payload``:
Alertmanager's ``pagerduty_configs`` sends its whole payload with a resolve too, and that
must not be refused for a field a resolve never uses.

Mapping of a trigger: summary -> summary (cut to 1000 characters), severity critical /
error / warning / info -> critical / high / medium / info (Alertdesk's own names and the
Alertmanager aliases are accepted too), source -> device_id, group (else component) ->
service, class -> the ``alertname`` label; component, group, class and the severity as sent
are labels; client, client_url, timestamp and the scalar custom_details are annotations; the
whole event (custom_details, links, images included) is ``metadata.pagerduty``, and its
http(s) links are ``metadata.links`` (the alert page shows them).

Also read, for old senders: Events API v1 names (``service_key``, ``incident_key``,
``event_type``, ``description``, ``details``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core import severity as sev
from core.alerts.links import link
from core.alerts.model import MAX_SUMMARY, MAX_TEXT, AlertIn
from core.errors import FieldError

SOURCE = "pagerduty"
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = {"critical": "critical", "error": "high", "warning": "medium", "info": "info"}
MAX_DEDUP_KEY = 255
MAX_FINGERPRINT = 200
TEXT_FIELDS = ("summary", "source", "severity", "timestamp", "component", "group", "class")
# Where a field the alert model refuses came from, for the error.
MODEL_FIELDS = {"summary": "payload.summary", "device_id": "payload.source",
                "service": "payload.group", "labels": "payload", "annotations": "payload",
                "metadata": "payload.custom_details"}


@dataclass(frozen=True)
class Event:
    action: str             # trigger | acknowledge | resolve
    dedup_key: str          # as sent, or generated for a trigger without one
    fingerprint: str        # the alert's dedup key: the routing key's name + dedup_key
    alert: AlertIn | None   # a trigger's alert, normalised; None for acknowledge/resolve


def routing_key(body: Any, header: str | None = None) -> str:
    """The API key the event carries: ``routing_key`` (v1: ``service_key``), else the
    ``X-Routing-Key`` header some clients send instead."""
    if not isinstance(body, dict):
        raise FieldError("body", "must be an Events API v2 object")
    for name in ("routing_key", "service_key"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise FieldError(name, "must be a string")
        if value and value.strip():
            return value.strip()
    if header and header.strip():
        return header.strip()
    raise FieldError("routing_key", "is missing or blank: send an Alertdesk API key "
                                    "(operator role or above) as routing_key")


def parse(body: dict[str, Any], key_name: str, new_key: str) -> Event:
    """The event, or FieldError naming the field. ``key_name``: the routing key's name (the
    dedup scope); ``new_key``: the dedup key to use when a trigger sends none."""
    action = _text(body, "event_action") or _text(body, "event_type")
    if action not in ACTIONS:
        raise FieldError("event_action", "must be one of trigger, acknowledge, resolve")
    dedup_key = _key(body, "dedup_key") or _key(body, "incident_key")
    if len(dedup_key) > MAX_DEDUP_KEY:
        raise FieldError("dedup_key", f"is longer than {MAX_DEDUP_KEY} characters")
    if not dedup_key:
        if action != "trigger":
            raise FieldError("dedup_key", f"is required to {action} an alert")
        dedup_key = new_key
    fingerprint = fingerprint_of(key_name, dedup_key)
    if action != "trigger":
        return Event(action, dedup_key, fingerprint, None)
    return Event(action, dedup_key, fingerprint, _alert(body, dedup_key, fingerprint))


def resolve_marker(fingerprint: str) -> AlertIn:
    """What a resolve needs of an alert: its dedup key (the batch resolves by it alone)."""
    return AlertIn(summary="resolved by PagerDuty event", severity="info", source=SOURCE,
                   fingerprint=fingerprint)


def fingerprint_of(key_name: str, dedup_key: str) -> str:
    readable = f"pd:{key_name}:{dedup_key}"
    if len(readable) <= MAX_FINGERPRINT:
        return readable
    digest = hashlib.sha256(f"{key_name}\x1f{dedup_key}".encode()).hexdigest()
    return f"pd:{key_name[:100]}:sha256:{digest}"


def _alert(body: dict[str, Any], dedup_key: str, fingerprint: str) -> AlertIn:
    payload = _payload(body)
    text = {k: _text(payload, k, f"payload.{k}") for k in TEXT_FIELDS}
    for name in ("summary", "source", "severity"):
        if not text[name]:
            raise FieldError(f"payload.{name}", "is missing or blank")
    details = payload.get("custom_details")
    meta: dict[str, Any] = {k: v for k, v in text.items() if v}
    client = {k: _text(body, k) for k in ("client", "client_url")}
    links, images = _list(body, "links"), _list(body, "images")
    meta.update({k: v for k, v in client.items() if v}, dedup_key=dedup_key)
    if details is not None:
        meta["custom_details"] = details
    if links:
        meta["links"] = links
    if images:
        meta["images"] = images
    labels = {k: text[k] for k in ("component", "group", "class") if text[k]}
    if text["class"]:
        labels["alertname"] = text["class"]
    labels["severity"] = text["severity"]
    alert = AlertIn(
        summary=_cut(text["summary"], MAX_SUMMARY), severity=_severity(text["severity"]),
        source=SOURCE, service=text["group"] or text["component"],
        device_id=_cut(text["source"], 200),
        description=_cut(details.strip(), MAX_TEXT) if isinstance(details, str) else "",
        fingerprint=fingerprint, labels=labels,
        annotations={**{k: v for k, v in client.items() if v}, **_scalars(details),
                     **({"timestamp": text["timestamp"]} if text["timestamp"] else {})},
        metadata={"pagerduty": meta, "links": _links(links, images, client["client"],
                                                     client["client_url"])})
    try:
        return alert.normalize(keyed=True)
    except FieldError as err:
        raise FieldError(MODEL_FIELDS.get(err.field.split(".")[0], err.field),
                         err.message) from None


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    payload = body.get("payload")
    if payload is None and "description" in body:  # Events API v1
        return {"summary": body.get("description"), "source": body.get("client") or "unknown",
                "severity": "error", "custom_details": body.get("details")}
    if not isinstance(payload, dict):
        raise FieldError("payload", "is required for a trigger (an object with summary, "
                                    "source and severity)")
    return payload


def _severity(value: str) -> str:
    try:
        return SEVERITIES.get(value.lower()) or sev.normalize(value, "payload.severity")
    except FieldError:
        raise FieldError("payload.severity", f"{value!r} is not one of critical, error, "
                                             "warning, info") from None


def _text(data: dict[str, Any], name: str, field: str | None = None) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(field or name, "must be a string")
    return value.strip()


def _key(body: dict[str, Any], name: str) -> str:
    """A dedup key: a string, or a whole number some senders write unquoted."""
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(body, name)


def _list(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FieldError(name, "must be a list of objects")
    return value


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _scalars(details: Any) -> dict[str, str]:
    """custom_details as annotations: scalars as text, nested values as JSON."""
    if not isinstance(details, dict):
        return {}
    return {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            for k, v in details.items()}


def _links(links: list[dict[str, Any]], images: list[dict[str, Any]], client: str,
           client_url: str) -> list[dict[str, str]]:
    """The event's links for the alert page: ``{text, href}``, http(s) only."""
    found = [link(x.get("text"), x.get("href")) for x in links]
    found += [link(x.get("alt") or "Image", x.get("href") or x.get("src")) for x in images]
    found.append(link(client or "Sent by", client_url))
    return [x for x in found if x is not None]
