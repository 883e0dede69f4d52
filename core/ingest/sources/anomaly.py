"""ML anomaly detections -> alerts. Pure: confidence decides severity or no alert at all.

confidence < 0.70: no alert (the reason is returned); >= 0.95 critical, >= 0.85 high,
>= 0.75 medium, else low. >= 0.80 flags the alert for auto-escalation
(``metadata.auto_escalate``; the escalation engine acts on it). The dedup key is
(model, device, metric), so a model that keeps flagging the same thing counts duplicates.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from core.alerts.model import AlertIn
from core.errors import FieldError

SOURCE = "anomaly"
MIN_CONFIDENCE = 0.70
AUTO_ESCALATE = 0.80
BANDS = ((0.95, "critical"), (0.85, "high"), (0.75, "medium"), (MIN_CONFIDENCE, "low"))


@dataclass(frozen=True)
class Decision:
    alert: AlertIn | None
    reason: str


def severity_for(confidence: float) -> str | None:
    return next((name for floor, name in BANDS if confidence >= floor), None)


def decide(body: Any) -> Decision:
    if not isinstance(body, dict):
        raise FieldError("body", "must be an object")
    device, metric, model = (_text(body, k) for k in ("device_id", "metric", "model_id"))
    value, confidence = _number(body, "value"), _number(body, "confidence")
    if not 0 <= confidence <= 1:
        raise FieldError("confidence", "must be between 0 and 1")
    severity = severity_for(confidence)
    if severity is None:
        return Decision(None, f"confidence {confidence:.2f} is below {MIN_CONFIDENCE:.2f}: "
                              "no alert")
    service = body.get("service") or ""
    ident = "\x1f".join((model, device, metric))
    alert = AlertIn(
        summary=f"Anomaly in {metric} on {device}: {value:g} "
                f"(confidence {confidence:.2f}, model {model})",
        severity=severity, source=SOURCE, service=service if isinstance(service, str) else "",
        device_id=device, fingerprint="anomaly:" + hashlib.sha256(ident.encode()).hexdigest(),
        labels={"alertname": f"Anomaly {metric}", "metric": metric, "model_id": model},
        metadata={"model_id": model, "confidence": confidence, "metric": metric, "value": value,
                  "auto_escalate": confidence >= AUTO_ESCALATE})
    return Decision(alert, f"confidence {confidence:.2f} -> {severity}")


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FieldError(key, "is required (a non-empty string)")
    return value.strip()


def _number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FieldError(key, "is required (a number)")
    return float(value)
