"""What a notification says: the payload stored in the outbox (built once, when the step
fires) and the pure renderers each channel uses (email subject/text/HTML, SMS text).

A payload is ``{"kind", "subject", "text", "html", "severity", "summary", "link",
"alert_id", "service", "device_id", "reason"}``. ``kind`` "page" means "this alert needs a
human": such rows are cancelled, not sent, once the alert is no longer 'new'. ``kind``
"incident" pages about an alert group (``group_id``, ``incident``: its counts); it is
cancelled once no member of the group needs a human."""
from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from typing import Any

from core import config

SMS_MAX = 160
SEVERITY_COLOURS = {"critical": "#d7263d", "high": "#f46036", "medium": "#f4b400",
                    "low": "#2e86ab", "info": "#7a869a"}
SEVERITY_TAGS = {"critical": "CRIT", "high": "HIGH", "medium": "MED", "low": "LOW", "info": "INFO"}


def alert_link(alert_id: int | None, public_url: str | None = None) -> str:
    """``<ALERTDESK_PUBLIC_URL or the local UI>/alert?id=N`` (the queue if no id)."""
    local = f"http://127.0.0.1:{config.ui_port()}"
    base = (public_url or os.environ.get("ALERTDESK_PUBLIC_URL") or local).rstrip("/")
    return f"{base}/alert?id={alert_id}" if alert_id is not None else f"{base}/"


def alert_payload(alert: Mapping[str, Any], *, reason: str = "",
                  public_url: str | None = None) -> dict[str, Any]:
    """The payload for paging about one alert; ``alert`` needs id, severity, summary and
    may carry service, device_id, state, description (an alerts row mapping will do)."""
    sev = str(alert.get("severity") or "info")
    summary = str(alert.get("summary") or "")
    where = "/".join(str(alert[k]) for k in ("service", "device_id") if alert.get(k))
    link = alert_link(alert.get("id"), public_url)
    subject = f"[{sev.upper()}] {summary}" + (f" ({where})" if where else "")
    lines = [subject, "", f"Alert #{alert.get('id')} is {alert.get('state') or 'new'}."]
    if alert.get("description"):
        lines += ["", str(alert["description"])]
    if reason:
        lines += ["", f"Why you get this: {reason}"]
    lines += ["", f"Open: {link}"]
    return {"kind": "page", "subject": subject, "text": "\n".join(lines),
            "html": _html(subject, lines[2:], link), "severity": sev, "summary": summary,
            "link": link, "alert_id": alert.get("id"), "service": alert.get("service") or "",
            "device_id": alert.get("device_id") or "", "reason": reason}


def group_link(group_id: int, public_url: str | None = None) -> str:
    """``<ALERTDESK_PUBLIC_URL or the local UI>/groups?id=N``: the incident and its alerts."""
    return alert_link(None, public_url) + f"groups?id={group_id}"


def incident_payload(lead: Mapping[str, Any], incident: Mapping[str, Any], *,
                     reason: str = "", public_url: str | None = None) -> dict[str, Any]:
    """The payload for paging about an incident (alert group): its lead alert's payload,
    at the incident's highest severity, with the counts and the members that need a human.
    ``incident``: group_id, severity, open_alerts, unacknowledged, new_since, members."""
    gid = int(incident["group_id"])
    base = alert_payload({**lead, "severity": incident.get("severity") or lead.get("severity")},
                         reason=reason, public_url=public_url)
    n, new = int(incident.get("open_alerts") or 1), int(incident.get("new_since") or 0)
    unacked = int(incident.get("unacknowledged") or 0)
    subject = base["subject"] + (f" +{n - 1} more alert{'s' if n > 2 else ''}" if n > 1 else "")
    link = group_link(gid, public_url)
    head = (f"Incident #{gid}: {n} open alert{'s' if n != 1 else ''}, {unacked} not "
            f"acknowledged" + (f", {new} new since the last page" if new else "") + ".")
    members = [f"- [{str(m.get('severity', '')).upper()}] #{m.get('id')} {m.get('summary', '')}"
               + (f" ({m['device_id']})" if m.get("device_id") else "")
               for m in incident.get("members") or []]
    lines = [subject, "", head, *members]
    if reason:
        lines += ["", f"Why you get this: {reason}"]
    lines += ["", f"Open the incident: {link}"]
    return {**base, "kind": "incident", "subject": subject, "text": "\n".join(lines),
            "html": _html(subject, lines[2:], link), "link": link, "group_id": gid,
            "incident": {"open_alerts": n, "unacknowledged": unacked, "new_since": new}}


def sample_payload(channel: str, public_url: str | None = None) -> dict[str, Any]:
    """The body of a "test notification" (no alert; never cancelled)."""
    subject = f"[INFO] Alertdesk test notification ({channel})"
    link = alert_link(None, public_url)
    lines = ["This is a test notification from Alertdesk.", "", f"Open: {link}"]
    return {"kind": "test", "subject": subject, "text": "\n".join([subject, ""] + lines),
            "html": _html(subject, lines, link), "severity": "info",
            "summary": "Alertdesk test notification", "link": link, "alert_id": None,
            "service": "", "device_id": "", "reason": "test"}


def _html(title: str, lines: Sequence[str], link: str) -> str:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    return (f"<html><body><h2>{html.escape(title)}</h2>{body}"
            f'<p><a href="{html.escape(link)}">Open the alert in Alertdesk</a></p></body></html>')


def bundle_lines(bundled: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per notification folded into this one: "[HIGH] summary — link"."""
    return [f"[{str(p.get('severity', 'info')).upper()}] {p.get('summary', '')} — {p.get('link', '')}"
            for p in bundled]


ACTION_LABELS = {"acknowledge": "Acknowledge", "resolve": "Resolve", "escalate": "Escalate"}


def email_parts(payload: Mapping[str, Any], bundled: Sequence[Mapping[str, Any]] = (),
                actions: Mapping[str, str] | None = None) -> tuple[str, str, str]:
    """(subject, text, html); bundled summaries are appended under "Also within the minute";
    ``actions`` (action -> signed link) become one-click links, no login needed."""
    subject = str(payload.get("subject") or payload.get("summary") or "Alertdesk")
    text = str(payload.get("text") or subject)
    body_html = str(payload.get("html") or f"<p>{html.escape(text)}</p>")
    if actions:
        text += "\n\nAct without signing in (each link works once, for 24 hours):\n" + "\n".join(
            f"- {ACTION_LABELS[a]}: {link}" for a, link in actions.items())
        buttons = " ".join(
            f'<a href="{html.escape(link, quote=True)}" style="display:inline-block;'
            'padding:10px 16px;margin:4px;border:1px solid #444;border-radius:6px;'
            f'color:#111;text-decoration:none">{ACTION_LABELS[a]}</a>'
            for a, link in actions.items())
        block = f"<p>{buttons}</p>"
        body_html = (body_html.replace("</body>", block + "</body>", 1) if "</body>" in body_html
                     else body_html + block)
    if bundled:
        subject += f" (+{len(bundled)} more)"
        extra = bundle_lines(bundled)
        text += "\n\nAlso within the last minute:\n" + "\n".join(f"- {x}" for x in extra)
        items = "".join(f"<li>{html.escape(x)}</li>" for x in extra)
        block = f"<h3>Also within the last minute</h3><ul>{items}</ul>"
        body_html = (body_html.replace("</body>", block + "</body>") if "</body>" in body_html
                     else body_html + block)
    return subject, text, body_html


def sms_text(payload: Mapping[str, Any], bundled: int = 0, ack_link: str | None = None) -> str:
    """At most 160 characters: "CRIT billing/db-01: disk full #12 +2 more" — tag, where,
    summary (cut with '…' to fit), the bundle count; with ``ack_link`` " Ack: <link>" always
    (the summary is cut for it: acting matters more than the last words), else the alert
    link only if it still fits. Replies ACK / RES / ESC <id> work either way."""
    sev = SEVERITY_TAGS.get(str(payload.get("severity")), "INFO")
    where = "/".join(str(payload[k]) for k in ("service", "device_id") if payload.get(k))
    head = f"{sev} {where}: " if where else f"{sev}: "
    tail = (f" +{bundled} more" if bundled else "") + (f" Ack: {ack_link}" if ack_link else "")
    alert_id = payload.get("alert_id")
    ref = f" #{alert_id}" if alert_id is not None else ""
    room = SMS_MAX - len(head) - len(tail) - len(ref)
    summary = " ".join(str(payload.get("summary") or "").split())
    if len(summary) > room:
        summary = summary[: max(room - 1, 0)] + "…"
    text = f"{head}{summary}{ref}{tail}"
    link = "" if ack_link else str(payload.get("link") or "")
    if link and len(text) + 1 + len(link) <= SMS_MAX:
        text += " " + link
    return text[:SMS_MAX]
