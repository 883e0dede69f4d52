"""Twilio's REST API, shared by SMS and voice: ``POST {base}/2010-04-01/Accounts/{sid}/
<resource>.json``, form-encoded, HTTP basic auth (account SID, auth token), from
ALERTDESK_TWILIO_BASE_URL (default https://api.twilio.com), _ACCOUNT_SID, _AUTH_TOKEN, _FROM."""
from __future__ import annotations

from core.notify.base import DeliveryError, NotifyConfig, post


def create(config: NotifyConfig, resource: str, to: str, fields: dict[str, str]) -> str:
    """Create a Message or a Call for ``to``; returns Twilio's SID (the provider id)."""
    if not (config.twilio_sid and config.twilio_token and config.twilio_from):
        raise DeliveryError("Twilio is not configured: set ALERTDESK_TWILIO_ACCOUNT_SID, "
                            "ALERTDESK_TWILIO_AUTH_TOKEN and ALERTDESK_TWILIO_FROM", retryable=False)
    url = f"{config.twilio_base_url.rstrip('/')}/2010-04-01/Accounts/{config.twilio_sid}/{resource}.json"
    response = post(url, config, what="Twilio", data={"To": to, "From": config.twilio_from, **fields},
                    auth=(config.twilio_sid, config.twilio_token))
    try:
        sid = response.json().get("sid")
    except ValueError:
        sid = None
    return str(sid or f"http-{response.status_code}")
