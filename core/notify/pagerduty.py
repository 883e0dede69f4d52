"""PagerDuty Events API v2: ``POST {base}/v2/enqueue`` (ALERTDESK_PAGERDUTY_BASE_URL,
default https://events.pagerduty.com) with the routing key (sealed in the row, or
``{"routing_key_ref": "noc"}`` → ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC), ``event_action``
from the payload (trigger unless it says acknowledge/resolve) and ``dedup_key``
"alertdesk-<alert id>": PagerDuty folds repeats of one alert into one incident, so a
retried or duplicated send never opens a second one. PagerDuty is not throttled or
bundled by Alertdesk (each alert must keep its own incident)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.notify.base import Notification, NotifyConfig, post
from core.notify.vault import target_secret

PD_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info",
               "info": "info"}


def dedup_key(n: Notification) -> str:
    return f"alertdesk-{n.alert_id}" if n.alert_id is not None else f"alertdesk-n{n.id}"


def event(n: Notification, routing_key: str) -> dict[str, Any]:
    p: Mapping[str, Any] = n.payload
    action = str(p.get("event_action") or "trigger")
    body: dict[str, Any] = {"routing_key": routing_key, "event_action": action,
                            "dedup_key": dedup_key(n)}
    if action == "trigger":
        body["payload"] = {
            "summary": str(p.get("subject") or p.get("summary") or "Alertdesk alert")[:1024],
            "severity": PD_SEVERITY.get(str(p.get("severity")), "info"),
            "source": str(p.get("device_id") or p.get("service") or "alertdesk"),
            "component": str(p.get("service") or "") or None,
            "custom_details": {"reason": p.get("reason", ""), "alert_id": n.alert_id},
        }
        body["client"] = "Alertdesk"
        body["client_url"] = str(p.get("link") or "")
        body["links"] = [{"href": str(p.get("link") or ""), "text": "Open in Alertdesk"}]
    return body


def send(n: Notification, config: NotifyConfig) -> str:
    """The provider id is the dedup key PagerDuty confirms."""
    key = target_secret(n.target, "routing_key", config, "PAGERDUTY_ROUTING_KEY", "routing_key_ref")
    url = f"{config.pagerduty_base_url.rstrip('/')}/v2/enqueue"
    response = post(url, config, what="PagerDuty", json=event(n, key))
    try:
        confirmed = response.json().get("dedup_key")
    except ValueError:
        confirmed = None
    return str(confirmed or dedup_key(n))
