"""SMS through Twilio's REST API: ``POST {base}/2010-04-01/Accounts/{sid}/Messages.json``,
form-encoded To/From/Body, HTTP basic auth (account SID, auth token). ALERTDESK_TWILIO_
BASE_URL (default https://api.twilio.com), _ACCOUNT_SID, _AUTH_TOKEN, _FROM. The body is
the compact ≤160-char text of core/notify/format.py. The 10 SMS/hour/number limit is
applied before sending, in core/notify/claims.py."""
from __future__ import annotations

from core.notify.base import DeliveryError, Notification, NotifyConfig, post
from core.notify.format import sms_text

HOURLY_LIMIT = 10


def send(n: Notification, config: NotifyConfig) -> str:
    """The provider id is Twilio's message SID."""
    if not (config.twilio_sid and config.twilio_token and config.twilio_from):
        raise DeliveryError("Twilio is not configured: set ALERTDESK_TWILIO_ACCOUNT_SID, "
                            "ALERTDESK_TWILIO_AUTH_TOKEN and ALERTDESK_TWILIO_FROM", retryable=False)
    url = f"{config.twilio_base_url.rstrip('/')}/2010-04-01/Accounts/{config.twilio_sid}/Messages.json"
    form = {"To": str(n.target.get("to", n.recipient)), "From": config.twilio_from,
            "Body": sms_text(n.payload, len(n.bundled))}
    response = post(url, config, what="Twilio", data=form,
                    auth=(config.twilio_sid, config.twilio_token))
    try:
        sid = response.json().get("sid")
    except ValueError:
        sid = None
    return str(sid or f"http-{response.status_code}")
