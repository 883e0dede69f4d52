"""Slack incoming webhook: Block Kit message (header, fields, reason, "Open alert" button)
inside an attachment whose colour is the severity's. The webhook URL is a secret:
``{"webhook": "noc"}`` reads ALERTDESK_SLACK_WEBHOOK_NOC, or a ``webhook_url`` given in
clear was sealed into the row (core/notify/vault.py)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.notify.base import Notification, NotifyConfig, post
from core.notify.format import SEVERITY_COLOURS, bundle_lines
from core.notify.vault import target_secret


def message(payload: Mapping[str, Any], bundled: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The JSON body: ``text`` is the fallback for notifications, blocks carry the rest."""
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
    blocks.append({"type": "actions", "elements": [{
        "type": "button", "text": {"type": "plain_text", "text": "Open alert"},
        "url": str(payload.get("link") or ""), "style": "danger" if sev == "critical" else "primary"}]})
    more = f" (+{len(bundled)} more)" if bundled else ""
    return {"text": f"{subject}{more} {payload.get('link', '')}".strip(),
            "attachments": [{"color": SEVERITY_COLOURS.get(sev, "#7a869a"), "blocks": blocks}]}


def send(n: Notification, config: NotifyConfig) -> str:
    """POST the message; Slack answers "ok" and no id, so the id is ``slack:<row id>``."""
    url = target_secret(n.target, "webhook_url", config, "SLACK_WEBHOOK", "webhook")
    post(url, config, what="Slack webhook", json=message(n.payload, n.bundled))
    return f"slack:{n.id}"
