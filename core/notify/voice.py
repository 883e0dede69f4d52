"""Voice calls through Twilio's Calls API: ``POST {base}/2010-04-01/Accounts/{sid}/Calls.json``,
form-encoded To/From/Twiml, HTTP basic auth (the SMS settings: ALERTDESK_TWILIO_*).

The call says the page (severity, where, what; the incident's count) twice inside a
``<Gather numDigits="1">``, so a key pressed while it speaks still counts, and offers
"press 1 to acknowledge"; the key goes to ``POST /api/v1/integrations/twilio/voice`` on
ALERTDESK_PUBLIC_URL (the two-way integration handles it). Twilio reads the TwiML inline,
so no public endpoint is needed to place the call."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from core.notify import twilio
from core.notify.base import Notification, NotifyConfig

SEVERITY_WORDS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low",
                  "info": "Info"}


def speech(payload: Mapping[str, Any]) -> str:
    """What the call says, in words a text-to-speech voice reads well."""
    sev = SEVERITY_WORDS.get(str(payload.get("severity")), "An")
    where = " on ".join(str(payload[k]) for k in ("service", "device_id") if payload.get(k))
    text = f"{sev} alert from Alertdesk. {payload.get('summary') or ''}."
    if where:
        text += f" Service {where}."
    incident = payload.get("incident") or {}
    if int(incident.get("open_alerts") or 1) > 1:
        text += f" {incident['open_alerts']} alerts are open in this incident."
    return text


def twiml(payload: Mapping[str, Any], notification_id: int, public_url: str | None) -> str:
    """The call's TwiML: the page, "press 1 to acknowledge", said twice, then goodbye."""
    base = (public_url or "").rstrip("/")
    action = quoteattr(f"{base}/api/v1/integrations/twilio/voice?n={notification_id}")
    say = escape(speech(payload) + " Press 1 to acknowledge.")
    return (f'<Response><Gather numDigits="1" timeout="10" method="POST" action={action}>'
            f"<Say>{say}</Say><Pause length=\"1\"/><Say>{say}</Say></Gather>"
            "<Say>No key was pressed. Goodbye.</Say></Response>")


def send(n: Notification, config: NotifyConfig) -> str:
    """The provider id is Twilio's call SID."""
    public = config.env.get("ALERTDESK_PUBLIC_URL")
    return twilio.create(config, "Calls", str(n.target.get("to", n.recipient)),
                         {"Twiml": twiml(n.payload, n.id, public)})
