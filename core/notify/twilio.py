"""Twilio's REST API, shared by SMS and voice: ``POST {base}/2010-04-01/Accounts/{sid}/
<resource>.json``, form-encoded, HTTP basic auth (account SID, auth token), from
ALERTDESK_TWILIO_BASE_URL (default https://api.twilio.com), _ACCOUNT_SID, _AUTH_TOKEN, _FROM.

With ALERTDESK_PUBLIC_URL set, every message and call asks Twilio for status callbacks
(delivery receipts, core/notify/receipts.py); requests Twilio makes to us are checked with
Twilio's own validator (X-Twilio-Signature: HMAC-SHA1 of the URL and the sorted form fields
under the auth token)."""
from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from core.notify.base import DeliveryError, NotifyConfig, post
from core.notify.receipts import callback_url


def create(config: NotifyConfig, resource: str, to: str, fields: dict[str, str]) -> str:
    """Create a Message or a Call for ``to``; returns Twilio's SID (the provider id)."""
    if not (config.twilio_sid and config.twilio_token and config.twilio_from):
        raise DeliveryError("Twilio is not configured: set ALERTDESK_TWILIO_ACCOUNT_SID, "
                            "ALERTDESK_TWILIO_AUTH_TOKEN and ALERTDESK_TWILIO_FROM", retryable=False)
    url = f"{config.twilio_base_url.rstrip('/')}/2010-04-01/Accounts/{config.twilio_sid}/{resource}.json"
    status = callback_url(config.env.get("ALERTDESK_PUBLIC_URL"))
    extra = {"StatusCallback": status} if status else {}
    response = post(url, config, what="Twilio",
                    data={"To": to, "From": config.twilio_from, **fields, **extra},
                    auth=(config.twilio_sid, config.twilio_token))
    try:
        sid = response.json().get("sid")
    except ValueError:
        sid = None
    return str(sid or f"http-{response.status_code}")


def signed_by_twilio(config: NotifyConfig, url: str, params: Mapping[str, str],
                     signature: str | None) -> bool:
    """Whether ``X-Twilio-Signature`` is Twilio's for this URL and form under our auth token
    (False without a token: nothing can be verified)."""
    if not (config.twilio_token and signature):
        return False
    return bool(RequestValidator(config.twilio_token).validate(url, dict(params), signature))
