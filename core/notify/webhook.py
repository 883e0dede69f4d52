"""Generic webhook: POST the payload as JSON. With a secret (``{"secret": "billing"}`` →
ALERTDESK_WEBHOOK_SECRET_BILLING, or ALERTDESK_WEBHOOK_SECRET for all), the body is signed:
``X-Alertdesk-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>``. The receiver
dedups on ``X-Alertdesk-Idempotency-Key`` (retries resend the same key)."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from core.notify.base import DeliveryError, Notification, NotifyConfig, post
from core.notify.vault import target_secret

SIGNATURE_HEADER = "X-Alertdesk-Signature"


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: what a receiver recomputes with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(n: Notification) -> bytes:
    data: dict[str, Any] = {"notification_id": n.id, "idempotency_key": n.idempotency_key,
                            "alert_id": n.alert_id, **dict(n.payload),
                            "bundled": [dict(p) for p in n.bundled]}
    return json.dumps(data, separators=(",", ":"), sort_keys=True, default=str).encode()


def _hmac_secret(n: Notification, config: NotifyConfig) -> str | None:
    name = n.target.get("secret")
    if isinstance(name, str) and name:
        value = config.secret("WEBHOOK_SECRET", name)
        if value is None:
            raise DeliveryError(f"webhook secret {name!r} is not set in the environment",
                                retryable=False)
        return value
    return config.env.get("ALERTDESK_WEBHOOK_SECRET") or None


def send(n: Notification, config: NotifyConfig) -> str:
    """The provider id is the receiver's ``X-Request-Id`` if any, else ``http-<status>``."""
    url = target_secret(n.target, "url", config, "WEBHOOK_URL", "url_ref")
    body = body_of(n)
    headers = {"Content-Type": "application/json",
               "X-Alertdesk-Idempotency-Key": n.idempotency_key}
    secret = _hmac_secret(n, config)
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    response = post(url, config, what="webhook", content=body, headers=headers)
    return response.headers.get("x-request-id") or f"http-{response.status_code}"
