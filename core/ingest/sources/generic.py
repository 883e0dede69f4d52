"""The generic webhook: one alert object, a list of them, or ``{"alerts": [...]}``. Pure.

An alert object has the fields of ``POST /api/v1/alerts`` (summary and severity required;
source, service, device_id, description, labels, annotations, metadata, fingerprint
optional) plus an optional ``status`` (``firing``, the default, or ``resolved``). Unknown
fields are ignored, so senders can add their own.
"""
from __future__ import annotations

from typing import Any

from core.alerts.model import AlertIn
from core.errors import FieldError
from core.ingest.signal import FIRING, Signal

FIELDS = ("summary", "severity", "source", "service", "device_id", "description",
          "fingerprint", "labels", "annotations", "metadata")


def parse(body: Any, default_source: str) -> list[Signal]:
    if isinstance(body, dict) and isinstance(body.get("alerts"), list):
        items: list[Any] = body["alerts"]
    elif isinstance(body, dict):
        items = [body]
    elif isinstance(body, list):
        items = body
    else:
        raise FieldError("body", "must be an alert object, a list of them, or {\"alerts\": [...]}")
    return [_signal(item, i, default_source) for i, item in enumerate(items)]


def _signal(item: Any, i: int, default_source: str) -> Signal:
    if not isinstance(item, dict):
        raise FieldError(f"alerts[{i}]", "must be an object")
    fields = {k: item[k] for k in FIELDS if k in item}
    fields.setdefault("summary", "")
    fields.setdefault("severity", "")
    fields["source"] = fields.get("source") or default_source
    return Signal(AlertIn(**fields), str(item.get("status") or FIRING))
