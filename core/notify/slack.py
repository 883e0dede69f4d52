"""Slack: a Block Kit message (header, fields, reason, "Open alert" button) inside an
attachment whose colour is the severity's, sent one of two ways:
- to a channel through an incoming webhook. The webhook URL is a secret: ``{"webhook":
  "noc"}`` reads ALERTDESK_SLACK_WEBHOOK_NOC, or a ``webhook_url`` given in clear was sealed
  into the row (core/notify/vault.py);
- to a person, ``{"to": "<member id>"}`` (their Slack contact method), as a direct message
  from the Slack app: ``chat.postMessage`` on ALERTDESK_SLACK_API_URL (default
  https://slack.com/api) with the app's bot token ALERTDESK_SLACK_BOT_TOKEN (scope
  ``chat:write``). The Web API answers HTTP 200 with ``"ok": false`` on failure; its error
  decides the retry (rate limits and Slack's own faults are retried)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.notify.base import DeliveryError, Notification, NotifyConfig, post
from core.notify.format import SEVERITY_COLOURS, bundle_lines
from core.notify.vault import target_secret

ACTION_BUTTONS = (("acknowledge", "Acknowledge"), ("resolve", "Resolve"), ("escalate", "Escalate"))


def message(payload: Mapping[str, Any], bundled: Sequence[Mapping[str, Any]] = (),
            notification_id: int | None = None, status: str | None = None) -> dict[str, Any]:
    """The JSON body: ``text`` is the fallback for notifications, blocks carry the rest.
    A page (``notification_id`` given) carries Acknowledge / Resolve / Escalate buttons
    (action_id ``alertdesk_<action>``, value = the outbox row id) handled by
    ``POST /api/v1/integrations/slack/actions``; ``status`` ("Acknowledged by olga")
    replaces the buttons once someone acted."""
    sev = str(payload.get("severity") or "info")
    subject = str(payload.get("subject") or payload.get("summary") or "Alertdesk")
    fields = [{"type": "mrkdwn", "text": f"*Severity*\n{sev}"}]
    for key in ("service", "device_id"):
        if payload.get(key):
            fields.append({"type": "mrkdwn", "text": f"*{key.replace('_', ' ').title()}*\n{payload[key]}"})
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {"type": "section", "fields": fields},
    ]
    if payload.get("reason"):
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"Why: {payload['reason']}"}]})
    if bundled:
        lines = "\n".join(f"• {x}" for x in bundle_lines(bundled))
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": f"*Also within the last minute ({len(bundled)})*\n{lines}"[:3000]}})
    if status:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": status}]})
    buttons: list[dict[str, Any]] = []
    if notification_id is not None and not status and payload.get("kind") in ("page", "incident"):
        buttons = [{"type": "button", "action_id": f"alertdesk_{action}", "value": str(notification_id),
                    "text": {"type": "plain_text", "text": label}} for action, label in ACTION_BUTTONS]
    blocks.append({"type": "actions", "elements": [*buttons, {
        "type": "button", "text": {"type": "plain_text", "text": "Open alert"},
        "url": str(payload.get("link") or ""), "style": "danger" if sev == "critical" else "primary"}]})
    more = f" (+{len(bundled)} more)" if bundled else ""
    return {"text": f"{subject}{more} {payload.get('link', '')}".strip(),
            "attachments": [{"color": SEVERITY_COLOURS.get(sev, "#7a869a"), "blocks": blocks}]}


SLACK_API = "https://slack.com/api"
RETRYABLE = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                       "request_timeout"})


def send(n: Notification, config: NotifyConfig) -> str:
    """POST the message. A webhook answers "ok" and no id, so the id is ``slack:<row id>``;
    a direct message's id is ``slack:<channel>:<ts>`` (what chat.update needs later)."""
    if n.target.get("to"):
        return direct_message(n, config)
    url = target_secret(n.target, "webhook_url", config, "SLACK_WEBHOOK", "webhook")
    post(url, config, what="Slack webhook", json=message(n.payload, n.bundled, n.id))
    return f"slack:{n.id}"


def direct_message(n: Notification, config: NotifyConfig) -> str:
    token = config.env.get("ALERTDESK_SLACK_BOT_TOKEN")
    if not token:
        raise DeliveryError("Slack direct messages need the app's bot token: set "
                            "ALERTDESK_SLACK_BOT_TOKEN", retryable=False)
    base = (config.env.get("ALERTDESK_SLACK_API_URL") or SLACK_API).rstrip("/")
    body = {"channel": str(n.target["to"]), **message(n.payload, n.bundled, n.id)}
    response = post(f"{base}/chat.postMessage", config, what="Slack API", json=body,
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json; charset=utf-8"})
    try:
        answer = response.json()
    except ValueError:
        raise DeliveryError("Slack API: not a JSON answer") from None
    if not answer.get("ok"):
        error = str(answer.get("error") or "unknown error")
        raise DeliveryError(f"Slack API: {error}", retryable=error in RETRYABLE)
    return f"slack:{answer.get('channel')}:{answer.get('ts')}"
