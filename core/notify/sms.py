"""SMS through Twilio's REST API: ``POST {base}/2010-04-01/Accounts/{sid}/Messages.json``,
form-encoded To/From/Body, HTTP basic auth (account SID, auth token). ALERTDESK_TWILIO_
BASE_URL (default https://api.twilio.com), _ACCOUNT_SID, _AUTH_TOKEN, _FROM. The body is
the compact ≤160-char text of core/notify/format.py. The 10 SMS/hour/number limit is
applied before sending, in core/notify/claims.py."""
from __future__ import annotations

from core.notify import links, twilio
from core.notify.base import Notification, NotifyConfig
from core.notify.format import sms_text

HOURLY_LIMIT = 10


def send(n: Notification, config: NotifyConfig) -> str:
    """The provider id is Twilio's message SID."""
    ack = links.for_page(n.id, n.target, n.payload,
                         config.env.get("ALERTDESK_PUBLIC_URL")).get("acknowledge")
    return twilio.create(config, "Messages", str(n.target.get("to", n.recipient)),
                         {"Body": sms_text(n.payload, len(n.bundled), ack)})
